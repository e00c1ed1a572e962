"""The access sections of FLUXOPS_CONFIG: cluster aliases and selectors, roles, approvals (bot/config_file.py
reads the file and documents its schema; bot/policy.py applies these rules).

Every model refuses unknown keys, so a typo never silently widens or narrows who may do what.
"""

from __future__ import annotations

import fnmatch
import re

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from bot.cluster_ids import glob_match, parse_cluster_id, parse_cluster_type, tag_value
from bot.commands import Role
from bot.models import Cluster, ClusterRef, ClusterType

#: a name the file gives (a cluster alias, a credential): letters, digits, ".", "_" or "-"
CONFIG_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,79}")
_PERIOD = re.compile(r"(?:\d{1,6}[wdhms])+")
_PERIOD_PART = re.compile(r"(\d+)([wdhms])")


class ConfigModel(BaseModel):
    """A section of the config file: unknown keys refused, values frozen."""

    model_config = ConfigDict(extra="forbid", frozen=True)


def period_seconds(text: str) -> int | None:
    """``90d``, ``2w``, ``36h``, ``1d12h`` -> seconds; None when it is not such a period (or is zero)."""
    clean = text.strip().lower()
    if not _PERIOD.fullmatch(clean):
        return None
    units = {"w": 604_800, "d": 86_400, "h": 3600, "m": 60, "s": 1}
    total = sum(int(n) * units[u] for n, u in _PERIOD_PART.findall(clean))
    return total or None


class ClusterAlias(ConfigModel):
    """One entry under ``clusters:``: an alias for a cluster given by ``id`` or by ``name`` + ``resource_group``."""

    id: str | None = None
    name: str | None = None
    resource_group: str | None = None
    type: ClusterType | None = None
    subscription: str | None = None
    tags: dict[str, str] = Field(default_factory=dict)

    @field_validator("type", mode="before")
    @classmethod
    def _type_words(cls, value: object) -> object:
        return parse_cluster_type(value) if isinstance(value, str) else value

    @field_validator("id")
    @classmethod
    def _valid_id(cls, value: str | None) -> str | None:
        if value is not None:
            parse_cluster_id(value)
        return value

    @model_validator(mode="after")
    def _one_way_to_name_it(self) -> ClusterAlias:
        if self.id is not None:
            given = [k for k in ("name", "resource_group", "type", "subscription") if getattr(self, k) is not None]
            if given:
                raise ValueError(f"give either id or name + resource_group, not both (drop {', '.join(given)})")
        elif self.name is None:
            raise ValueError("say which cluster: give id, or name + resource_group")
        elif self.resource_group is None:
            raise ValueError(f"resource_group is required with name '{self.name}' (or give the full id)")
        return self

    @property
    def ref(self) -> ClusterRef | None:
        """The cluster's full address when the alias gives it (``id``, or name + rg + type + subscription)."""
        if self.id is not None:
            return parse_cluster_id(self.id)
        if self.name and self.resource_group and self.type and self.subscription:
            return ClusterRef(self.subscription, self.resource_group, self.type, self.name)
        return None


class ClusterSelector(ConfigModel):
    """Which clusters a rule covers: every given criterion must match; an omitted or empty one matches all."""

    names: list[str] = Field(default_factory=list)
    resource_groups: list[str] = Field(default_factory=list)
    tags: dict[str, str] = Field(default_factory=dict)

    def matches(self, cluster: Cluster, alias: str | None = None) -> bool:
        """Whether ``cluster`` (known as ``alias``, if it has one) is covered."""
        ref = cluster.ref
        if self.names:
            known_as = [n for n in (ref.name, alias) if n]
            if not any(glob_match(n, p) for p in self.names for n in known_as):
                return False
        if self.resource_groups and not any(glob_match(ref.resource_group, p) for p in self.resource_groups):
            return False
        for key, pattern in self.tags.items():
            value = tag_value(cluster.tags, key)
            if value is None or not fnmatch.fnmatchcase(value, pattern):
                return False
        return True


