"""Authorization: who may run which command on which cluster, as the ``roles:`` of FLUXOPS_CONFIG say.

A rule gives a role (viewer < operator < admin) to users and groups of one platform on the clusters
its selector covers; a person's role on a cluster is the highest role of every rule that names them
and covers the cluster. A command needs its class's ``role`` on its cluster. ``help`` is always
allowed; ``clusters`` and ``audit`` without a cluster need some role somewhere. Without a config
file the policy is empty and refuses everything else: fluxops is never open by default.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TypeVar

from bot.change_calendar import ChangeCalendar
from bot.commands import Command, Help, Role
from bot.config_access import PLATFORM_FIELDS, ClusterSelector, RoleRule
from bot.config_file import CredentialFile, FluxopsConfig
from bot.errors import Forbidden
from bot.inventory import Resolved
from bot.models import Cluster

ANYONE = "*"
_ASK_ADMIN = "ask a fluxops admin to run it, or to add you to the policy (FLUXOPS_CONFIG roles)"
_NO_POLICY = (
    "fluxops has no policy yet, so nobody may do anything: set FLUXOPS_CONFIG to a policy file "
    "(deploy/fluxops.example.yaml shows one)"
)
_EMPTY_POLICY = "the policy in FLUXOPS_CONFIG gives nobody a role: add rules under `roles:`"

_C = TypeVar("_C", Cluster, Resolved)


@dataclass(frozen=True)
class Identity:
    """Who asks: ``platform`` is "slack", "github" or "ado"; ``groups`` are Slack user group ids or
    GitHub ``org/team`` slugs, as the edge expanded them."""

    platform: str
    user: str
    groups: frozenset[str] = frozenset()

    def __post_init__(self) -> None:
        if not self.user.strip():
            raise ValueError("an identity needs a user id")  # or "*" would match nobody in particular

    @property
    def mention(self) -> str:
        """How messages name this person."""
        if self.platform == "slack":
            return f"<@{self.user}>"
        if self.platform == "github":
            return f"@{self.user}"
        return self.user


@dataclass(frozen=True)
class _Grant:
    """One rule, folded for matching (ids and logins compare case-insensitively)."""

    role: Role
    selector: ClusterSelector
    users: dict[str, frozenset[str]]
    groups: dict[str, frozenset[str]]

    @classmethod
    def of(cls, rule: RoleRule) -> _Grant:
        users: dict[str, frozenset[str]] = {}
        groups: dict[str, frozenset[str]] = {}
        for platform, (users_field, groups_field) in PLATFORM_FIELDS.items():
            users[platform] = frozenset(u.casefold() for u in getattr(rule, users_field))
            groups[platform] = (
                frozenset(g.casefold() for g in getattr(rule, groups_field)) if groups_field else frozenset()
            )
        return cls(rule.role, rule.clusters, users, groups)

    def names(self, identity: Identity) -> bool:
        users = self.users.get(identity.platform, frozenset())
        if ANYONE in users or identity.user.casefold() in users:
            return True
        groups = self.groups.get(identity.platform, frozenset())
        return any(g.casefold() in groups for g in identity.groups)


class Policy:
    """The roles of a config file (``None``: no config file, nobody has a role)."""

    def __init__(self, config: FluxopsConfig | None = None) -> None:
        self._configured = config is not None
        self._rules: tuple[RoleRule, ...] = tuple(config.roles) if config else ()
        self._grants = tuple(_Grant.of(rule) for rule in self._rules)
        self._approvals = tuple(config.approvals) if config else ()
        #: names this policy in decisions and audit entries (a digest of the rules as loaded)
        self.version = hashlib.sha256(config.model_dump_json().encode()).hexdigest()[:12] if config else "none"
        self._credentials: dict[str, CredentialFile] = dict(config.credentials) if config else {}
        #: the change freezes and deployment windows (bot.freezes refuses changes while a cluster is closed)
        self.calendar = ChangeCalendar(config.freezes, config.windows) if config else ChangeCalendar()
        #: where break-glass overrides are announced (FLUXOPS_CONFIG ``policy_channel``), if anywhere
        self.channel = config.policy_channel if config else None

    @classmethod
    def empty(cls) -> Policy:
        """The policy without a config file: refuses everything but help."""
        return cls(None)

    def role_for(self, identity: Identity, cluster: Cluster, alias: str | None = None) -> Role | None:
        """The highest role ``identity`` has on ``cluster`` (known as ``alias``), or None."""
        return _highest(g.role for g in self._grants if g.names(identity) and g.selector.matches(cluster, alias))

    def names_explicitly(self, identity: Identity) -> bool:
        """Whether a rule lists ``identity``'s user by name (not only through "*" or a group)."""
        folded = identity.user.casefold()
        return any(folded in g.users.get(identity.platform, frozenset()) for g in self._grants)

    def role_anywhere(self, identity: Identity) -> Role | None:
        """The highest role any rule gives ``identity``, whatever its clusters."""
        return _highest(g.role for g in self._grants if g.names(identity))

    def authorize(
        self, identity: Identity, command: Command, cluster: Cluster | None, alias: str | None = None
    ) -> None:
        """Raise Forbidden unless ``identity`` may run ``command`` on ``cluster``.

        ``cluster`` is the resolved target of a command that has one (ValueError when it is missing).
        A command without one (clusters, audit) may still pass the cluster it is about (``audit
        --cluster``); else it needs some role on some cluster.
        """
        if isinstance(command, Help):
            return
        needed = command.role
        if cluster is None:
            if command.cluster_target is not None:
                raise ValueError(f"`{command.verb}` acts on cluster '{command.cluster_target}': resolve it first")
            have = self.role_anywhere(identity)
            if have is None or have.rank < needed.rank:
                raise self._refusal(identity, command.verb, needed, have, None)
            return
        have = self.role_for(identity, cluster, alias)
        if have is None or have.rank < needed.rank:
            raise self._refusal(identity, command.verb, needed, have, _where(cluster, alias))

    def require(self, identity: Identity, needed: Role, cluster: Cluster, alias: str | None, verb: str) -> None:
        """Raise Forbidden unless ``identity`` has at least ``needed`` on ``cluster`` (a job touching more
        clusters than the one its command names checks each of them)."""
        have = self.role_for(identity, cluster, alias)
        if have is None or have.rank < needed.rank:
            raise self._refusal(identity, verb, needed, have, _where(cluster, alias))

    def visible(self, identity: Identity, clusters: Iterable[_C]) -> list[_C]:
        """The clusters (or resolved inventory entries, whose aliases then count) ``identity`` may view."""
        shown: list[_C] = []
        for item in clusters:
            cluster, alias = (item.cluster, item.alias) if isinstance(item, Resolved) else (item, None)
            if self.role_for(identity, cluster, alias) is not None:
                shown.append(item)
        return shown

    def people_with(self, role: Role, platform: str = "slack") -> list[str]:
        """The users rules name (not "*") with ``role`` on ``platform``, as written: who to ask for a role."""
        users_field, _ = PLATFORM_FIELDS.get(platform, ("", None))
        if not users_field:
            return []
        named = {u for rule in self._rules if rule.role is role for u in getattr(rule, users_field) if u != ANYONE}
        return sorted(named)

    def groups_referenced(self, platform: str = "slack") -> set[str]:
        """Group ids the rules mention on ``platform``, as written (the edge expands only these)."""
        _, groups_field = PLATFORM_FIELDS.get(platform, ("", None))
        if groups_field is None:
            return set()
        # As written, not folded: the edge asks Slack/GitHub about these ids.
        return {g for rule in self._rules for g in getattr(rule, groups_field)}

    def credential(self, name: str) -> CredentialFile | None:
        """The ``credentials:`` entry ``name`` (its file and its scope), if the policy has one."""
        return self._credentials.get(name)

    def credential_names(self) -> list[str]:
        return sorted(self._credentials)

    def approvals_required(self, verb: str, cluster: Cluster, alias: str | None = None) -> tuple[int, int]:
        """(how many people other than the one asking must approve ``verb`` on ``cluster``, for how many
        seconds an approval counts); (0, 0) when no rule covers it. The strictest covering rule wins."""
        rules = [a for a in self._approvals if a.covers(verb) and a.clusters.matches(cluster, alias)]
        if not rules:
            return 0, 0
        return max(a.required for a in rules), min(a.expires_seconds for a in rules)

    def _refusal(self, identity: Identity, verb: str, needed: Role, have: Role | None, where: str | None) -> Forbidden:
        place = where if where is not None else "any cluster"
        wanted = f"`{verb}` needs {needed.value}" + ("" if where is not None else " on at least one")
        if have is None:
            message = f"{identity.mention} has no role on {place}; {wanted}"
        else:
            message = f"{identity.mention} is {_article(have)} {have.value} on {place}; {wanted}"
        if not self._configured:
            recommendation = _NO_POLICY
        elif not self._grants:
            recommendation = _EMPTY_POLICY
        else:
            recommendation = _ASK_ADMIN
        return Forbidden(message, recommendation=recommendation)


def _highest(roles: Iterable[Role]) -> Role | None:
    return max(roles, key=lambda r: r.rank, default=None)


def _where(cluster: Cluster, alias: str | None) -> str:
    name = cluster.ref.name
    return f"{alias} ({name})" if alias and alias.casefold() != name.casefold() else name


def _article(role: Role) -> str:
    return "an" if role.value[0] in "aeiou" else "a"
