"""What every log line inside a request or a job carries, bound in contextvars and cleared after.

The web binds a delivery's fields per request (handlers/log_context.py), the worker a job's per task
(workers/log_context.py); structlog's ``merge_contextvars`` adds them to each line, stdlib ``logging`` calls
included. The field names are the contract of the JSON lines (README, "Logs").
"""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from contextvars import ContextVar, Token
from typing import Any, Protocol

import structlog
from structlog.typing import EventDict

from bot.command_codec import decode
from bot.commands import Command
from bot.jobs import JobRecord

#: the context fields fluxops binds (README "Logs"); a line carries those known where it was logged
JOB_FIELDS = ("job_id", "kind", "platform", "actor", "cluster", "cluster_id", "config")
REQUEST_FIELDS = ("delivery_id", "event", "route")
TASK_FIELDS = ("task_id", "task")


class LogScope(Protocol):
    """Fields of a scope (a web request) read only when a line is logged: most requests log nothing, and binding
    each field in a context variable of its own cost more than the rest of the request's bookkeeping."""

    def log_fields(self) -> Mapping[str, str]:
        """The scope's fields as they are now."""
        ...


_SCOPE: ContextVar[LogScope | None] = ContextVar("fluxops_log_scope", default=None)


def open_scope(scope: LogScope) -> Token[LogScope | None]:
    """Lines logged from here (this task, and tasks it starts) carry ``scope``'s fields, until ``close_scope``."""
    return _SCOPE.set(scope)


def close_scope(token: Token[LogScope | None]) -> None:
    _SCOPE.reset(token)


def current_scope() -> LogScope | None:
    return _SCOPE.get()


def merge_scope(_: Any, __: str, event: EventDict) -> EventDict:
    """A structlog processor: the open scope's fields, under what the line and the bound context already say."""
    scope = _SCOPE.get()
    if scope is not None:
        for key, value in scope.log_fields().items():
            event.setdefault(key, value)
    return event


def job_fields(record: JobRecord) -> dict[str, str]:
    """The context of job ``record``: its id, kind, who asked, and the cluster and configuration it acts on
    where its decision and command name them. Never raises: a record it cannot read gives fewer fields."""
    fields = {"job_id": record.job_id, "kind": record.kind, "platform": record.platform}
    if record.actor:
        fields["actor"] = record.actor_id
    if record.command:
        try:
            parsed = decode(record.command)
        except Exception:
            parsed = None
        if isinstance(parsed, Command):
            fields.update(command_fields(parsed))
    fields.update(_decision_fields(record.decision))  # the decided cluster, over the one typed
    return {key: value for key, value in fields.items() if value}


def command_fields(command: Command) -> dict[str, str]:
    """The cluster (as typed) and configuration a command names, where it names them."""
    fields: dict[str, str] = {}
    target = command.cluster_target
    if target is not None:
        fields["cluster"] = str(target)
    config = getattr(command, "config", None)
    if not isinstance(config, str):
        lock = command.lock_name
        config = lock if lock and lock != "extension" else None
    if config is None and not type(command).__module__.endswith(".extensions"):
        name = getattr(command, "name", None)
        config = name if isinstance(name, str) else None
    if config:
        fields["config"] = config
    return fields


def _decision_fields(decision: str) -> dict[str, str]:
    """The decided cluster: its label (the inventory alias people use) and ARM id."""
    if not decision:
        return {}
    try:
        data = json.loads(decision)
    except ValueError:
        return {}
    if not isinstance(data, dict):
        return {}
    label, target = data.get("target_label"), data.get("target_id")
    fields = {}
    if isinstance(label, str) and label:
        fields["cluster"] = label
    if isinstance(target, str) and target:
        fields["cluster_id"] = target
    return fields


@contextmanager
def bound(**fields: str) -> Iterator[None]:
    """Bind ``fields`` for every line logged inside the block (this thread or task), restored after."""
    with structlog.contextvars.bound_contextvars(**{key: value for key, value in fields.items() if value}):
        yield


def bind(**fields: str) -> None:
    """Bind ``fields`` until the surrounding ``bound`` block (or ``clear``) ends them."""
    structlog.contextvars.bind_contextvars(**{key: value for key, value in fields.items() if value})


def clear() -> None:
    """Forget every bound field (a task ended; the next one starts clean)."""
    structlog.contextvars.clear_contextvars()
