"""The cluster inventory: clusters discovered in ARM plus the aliases and tags of the config file.

``resolve`` turns what the user typed after ``-c`` (an alias, a cluster name or a full ARM id,
narrowed by ``-g``/``-t``) into one cluster, or an error that says what to type instead. Workers
build the inventory from ARM and cache it in Redis as JSON; the web process reads that snapshot.

Aliases bind to clusters as follows: ``id`` to the cluster with that id; ``name`` + ``resource_group``
(+ ``type``, ``subscription``) to the one discovered cluster that fits. An alias whose cluster was not
discovered still resolves (clusters may be declared only in config) when it gives the full address;
it then has the alias' tags and location "unknown". A cluster has at most one alias. An alias that
fits several clusters, cannot be addressed, or names a cluster an earlier alias already names is a
config problem (``problems()``), raised when someone uses it.
"""

from __future__ import annotations

import contextlib
import copy
import difflib
import fnmatch
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from bot.cluster_ids import glob_match, parse_cluster_id, parse_cluster_type, tag_value
from bot.commands import ClusterTarget
from bot.config_access import ClusterAlias
from bot.errors import ConfigurationError, FluxopsError, InvalidRequest, NotFound
from bot.models import Cluster, ClusterRef, ClusterType

UNKNOWN_LOCATION = "unknown"
_LIST_HINT = "`/flux clusters` lists them"
_SHORT_TYPE = {ClusterType.MANAGED: "AKS", ClusterType.CONNECTED: "Arc"}


@dataclass(frozen=True)
class Resolved:
    """A cluster with its inventory alias (None when it has none)."""

    cluster: Cluster
    alias: str | None = None

    @property
    def ref(self) -> ClusterRef:
        return self.cluster.ref

    def describe(self) -> str:
        """``rg/name (AKS)``, as candidates are listed."""
        ref = self.cluster.ref
        return f"{ref.resource_group}/{ref.name} ({_SHORT_TYPE[ref.cluster_type]})"


