"""``RedisKeyRegistry``: the ``bot.ports.KeyRegistry`` in Redis (deploy key records, credential uses, sealed secrets).

Key layout:

- ``fluxops:keys:record:{key_id}``: the ``DeployKeyRecord`` as JSON (public data only).
- ``fluxops:keys:all``: sorted set of key ids scored by ``created_at`` (``all``, oldest first).
- ``fluxops:keys:user:{cluster id}/{config}`` (lowercase, ``KeyUser.key``): the key id a configuration uses.
- ``fluxops:keys:repo:{host}/{org/repo}`` (lowercase): sorted set of the key ids registered on a repository.
- ``fluxops:sealed:{name}``: a secret sealed by the ``Sealer`` (a key id, or ``cred:REF``). Plaintext
  never reaches Redis.
- ``fluxops:credentials:use:{ref}``: the ``CredentialUse`` of credential ``ref`` as JSON.

A record and its indexes change together in one MULTI/EXEC, under WATCH of the record and of the user
index entries it touches, so two jobs saving at once cannot leave an index pointing the wrong way. A user
index entry moves to a key when a record gains that user, and a record that loses the user (or is deleted)
removes the entry only while it still points to that record: a stale save of an old key cannot take a
configuration away from the key a rotation gave it.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable

import redis

from bot.errors import ConfigurationError, Conflict
from bot.key_records import CredentialUse, DeployKeyRecord, KeyUser
from bot.models import Secret
from workers.key_sealing import Sealer
from workers.redis_jobs import as_text

RECORD_PREFIX = "fluxops:keys:record:"
ALL_KEYS = "fluxops:keys:all"
USER_PREFIX = "fluxops:keys:user:"
REPO_PREFIX = "fluxops:keys:repo:"
SEALED_PREFIX = "fluxops:sealed:"
CREDENTIAL_USE_PREFIX = "fluxops:credentials:use:"
#: optimistic transactions tried before a save gives up (each retry follows a concurrent change)
_ATTEMPTS = 20


def record_key(key_id: str) -> str:
    return RECORD_PREFIX + key_id


def user_key(user_key_text: str) -> str:
    """The index entry of a ``KeyUser.key``."""
    return USER_PREFIX + user_key_text


def repo_key(host: str, full_name: str) -> str:
    return f"{REPO_PREFIX}{host.lower()}/{full_name.lower()}"


def sealed_key(name: str) -> str:
    return SEALED_PREFIX + name


def _watch(pipe: redis.client.Pipeline, *names: str) -> None:
    """WATCH ``names`` (immediately: the pipeline is not in MULTI yet)."""
    pipe.watch(*names)  # type: ignore[no-untyped-call]  # redis-py leaves Pipeline.watch unannotated


def _as_bytes(value: object) -> bytes:
    return value if isinstance(value, bytes) else str(value).encode()


class RedisKeyRegistry:
    """Deploy key records and sealed secrets on one Redis (works with or without ``decode_responses``)."""

    def __init__(self, *, redis: redis.Redis, sealer: Sealer) -> None:
        self._redis = redis
        self._sealer = sealer

    def __repr__(self) -> str:
        return f"RedisKeyRegistry(sealer={self._sealer!r})"

    # -- records --------------------------------------------------------------------------------

    def save(self, record: DeployKeyRecord) -> None:
        """Store ``record`` and move its indexes with it, atomically."""
        self.update(record.key_id, lambda _old: record, default=record)

    def update(
        self,
        key_id: str,
        change: Callable[[DeployKeyRecord], DeployKeyRecord],
        *,
        default: DeployKeyRecord | None = None,
    ) -> DeployKeyRecord | None:
        """Store ``change`` of the record as it is now (or of ``default`` when there is none; nothing when there
        is neither), in one transaction with its indexes: a concurrent change is never lost, ``change`` runs
        again on what the other writer stored."""
        name = record_key(key_id)
        for _ in range(_ATTEMPTS):
            with self._redis.pipeline(transaction=True) as pipe:
                try:
                    _watch(pipe, name)
                    raw = pipe.get(name)
                    old = DeployKeyRecord.from_json(as_text(raw)) if raw is not None else None
                    base = old if old is not None else default
                    if base is None:
                        return None
                    record = change(base)
                    before = {u.key for u in old.users} if old is not None else set()
                    after = {u.key for u in record.users}
                    pointing = self._watch_users(pipe, before | after)
                    pipe.multi()
                    pipe.set(name, record.to_json())
                    pipe.zadd(ALL_KEYS, {record.key_id: record.created_at})
                    if old is not None and repo_key(old.host, old.full_name) != repo_key(record.host, record.full_name):
                        pipe.zrem(repo_key(old.host, old.full_name), record.key_id)
                    pipe.zadd(repo_key(record.host, record.full_name), {record.key_id: record.created_at})
                    for user in after:
                        # A user this record gains moves here; one it kept is left where a rotation put it,
                        # unless no key claims it any more.
                        if user not in before or pointing[user] is None:
                            pipe.set(user_key(user), record.key_id)
                    for user in before - after:
                        if pointing[user] == record.key_id:
                            pipe.delete(user_key(user))
                    pipe.execute()
                    return record
                except redis.WatchError:
                    continue
        raise Conflict(f"saving deploy key {key_id}: other jobs kept changing it at the same time")

    def delete(self, key_id: str) -> None:
        name = record_key(key_id)
        for _ in range(_ATTEMPTS):
            with self._redis.pipeline(transaction=True) as pipe:
                try:
                    _watch(pipe, name)
                    raw = pipe.get(name)
                    old = DeployKeyRecord.from_json(as_text(raw)) if raw is not None else None
                    pointing = self._watch_users(pipe, {u.key for u in old.users} if old is not None else set())
                    pipe.multi()
                    pipe.delete(name, sealed_key(key_id))
                    pipe.zrem(ALL_KEYS, key_id)
                    if old is not None:
                        pipe.zrem(repo_key(old.host, old.full_name), key_id)
                    for user, points_to in pointing.items():
                        if points_to == key_id:
                            pipe.delete(user_key(user))
                    pipe.execute()
                    return
                except redis.WatchError:
                    continue
        raise Conflict(f"deleting deploy key {key_id}: other jobs kept changing it at the same time")

    @staticmethod
    def _watch_users(pipe: redis.client.Pipeline, users: set[str]) -> dict[str, str | None]:
        """WATCH the index entries of ``users`` and read where each points now."""
        if not users:
            return {}
        ordered = sorted(users)
        _watch(pipe, *(user_key(u) for u in ordered))
        values = pipe.mget([user_key(u) for u in ordered])
        return {u: None if v is None else as_text(v) for u, v in zip(ordered, values, strict=True)}

    def get(self, key_id: str) -> DeployKeyRecord | None:
        raw = self._redis.get(record_key(key_id))
        return None if raw is None else DeployKeyRecord.from_json(as_text(raw))

    def all(self) -> list[DeployKeyRecord]:
        return self._records(self._redis.zrange(ALL_KEYS, 0, -1))

    def for_repository(self, host: str, full_name: str) -> list[DeployKeyRecord]:
        return self._records(self._redis.zrange(repo_key(host, full_name), 0, -1))

    def for_config(self, cluster_id: str, config: str) -> DeployKeyRecord | None:
        user = KeyUser(cluster_id, config).key
        key_id = self._redis.get(user_key(user))
        if key_id is None:
            return None
        record = self.get(as_text(key_id))
        # An index entry outlives its record only if Redis lost a write; the record is the truth.
        if record is None or all(u.key != user for u in record.users):
            return None
        return record

    def _records(self, key_ids: Iterable[object]) -> list[DeployKeyRecord]:
        ids = [as_text(k) for k in key_ids]
        if not ids:
            return []
        raws = self._redis.mget([record_key(k) for k in ids])
        records = [DeployKeyRecord.from_json(as_text(raw)) for raw in raws if raw is not None]
        return sorted(records, key=lambda r: (r.created_at, r.key_id))

    # -- sealed secrets -------------------------------------------------------------------------

    def seal(self, name: str, secret: Secret) -> None:
        self._redis.set(sealed_key(name), self._sealer.seal(secret))

    def unseal(self, name: str) -> Secret | None:
        token = self._redis.get(sealed_key(name))
        if token is None:
            return None
        try:
            return self._sealer.unseal(_as_bytes(token))
        except ConfigurationError as exc:
            raise ConfigurationError(f"unsealing '{name}': {exc.message}", recommendation=exc.recommendation) from None

    def destroy(self, name: str) -> None:
        self._redis.delete(sealed_key(name))

    def reseal_all(self) -> int:
        """Seal every held secret again with the first key of FLUXOPS_KEY_ENCRYPTION_KEY; returns how many.

        Run it after prepending a new key: once it returns, the old key can be dropped from the setting.
        """
        count = 0
        for raw_name in self._redis.scan_iter(match=SEALED_PREFIX + "*", count=500):
            name = as_text(raw_name)
            with self._redis.pipeline(transaction=True) as pipe:
                try:
                    _watch(pipe, name)
                    token = pipe.get(name)
                    if token is None:
                        continue
                    fresh = self._sealer.reseal(_as_bytes(token))
                    pipe.multi()
                    pipe.set(name, fresh)
                    pipe.execute()
                    count += 1
                except redis.WatchError:
                    count += 1  # sealed again meanwhile by a writer, with the first key
        return count

    # -- credentials handed out -----------------------------------------------------------------

    def credential_use(self, ref: str) -> CredentialUse:
        raw = self._redis.get(CREDENTIAL_USE_PREFIX + ref)
        return CredentialUse(ref=ref) if raw is None else CredentialUse.from_json(as_text(raw))

    def save_credential_use(self, use: CredentialUse) -> None:
        self.update_credential_use(use.ref, lambda _old: use)

    def update_credential_use(self, ref: str, change: Callable[[CredentialUse], CredentialUse]) -> CredentialUse:
        """Store ``change`` of who uses credential ``ref`` now, in one transaction (a concurrent change is
        never lost: ``change`` runs again on what the other writer stored)."""
        name = CREDENTIAL_USE_PREFIX + ref
        for _ in range(_ATTEMPTS):
            with self._redis.pipeline(transaction=True) as pipe:
                try:
                    _watch(pipe, name)
                    raw = pipe.get(name)
                    use = change(CredentialUse(ref=ref) if raw is None else CredentialUse.from_json(as_text(raw)))
                    pipe.multi()
                    if use.users:
                        pipe.set(name, use.to_json())
                    else:
                        pipe.delete(name)  # nobody uses it: same as no record
                    pipe.execute()
                    return use
                except redis.WatchError:
                    continue
        raise Conflict(f"saving who uses credential {ref}: other jobs kept changing it at the same time")
