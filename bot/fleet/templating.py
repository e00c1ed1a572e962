"""Variables of selector documents: ``${cluster.name}``, ``${cluster.tags.region}``, ... filled per cluster.

A document with a ``selector`` gives the same configurations to many clusters; where a cluster needs its own
value, a kustomization's ``path`` and its ``substitute`` values may name the cluster's facts:

- ``${cluster.name}``, ``${cluster.resourceGroup}``, ``${cluster.subscription}``, ``${cluster.location}``;
- ``${cluster.tags.KEY}``: the value of tag KEY (tag names are case-insensitive, as in Azure);
- ``$${`` is a literal ``${`` (for a substitute value that Flux itself should see as ``${...}``).

Strict on purpose: any other ``${...}`` there, an unclosed ``${`` and a variable anywhere else in a fleet
file are load errors, and a selected cluster without a tag a variable names is an error of the plan
(``bot.fleet.selection``), never an empty string. Substituted paths are checked again as paths.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import Any

from bot.cluster_ids import tag_value
from bot.models import Cluster
from bot.usage import closest

#: ``$${`` (a literal ``${``), a closed ``${...}``, or an unclosed ``${``
_TOKEN = re.compile(r"\$\$\{|\$\{([^}]*)\}|\$\{")
_TAG = re.compile(r"^cluster\.tags\.([A-Za-z0-9_.\-/]{1,512})$")
_FACTS = ("cluster.name", "cluster.resourceGroup", "cluster.subscription", "cluster.location")
VARIABLES = (*_FACTS, "cluster.tags.KEY")
_LISTED = ", ".join(f"${{{v}}}" for v in VARIABLES)
#: a variable written where nothing is substituted: named clusters, or another key
_STRAY = "${cluster."

Loc = tuple[int | str, ...]


class MissingTag(Exception):
    """The cluster has no tag ``key``, which a variable names."""

    def __init__(self, key: str) -> None:
        super().__init__(key)
        self.key = key


def problems(text: str) -> list[str]:
    """What is wrong with the variables of ``text`` (a path or substitute value of a selector document)."""
    found: list[str] = []
    for match in _TOKEN.finditer(text):
        piece, name = match[0], match[1]
        if piece == "$${":
            continue
        if name is None:
            found.append(f"'${{' is not closed — write '$${{' for a literal '${{' (variables: {_LISTED})")
        elif name not in _FACTS and not _TAG.match(name):
            near = closest(name, [*_FACTS, "cluster.tags." + name.rpartition(".")[2]])
            hint = f" — did you mean '${{{near}}}'?" if near and near != name else ""
            found.append(f"unknown variable '${{{name}}}'{hint} (variables: {_LISTED})")
    return found


def render(text: str, cluster: Cluster) -> str:
    """``text`` with its variables filled from ``cluster``; MissingTag when it lacks a tag one names.

    Only called on text that ``problems`` found nothing wrong with.
    """
    if "${" not in text:
        return text

    def fill(match: re.Match[str]) -> str:
        piece, name = match[0], match[1]
        if piece == "$${":
            return "${"
        facts = {
            "cluster.name": cluster.ref.name,
            "cluster.resourceGroup": cluster.ref.resource_group,
            "cluster.subscription": cluster.ref.subscription_id,
            "cluster.location": cluster.location,
        }
        if name in facts:
            return facts[name]
        tag = _TAG.match(name or "")
        assert tag is not None, f"unchecked variable {piece!r}"
        value = tag_value(cluster.tags, tag[1])
        if value is None:
            raise MissingTag(tag[1])
        return value

    return _TOKEN.sub(fill, text)


def templated(configurations: Mapping[str, Any]) -> Iterator[tuple[Loc, str]]:
    """The fields variables are filled in, under ``configurations`` (as dumped from the document), by key path."""
    for config, body in configurations.items():
        for kname, kustomization in (body.get("kustomizations") or {}).items():
            prefix: Loc = ("configurations", config, "kustomizations", kname)
            yield (*prefix, "path"), kustomization.get("path", "")
            for name, value in (kustomization.get("substitute") or {}).items():
                yield (*prefix, "substitute", name), value


def stray(data: Any, allowed: frozenset[Loc] = frozenset(), at: Loc = ()) -> Iterator[Loc]:
    """Where ``data`` (a document as dumped) has a ``${cluster.`` that nothing fills: any place outside ``allowed``."""
    if isinstance(data, Mapping):
        for key, value in data.items():
            yield from stray(value, allowed, (*at, key))
    elif isinstance(data, list | tuple):
        for index, value in enumerate(data):
            yield from stray(value, allowed, (*at, index))
    elif isinstance(data, str) and _STRAY in data and at not in allowed:
        yield at