class Inventory:
    """Clusters by alias, name and id. ``clusters`` are as discovered; ``aliases`` come from the config file."""

    def __init__(self, clusters: Sequence[Cluster], *, aliases: Mapping[str, ClusterAlias] | None = None) -> None:
        self._discovered: tuple[Cluster, ...] = tuple(clusters)
        self._aliases: dict[str, ClusterAlias] = dict(aliases or {})
        pool: dict[str, Cluster] = {}
        for cluster in self._discovered:
            pool.setdefault(_key(cluster.ref), cluster)
        discovered_keys = set(pool)
        bound: dict[str, str] = {}  # alias -> key of its cluster in pool
        self._broken: dict[str, FluxopsError] = {}
        # Aliases with an id first, so a name-based alias may bind to a cluster declared only by id.
        ordered = sorted(self._aliases.items(), key=lambda item: item[1].id is None)
        for alias, spec in ordered:
            try:
                cluster = self._bind(alias, spec, pool, discovered_keys)
            except FluxopsError as exc:
                self._broken[alias.casefold()] = exc
                continue
            pool.setdefault(_key(cluster.ref), cluster)
            bound[alias] = _key(cluster.ref)

        # One alias per cluster, so a policy rule naming an alias covers the cluster however it is typed.
        tags: dict[str, dict[str, str]] = {key: dict(cluster.tags) for key, cluster in pool.items()}
        first_alias: dict[str, str] = {}
        for alias, spec in self._aliases.items():  # config order: the first alias wins
            key = bound.get(alias)
            if key is None:
                continue
            if key in first_alias:
                del bound[alias]
                self._broken[alias.casefold()] = ConfigurationError(
                    f"aliases '{first_alias[key]}' and '{alias}' in FLUXOPS_CONFIG name the same cluster "
                    f"{pool[key].ref.arm_id}",
                    recommendation=f"keep one of them (fluxops uses '{first_alias[key]}')",
                )
                continue
            tags[key].update(spec.tags)
            first_alias[key] = alias
        self._by_key: dict[str, Resolved] = {
            key: Resolved(Cluster(cluster.ref, cluster.location, tags[key]), first_alias.get(key))
            for key, cluster in pool.items()
        }
        self._by_alias: dict[str, Resolved] = {
            alias.casefold(): Resolved(self._by_key[key].cluster, alias) for alias, key in bound.items()
        }
        self._entries: list[Resolved] = sorted(self._by_key.values(), key=lambda r: _sort_key(r.cluster.ref))

    # -- building --------------------------------------------------------------------------------

    @staticmethod
    def _bind(alias: str, spec: ClusterAlias, pool: Mapping[str, Cluster], discovered: set[str]) -> Cluster:
        ref = spec.ref
        if spec.id is not None and ref is not None:
            return pool.get(_key(ref)) or Cluster(ref, UNKNOWN_LOCATION, {})
        name, rg = (spec.name or "").casefold(), (spec.resource_group or "").casefold()
        fits = [
            c
            for c in pool.values()
            if c.ref.name.casefold() == name
            and c.ref.resource_group.casefold() == rg
            and (spec.type is None or c.ref.cluster_type is spec.type)
            and (spec.subscription is None or c.ref.subscription_id.casefold() == spec.subscription.casefold())
        ]
        if len(fits) == 1:
            return fits[0]
        if len(fits) > 1:
            listed = ", ".join(c.ref.arm_id for c in fits)
            raise ConfigurationError(
                f"alias '{alias}' in FLUXOPS_CONFIG fits {len(fits)} clusters: {listed}",
                recommendation=f"give alias '{alias}' a type and a subscription, or the full id",
            )
        subscription = spec.subscription
        if subscription is None:
            subscriptions = {pool[k].ref.subscription_id for k in discovered}
            subscription = subscriptions.pop() if len(subscriptions) == 1 else None
        if spec.type is None or subscription is None:
            missing = " and ".join(k for k, v in (("type", spec.type), ("subscription", subscription)) if v is None)
            raise ConfigurationError(
                f"alias '{alias}' in FLUXOPS_CONFIG names cluster '{spec.name}' in resource group "
                f"'{spec.resource_group}', which fluxops has not discovered, and gives no {missing} to address it",
                recommendation=f"check the name and resource group, or give alias '{alias}' its {missing} "
                "(or the full id)",
            )
        ref = ClusterRef(subscription, spec.resource_group or "", spec.type, spec.name or "")  # both set: validated
        return Cluster(ref, UNKNOWN_LOCATION, {})

    # -- reading ---------------------------------------------------------------------------------

    def seen_by(self, may_see: Callable[[Resolved], bool]) -> Inventory:
        """This inventory with only the clusters ``may_see`` keeps: names, aliases, ambiguities and
        did-you-mean suggestions in it tell nothing about the others (resolving at intake uses it)."""
        kept = [e for e in self._entries if may_see(e)]
        keys = {_key(e.cluster.ref) for e in kept}
        other = copy.copy(self)
        other._entries = kept
        other._by_key = {k: v for k, v in self._by_key.items() if k in keys}
        other._by_alias = {a: r for a, r in self._by_alias.items() if _key(r.cluster.ref) in keys}
        other._aliases = {a: spec for a, spec in self._aliases.items() if a.casefold() in other._by_alias}
        other._discovered = tuple(c for c in self._discovered if _key(c.ref) in keys)
        other._broken = {}  # a broken alias's message names the clusters it could mean
        return other

    def all(self) -> list[Resolved]:
        """Every cluster, sorted by name then resource group, with merged tags and its alias."""
        return list(self._entries)

    def __len__(self) -> int:
        return len(self._entries)

    def problems(self) -> list[FluxopsError]:
        """Aliases in the config that bind to no single cluster (raised again when someone uses them)."""
        return list(self._broken.values())

    def alias_of(self, cluster: Cluster) -> str | None:
        """The cluster's alias, or None."""
        entry = self._by_key.get(_key(cluster.ref))
        return entry.alias if entry is not None else None

    def resolve(self, target: ClusterTarget) -> Resolved:
        """The one cluster ``target`` names. NotFound, or InvalidRequest when ambiguous or contradictory.

        An alias wins over a cluster of the same name (both fitting -g/-t); a name is matched case-insensitively.
        """
        text = target.cluster.strip()
        if text.startswith("/"):
            return self._resolve_id(text, target)
        folded = text.casefold()
        if folded in self._broken:
            raise self._broken[folded]
        by_alias = self._by_alias.get(folded)
        if by_alias is not None and _fits(by_alias.cluster.ref, target):
            return by_alias
        named = [e for e in self._entries if e.cluster.ref.name.casefold() == folded]
        narrowed = [e for e in named if _fits(e.cluster.ref, target)]
        if len(narrowed) == 1:
            return narrowed[0]
        if narrowed:
            raise self._ambiguous(text, narrowed)
        known = ([by_alias] if by_alias is not None else []) + named
        if known:
            there = ", ".join(e.describe() for e in known)
            raise NotFound(
                f"no cluster '{text}' {_narrowing(target)}; '{text}' is {there}",
                recommendation="change or drop -g/-t",
            )
        raise NotFound(f"no cluster '{text}' in the inventory{self._did_you_mean(text)}", recommendation=_LIST_HINT)

    def select(self, selector: Sequence[tuple[str, str]]) -> list[Resolved]:
        """Clusters matching every ``key=value`` pair (values may be globs); an empty selector matches all.

        Keys ``name`` (name or alias), ``resource_group``/``rg``, ``type`` (managedClusters, connectedClusters,
        aks, arc) and ``subscription`` match those fields; any other key is a tag name (case-insensitive,
        value case-sensitive, as in Azure).
        """
        return [e for e in self._entries if all(_pair_matches(e, key, value) for key, value in selector)]

    # -- JSON snapshot ---------------------------------------------------------------------------

    def to_json(self) -> str:
        """The discovered clusters and the aliases, for ``from_json`` in another process."""
        snapshot = _Snapshot(
            clusters=[_SnapshotCluster(id=c.ref.arm_id, location=c.location, tags=c.tags) for c in self._discovered],
            aliases=self._aliases,
        )
        return snapshot.model_dump_json()

    @classmethod
    def from_json(cls, text: str) -> Inventory:
        """The inventory ``to_json`` wrote; ValueError when ``text`` is not such a snapshot."""
        snapshot = _Snapshot.model_validate_json(text)
        clusters = [Cluster(parse_cluster_id(c.id), c.location, dict(c.tags)) for c in snapshot.clusters]
        return cls(clusters, aliases=snapshot.aliases)

    # -- errors ----------------------------------------------------------------------------------

    def _resolve_id(self, text: str, target: ClusterTarget) -> Resolved:
        try:
            ref = parse_cluster_id(text)
        except ValueError as exc:
            raise InvalidRequest(f"'{text}' is not a cluster resource id", recommendation=str(exc)) from None
        entry = self._by_key.get(_key(ref))
        if entry is None:
            raise NotFound(
                f"no cluster {text} in the inventory",
                recommendation=f"{_LIST_HINT}; a cluster fluxops does not discover can be declared "
                "under `clusters:` in FLUXOPS_CONFIG",
            )
        if not _fits(entry.cluster.ref, target):
            raise InvalidRequest(
                f"{text} is {entry.describe()}, not a cluster {_narrowing(target)}",
                recommendation="drop -g/-t: a full id already says which cluster",
            )
        return entry

    def _ambiguous(self, text: str, candidates: list[Resolved]) -> InvalidRequest:
        listed = ", ".join(e.describe() for e in candidates)
        places = {(e.ref.resource_group.casefold(), e.ref.cluster_type) for e in candidates}
        if len(places) == len(candidates):
            advice = "add -g RESOURCE_GROUP or -t managedClusters|connectedClusters to say which"
        else:  # same resource group and type in several subscriptions: only the id tells them apart
            advice = "give the full id: " + " or ".join(e.ref.arm_id for e in candidates)
        return InvalidRequest(f"'{text}' names {len(candidates)} clusters: {listed}", recommendation=advice)

    def _did_you_mean(self, text: str) -> str:
        spellings: dict[str, str] = {}
        for entry in self._entries:
            spellings.setdefault(entry.cluster.ref.name.casefold(), entry.cluster.ref.name)
        for alias in self._aliases:
            spellings.setdefault(alias.casefold(), alias)
        close = difflib.get_close_matches(text.casefold(), list(spellings), n=3, cutoff=0.6)
        if not close:
            return ""
        return "; did you mean " + " or ".join(f"'{spellings[c]}'" for c in close) + "?"


