"""The last word before a log line leaves the process: every string in it goes through bot.redact.

A secret logged by mistake (a private key in an exception's text, a token in a URL, protected settings passed
as a field) must not reach the log pipeline. ``redact_event`` runs the project's redactor over the event (the
message), the exception text and every string field, nested dicts and lists included; a field whose *name*
says it holds a secret (``configurationProtectedSettings``, ``password``, ``token``, ``private_key``...) is
masked whole, whatever its value looks like, since a short password looks like nothing.
"""

from __future__ import annotations

from collections.abc import Mapping, MutableMapping
from functools import lru_cache
from typing import Any

from bot.redact import MASK, redact

#: a field name (lowercased, without ``_`` and ``-``) containing one of these holds a secret
_SECRET_NAME_PARTS = (
    "protectedsettings",
    "password",
    "passwd",
    "passphrase",
    "secret",
    "token",
    "privatekey",
    "authorization",
    "apikey",
    "accountkey",
    "connectionstring",
    "sshkey",
)
#: ...unless it only names or counts one (``https_key_ref``, ``token_expiry``, ``secret_name``)
_SAFE_NAME_ENDINGS = ("ref", "id", "name", "type", "expiry", "expires", "age", "count")
#: fields fluxops fills from its own identifiers and clocks: never secrets, and redacting a long id would hide it
_OWN_FIELDS = frozenset(
    {"timestamp", "level", "logger", "process", "job_id", "task_id", "delivery_id", "trace_id", "span_id"}
)
#: how deep nested fields are followed; anything deeper is masked rather than printed unread
_MAX_DEPTH = 8


@lru_cache(maxsize=1024)  # field names: a small, fixed set, looked up on every line
def secret_name(name: str) -> bool:
    """Whether a field called ``name`` holds a secret by its name alone."""
    flat = name.lower().replace("_", "").replace("-", "")
    return any(part in flat for part in _SECRET_NAME_PARTS) and not flat.endswith(_SAFE_NAME_ENDINGS)


def redact_value(value: object, depth: int = 0) -> object:
    """``value`` with every secret-looking string masked, containers followed; other values unchanged."""
    if isinstance(value, str):
        return redact(value)
    if depth >= _MAX_DEPTH:
        return MASK if isinstance(value, Mapping | list | tuple | set) else value
    if isinstance(value, Mapping):
        return {
            str(key): MASK if secret_name(str(key)) else redact_value(item, depth + 1) for key, item in value.items()
        }
    if isinstance(value, list | tuple | set | frozenset):
        return [redact_value(item, depth + 1) for item in value]
    if isinstance(value, bytes):
        return redact(value.decode("utf-8", "replace"))
    return value


def redact_event(_: object, __: str, event: MutableMapping[str, Any]) -> MutableMapping[str, Any]:
    """structlog processor: mask secrets in every field of ``event`` (run after exceptions are rendered)."""
    for key, value in event.items():
        if key in _OWN_FIELDS:
            continue
        if secret_name(key):
            event[key] = MASK
        elif isinstance(value, str):
            event[key] = redact(value)
        elif value is not None and not isinstance(value, bool | int | float):
            event[key] = redact_value(value)
    return event
