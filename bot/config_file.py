"""The fluxops config file (``FLUXOPS_CONFIG``): inventory aliases, the policy, approvals, credential files.

Callers read the file; ``load_config`` parses its text, checks it against the models below and raises
``bot.errors.ConfigurationError`` saying where (line, key path) and what is wrong. Unknown keys are
refused, so a typo never silently widens or narrows who may do what. ``deploy/fluxops.example.yaml``
is a complete example. Every top-level key is optional; an empty file is an empty config (nobody has
a role, see ``bot.policy``).

Schema::

    clusters:                  # inventory aliases (and extra tags) for clusters discovered in ARM
      ALIAS:                   # letters, digits, '.', '_' or '-'; used as `-c ALIAS`
        id: /subscriptions/<sub>/resourceGroups/<rg>/providers/Microsoft.Kubernetes/connectedClusters/<name>
        # ... or instead of id:
        name: <cluster name>
        resource_group: <rg>   # required with name
        type: managedClusters  # optional: managedClusters | connectedClusters (aks | arc)
        subscription: <sub>    # optional: which subscription, when the cluster is not discovered
        tags: {env: prod}      # merged over the tags ARM reports
    roles:                     # who has which role where; the highest matching role counts
      - role: admin            # viewer | operator | admin
        slack_users: [U0SANDBOX]   # user ids; "*" = anyone on that platform
        slack_groups: [S0PLATFORM] # user group ids
        github_users: []       # logins
        ado_users: []          # Azure DevOps unique names
        clusters:              # selector; every given criterion must match; omitted or empty = all
          names: ["*"]         # cluster names or aliases, fnmatch globs, case-insensitive
          resource_groups: []  # globs, case-insensitive
          tags: {env: prod}    # tag name case-insensitive, value glob case-sensitive (as in Azure)
    approvals:                 # commands that run only once others approved them (Approve button, /flux approve)
      - clusters: {tags: {env: prod}}
        required: 1            # people other than the one asking, each with the command's role there
        for: [config delete, extension delete]   # default: every delete (config, kustomization, extension)
        expires: 30m           # approvals older than this no longer count
    credentials:               # what `--https-key-ref NAME` refers to; the secret lives in the file
      NAME:
        file: /run/secrets/NAME          # absolute path
        repositories: [github.com/acme/*]  # required: host/path globs of the repositories it may serve
        clusters: {tags: {env: dev}}     # required: a selector (as in roles) of the clusters it may serve
    deploy_keys:               # keys fluxops generates (`--deploy-key generate`) and rotates
      max_age: 90d             # a beat task rotates keys older than this (w, d, h, m, s); omitted: never
      channel: C0123ABC        # Slack channel id where scheduled rotations report; omitted: not reported
      repositories: [github.com/acme/*]  # the repositories it may key; omitted or empty: none
      shared: false            # true: one key per repository for every cluster; or a glob list; false: per cluster
    fleet_repositories:        # config-as-code: repositories whose YAML declares clusters' Flux (README)
      - repository: https://github.com/org/fleet   # any clone URL spelling; GitHub or Azure DevOps
        path: clusters         # a YAML file, or a directory of *.yaml / *.yml files
        apply_on_merge: false  # true: merging a PR to the default branch applies its plan
"""

from __future__ import annotations

import fnmatch
import re
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from bot.cluster_ids import glob_match, parse_cluster_id, parse_cluster_type, tag_value
from bot.commands import Role
from bot.errors import ConfigurationError
from bot.models import Cluster, ClusterRef, ClusterType
from bot.repo_urls import canonical_repo
from bot.scopes import repository_glob, repository_in
from bot.yaml_problems import describe, duplicate_keys, yaml_problem

EXAMPLE_FILE = "deploy/fluxops.example.yaml"
_KEY = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,79}")
_PERIOD = re.compile(r"(?:\d{1,6}[wdhms])+")
_PERIOD_PART = re.compile(r"(\d+)([wdhms])")
_CHANNEL = re.compile(r"[CG][A-Z0-9]{6,20}")


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class ClusterAlias(_Model):
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


class ClusterSelector(_Model):
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


class RoleRule(_Model):
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


#: what an approval rule may cover: the commands that stop for a confirmation ("delete": all three), and
#: "apply", a fleet pull request's apply (`/flux apply` and on merge: the PR's counted reviews)
APPROVABLE = ("config delete", "kustomization delete", "extension delete", "apply")


class ApprovalRule(_Model):
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
        return verb in self.for_ or ("delete" in self.for_ and verb.endswith(" delete"))

    @property
    def expires_seconds(self) -> int:
        return period_seconds(self.expires) or 1800


