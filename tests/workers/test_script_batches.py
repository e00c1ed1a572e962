"""BatchedScript: concurrent calls of one Redis script share round trips and keep their own outcomes."""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import AsyncIterator

import pytest
import redis.asyncio as aioredis
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import ResponseError
from redis.exceptions import TimeoutError as RedisTimeoutError

from sandbox.redis_server import free_port
from workers.script_batches import BatchedScript

# KEYS[1] a counter; ARGV[1] a label, ARGV[2] 'fail' to raise -> {label, the counter after INCR}
SCRIPT = """
if ARGV[2] == 'fail' then
  return redis.error_reply('asked to fail: ' .. ARGV[1])
end
return {ARGV[1], redis.call('INCR', KEYS[1])}
"""


@pytest.fixture
async def aio(redis_server: str) -> AsyncIterator[aioredis.Redis]:
    client = aioredis.Redis.from_url(redis_server)
    yield client
    await client.aclose()


async def test_concurrent_calls_each_run_once_in_order(aio: aioredis.Redis):
    script = BatchedScript(aio, SCRIPT, max_batch=8)
    key = f"batches:{free_port()}"
    replies = await asyncio.gather(*(script([key], [f"call-{i}", "ok"]) for i in range(50)))
    assert replies == [[f"call-{i}".encode(), i + 1] for i in range(50)]
    assert int(await aio.get(key) or 0) == 50


async def test_an_error_reply_fails_only_its_own_call(aio: aioredis.Redis):
    script = BatchedScript(aio, SCRIPT)
    key = f"batches:{free_port()}"
    outcomes = await asyncio.gather(
        script([key], ["a", "ok"]), script([key], ["b", "fail"]), script([key], ["c", "ok"]), return_exceptions=True
    )
    assert outcomes[0] == [b"a", 1] and outcomes[2] == [b"c", 2]
    assert isinstance(outcomes[1], ResponseError) and "asked to fail: b" in str(outcomes[1])


async def test_a_flushed_script_is_loaded_again(aio: aioredis.Redis):
    script = BatchedScript(aio, SCRIPT)
    key = f"batches:{free_port()}"
    await aio.script_flush()
    assert await asyncio.gather(script([key], ["x", "ok"]), script([key], [b"y", "ok"])) == [[b"x", 1], [b"y", 2]]


async def test_without_redis_every_call_raises():
    client = aioredis.Redis.from_url(f"redis://127.0.0.1:{free_port()}/0", socket_connect_timeout=1)
    script = BatchedScript(client, SCRIPT)
    outcomes = await asyncio.gather(*(script(["k"], [str(i), "ok"]) for i in range(3)), return_exceptions=True)
    assert all(isinstance(outcome, RedisConnectionError) for outcome in outcomes)
    await client.aclose()


async def test_arguments_must_be_text_bytes_or_numbers(aio: aioredis.Redis):
    script = BatchedScript(aio, SCRIPT)
    with pytest.raises(TypeError, match="float"):
        await script(["k"], [1.5])  # type: ignore[list-item]


async def test_the_command_is_what_redis_py_would_send(aio: aioredis.Redis):
    script = BatchedScript(aio, SCRIPT)
    keys, args = ["k\u00e9y", b"raw"], ["text", 42, b"\x00bytes", ""]
    connection = aio.connection_pool.make_connection()
    sha = hashlib.sha1(SCRIPT.encode()).hexdigest()  # noqa: S324 - Redis's script id
    assert script._command(keys, args) == b"".join(connection.pack_command("EVALSHA", sha, 2, *keys, *args))


async def test_replies_late_past_the_socket_timeout_fail_their_batch_and_the_next_batch_reconnects(redis_server: str):
    import redis

    client = aioredis.Redis.from_url(redis_server, socket_timeout=0.3)
    script = BatchedScript(client, SCRIPT)
    key = f"batches:{free_port()}"
    await script([key], ["warm", "ok"])  # the script is loaded and a connection is open
    admin = redis.Redis.from_url(redis_server)
    admin.client_pause(1500, all=False)  # writes wait: the script's replies come after the deadline
    try:
        outcomes = await asyncio.gather(*(script([key], [str(i), "ok"]) for i in range(3)), return_exceptions=True)
    finally:
        admin.client_unpause()
        admin.close()
    assert all(isinstance(outcome, RedisTimeoutError) for outcome in outcomes), outcomes
    assert (await script([key], ["after", "ok"]))[0] == b"after"  # the stale replies were dropped with the socket
    await client.aclose()


async def test_a_server_that_never_answers_fails_the_batch_by_the_deadline_and_calls_past_the_cap_at_once(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """No socket timeout on the client: the batch still has a deadline; and while it waits, calls beyond
    ``MAX_WAITING`` fail at once instead of piling up (the handler answers 5xx and the sender retries)."""
    from workers import script_batches

    accepted: list[asyncio.StreamWriter] = []

    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        accepted.append(writer)  # reads nothing, answers nothing

    server = await asyncio.start_server(silent, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    monkeypatch.setattr(script_batches, "BATCH_DEADLINE", 0.3)
    monkeypatch.setattr(script_batches, "MAX_WAITING", 5)
    client = aioredis.Redis.from_url(f"redis://127.0.0.1:{port}/0", protocol=2)
    script = BatchedScript(client, SCRIPT, max_batch=2)
    # six calls in one go: five wait for the sender, the sixth finds the queue full and fails at once
    tasks = [asyncio.create_task(script(["k"], [str(i), "ok"])) for i in range(6)]
    await asyncio.sleep(0)
    assert tasks[5].done()
    with pytest.raises(RedisConnectionError, match="not keeping up"):
        tasks[5].result()
    outcomes = await asyncio.wait_for(asyncio.gather(*tasks[:5], return_exceptions=True), timeout=30)
    assert all(isinstance(outcome, RedisTimeoutError | RedisConnectionError) for outcome in outcomes), outcomes
    server.close()
    await client.aclose()
