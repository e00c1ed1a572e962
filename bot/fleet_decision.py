"""The decision about a fleet run (``fleet apply``, ``fleet extension update``): made over every cluster its
selector matches among those the person may see.

A fleet run names no cluster, so the one-cluster decision does not fit it: the person needs the command's role
on each matched cluster (the refusal names those where they lack it, with the role they have), a selector that
matches nothing they may see is refused in the same words whether or not it matches hidden clusters, and the
approvals the policy asks for are the most any matched cluster asks for. The worker checks the run's clusters
again when it plans (they may have changed since).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Protocol, TypeGuard

from bot import errors
from bot.commands import Command, FleetApply, FleetExtensionUpdate, Role
from bot.models import Cluster
from bot.policy import Identity, Policy

#: how many clusters a refusal names before "and N more"
NAMED = 10
FleetWrite = FleetApply | FleetExtensionUpdate


class Matched(Protocol):
    """A cluster the selector matched, as the inventory has it."""

    @property
    def cluster(self) -> Cluster: ...

    @property
    def alias(self) -> str | None: ...


#: the clusters a selector matches among those the person may see
Select = Callable[[Sequence[tuple[str, str]]], Sequence[Matched]]


def is_fleet_write(command: Command) -> TypeGuard[FleetWrite]:
    """A command that writes to every cluster its selector matches."""
    return isinstance(command, FleetApply | FleetExtensionUpdate)


def selector_text(selector: Sequence[tuple[str, str]]) -> str:
    """``env=prod,region=weu`` as it is typed; ``all`` for the empty selector."""
    return ",".join(f"{key}={value}" for key, value in selector) or "all"


def label(matched: Matched) -> str:
    return matched.alias or matched.cluster.ref.name


def names(labels: Sequence[str]) -> str:
    """``a, b, c`` — at most ``NAMED``, then "and N more"."""
    shown = ", ".join(labels[:NAMED])
    return shown if len(labels) <= NAMED else f"{shown} and {len(labels) - NAMED} more"


def nothing_matched(selector: Sequence[tuple[str, str]]) -> errors.NotFound:
    """The one answer for a selector that matches no cluster, or only clusters the person may not see."""
    text = selector_text(selector)
    if not selector:
        return errors.NotFound(
            "you may see no cluster, so `--clusters all` matches none",
            recommendation="`/flux clusters` lists the clusters you may see; ask a fluxops admin for a role",
        )
    return errors.NotFound(
        f"no cluster you can see has tags {text}",
        recommendation=f"`/flux clusters --selector {text}` lists the clusters you may see that match; check the tags",
    )


def authorize_fleet(
    policy: Policy, identity: Identity, command: FleetWrite, matched: Sequence[Matched]
) -> tuple[int, int]:
    """Refuse unless ``identity`` holds ``command``'s role on every cluster of ``matched`` (the clusters its
    selector matches among those it may see); else the approvals the policy asks for (``approvals``)."""
    if not matched:
        raise nothing_matched(command.selector)
    needed = command.role
    lacking: dict[Role | None, list[str]] = {}
    for entry in matched:
        have = policy.role_for(identity, entry.cluster, entry.alias)
        if have is None or have.rank < needed.rank:
            lacking.setdefault(have, []).append(label(entry))
    if lacking:
        raise _refusal(identity, command, needed, lacking, len(matched))
    return approvals(policy, command.verb, matched)


def approvals(policy: Policy, verb: str, matched: Sequence[Matched]) -> tuple[int, int]:
    """(people who must approve, how long an approval counts): the most any matched cluster asks for, and the
    shortest time among the rules that ask."""
    found = [policy.approvals_required(verb, entry.cluster, entry.alias) for entry in matched]
    asking = [(required, ttl) for required, ttl in found if required > 0]
    if not asking:
        return 0, 0
    return max(required for required, _ in asking), min(ttl for _, ttl in asking)


def _refusal(
    identity: Identity, command: FleetWrite, needed: Role, lacking: dict[Role | None, list[str]], total: int
) -> errors.Forbidden:
    text = selector_text(command.selector)
    listing = f"/flux clusters --selector {text}" if command.selector else "/flux clusters"
    parts = []
    for have, labels in sorted(lacking.items(), key=lambda item: item[0].rank if item[0] else -1):
        held = "has no role on" if have is None else f"is {_article(have)} {have.value} on"
        parts.append(f"{held} {len(labels)} of the {total} clusters `{text}` matches ({names(labels)})")
    return errors.Forbidden(
        f"{identity.mention} {'; '.join(parts)}; `{command.verb}` needs {needed.value} on every one",
        recommendation=f"narrow `--clusters` to clusters where you are {_article(needed)} {needed.value} "
        f"(`{listing}` shows your roles), or ask a fluxops admin",
    )


def _article(role: Role) -> str:
    return "an" if role.value[0] in "aeiou" else "a"
