"""The audit log: one Redis stream entry per mutation outcome (implements bot.ports.AuditLog).

``{stream}`` (default ``fluxops:audit``) holds entries with the fields time, actor, origin, command,
cluster, job_id, result and cluster_id (the cluster's ARM id when the command ran on one cluster), capped
near ``maxlen`` (``XADD MAXLEN ~``). A redelivered job must not write its outcome twice, so each append first
takes a guard key ``{stream}:once:{job_id}:{kind}`` (``kind`` is the word before ':' in the result: succeeded,
failed, refused, canceled) with SET NX, in the same Lua script as the XADD. The guard key keeps the stream id
of the entry it let through.
"""

from __future__ import annotations

from datetime import UTC, datetime

import redis

from bot.views import AuditEntry
from workers.redis_jobs import as_text, server_time

FIELDS = ("time", "actor", "origin", "command", "cluster", "job_id", "result", "cluster_id")
GUARD_TTL_SECONDS = 30 * 24 * 3600  # far beyond any redelivery or recovery of a job

# KEYS[1] stream, KEYS[2] guard key (absent: no job id, always append)
# ARGV[1] maxlen, ARGV[2] guard TTL, ARGV[3..] field/value pairs -> the new stream id, or false
_APPEND = """
if KEYS[2] and not redis.call('SET', KEYS[2], '', 'NX', 'EX', ARGV[2]) then
  return false
end
local id = redis.call('XADD', KEYS[1], 'MAXLEN', '~', ARGV[1], '*', unpack(ARGV, 3))
if KEYS[2] then
  redis.call('SET', KEYS[2], id, 'KEEPTTL')
end
return id
"""


def result_kind(result: str) -> str:
    """``"failed: ARM said no"`` -> ``"failed"``."""
    return result.split(":", 1)[0].strip()


def iso_utc(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def _normalized_time(value: str, stream_id: str) -> str:
    """The entry's own time in ISO 8601 UTC; the stream id's time when the field is missing or unreadable."""
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        millis = int(stream_id.split("-", 1)[0])
        return iso_utc(datetime.fromtimestamp(millis / 1000, UTC))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return iso_utc(moment)


def stream_fields(entry: AuditEntry) -> dict[str, str]:
    """The stream fields of ``entry``, in FIELDS order (an empty ``time`` is now); the web process's own
    appends (refusals at intake) write the same fields."""
    values = {
        "time": entry.time or iso_utc(datetime.now(UTC)),
        "actor": entry.actor,
        "origin": entry.origin,
        "command": entry.command,
        "cluster": entry.cluster,
        "job_id": entry.job_id,
        "result": entry.result,
        "cluster_id": entry.cluster_id,
    }
    return {field: values[field] for field in FIELDS}


class RedisAuditLog:
    def __init__(
        self,
        *,
        redis: redis.Redis,
        stream: str = "fluxops:audit",
        maxlen: int = 100_000,
        guard_ttl_seconds: int = GUARD_TTL_SECONDS,
    ) -> None:
        self._redis = redis
        self._stream = stream
        self._maxlen = maxlen
        self._guard_ttl = guard_ttl_seconds
        self._append = redis.register_script(_APPEND)

    def append(self, entry: AuditEntry) -> bool:
        """Write ``entry`` (its ``id`` is ignored: the stream assigns one) once per (job id, result kind).

        False when this job already wrote an entry of this kind. An empty ``time`` is filled with now.
        """
        values = stream_fields(entry)
        keys = [self._stream]
        if entry.job_id:
            keys.append(f"{self._stream}:once:{entry.job_id}:{result_kind(entry.result)}")
        args: list[str | int] = [self._maxlen, self._guard_ttl]
        for field in FIELDS:
            args += [field, values[field]]
        return self._append(keys=keys, args=args) is not None

    def read(self, *, since_seconds: int, cluster: str | None = None, limit: int = 20) -> list[AuditEntry]:
        """Entries of the last ``since_seconds``, newest first, at most ``limit``.

        ``cluster`` matches the entry's cluster field (a cluster name or alias) ignoring case.
        """
        if limit <= 0 or since_seconds <= 0:
            return []
        oldest = f"{int((server_time(self._redis) - since_seconds) * 1000)}-0"
        wanted = cluster.casefold() if cluster is not None else None
        batch = limit if wanted is None else max(limit * 4, 100)
        found: list[AuditEntry] = []
        newest = "+"
        while len(found) < limit:
            page = self._redis.xrevrange(self._stream, max=newest, min=oldest, count=batch)
            if not page:
                break
            for raw_id, raw_fields in page:
                if raw_fields is None:  # an entry deleted under a consumer group's pending list
                    continue
                stream_id = as_text(raw_id)
                fields = {as_text(k): as_text(v) for k, v in raw_fields.items()}
                if wanted is not None and fields.get("cluster", "").casefold() != wanted:
                    continue
                found.append(self._entry(stream_id, fields))
                if len(found) == limit:
                    break
            if len(page) < batch:
                break
            newest = "(" + as_text(page[-1][0])
        return found

    @staticmethod
    def _entry(stream_id: str, fields: dict[str, str]) -> AuditEntry:
        return AuditEntry(
            id=stream_id,
            time=_normalized_time(fields.get("time", ""), stream_id),
            actor=fields.get("actor", ""),
            origin=fields.get("origin", ""),
            command=fields.get("command", ""),
            cluster=fields.get("cluster", ""),
            job_id=fields.get("job_id", ""),
            result=fields.get("result", ""),
            cluster_id=fields.get("cluster_id", ""),
        )
