"""The command words of ``/flux``: which commands exist, their aliases, and finding the command a text names.

A command is named by a path: one word ("status") or a group and a subcommand ("config create").
Pasted az commands are read too: ``az k8s-configuration flux create ...`` is ``config create ...``,
``az k8s-configuration flux kustomization ...`` is ``kustomization ...``, ``az k8s-extension ...`` is
``extension ...``.

``fleet extension update`` is the one path of three words (``NESTED``): a fleet run over the extension.
"""

from __future__ import annotations

from collections.abc import Sequence

from bot.usage import UsageError, code, one_of, shown, typo_of

GROUPS: dict[str, tuple[str, ...]] = {
    "config": ("create", "update", "delete", "show", "list"),
    "kustomization": ("create", "update", "delete", "show", "list"),
    "extension": ("create", "update", "delete", "show", "list"),
    "deployed-object": ("list", "show"),
    "key": ("rotate", "status"),
    "fleet": ("apply", "extension", "status", "list", "cancel", "resume"),
    "v1": ("list", "migrate"),
}
#: a subcommand that is a group of its own: ``fleet extension update``
NESTED: dict[str, tuple[str, ...]] = {"fleet extension": ("update",)}
SINGLES: tuple[str, ...] = (
    "help",
    "clusters",
    "status",
    "suspend",
    "resume",
    "reconcile",
    "watch",
    "unwatch",
    "watches",
    "events",
    "audit",
    "freezes",
    "plan",
    "apply",
    "confirm",
    "approve",
    "cancel",
    "unlock",
    "doctor",
)

#: every command, in the order help lists them
COMMANDS: tuple[str, ...] = (
    "help",
    "clusters",
    "doctor",
    *(f"config {sub}" for sub in GROUPS["config"]),
    "status",
    "suspend",
    "resume",
    "reconcile",
    "watch",
    "unwatch",
    "watches",
    "events",
    *(f"kustomization {sub}" for sub in GROUPS["kustomization"]),
    *(f"deployed-object {sub}" for sub in GROUPS["deployed-object"]),
    *(f"extension {sub}" for sub in GROUPS["extension"]),
    *(f"key {sub}" for sub in GROUPS["key"]),
    "audit",
    "freezes",
    "fleet apply",
    "fleet extension update",
    "fleet status",
    "fleet list",
    "fleet cancel",
    "fleet resume",
    *(f"v1 {sub}" for sub in GROUPS["v1"]),
    # pull-request comments
    "plan",
    "apply",
    "confirm",
    "approve",
    "cancel",
    "unlock",
)

WORD_ALIASES: dict[str, str] = {
    "configs": "config",
    "configuration": "config",
    "configurations": "config",
    "kustomizations": "kustomization",
    "ks": "kustomization",
    "extensions": "extension",
    "ext": "extension",
    "keys": "key",
    "deploy-key": "key",
    "deploy-keys": "key",
    "cluster": "clusters",
    "subscribe": "watch",
    "unsubscribe": "unwatch",
    "subscriptions": "watches",
    "event": "events",
    "deployed-objects": "deployed-object",
}
SUB_ALIASES: dict[str, str] = {"ls": "list", "get": "show", "rm": "delete", "remove": "delete"}
#: subcommands other tools name differently: suggested (not taken) when the group has the one they mean
SUB_SYNONYMS: dict[str, str] = {
    "upgrade": "update",
    "edit": "update",
    "patch": "update",
    "set": "update",
    "change": "update",
    "add": "create",
    "new": "create",
    "install": "create",
    "describe": "show",
    "view": "show",
    "info": "show",
    "del": "delete",
    "destroy": "delete",
    "uninstall": "delete",
    "all": "list",
}
#: ``config status NAME`` reads naturally; it is ``status NAME``
GROUP_SHORTCUTS: dict[tuple[str, str], str] = {
    ("config", "status"): "status",
    ("config", "suspend"): "suspend",
    ("config", "resume"): "resume",
    ("config", "reconcile"): "reconcile",
    # ``key list`` / ``key ls`` / ``key show`` read naturally; they are ``key status``
    ("key", "list"): "key status",
    ("key", "show"): "key status",
    # a run is shown, listed and stopped in the words people reach for
    ("fleet", "show"): "fleet status",
    ("fleet", "runs"): "fleet list",
    ("fleet", "stop"): "fleet cancel",
    ("fleet", "continue"): "fleet resume",
}
#: ``watch list`` reads naturally; it is ``watches`` (a configuration named "list": ``watch --name list``)
SINGLE_SHORTCUTS: dict[tuple[str, str], str] = {("watch", "list"): "watches", ("watch", "ls"): "watches"}
#: commands of the design that this version does not have yet
PLANNED: dict[str, str] = {}