class _SnapshotCluster(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str
    location: str
    tags: dict[str, str] = Field(default_factory=dict)


class _Snapshot(BaseModel):
    model_config = ConfigDict(extra="forbid")

    version: Literal[1] = 1
    clusters: list[_SnapshotCluster]
    aliases: dict[str, ClusterAlias] = Field(default_factory=dict)


def _key(ref: ClusterRef) -> str:
    return ref.arm_id.casefold()


def _sort_key(ref: ClusterRef) -> tuple[str, str, str, str]:
    return (ref.name.casefold(), ref.resource_group.casefold(), ref.cluster_type.value, ref.subscription_id)


def _fits(ref: ClusterRef, target: ClusterTarget) -> bool:
    if target.resource_group is not None and ref.resource_group.casefold() != target.resource_group.casefold():
        return False
    return target.cluster_type is None or ref.cluster_type is target.cluster_type


def _narrowing(target: ClusterTarget) -> str:
    parts = []
    if target.resource_group is not None:
        parts.append(f"in resource group '{target.resource_group}'")
    if target.cluster_type is not None:
        parts.append(f"of type {target.cluster_type.value}")
    return " ".join(parts)


def matches_selector(cluster: Cluster, alias: str | None, selector: Sequence[tuple[str, str]]) -> bool:
    """Whether ``cluster`` (known as ``alias``) matches every ``key=value`` pair, as ``Inventory.select`` does."""
    entry = Resolved(cluster=cluster, alias=alias)
    return all(_pair_matches(entry, key, value) for key, value in selector)


def _pair_matches(entry: Resolved, key: str, pattern: str) -> bool:
    ref = entry.cluster.ref
    field = key.strip().casefold()
    if field == "name":
        return any(glob_match(n, pattern) for n in (ref.name, entry.alias) if n)
    if field in ("resource_group", "rg"):
        return glob_match(ref.resource_group, pattern)
    if field == "subscription":
        return glob_match(ref.subscription_id, pattern)
    if field == "type":
        with contextlib.suppress(ValueError):  # else a glob such as "*Clusters"
            pattern = parse_cluster_type(pattern).value
        return glob_match(ref.cluster_type.value, pattern)
    value = tag_value(entry.cluster.tags, key.strip())
    return value is not None and fnmatch.fnmatchcase(value, pattern)
