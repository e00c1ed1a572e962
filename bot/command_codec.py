"""A typed command as JSON, and back: how the job record carries what intake parsed to the worker.

The web process parses the text once and stores the command it decided about (``JobRecord.command``; for a
pull-request comment that is help or a usage error, the Reply to post); the worker decodes it instead of
parsing the text again. Redis is not trusted, so decoding is strict:
every object names its class (``"@type"``), which must be one the field's type admits; every field must be
present or defaulted, of its declared type (a bool is not an int), and nothing unknown is accepted. A command
that holds a ``Secret`` is never encoded (the grammar accepts no secrets; one there would be a bug).
"""

from __future__ import annotations

import dataclasses
import json
import types
import typing
from enum import Enum
from functools import cache
from typing import Any, Union

from bot import errors
from bot.commands import Command, ParseResult, Reply, Run
from bot.models import Secret

_TYPE = "@type"
_AGAIN = "send the command again (jobs queued before an upgrade of fluxops are not run)"


def encode(parsed: Command | Reply) -> str:
    """The command (or reply) as compact JSON (stable key order, so equal commands encode equally)."""
    return json.dumps(_plain(parsed), sort_keys=True, separators=(",", ":"))


def encode_parsed(parsed: ParseResult) -> str:
    """What a job record carries of what the grammar made of some text: the command, the reply to post, or
    nothing (text not addressed to fluxops)."""
    if isinstance(parsed, Run):
        return encode(parsed.command)
    return encode(parsed) if isinstance(parsed, Reply) else ""


def decode(text: str) -> Command | Reply:
    """What ``encode`` wrote; raises errors.Forbidden when the text is not one."""
    if not text:
        raise errors.Forbidden("the job carries no parsed command, so it is not run", recommendation=_AGAIN)
    try:
        value = _typed(json.loads(text), Command | Reply, "command")
    except (ValueError, TypeError, KeyError, RecursionError) as problem:
        raise errors.Forbidden(
            f"the job's command cannot be read ({problem}), so it is not run", recommendation=_AGAIN
        ) from problem
    return typing.cast(Command | Reply, value)


def decode_command(text: str) -> Command:
    """The command ``encode`` wrote, where only a command may stand (not a reply)."""
    value = decode(text)
    if isinstance(value, Reply):
        raise errors.Forbidden("the job carries a reply, not a command, so nothing is run", recommendation=_AGAIN)
    return value


def _plain(value: object) -> object:
    if isinstance(value, Secret):
        raise ValueError("a command holding a secret is never stored")
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        fields = {f.name: _plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
        return {_TYPE: type(value).__name__, **fields}
    if isinstance(value, Enum):
        return value.value
    if isinstance(value, tuple):
        return [_plain(item) for item in value]
    if value is None or isinstance(value, str | int | float):
        return value
    raise ValueError(f"a command field of type {type(value).__name__} cannot be stored")


def _typed(value: object, hint: Any, where: str) -> object:
    origin = typing.get_origin(hint)
    if origin in (Union, types.UnionType):
        return _union(value, typing.get_args(hint), where)
    if origin is tuple:
        return _tuple(value, typing.get_args(hint), where)
    if isinstance(hint, type) and dataclasses.is_dataclass(hint):
        return _union(value, (hint,), where)
    if isinstance(hint, type) and issubclass(hint, Enum):
        return hint(value)
    if hint is type(None):
        if value is not None:
            raise ValueError(f"{where} must be null")
        return None
    if hint in (str, int, bool) or hint is float:
        if type(value) is not hint and not (hint is float and type(value) is int):
            raise ValueError(f"{where} must be {hint.__name__}")
        return value
    raise TypeError(f"{where}: type {hint!r} is not decoded")


def _union(value: object, members: tuple[Any, ...], where: str) -> object:
    if value is None:
        if type(None) in members:
            return None
        raise ValueError(f"{where} must not be null")
    classes = {m.__name__: m for m in members if isinstance(m, type) and dataclasses.is_dataclass(m)}
    if isinstance(value, dict) and classes:
        name = value.get(_TYPE)
        if name not in classes:
            raise ValueError(f"{where} cannot be a {name!r}")
        return _dataclass(classes[name], value, where)
    others = [m for m in members if m is not type(None) and m not in classes.values()]
    for member in others:
        try:
            return _typed(value, member, where)
        except (ValueError, TypeError):
            continue
    raise ValueError(f"{where} has an unexpected value")


def _tuple(value: object, args: tuple[Any, ...], where: str) -> tuple[object, ...]:
    if not isinstance(value, list):
        raise ValueError(f"{where} must be a list")
    if len(args) == 2 and args[1] is Ellipsis:
        return tuple(_typed(item, args[0], f"{where}[{i}]") for i, item in enumerate(value))
    if len(value) != len(args):
        raise ValueError(f"{where} must have {len(args)} items")
    return tuple(_typed(item, arg, f"{where}[{i}]") for i, (item, arg) in enumerate(zip(value, args, strict=True)))


def _dataclass(cls: type, data: dict[str, object], where: str) -> object:
    hints = _hints(cls)
    unknown = set(data) - set(hints) - {_TYPE}
    if unknown:
        raise ValueError(f"{where}: {cls.__name__} has no field {sorted(unknown)[0]!r}")
    values = {name: _typed(data[name], hint, f"{where}.{name}") for name, hint in hints.items() if name in data}
    return cls(**values)


@cache
def _hints(cls: type) -> dict[str, Any]:
    """The init fields of ``cls`` and their types (class variables and computed fields left out)."""
    hints = typing.get_type_hints(cls)
    return {f.name: hints[f.name] for f in dataclasses.fields(cls) if f.init}