def from_az(words: Sequence[str]) -> list[str]:
    """A pasted ``az k8s-configuration flux ...`` or ``az k8s-extension ...`` command, in /flux words."""
    lowered = [w.lower() for w in words[:4]]
    if lowered[:3] == ["az", "k8s-configuration", "flux"]:
        if lowered[3:4] in (["kustomization"], ["kustomizations"]):
            return ["kustomization", *words[4:]]
        if lowered[3:4] == ["deployed-object"]:
            return ["deployed-object", *words[4:]]
        return ["config", *words[3:]]
    if lowered[:2] == ["az", "k8s-extension"]:
        return ["extension", *words[2:]]
    return list(words)


def resolve(words: Sequence[str], *, allow_group: bool = False) -> tuple[str, int]:
    """The command path the first ``words`` name and how many words name it.

    ``allow_group`` accepts a group alone ("config"), as help topics do.
    """
    first = words[0].lower()
    first = WORD_ALIASES.get(first, first)
    second = words[1].lower() if len(words) > 1 else ""
    if (first, second) in SINGLE_SHORTCUTS:
        return SINGLE_SHORTCUTS[(first, second)], 2
    if first in SINGLES:
        return first, 1
    if first in GROUPS:
        subs = GROUPS[first]
        second = SUB_ALIASES.get(second, second)
        if (first, second) in GROUP_SHORTCUTS:
            return GROUP_SHORTCUTS[(first, second)], 2
        if first == "fleet":
            second = WORD_ALIASES.get(second, second)
        if f"{first} {second}" in NESTED:
            return _nested(f"{first} {second}", words, allow_group=allow_group)
        if second in subs:
            return f"{first} {second}", 2
        if allow_group and (not second or second.startswith("-")):
            return first, 1
        if not second or second.startswith("-"):
            raise UsageError(
                f"{code(first)} needs one of {one_of(subs)}.",
                hint=f"For example {code(f'/flux {first} {subs[0]} --help')}.",
                topic=first,
            )
        near = _near_sub(second, subs)
        raise UsageError(
            f"{shown(words[1])} is not a subcommand of {code(first)}.",
            hint=f"Did you mean {code(f'{first} {near}')}?" if near else f"{code(first)} has {one_of(subs)}.",
            topic=first,
        )
    if first in PLANNED:
        raise UsageError(
            f"{code(first)} ({PLANNED[first]}) is not available in this version of fluxops yet.", topic=None
        )
    raise unknown_command(words[0])


def _nested(group: str, words: Sequence[str], *, allow_group: bool) -> tuple[str, int]:
    """``fleet extension update``: the third word names the subcommand (help of the group alone: its one)."""
    subs = NESTED[group]
    third = words[2].lower() if len(words) > 2 else ""
    if third in subs:
        return f"{group} {third}", 3
    if allow_group and (not third or third.startswith("-")):
        return f"{group} {subs[0]}", 2
    if not third or third.startswith("-"):
        raise UsageError(
            f"{code(group)} needs {one_of(subs)}.",
            hint=f"For example {code(f'/flux {group} {subs[0]} --clusters env=prod --version 1.13.1')}.",
            topic=f"{group} {subs[0]}",
        )
    near = _near_sub(third, subs)
    raise UsageError(
        f"{shown(words[2])} is not a subcommand of {code(group)}.",
        hint=f"Did you mean {code(f'{group} {near}')}?" if near else f"{code(group)} has {one_of(subs)}.",
        topic=f"{group} {subs[0]}",
    )


def _near_sub(word: str, subs: tuple[str, ...]) -> str | None:
    """The subcommand ``word`` means: one it is a slip of, or the one another tool's word for it names."""
    synonym = SUB_SYNONYMS.get(word)
    return typo_of(word, subs) or (synonym if synonym in subs else None)


def unknown_command(word: str) -> UsageError:
    """ "`x` is not a /flux command" with the nearest command, or the groups that have ``word``."""
    lowered = word.lower()
    with_sub = [f"{group} {lowered}" for group, subs in GROUPS.items() if lowered in subs]
    if with_sub:
        hint = f"Did you mean {one_of(with_sub)}?"
    elif lowered.startswith("-"):
        hint = "Start with a command, e.g. `/flux status -c CLUSTER`; `/flux help` lists them."
    else:
        found = typo_of(lowered, [*SINGLES, *GROUPS, *WORD_ALIASES])
        found = WORD_ALIASES.get(found, found) if found else None
        hint = f"Did you mean {code(found)}?" if found else "`/flux help` lists the commands."
    return UsageError(f"{shown(word)} is not a /flux command.", hint=hint)
