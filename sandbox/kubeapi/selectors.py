"""Label and field selectors as the API server parses and applies them to lists and watches.

Label selectors: ``a=b``, ``a==b``, ``a!=b``, ``key`` (exists), ``!key`` (absent), ``a in (x,y)``,
``a notin (x,y)``, comma separated (all must hold). Field selectors: ``f=v``, ``f==v``, ``f!=v`` over the
fields each resource supports (``metadata.name``, ``metadata.namespace``; events add ``involvedObject.*``,
``reason``, ``type``, ...).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sandbox.kubeapi.resources import EVENTS
from sandbox.kubeapi.store import Resource

Predicate = Callable[[dict[str, Any]], bool]

_LABEL_KEY = r"(?:[a-z0-9A-Z.\-]+/)?[a-zA-Z0-9](?:[a-zA-Z0-9_.\-]*[a-zA-Z0-9])?"
_SET = re.compile(rf"^\s*({_LABEL_KEY})\s+(in|notin)\s+\(([^)]*)\)\s*$")
_EQ = re.compile(rf"^\s*({_LABEL_KEY})\s*(==|=|!=)\s*([A-Za-z0-9_.\-]*)\s*$")
_EXISTS = re.compile(rf"^\s*(!?)\s*({_LABEL_KEY})\s*$")

_COMMON_FIELDS = ("metadata.name", "metadata.namespace")
_EVENT_FIELDS = (
    "involvedObject.kind",
    "involvedObject.namespace",
    "involvedObject.name",
    "involvedObject.uid",
    "involvedObject.apiVersion",
    "involvedObject.resourceVersion",
    "involvedObject.fieldPath",
    "reason",
    "reportingComponent",
    "source",
    "type",
)


class SelectorError(ValueError):
    """A selector the server cannot parse; its text is the Status message."""


@dataclass(frozen=True)
class Selectors:
    """Both selectors of a request; ``matches`` holds when every requirement does."""

    label: tuple[Predicate, ...] = ()
    field: tuple[Predicate, ...] = ()

    def matches(self, obj: dict[str, Any]) -> bool:
        return all(p(obj) for p in self.label) and all(p(obj) for p in self.field)


def parse_selectors(resource: Resource, label_selector: str, field_selector: str) -> Selectors:
    return Selectors(label=parse_label_selector(label_selector), field=parse_field_selector(resource, field_selector))


def _split_top_level(text: str) -> list[str]:
    """Split on commas outside parentheses (``a in (x,y),b`` is two requirements)."""
    parts, depth, current = [], 0, ""
    for char in text:
        if char == "(":
            depth += 1
        elif char == ")":
            depth -= 1
        if char == "," and depth == 0:
            parts.append(current)
            current = ""
        else:
            current += char
    parts.append(current)
    return [p for p in parts if p.strip()]


def _labels(obj: dict[str, Any]) -> dict[str, str]:
    return dict(obj.get("metadata", {}).get("labels") or {})


def _label_in(key: str, values: frozenset[str], negated: bool) -> Predicate:
    return lambda obj: (_labels(obj).get(key) in values) != negated


def _label_exists(key: str, negated: bool) -> Predicate:
    return lambda obj: (key in _labels(obj)) != negated


def parse_label_selector(text: str) -> tuple[Predicate, ...]:
    predicates: list[Predicate] = []
    for part in _split_top_level(text):
        if m := _SET.match(part):
            values = frozenset(v.strip() for v in m.group(3).split(",") if v.strip())
            predicates.append(_label_in(m.group(1), values, negated=m.group(2) == "notin"))
        elif m := _EQ.match(part):
            predicates.append(_label_in(m.group(1), frozenset([m.group(3)]), negated=m.group(2) == "!="))
        elif m := _EXISTS.match(part):
            predicates.append(_label_exists(m.group(2), negated=m.group(1) == "!"))
        else:
            raise SelectorError(f"unable to parse requirement: {part.strip()!r}")
    return tuple(predicates)


def _field_value(obj: dict[str, Any], field: str) -> str:
    if field == "source":  # events: source.component
        return str((obj.get("source") or {}).get("component") or "")
    value: Any = obj
    for step in field.split("."):
        value = value.get(step) if isinstance(value, dict) else None
    return "" if value is None else str(value)


def _field_is(field: str, value: str, negated: bool) -> Predicate:
    return lambda obj: (_field_value(obj, field) == value) != negated


def parse_field_selector(resource: Resource, text: str) -> tuple[Predicate, ...]:
    known = _COMMON_FIELDS + (_EVENT_FIELDS if resource == EVENTS else ())
    predicates: list[Predicate] = []
    for part in (p for p in text.split(",") if p.strip()):
        m = re.match(r"^\s*([A-Za-z.]+)\s*(==|=|!=)\s*(.*?)\s*$", part)
        if m is None:
            raise SelectorError(f"invalid selector: {part.strip()!r}; can't understand {part.strip()!r}")
        field, op, value = m.group(1), m.group(2), m.group(3)
        if field not in known:
            raise SelectorError(f"field label not supported: {field}")
        predicates.append(_field_is(field, value, negated=op == "!="))
    return tuple(predicates)