def _repository_globs(value: list[str]) -> list[str]:
    return [repository_glob(glob) for glob in value]


class CredentialFile(_Model):
    """Where a credential's secret lives (the config holds the path, never the value), and where it may be
    used: the repositories (host/path globs) and the clusters (a selector) it serves. Both are required:
    a credential that says nothing about where it goes would follow any URL to any cluster."""

    file: Path
    repositories: list[str] | None = None
    clusters: ClusterSelector | None = None

    @field_validator("file")
    @classmethod
    def _absolute(cls, value: Path) -> Path:
        if not value.is_absolute():
            raise ValueError(f"'{value}' is relative; give an absolute path such as /run/secrets/{value.name}")
        return value

    @field_validator("repositories")
    @classmethod
    def _globs(cls, value: list[str] | None) -> list[str] | None:
        if value is not None and not value:
            raise ValueError("lists no repository: name the repositories this credential may serve")
        return None if value is None else _repository_globs(value)

    @field_validator("clusters")
    @classmethod
    def _some_clusters(cls, value: ClusterSelector | None) -> ClusterSelector | None:
        if value == ClusterSelector():
            raise ValueError("an empty selector would mean every cluster: to mean that, write names: ['*']")
        return value

    @model_validator(mode="after")
    def _scoped(self) -> CredentialFile:
        missing = [key for key in ("repositories", "clusters") if getattr(self, key) is None]
        if missing:
            raise ValueError(
                "a credential must say where it may be used, and this one has no "
                + " and no ".join(missing)
                + ": add repositories: [host/path globs, e.g. github.com/acme/*] and "
                "clusters: {names: [...]} (or {tags: {...}}); it serves nothing else"
            )
        return self

    def serves_repository(self, url: str) -> bool:
        """Whether this credential may be given to a configuration reading ``url``."""
        return repository_in(url, self.repositories or ())

    def serves_cluster(self, cluster: Cluster, alias: str | None = None) -> bool:
        """Whether this credential may be given to a configuration on ``cluster``."""
        return self.clusters is not None and self.clusters.matches(cluster, alias)


class DeployKeyPolicy(_Model):
    """``deploy_keys:``: how old a key fluxops made may get before a beat task rotates it, and where it says so."""

    max_age: str | None = None
    channel: str | None = None
    #: host/path globs of the repositories `--deploy-key generate` may key; none: it is refused everywhere
    repositories: list[str] = Field(default_factory=list)
    #: False: one key per (repository, cluster); True: one key per repository; a list: those repositories' keys
    shared: bool | list[str] = False

    @field_validator("repositories")
    @classmethod
    def _globs(cls, value: list[str]) -> list[str]:
        return _repository_globs(value)

    @field_validator("shared")
    @classmethod
    def _shared_globs(cls, value: bool | list[str]) -> bool | list[str]:
        return value if isinstance(value, bool) else _repository_globs(value)

    def may_key(self, url: str) -> bool:
        """Whether `--deploy-key generate` may register a key on the repository ``url`` names."""
        return repository_in(url, self.repositories)

    def may_share(self, url: str) -> bool:
        """Whether one key of the repository ``url`` names may serve configurations on several clusters."""
        return self.shared if isinstance(self.shared, bool) else repository_in(url, self.shared)

    @field_validator("max_age")
    @classmethod
    def _a_period(cls, value: str | None) -> str | None:
        if value is not None and period_seconds(value) is None:
            raise ValueError(f"'{value}' is not a period: write it like 90d, 12w, 36h or 1d12h")
        return value

    @field_validator("channel")
    @classmethod
    def _a_channel(cls, value: str | None) -> str | None:
        if value is not None and not _CHANNEL.fullmatch(value):
            raise ValueError(f"'{value}' is not a Slack channel id (C0123ABC): copy it from the channel's details")
        return value

    @property
    def max_age_seconds(self) -> int | None:
        return None if self.max_age is None else period_seconds(self.max_age)


def period_seconds(text: str) -> int | None:
    """``90d``, ``2w``, ``36h``, ``1d12h`` -> seconds; None when it is not such a period (or is zero)."""
    clean = text.strip().lower()
    if not _PERIOD.fullmatch(clean):
        return None
    units = {"w": 604_800, "d": 86_400, "h": 3600, "m": 60, "s": 1}
    total = sum(int(n) * units[u] for n, u in _PERIOD_PART.findall(clean))
    return total or None


