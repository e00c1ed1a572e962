"""``--kustomization name=K path=P depends_on=A,B prune=true ...``: the key=value groups of a configuration.

Keys are matched ignoring case, ``-`` and ``_`` (``dependsOn``, ``depends-on`` and ``depends_on`` are one
key). Values are validated as the flags of ``kustomization create`` validate them. On create the groups
must have unique names and their ``depends_on`` must name other groups of the same command without a
cycle; on update each group changes only the keys it gives.

Post-build substitutions: ``substitute=NAME:VALUE,...`` and ``substitute_from=ConfigMap:NAME,Secret:NAME``
(``:optional`` after a name: Flux goes on when that object is missing). On update ``substitute`` sets the
variables it names (the others stay, as a merge patch does) and ``substitute_from`` replaces the list; an
empty value (``substitute=``) clears either.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from bot.kustomization_order import check_dependencies
from bot.models import Kustomization, KustomizationChange, SubstituteFrom
from bot.usage import UsageError, closest, code, one_of, shown
from bot.values import boolean, dns_label, dns_subdomain, path, seconds

#: canonical key -> its spellings (compared after dropping case, '-' and '_')
KEYS: dict[str, tuple[str, ...]] = {
    "name": ("name",),
    "path": ("path",),
    "depends_on": ("depends_on", "dependsOn", "depends-on", "dependencies"),
    "prune": ("prune",),
    "force": ("force",),
    "wait": ("wait",),
    "interval": ("interval", "sync_interval", "syncInterval", "sync-interval"),
    "retry_interval": ("retry_interval", "retryInterval", "retry-interval"),
    "timeout": ("timeout",),
    "substitute": ("substitute", "postBuild.substitute"),
    "substitute_from": ("substitute_from", "substituteFrom", "substitute-from", "postBuild.substituteFrom"),
}
#: the keys people write alone, meaning ``=true``
BOOLEAN_KEYS = ("prune", "force", "wait")
_LOOKUP = {re.sub(r"[-_]", "", spelling.lower()): key for key, spellings in KEYS.items() for spelling in spellings}
_SUBSTITUTE_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_SOURCE_KINDS = {"configmap": "ConfigMap", "secret": "Secret"}
EXAMPLE = "--kustomization name=apps path=./apps/staging prune=true depends_on=infra"


def _key(word: str, flag: str) -> str:
    key = _LOOKUP.get(re.sub(r"[-_]", "", word.lower()))
    if key is not None:
        return key
    if word.lower() == "remove":
        raise UsageError(
            f"{code(flag)} cannot remove a kustomization.",
            hint="Use `/flux kustomization delete NAME --config CONFIG -c CLUSTER`.",
        )
    found = closest(word, list(KEYS))
    hint = f"Did you mean {code(found)}?" if found else f"The keys are {one_of(KEYS)}."
    raise UsageError(f"{shown(word)} is not a kustomization key.", hint=hint)


def names_list(value: str, what: str) -> tuple[str, ...]:
    """``a,b`` (also ``[a,b]``, ``["a","b"]`` as az users write it) as kustomization names."""
    cleaned = value.strip().strip("[]")
    items = [item.strip().strip("\"'") for item in re.split(r"[,\s]+", cleaned)]
    return tuple(dict.fromkeys(dns_label(item, what) for item in items if item))


def substitutions(value: str, what: str) -> tuple[tuple[str, str], ...]:
    """``k:v,k2:v2`` -> sorted (name, value) pairs; names as Flux variables (letters, digits, '_')."""
    pairs: dict[str, str] = {}
    for item in value.split(","):
        if not item:
            continue
        name, sep, text = item.partition(":")
        if not sep or not _SUBSTITUTE_NAME.match(name):
            raise UsageError(
                f"{what} takes `NAME:VALUE` pairs separated by commas (e.g. `cluster_env:prod,region:weu`), "
                f"not {shown(item)}."
            )
        if name in pairs:
            raise UsageError(f"{what} sets {code(name)} twice.")
        pairs[name] = text
    return tuple(sorted(pairs.items()))


def substitute_sources(value: str, what: str) -> tuple[SubstituteFrom, ...]:
    """``ConfigMap:vars,Secret:creds:optional`` -> the objects a kustomization substitutes from, in order."""
    made: list[SubstituteFrom] = []
    for item in value.split(","):
        if not item.strip():
            continue
        parts = item.strip().split(":")
        kind = _SOURCE_KINDS.get(parts[0].lower())
        optional = len(parts) == 3 and parts[2].lower() == "optional"
        if kind is None or len(parts) not in (2, 3) or (len(parts) == 3 and not optional):
            raise UsageError(
                f"{what} takes `ConfigMap:NAME` or `Secret:NAME` items (`:optional` after a name that may be "
                f"missing), separated by commas, not {shown(item)}.",
                hint="For example `substitute_from=ConfigMap:cluster-vars,Secret:cluster-secrets:optional`.",
            )
        source = SubstituteFrom(kind=kind, name=dns_subdomain(parts[1], what), optional=optional)
        if any((s.kind, s.name) == (source.kind, source.name) for s in made):
            raise UsageError(f"{what} names {source.kind} {code(source.name)} twice.")
        made.append(source)
    return tuple(made)


def _read_group(words: Sequence[str], flag: str) -> dict[str, str]:
    group: dict[str, str] = {}
    for word in words:
        raw_key, sep, value = word.partition("=")
        if not sep:
            hint = f"Write `{word.lower()}=true`." if word.lower() in BOOLEAN_KEYS else f"Write `{EXAMPLE}`."
            raise UsageError(f"{code(flag)} takes `KEY=VALUE` words, not {shown(word)}.", hint=hint)
        key = _key(raw_key, flag)
        if key in group:
            raise UsageError(f"{code(flag)} gives {code(key)} twice in one group.")
        group[key] = value
    if "name" not in group:
        raise UsageError(f"Each {code(flag)} needs `name=NAME`.", hint=f"Write `{EXAMPLE}`.")
    return group


class _Fields:
    """The validated values of one group, by canonical key."""

    def __init__(self, group: dict[str, str], flag: str) -> None:
        self.name = dns_label(group["name"], "A kustomization `name`")
        where = f"kustomization {code(self.name)}"
        self.path = path(group["path"], f"`path` of {where}") if "path" in group else None
        self.depends_on = names_list(group["depends_on"], f"`depends_on` of {where}") if "depends_on" in group else None
        self.prune = boolean(group["prune"], f"`prune` of {where}") if "prune" in group else None
        self.force = boolean(group["force"], f"`force` of {where}") if "force" in group else None
        self.wait = boolean(group["wait"], f"`wait` of {where}") if "wait" in group else None
        self.interval = seconds(group["interval"], f"`interval` of {where}") if "interval" in group else None
        self.retry = (
            seconds(group["retry_interval"], f"`retry_interval` of {where}") if "retry_interval" in group else None
        )
        self.timeout = seconds(group["timeout"], f"`timeout` of {where}") if "timeout" in group else None
        self.substitute = (
            substitutions(group["substitute"], f"`substitute` of {where}") if "substitute" in group else None
        )
        self.substitute_from = (
            substitute_sources(group["substitute_from"], f"`substitute_from` of {where}")
            if "substitute_from" in group
            else None
        )
        if self.depends_on is not None and self.name in self.depends_on:
            raise UsageError(f"Kustomization {code(self.name)} cannot depend on itself.")


def kustomizations_for_create(
    groups: Sequence[Sequence[str]], flag: str = "--kustomization"
) -> tuple[Kustomization, ...]:
    """The kustomizations of ``config create``: unique names, dependencies among themselves, no cycle."""
    made: list[Kustomization] = []
    for words in groups:
        fields = _Fields(_read_group(words, flag), flag)
        if any(k.name == fields.name for k in made):
            raise UsageError(f"Two kustomizations are named {code(fields.name)}.", hint="Names must be unique.")
        made.append(
            Kustomization(
                name=fields.name,
                path=fields.path if fields.path is not None else "",
                depends_on=fields.depends_on or (),
                prune=bool(fields.prune),
                force=bool(fields.force),
                wait=fields.wait if fields.wait is not None else True,
                timeout_seconds=fields.timeout if fields.timeout is not None else 600,
                sync_interval_seconds=fields.interval if fields.interval is not None else 600,
                retry_interval_seconds=fields.retry,
                substitute=fields.substitute or (),
                substitute_from=fields.substitute_from or (),
            )
        )
    check_dependencies(made)
    return tuple(made)


def kustomization_changes(
    groups: Sequence[Sequence[str]], flag: str = "--kustomization"
) -> tuple[KustomizationChange, ...]:
    """The kustomization changes of ``config update``: each group changes only the keys it gives."""
    changes: list[KustomizationChange] = []
    for words in groups:
        fields = _Fields(_read_group(words, flag), flag)
        if any(c.name == fields.name for c in changes):
            raise UsageError(f"Kustomization {code(fields.name)} is changed twice.", hint="Put its keys in one group.")
        change = KustomizationChange(
            name=fields.name,
            path=fields.path,
            depends_on=fields.depends_on,
            prune=fields.prune,
            force=fields.force,
            wait=fields.wait,
            sync_interval_seconds=fields.interval,
            retry_interval_seconds=fields.retry,
            timeout_seconds=fields.timeout,
            substitute=fields.substitute,
            substitute_from=fields.substitute_from,
        )
        if change == KustomizationChange(name=fields.name):
            raise UsageError(
                f"`--kustomization name={fields.name}` says nothing to change.",
                hint="Add the keys to change, e.g. `path=./apps/prod` or `prune=true`.",
            )
        changes.append(change)
    return tuple(changes)
