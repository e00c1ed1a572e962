"""One Redis script run by many coroutines at once, the calls that arrive together sent in one round trip.

The web process runs the submit script once per accepted delivery (dedupe, job record and Celery message in one
atomic step). Sent one by one through redis-py, each call paid the client's own costs — a pooled connection, a
write under a timeout task, a read under another, packing two dozen arguments — more than the rest of the request.
Here the calls made while a batch is on the wire go out together in the next one: one write, then the replies in
order. Each call is still its own EVALSHA, atomic in Redis, run in the order the calls were made (but for a call
sent again after NOSCRIPT, which runs after the rest of its batch).

Errors stay per call: a call whose batch lost its connection (or timed out) raises that error, whether or not
Redis ran it — the caller answers 5xx and the sender retries, and the script's dedupe key makes the retry a
duplicate when the first one did run. An error reply fails only its own call; NOSCRIPT (a Redis restarted
or flushed since the script was loaded) loads the script and sends the call again once, as redis-py's
``Script`` does.
"""

from __future__ import annotations

import asyncio
import hashlib
import math
from collections.abc import Sequence

import redis.asyncio as aioredis
from redis.asyncio.connection import AbstractConnection
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import NoScriptError
from redis.exceptions import TimeoutError as RedisTimeoutError

#: at most this many calls in one write (a bound on one batch's buffer, and on the wait of its last call)
MAX_BATCH = 64
#: calls waiting for a batch at most: past it Redis is not keeping up, and a call fails at once (5xx, retried)
MAX_WAITING = 16 * MAX_BATCH
#: how long a batch's replies may take when the client has no socket timeout of its own
BATCH_DEADLINE = 10.0


def _bulk(value: bytes) -> bytes:
    return b"$%d\r\n%s\r\n" % (len(value), value)


def _encoded(value: str | bytes | int) -> bytes:
    if isinstance(value, bytes):
        return value
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value).encode("ascii")
    if isinstance(value, str):
        return value.encode("utf-8")
    raise TypeError(f"a Redis script argument must be str, bytes or int, not {type(value).__name__}")


def _fail(calls: list[tuple[bytes, asyncio.Future[object]]], error: Exception) -> None:
    for _, future in calls:
        if not future.done():
            future.set_exception(error)


class BatchedScript:
    """``await script(keys, args)`` runs ``text`` with EVALSHA like redis-py's ``Script``; concurrent calls share
    round trips. Arguments are sent as UTF-8 (the client's default encoding); replies as redis-py parses them."""

    def __init__(self, redis: aioredis.Redis, text: str, *, max_batch: int = MAX_BATCH) -> None:
        self._redis = redis
        self._text = text
        self._sha = hashlib.sha1(text.encode("utf-8")).hexdigest().encode("ascii")  # noqa: S324 - Redis's script id
        self._max_batch = max_batch
        self._pending: list[tuple[bytes, asyncio.Future[object]]] = []
        self._sender: asyncio.Task[None] | None = None

    def _command(self, keys: Sequence[str | bytes | int], args: Sequence[str | bytes | int]) -> bytes:
        """EVALSHA's arguments after the sha, in RESP: the number of keys, the keys, the arguments."""
        parts = [b"*%d\r\n$7\r\nEVALSHA\r\n%s" % (len(keys) + len(args) + 3, _bulk(self._sha))]
        add = parts.append  # one pass, three appends a value: a fifth less time than formatting each value
        for raw in (len(keys), *keys, *args):
            value = raw.encode("utf-8") if type(raw) is str else _encoded(raw)
            add(b"$%d\r\n" % len(value))
            add(value)
            add(b"\r\n")
        return b"".join(parts)

    async def __call__(self, keys: Sequence[str | bytes | int], args: Sequence[str | bytes | int]) -> object:
        if len(self._pending) >= MAX_WAITING:
            raise RedisConnectionError(f"Redis is not keeping up: {len(self._pending)} script calls are waiting")
        future: asyncio.Future[object] = asyncio.get_running_loop().create_future()
        self._pending.append((self._command(keys, args), future))
        if self._sender is None or self._sender.done():
            self._sender = asyncio.create_task(self._send_all())
        return await future

    async def _send_all(self) -> None:
        while self._pending:
            batch = self._pending[: self._max_batch]
            del self._pending[: self._max_batch]
            try:
                await self._send(batch, reload=True)
            except Exception as error:  # the whole batch failed (connection, timeout): each of its calls raises it
                _fail(batch, error)
            except BaseException:  # canceled (the web process stopping): so is every call still waiting
                _fail(batch + self._pending, RedisConnectionError("the Redis script batch was canceled"))
                self._pending.clear()
                raise

    async def _send(self, batch: list[tuple[bytes, asyncio.Future[object]]], *, reload: bool) -> None:
        pool = self._redis.connection_pool
        deadline = pool.connection_kwargs.get("socket_timeout") or BATCH_DEADLINE
        unloaded: list[tuple[bytes, asyncio.Future[object]]] = []
        connection: AbstractConnection | None = None
        try:
            # one deadline for the whole batch — connecting, sending, every reply — not a timer per reply; a
            # timeout disconnects (redis-py drops a connection cancelled mid-read, and releases one cancelled
            # while it connects), so no late reply is ever read by another call
            async with asyncio.timeout(deadline):
                connection = await pool.get_connection()  # type: ignore[no-untyped-call]
                await connection.send_packed_command(b"".join(command for command, _ in batch))
                await self._read_replies(connection, batch, unloaded, reload=reload)
        except TimeoutError as error:
            raise RedisTimeoutError(f"Timeout waiting for {len(batch)} script calls from Redis") from error
        finally:
            if connection is not None:
                await pool.release(connection)
        if unloaded:
            await self._redis.script_load(self._text)
            await self._send(unloaded, reload=False)

    @staticmethod
    async def _read_replies(
        connection: AbstractConnection,
        batch: list[tuple[bytes, asyncio.Future[object]]],
        unloaded: list[tuple[bytes, asyncio.Future[object]]],
        *,
        reload: bool,
    ) -> None:
        for command, future in batch:
            try:
                reply = await connection.read_response(timeout=math.inf)  # under the batch's deadline
            except NoScriptError as error:
                if reload:
                    unloaded.append((command, future))
                elif not future.done():
                    future.set_exception(error)
            except aioredis.ResponseError as error:  # this call's own error reply: the others go on
                if not future.done():
                    future.set_exception(error)
            else:
                if not future.done():
                    future.set_result(reply)
