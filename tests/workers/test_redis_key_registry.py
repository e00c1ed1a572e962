"""RedisKeyRegistry on a real redis-server: records and their indexes, sealed secrets, credential uses."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import replace

import pytest
import redis
from cryptography.fernet import Fernet

from bot.errors import ConfigurationError
from bot.key_records import PENDING, CredentialUse, DeployKeyRecord, KeyUser
from bot.models import Secret
from bot.ports import KeyRegistry
from workers.key_sealing import Sealer
from workers.redis_key_registry import ALL_KEYS, RedisKeyRegistry, repo_key, sealed_key, user_key
from workers.ssh_keys import Ed25519KeyMaker

CLUSTER = "/subscriptions/sub-1/resourceGroups/rg/providers/Microsoft.Kubernetes/connectedClusters/Flux-Demo-Arc"
OTHER_CLUSTER = "/subscriptions/sub-1/resourceGroups/rg/providers/Microsoft.ContainerService/managedClusters/aks"


@pytest.fixture(params=[False, True], ids=["bytes", "decoded"])
def client(request: pytest.FixtureRequest, redis_server: str) -> Iterator[redis.Redis]:
    connection = redis.Redis.from_url(redis_server, decode_responses=request.param)
    connection.flushdb()
    yield connection
    connection.close()


@pytest.fixture
def kek() -> str:
    return Fernet.generate_key().decode()


@pytest.fixture
def registry(client: redis.Redis, kek: str) -> RedisKeyRegistry:
    return RedisKeyRegistry(redis=client, sealer=Sealer(Secret(kek)))


def record(
    created_at: float, *users: KeyUser, repo: str = "acme/apps", host: str = "github.com", key_id: str | None = None
) -> DeployKeyRecord:
    key = Ed25519KeyMaker().generate()
    return DeployKeyRecord(
        key_id=key_id or f"dk-{uuid.uuid4().hex[:10]}",
        repository=f"ssh://git@{host}/{repo}",
        host=host,
        full_name=repo,
        fingerprint=key.fingerprint,
        public_key=key.public_key,
        created_at=created_at,
        users=tuple(sorted(users)),
    )


APPS = KeyUser(CLUSTER, "apps", label="demo-arc")
INFRA = KeyUser(CLUSTER, "infra")
WEB = KeyUser(OTHER_CLUSTER, "web")


def test_save_get_all_and_repository_listing(registry: RedisKeyRegistry) -> None:
    port: KeyRegistry = registry
    newer = record(2000.0, APPS)
    older = record(1000.0, INFRA)
    elsewhere = record(1500.0, WEB, repo="acme/web")
    for r in (newer, older, elsewhere):
        port.save(r)
    assert port.get(newer.key_id) == newer
    assert port.get("dk-0000000000") is None
    assert [r.key_id for r in port.all()] == [older.key_id, elsewhere.key_id, newer.key_id]
    assert port.for_repository("GitHub.com", "ACME/Apps") == [older, newer]
    assert port.for_repository("github.com", "acme/web") == [elsewhere]
    assert port.for_repository("github.com", "acme/none") == []
    updated = replace(newer, github_key_id=42, state=PENDING)
    port.save(updated)
    assert port.get(newer.key_id) == updated and len(port.all()) == 3


def test_for_config_is_case_insensitive(registry: RedisKeyRegistry) -> None:
    saved = record(1.0, APPS)
    registry.save(saved)
    assert registry.for_config(CLUSTER.upper(), "APPS") == saved
    assert registry.for_config(CLUSTER.lower(), "apps") == saved
    assert registry.for_config(CLUSTER, "infra") is None
    assert registry.for_config(OTHER_CLUSTER, "apps") is None


def test_for_config_trusts_the_record_over_a_stray_index_entry(registry: RedisKeyRegistry, client: redis.Redis) -> None:
    saved = record(1.0, INFRA)
    registry.save(saved)
    client.set(user_key(APPS.key), saved.key_id)  # a lost write left the index pointing at a key without APPS
    assert registry.for_config(CLUSTER, "apps") is None
    client.set(user_key(APPS.key), "dk-gone000000")
    assert registry.for_config(CLUSTER, "apps") is None


def test_rotation_moves_the_user_and_a_stale_save_of_the_old_key_does_not_take_it_back(
    registry: RedisKeyRegistry, client: redis.Redis
) -> None:
    old = record(1.0, APPS, INFRA)
    registry.save(old)
    new = record(2.0, APPS)
    registry.save(new)  # the rotation gives the configuration the new key
    assert registry.for_config(CLUSTER, "apps") == new
    assert registry.for_config(CLUSTER, "infra") == old

    registry.save(replace(old, github_key_id=7))  # a stale save of the old key, still listing APPS
    assert registry.for_config(CLUSTER, "apps") == new
    registry.save(old.without_user(APPS))  # the old key lets go of APPS: the new key keeps it
    assert registry.for_config(CLUSTER, "apps") == new
    assert client.get(user_key(APPS.key)) in (new.key_id, new.key_id.encode())

    registry.save(old.without_user(APPS).without_user(INFRA))
    assert registry.for_config(CLUSTER, "infra") is None
    assert client.exists(user_key(INFRA.key)) == 0

    registry.save(new.without_user(APPS))  # e.g. a rollback: nobody claims APPS now
    assert registry.for_config(CLUSTER, "apps") is None
    registry.save(old.with_user(APPS))  # the old key claims it back
    assert registry.for_config(CLUSTER, "apps") is not None
    assert registry.for_config(CLUSTER, "apps") == registry.get(old.key_id)


def test_delete_removes_the_record_its_indexes_and_its_sealed_half(
    registry: RedisKeyRegistry, client: redis.Redis
) -> None:
    old = record(1.0, APPS, INFRA)
    new = record(2.0, APPS)
    registry.save(old)
    registry.save(new)
    registry.seal(old.key_id, Secret("old private"))
    registry.seal(new.key_id, Secret("new private"))
    registry.delete(old.key_id)
    assert registry.get(old.key_id) is None
    assert registry.unseal(old.key_id) is None
    assert [r.key_id for r in registry.all()] == [new.key_id]
    assert registry.for_repository("github.com", "acme/apps") == [new]
    assert registry.for_config(CLUSTER, "infra") is None and client.exists(user_key(INFRA.key)) == 0
    assert registry.for_config(CLUSTER, "apps") == new  # not the old key's to remove
    assert registry.unseal(new.key_id) == Secret("new private")
    registry.delete(old.key_id)  # again: nothing happens
    registry.delete(new.key_id)
    assert client.keys("fluxops:keys:*") == []
    assert client.keys("fluxops:sealed:*") == []


def test_moving_a_record_to_another_repository_moves_its_index(registry: RedisKeyRegistry) -> None:
    first = record(1.0, APPS)
    registry.save(first)
    registry.save(replace(first, full_name="acme/moved", repository="ssh://git@github.com/acme/moved"))
    assert registry.for_repository("github.com", "acme/apps") == []
    assert [r.key_id for r in registry.for_repository("github.com", "acme/moved")] == [first.key_id]


def test_a_rotation_racing_a_save_is_not_undone(
    registry: RedisKeyRegistry, client: redis.Redis, monkeypatch: pytest.MonkeyPatch, redis_server: str
) -> None:
    """Between reading where APPS points and writing, another job moves APPS to a new key: the save
    starts over (WATCH) and then sees it no longer owns APPS, so it leaves the index alone."""
    old = record(1.0, APPS)
    new = record(2.0, APPS)
    registry.save(old)
    other = redis.Redis.from_url(redis_server)
    calls: list[set[str]] = []
    read_users = RedisKeyRegistry._watch_users

    def racing(pipe: redis.client.Pipeline, users: set[str]) -> dict[str, str | None]:
        pointing = read_users(pipe, users)
        calls.append(users)
        if len(calls) == 1:  # what the racing rotation's save writes
            other.set(f"fluxops:keys:record:{new.key_id}", new.to_json())
            other.set(user_key(APPS.key), new.key_id)
        return pointing

    monkeypatch.setattr(RedisKeyRegistry, "_watch_users", staticmethod(racing))
    registry.save(old.without_user(APPS))
    other.close()
    assert len(calls) == 2  # the first transaction was refused and tried again
    assert registry.for_config(CLUSTER, "apps") == new
    assert registry.get(old.key_id) == old.without_user(APPS)


def test_seal_unseal_destroy(registry: RedisKeyRegistry, client: redis.Redis, kek: str) -> None:
    assert registry.unseal("dk-0123456789") is None
    registry.seal("dk-0123456789", Secret("first"))
    registry.seal("dk-0123456789", Secret("second"))  # replaces
    registry.seal("cred:gitlab-token", Secret("glpat-xyz"))
    assert registry.unseal("dk-0123456789") == Secret("second")
    assert registry.unseal("cred:gitlab-token") == Secret("glpat-xyz")
    registry.destroy("dk-0123456789")
    registry.destroy("dk-0123456789")
    assert registry.unseal("dk-0123456789") is None
    assert client.exists(sealed_key("cred:gitlab-token")) == 1

    stranger = RedisKeyRegistry(redis=client, sealer=Sealer(Secret(Fernet.generate_key().decode())))
    with pytest.raises(ConfigurationError) as refused:
        stranger.unseal("cred:gitlab-token")
    assert "'cred:gitlab-token'" in refused.value.message and "no longer in" in refused.value.message
    assert kek not in refused.value.user_text()


def test_reseal_all_lets_the_old_key_go(client: redis.Redis) -> None:
    old, new = Fernet.generate_key().decode(), Fernet.generate_key().decode()
    before = RedisKeyRegistry(redis=client, sealer=Sealer(Secret(old)))
    before.seal("dk-a", Secret("a"))
    before.seal("cred:b", Secret("b"))
    rotating = RedisKeyRegistry(redis=client, sealer=Sealer(Secret(f"{new},{old}")))
    assert rotating.reseal_all() == 2
    after = RedisKeyRegistry(redis=client, sealer=Sealer(Secret(new)))
    assert (after.unseal("dk-a"), after.unseal("cred:b")) == (Secret("a"), Secret("b"))


def test_no_plaintext_anywhere_in_redis(registry: RedisKeyRegistry, redis_server: str) -> None:
    key = Ed25519KeyMaker().generate()
    private = key.private_key.reveal()
    body = "".join(private.splitlines()[1:-1])  # the base64 inside the PEM armour
    saved = replace(record(1.0, APPS), public_key=key.public_key, fingerprint=key.fingerprint)
    registry.save(saved)
    registry.seal(saved.key_id, key.private_key)
    registry.seal("cred:token", Secret("ghp_supersecretvalue000"))
    registry.save_credential_use(CredentialUse("token", (APPS,)))
    # the whole text, its base64 body, and the end of the body where the private scalar sits
    needles = [private.encode(), body.encode(), body[-80:-20].encode(), b"ghp_supersecretvalue000"]
    values: list[bytes] = []
    raw = redis.Redis.from_url(redis_server)  # bytes, whatever the registry's client decodes
    for name in raw.scan_iter(count=1000):
        kind = raw.type(name)
        if kind == b"string":
            values.append(raw.get(name) or b"")
        elif kind == b"zset":
            values += [m for m, _ in raw.zrange(name, 0, -1, withscores=True)]
        elif kind == b"set":
            values += list(raw.smembers(name))
        elif kind == b"hash":
            values += [b"%s=%s" % pair for pair in raw.hgetall(name).items()]
        values.append(name)
    raw.close()
    assert any(key.public_key.encode() in v for v in values)  # the scan saw the record
    for needle in needles:
        assert all(needle not in v for v in values)
    assert registry.unseal(saved.key_id) == key.private_key


def test_credential_uses(registry: RedisKeyRegistry) -> None:
    assert registry.credential_use("gitlab-token") == CredentialUse("gitlab-token")
    use = CredentialUse("gitlab-token").with_user(APPS).with_user(WEB)
    registry.save_credential_use(use)
    assert registry.credential_use("gitlab-token") == use
    assert registry.credential_use("other") == CredentialUse("other")
    registry.save_credential_use(CredentialUse("gitlab-token"))
    assert registry.credential_use("gitlab-token") == CredentialUse("gitlab-token")


def test_index_keys_follow_the_documented_layout(registry: RedisKeyRegistry, client: redis.Redis) -> None:
    saved = record(5.0, APPS, repo="Acme/Apps", host="GitHub.com")
    registry.save(saved)
    assert client.zscore(ALL_KEYS, saved.key_id) == 5.0
    assert client.zscore(repo_key("github.com", "acme/apps"), saved.key_id) == 5.0
    assert repo_key("GitHub.com", "Acme/Apps") == "fluxops:keys:repo:github.com/acme/apps"
    assert user_key(APPS.key) == f"fluxops:keys:user:{CLUSTER.lower()}/apps"


def test_an_update_racing_another_writer_keeps_both_changes(registry: RedisKeyRegistry, client: redis.Redis) -> None:
    """``update`` reads, changes and writes under WATCH: a writer that stores in between (here, inside the
    change itself) makes it run the change again on what that writer stored, so neither change is lost."""
    key = record(1.0, APPS)
    registry.save(key)
    other = RedisKeyRegistry(redis=client, sealer=Sealer(Secret(Fernet.generate_key().decode())))
    calls: list[DeployKeyRecord] = []

    def add_infra(current: DeployKeyRecord) -> DeployKeyRecord:
        calls.append(current)
        if len(calls) == 1:  # another job adopts WEB meanwhile
            other.update(key.key_id, lambda r: r.with_user(WEB))
        return current.with_user(INFRA)

    stored = registry.update(key.key_id, add_infra)
    assert len(calls) == 2 and WEB in calls[1].users  # ran again on the other writer's record
    assert stored is not None and set(stored.users) == {APPS, INFRA, WEB}
    assert registry.get(key.key_id) == stored
    assert registry.for_config(OTHER_CLUSTER, "web") == stored  # the index moved with the racing write
    assert registry.update("dk-missing", lambda r: r) is None  # nothing to change, nothing stored


def test_a_credential_use_update_racing_another_writer_keeps_both(registry: RedisKeyRegistry) -> None:
    ref = f"token-{uuid.uuid4().hex[:6]}"
    calls = 0

    def add_apps(use: CredentialUse) -> CredentialUse:
        nonlocal calls
        calls += 1
        if calls == 1:
            registry.update_credential_use(ref, lambda u: u.with_user(WEB))
        return use.with_user(APPS)

    assert registry.update_credential_use(ref, add_apps) == CredentialUse(ref).with_user(WEB).with_user(APPS)
    assert calls == 2 and registry.credential_use(ref) == CredentialUse(ref).with_user(WEB).with_user(APPS)
