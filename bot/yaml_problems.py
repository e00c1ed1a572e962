"""Saying where a YAML file is wrong: the line and key path of each problem, in YAML terms.

Shared by the policy file (bot.config_file) and the fleet files (bot.fleet.load): PyYAML's own messages
quote the file, and pydantic's name Python types; these name lines, keys and what to write instead.
"""

from __future__ import annotations

import difflib
import types
import typing
from typing import Any

import yaml
from pydantic import BaseModel
from pydantic_core import ErrorDetails


def yaml_problem(exc: yaml.YAMLError) -> str:
    # Our own text: str(exc) quotes a snippet of the file.
    if isinstance(exc, yaml.MarkedYAMLError):
        mark = exc.problem_mark or exc.context_mark
        where = f"line {mark.line + 1}, column {mark.column + 1}: " if mark is not None else ""
        return where + (exc.problem or exc.context or "cannot parse")
    return "cannot parse"


def duplicate_keys(root: yaml.Node) -> list[str]:
    """PyYAML keeps the last of two equal keys silently; in a policy that hides a mistake."""
    found: list[tuple[int, str]] = []
    seen_nodes: set[int] = set()
    stack = [root]
    while stack:
        node = stack.pop()
        if id(node) in seen_nodes:
            continue
        seen_nodes.add(id(node))
        if isinstance(node, yaml.MappingNode):
            first: dict[str, int] = {}
            for key, value in node.value:
                if isinstance(key, yaml.ScalarNode) and key.tag != "tag:yaml.org,2002:merge":
                    line = key.start_mark.line + 1
                    if key.value in first:
                        found.append(
                            (line, f"line {line}: key '{key.value}' appears twice (first on line {first[key.value]})")
                        )
                    first.setdefault(key.value, line)
                stack.append(value)
        elif isinstance(node, yaml.SequenceNode):
            stack.extend(node.value)
    return [text for _, text in sorted(found)]


def describe(error: ErrorDetails, root: yaml.Node, model: type[BaseModel]) -> tuple[int, str]:
    """(line, text) of one validation error of ``model`` read from the YAML under ``root``."""
    loc = tuple(error["loc"])
    line = line_of(root, loc)
    return line, f"line {line}, {key_path(loc) or 'top level'}: {_problem(error, loc, model)}"


def _problem(error: ErrorDetails, loc: tuple[int | str, ...], model: type[BaseModel]) -> str:
    kind = error["type"]
    if kind == "extra_forbidden":
        key = str(loc[-1])
        allowed = allowed_keys(model, loc[:-1])
        close = difflib.get_close_matches(key, allowed, n=1)
        hint = f" — did you mean '{close[0]}'?" if close else ""
        listing = f" (allowed here: {', '.join(allowed)})" if allowed else ""
        return f"unknown key '{key}'{hint}{listing}"
    return value_problem(error)


def value_problem(error: ErrorDetails) -> str:
    """What is wrong with a value pydantic refused, in YAML terms (shared with bot.fleet.load)."""
    kind = error["type"]
    if kind == "missing":
        return "is required"
    message = error["msg"].removeprefix("Value error, ")
    value = error.get("input")
    if kind.endswith("_type") or kind in ("enum", "literal_error"):
        if isinstance(value, str | int | float | bool) or value is None:
            message += f", got {value!r}"
        if kind == "string_type" and isinstance(value, int | float | bool):
            message += " (quote it in YAML)"
    return message


def key_path(loc: tuple[int | str, ...]) -> str:
    text = ""
    for part in loc:
        if part == "[key]":  # pydantic's marker for a bad mapping key
            text += " (a key)"
        else:
            text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def line_of(root: yaml.Node, loc: tuple[int | str, ...]) -> int:
    """The line of the deepest node on ``loc`` that the YAML has (the key's line for a missing child)."""
    node = root
    for part in loc:
        child: yaml.Node | None = None
        if isinstance(node, yaml.MappingNode) and isinstance(part, str):
            child = next((v for k, v in node.value if isinstance(k, yaml.ScalarNode) and k.value == part), None)
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and 0 <= part < len(node.value):
            child = node.value[part]
        if child is None:
            if isinstance(node, yaml.MappingNode) and isinstance(part, str):
                key = next((k for k, _ in node.value if isinstance(k, yaml.ScalarNode) and k.value == part), None)
                if key is not None:
                    return int(key.start_mark.line) + 1
            break
        node = child
    return int(node.start_mark.line) + 1


def allowed_keys(model: type[BaseModel], loc: tuple[int | str, ...]) -> list[str]:
    """Field names of the model found at ``loc`` under ``model`` (for "did you mean")."""
    annotation: Any = model
    for part in loc:
        annotation = annotation_step(annotation, part)
        if annotation is None:
            return []
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return list(annotation.model_fields)
    return []


def annotation_step(annotation: Any, part: int | str) -> Any:
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        field = annotation.model_fields.get(part) if isinstance(part, str) else None
        return field.annotation if field is not None else None
    origin, args = typing.get_origin(annotation), typing.get_args(annotation)
    if origin is list and isinstance(part, int):
        return args[0]
    if origin is dict and isinstance(part, str):
        return args[1]
    if origin in (typing.Union, types.UnionType):  # an optional value: step into what it is when given
        given = next((a for a in args if a is not type(None)), None)
        return annotation_step(given, part) if given is not None else None
    return None