class FleetRepository(_Model):
    """A config-as-code repository: pull requests to it get a plan; `/flux apply` (or a merge) applies it."""

    repository: str
    path: str = "clusters"
    apply_on_merge: bool = False
    #: plan pull requests from forks too (off: a plan shows the state of every cluster it names)
    plan_forks: bool = False

    @field_validator("repository")
    @classmethod
    def _a_repository(cls, value: str) -> str:
        if canonical_repo(value) is None:
            raise ValueError(f"'{value}' is not a git repository URL (https://github.com/org/repo, ...)")
        return value

    @field_validator("path")
    @classmethod
    def _relative(cls, value: str) -> str:
        clean = value.strip().strip("/")
        if not clean or ".." in clean.split("/"):
            raise ValueError(f"'{value}' is not a path inside the repository")
        return clean

    @property
    def key(self) -> tuple[str, str]:
        key = canonical_repo(self.repository)
        assert key is not None
        return key


class FluxopsConfig(_Model):
    """The whole config file; see the module docstring for the schema."""

    clusters: dict[str, ClusterAlias] = Field(default_factory=dict)
    roles: list[RoleRule] = Field(default_factory=list)
    approvals: list[ApprovalRule] = Field(default_factory=list)
    credentials: dict[str, CredentialFile] = Field(default_factory=dict)
    fleet_repositories: list[FleetRepository] = Field(default_factory=list)
    deploy_keys: DeployKeyPolicy = Field(default_factory=DeployKeyPolicy)

    @field_validator("clusters", "credentials")
    @classmethod
    def _good_names(cls, value: dict[str, Any]) -> dict[str, Any]:
        seen: dict[str, str] = {}
        for name in value:
            if not _KEY.fullmatch(name):
                raise ValueError(
                    f"'{name}' is not a usable name: use letters, digits, '.', '_' or '-' "
                    "(starting with a letter or digit, at most 80)"
                )
            if name.casefold() in seen:
                raise ValueError(
                    f"'{name}' and '{seen[name.casefold()]}' differ only in case; names are case-insensitive"
                )
            seen[name.casefold()] = name
        return value

    def fleet_repository(self, url: str) -> FleetRepository | None:
        """The fleet repository entry for a repository URL (any spelling), if it is one."""
        key = canonical_repo(url)
        return next((entry for entry in self.fleet_repositories if entry.key == key), None)

    def credential_files(self) -> dict[str, Path]:
        """Credential name -> file, for ``workers.file_credentials.FileCredentials``."""
        return {name: entry.file for name, entry in self.credentials.items()}


def read_config_file(path: Path | None) -> FluxopsConfig | None:
    """The FLUXOPS_CONFIG file parsed, or None when no file is configured (both processes call this)."""
    if path is None:
        return None
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise ConfigurationError(
            f"cannot read FLUXOPS_CONFIG {path}: {error.strerror}",
            recommendation=f"point FLUXOPS_CONFIG at a readable YAML file (see {EXAMPLE_FILE})",
        ) from error
    return load_config(text, source=str(path))


def load_config(text: str, *, source: str = "FLUXOPS_CONFIG") -> FluxopsConfig:
    """Parse and check the YAML text of a config file; ``source`` names it in error messages."""
    loader = yaml.SafeLoader(text)
    try:
        node = loader.get_single_node()
        data = loader.construct_document(node) if node is not None else None
    except yaml.YAMLError as exc:
        raise ConfigurationError(f"{source} is not valid YAML: {yaml_problem(exc)}", recommendation=_FIX) from None
    finally:
        loader.dispose()
    if node is None or data is None:
        return FluxopsConfig()
    duplicates = duplicate_keys(node)
    if duplicates:
        raise ConfigurationError(f"{source}: {'; '.join(duplicates)}", recommendation=_FIX)
    if not isinstance(data, dict):
        raise ConfigurationError(
            f"{source}, line {node.start_mark.line + 1}: the file must be a mapping with keys "
            f"{', '.join(FluxopsConfig.model_fields)}, not a {type(data).__name__}",
            recommendation=_FIX,
        )
    try:
        return FluxopsConfig.model_validate(data)
    except ValidationError as exc:
        described = sorted(describe(error, node, FluxopsConfig) for error in exc.errors(include_url=False))
        problems = [text for _, text in described]
        shown = problems[:10] + ([f"and {len(problems) - 10} more"] if len(problems) > 10 else [])
        raise ConfigurationError(f"{source}: {'; '.join(shown)}", recommendation=_FIX) from None


_FIX = f"fix the file and restart fluxops ({EXAMPLE_FILE} shows every key)"
