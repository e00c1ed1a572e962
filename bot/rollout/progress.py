"""Each operation's durable stage, in the run's job record: what a restarted worker carries on from.

``pending`` → ``writing`` (saved before the write is sent) → ``written`` (ARM accepted it; ``at`` is the wall
clock just before it was sent) → ``done`` or ``failed`` (with the reason). A run that finds an operation in
``writing`` cannot know whether ARM got it, so it reads the resource and writes again only if the change is not
there (bot.rollout.goals.landed). Values come back from Redis, which is not trusted: anything unreadable is
``pending`` again, so the worst a forged value can do is a repeated, idempotent write.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from enum import StrEnum

from bot.ports import JobStore

#: who asked to cancel the run
CANCEL_FIELD = "run:cancel"
#: the run's plan, saved before its confirmation (bot.usecases.fleet_runs)
PLAN_FIELD = "run:plan"
#: set when the confirmed run starts: only a started run can be resumed (never one canceled before its Confirm)
STARTED_FIELD = "run:started"


class Stage(StrEnum):
    PENDING = "pending"
    WRITING = "writing"
    WRITTEN = "written"
    DONE = "done"
    FAILED = "failed"


@dataclass(frozen=True)
class OpProgress:
    stage: Stage = Stage.PENDING
    at: float = 0.0  # epoch seconds: when the write was sent
    detail: str = ""  # what was last seen, or why it failed

    def encode(self) -> str:
        return json.dumps([self.stage.value, self.at, self.detail], separators=(",", ":"))

    @classmethod
    def decode(cls, text: str | None) -> OpProgress:
        if not text:
            return cls()
        try:
            stage, at, detail = json.loads(text)
            if not isinstance(at, int | float) or isinstance(at, bool) or not isinstance(detail, str):
                return cls()
            return cls(Stage(stage), float(at), detail[:1000])
        except (ValueError, TypeError):
            return cls()


class RunProgress:
    """The progress of every operation of one run, cached in memory, written through to the job store."""

    def __init__(self, store: JobStore, run_id: str) -> None:
        self._store = store
        self._run_id = run_id
        self._cache: dict[str, OpProgress] = {}

    def get(self, key: str) -> OpProgress:
        found = self._cache.get(key)
        if found is None:
            found = OpProgress.decode(self._store.get(self._run_id, f"op:{key}"))
            self._cache[key] = found
        return found

    def put(self, key: str, progress: OpProgress) -> None:
        if self._cache.get(key) == progress:
            return
        self._store.put(self._run_id, f"op:{key}", progress.encode())
        self._cache[key] = progress

    def put_many(self, changes: Mapping[str, OpProgress]) -> None:
        """Like ``put`` for each of ``changes``, in one write to the job store."""
        fresh = {key: progress for key, progress in changes.items() if self._cache.get(key) != progress}
        if fresh:
            self._store.put_many(self._run_id, {f"op:{key}": progress.encode() for key, progress in fresh.items()})
            self._cache.update(fresh)

    def note(self, key: str, progress: OpProgress) -> None:
        """Like ``put``, but what changed only the detail (what was last seen) stays in memory: a resumed run
        needs each stage, not every intermediate look, and a fleet's looks would cost a write per cluster."""
        before = self.get(key)
        if (before.stage, before.at) != (progress.stage, progress.at):
            self.put(key, progress)
        else:
            self._cache[key] = progress

    def cancel_requested(self) -> str:
        """Who asked to cancel the run ("" when nobody did)."""
        return self._store.get(self._run_id, CANCEL_FIELD) or ""
