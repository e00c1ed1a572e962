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
    freezes:                   # change freezes: no changes to the selected clusters while one is on (bot/freezes.py)
      - clusters: {tags: {env: prod}}   # a selector as in roles, or tags as `/flux clusters --selector`: env=prod
        from: 2026-12-24T18:00:00Z      # RFC 3339 with an offset ... and to:
        to: 2026-12-28T06:00:00Z
        reason: year-end freeze         # required: what people whose change is refused read
      - clusters: env=prod
        cron: "0 18 * * FRI"   # or a 5-field cron schedule (minute hour day month weekday; names allowed) ...
        duration: 64h          # ... and how long each freeze lasts
        timezone: UTC          # optional: the zone cron reads its times in (IANA name)
        reason: weekend freeze
    windows:                   # deployment windows: selected clusters change only while one of their windows is open
      - clusters: {tags: {env: prod}}
        days: MON-THU          # days + hours ...
        hours: "09:00-16:00"
        timezone: Europe/Berlin
      - clusters: {names: [edge-*]}
        cron: "0 6 * * *"      # ... or cron + duration
        duration: 2h
    policy_channel: C0123ABC   # Slack channel id where break-glass overrides are announced; omitted: no break-glass
    fleet_repositories:        # config-as-code: repositories whose YAML declares clusters' Flux (README)
      - repository: https://github.com/org/fleet   # any clone URL spelling; GitHub or Azure DevOps
        path: clusters         # a YAML file, or a directory of *.yaml / *.yml files
        apply_on_merge: false  # true: merging a PR to the default branch applies its plan
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import yaml
from pydantic import Field, ValidationError, field_validator, model_validator

from bot.config_access import (
    CONFIG_NAME,
    ApprovalRule,
    ClusterAlias,
    ClusterSelector,
    ConfigModel,
    RoleRule,
    period_seconds,
)
from bot.errors import ConfigurationError
from bot.freeze_config import FreezeRule, WindowRule
from bot.models import Cluster
from bot.repo_urls import canonical_repo
from bot.scopes import repository_glob, repository_in
from bot.yaml_problems import describe, duplicate_keys, yaml_problem

EXAMPLE_FILE = "deploy/fluxops.example.yaml"
_CHANNEL = re.compile(r"[CG][A-Z0-9]{6,20}")


def _channel_id(value: str | None) -> str | None:
    if value is not None and not _CHANNEL.fullmatch(value):
        raise ValueError(f"'{value}' is not a Slack channel id (C0123ABC): copy it from the channel's details")
    return value


def _repository_globs(value: list[str]) -> list[str]:
    return [repository_glob(glob) for glob in value]


class CredentialFile(ConfigModel):
    """Where a credential's secret lives (the config holds the path, never the value), and where it may be
    used: the repositories (host/path globs) and the clusters (a selector) it serves. Both are required:
    a credential that says nothing about where it goes would follow any URL to any cluster."""

    file: Path
    repositories: list[str] | None = None
    clusters: ClusterSelector | None = None
    #: public material (a CA certificate, SSH known_hosts): the only kind fluxops puts in fields ARM returns
    #: on a GET (``httpsCACert``, ``tlsConfig.caCertificate``, ``sshKnownHosts``); a secret never goes there
    public: bool = False

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


class DeployKeyPolicy(ConfigModel):
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
        return _channel_id(value)

    @property
    def max_age_seconds(self) -> int | None:
        return None if self.max_age is None else period_seconds(self.max_age)


class FleetRepository(ConfigModel):
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


class FluxopsConfig(ConfigModel):
    """The whole config file; see the module docstring for the schema."""

    clusters: dict[str, ClusterAlias] = Field(default_factory=dict)
    roles: list[RoleRule] = Field(default_factory=list)
    approvals: list[ApprovalRule] = Field(default_factory=list)
    credentials: dict[str, CredentialFile] = Field(default_factory=dict)
    fleet_repositories: list[FleetRepository] = Field(default_factory=list)
    deploy_keys: DeployKeyPolicy = Field(default_factory=DeployKeyPolicy)
    freezes: list[FreezeRule] = Field(default_factory=list)
    windows: list[WindowRule] = Field(default_factory=list)
    policy_channel: str | None = None

    @field_validator("policy_channel")
    @classmethod
    def _a_channel(cls, value: str | None) -> str | None:
        return _channel_id(value)

    @field_validator("clusters", "credentials")
    @classmethod
    def _good_names(cls, value: dict[str, Any]) -> dict[str, Any]:
        seen: dict[str, str] = {}
        for name in value:
            if not CONFIG_NAME.fullmatch(name):
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