#: (users field, groups field) per identity platform
PLATFORM_FIELDS: dict[str, tuple[str, str | None]] = {
    "slack": ("slack_users", "slack_groups"),
    "github": ("github_users", "github_teams"),
    "ado": ("ado_users", None),
}


class RoleRule(ConfigModel):
    """One entry under ``roles:``: the people and groups that have ``role`` on the selected clusters."""

    role: Role
    slack_users: list[str] = Field(default_factory=list)
    slack_groups: list[str] = Field(default_factory=list)
    github_users: list[str] = Field(default_factory=list)
    github_teams: list[str] = Field(default_factory=list)
    ado_users: list[str] = Field(default_factory=list)
    clusters: ClusterSelector = Field(default_factory=ClusterSelector)

    @model_validator(mode="after")
    def _names_someone(self) -> RoleRule:
        if self.github_teams:
            raise ValueError(
                "`github_teams` is not enforced by this version of fluxops, so it is refused rather than ignored: "
                "list the people in `github_users`"
            )
        for field in ("slack_groups", "github_teams"):
            if "*" in getattr(self, field):
                users = field.split("_")[0] + "_users"
                raise ValueError(f'"*" is not a group: to mean anyone, put "*" in {users}')
        if not any(getattr(self, f) for pair in PLATFORM_FIELDS.values() for f in pair if f):
            names = ", ".join(f for pair in PLATFORM_FIELDS.values() for f in pair if f)
            raise ValueError(f"this rule gives {self.role.value} to nobody: list someone in one of {names}")
        return self


#: what an approval rule may cover: the commands that stop for a confirmation ("delete": the three deletes and
#: `v1 migrate`, which deletes a Flux v1 configuration for good), the fleet
#: runs from chat (their plan asks for a Confirm; the most any matched cluster asks for counts), and "apply", a
#: fleet pull request's apply (`/flux apply` and on merge: the PR's counted reviews)
APPROVABLE = (
    "config delete",
    "kustomization delete",
    "extension delete",
    "v1 migrate",
    "fleet apply",
    "fleet extension update",
    "apply",
)


#: commands not named "... delete" that delete something all the same: `for: [delete]` covers them too
_DELETING = ("v1 migrate",)


class ApprovalRule(ConfigModel):
    """One entry under ``approvals:``: the commands ``for`` lists, on the clusters ``clusters`` selects, run
    only once ``required`` people other than the one asking approved them, within ``expires``."""

    clusters: ClusterSelector = Field(default_factory=ClusterSelector)
    required: int = Field(default=1, strict=True, ge=1, le=10)
    for_: list[str] = Field(default_factory=lambda: [v for v in APPROVABLE if v != "apply"], alias="for")
    expires: str = "30m"
    #: the earlier spelling, refused with what to write instead
    approvers: int | None = None

    @model_validator(mode="after")
    def _check(self) -> ApprovalRule:
        if self.approvers is not None:
            others = max(1, self.approvers - 1)
            raise ValueError(
                "`approvers` is now `required`: how many people other than the one asking must approve "
                f"(`approvers: {self.approvers}` counted the one asking: write `required: {others}`)"
            )
        known = {*APPROVABLE, "delete"}
        for verb in self.for_:
            if verb not in known:
                raise ValueError(
                    f"`for` lists {verb!r}, which does not wait for approvals; it takes {', '.join(sorted(known))}"
                )
        if period_seconds(self.expires) is None:
            raise ValueError(f"`expires` is not a period such as 30m or 2h: {self.expires!r}")
        return self

    def covers(self, verb: str) -> bool:
        return verb in self.for_ or ("delete" in self.for_ and (verb.endswith(" delete") or verb in _DELETING))

    @property
    def expires_seconds(self) -> int:
        return period_seconds(self.expires) or 1800
