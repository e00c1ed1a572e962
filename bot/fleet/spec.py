"""The fleet format: what a fleet repository declares per cluster, and ``load_fleet`` that reads and checks it.

A fleet repository holds one or more YAML files (``fleet_repositories[].path`` in FLUXOPS_CONFIG: one
file, or a directory searched for ``*.yaml`` / ``*.yml`` at any depth), each with one or more documents::

    apiVersion: fluxops.io/v1
    kind: Fleet
    clusters:
      demo-arc:                          # inventory alias, cluster name or full ARM id (as after `-c`)
        extension:                       # optional: the microsoft.flux extension
          autoUpgradeMinorVersion: true  # optional; a pinned `version` needs false (az's rule)
          releaseTrain: stable           # optional: stable | preview
          version: 1.13.1                # optional
          settings:                      # the known microsoft.flux settings (`/flux help extension settings`)
            helm-controller.detectDrift: true
            image-automation-controller.enabled: null   # null: remove the setting
        configurations:
          cluster-config:                # a Flux configuration (lowercase DNS name)
            namespace: cluster-config    # default "default"; create-only in Azure
            scope: cluster               # cluster | namespace; create-only in Azure
            suspend: false
            source:
              kind: git                  # the only kind so far
              url: https://github.com/Azure/gitops-flux2-kustomize-helm-mt
              branch: main               # exactly one of branch | tag | semver | commit
              interval: 10m              # sync interval, default 10m
              timeout: 10m               # default 10m
              provider: generic          # azure (workload identity, Azure DevOps) | generic
              httpsUser: git             # with httpsKeyRef, for HTTPS URLs
              httpsKeyRef: gitlab-token  # the NAME of a credential fluxops holds, never the secret
              sshPrivateKeyRef: NAME     # SSH URLs; knownHostsRef: NAME as well
              localAuthRef: my-secret    # a Kubernetes secret already on the cluster
            kustomizations:
              infra:
                path: ./infrastructure
                prune: true
              apps:
                path: ./apps/staging
                prune: true
                dependsOn: [infra]       # other kustomizations of this configuration
                # force: false, wait: true, interval: 10m, retryInterval: 1m, timeout: 10m,
                # substitute: {cluster_env: prod}

Field names are camelCase, as in ARM's JSON and ``az ... -o json`` (``dependsOn``, ``retryInterval``,
``autoUpgradeMinorVersion``); values follow the ``/flux`` grammar (durations like ``10m``, names as
Kubernetes names) and are checked by the same functions. Secrets never appear: credentials are named
(``*Ref``) and resolved by fluxops at apply time. A cluster is declared in one document only.

``load_fleet`` raises ``FleetError`` (a ``ConfigurationError``) listing every problem as
``file:line: key.path: what is wrong``. ``schemas/fleet.schema.json`` is generated from the models below
(``REGENERATE`` is the command that rewrites it) for editors and CI.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, replace
from typing import Annotated, Any, Literal

import yaml
from pydantic import (
    AfterValidator,
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    StrictBool,
    ValidationError,
    ValidationInfo,
    WithJsonSchema,
    model_validator,
)
from pydantic_core import ErrorDetails

from bot import sources
from bot.commands import CredentialRefs
from bot.errors import ConfigurationError
from bot.grammar.flux_settings import SETTINGS, check_setting, find_setting
from bot.grammar.kustomizations import check_dependencies
from bot.grammar.usage import UsageError, closest, code
from bot.grammar.values import (
    cluster_name,
    commit_sha,
    credential_ref,
    dns_label,
    dns_subdomain,
    git_ref_name,
    git_url,
    path,
    seconds,
    semver_range,
    version,
)
from bot.models import ExtensionSpec, FluxConfigSpec, GitSource, Kustomization

# The error-location helpers of the FLUXOPS_CONFIG loader: the same YAML, the same way of saying where.
from bot.yaml_problems import allowed_keys, duplicate_keys, key_path, line_of, value_problem

API_VERSION = "fluxops.io/v1"
KIND = "Fleet"
SCHEMA_FILE = "schemas/fleet.schema.json"
EXAMPLE_FILE = "deploy/fleet.example.yaml"
SCHEMA_ID = "https://fluxops.io/schemas/fleet.schema.json"
REGENERATE = (
    "PYTHONPATH=. .venv/bin/python -c 'from bot.fleet.spec import schema_text; print(schema_text(), end=\"\")'"
    f" > {SCHEMA_FILE}"
)
#: at most this many problems are listed in one error
MAX_PROBLEMS = 25

_FIX = f"fix the fleet files and push again (README 'Config-as-code'; {EXAMPLE_FILE} is a complete example)"
_SUBSTITUTE_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")

# ---------------------------------------------------------------------------------------------
# Values: each checked by the /flux grammar's own validator, its UsageError turned into pydantic's ValueError
# ---------------------------------------------------------------------------------------------


def _reason(err: UsageError) -> str:
    """The grammar's message in the fleet file's words: its flags become keys; a hint that still speaks in
    flags or commands (meaningless in YAML) is left out."""
    text, hint = _as_keys(err.message).rstrip("."), _as_keys(err.hint)
    if hint and "`--" not in hint and "`/flux" not in hint:
        text += f" — {hint[:1].lower()}{hint[1:].rstrip('.')}"
    return text.replace("`", "'")


def _as_keys(text: str) -> str:
    """`--https-key-ref REF` -> `httpsKeyRef`, `--provider azure` -> `provider: azure`."""
    for key, (_, flag) in _SOURCE_FIELDS.items():
        pattern = re.compile(rf"`{re.escape(flag)}(?: ([A-Z]+|[a-z][a-z0-9-]*))?`")
        text = pattern.sub(_key_spelling(key), text)
    return text


def _key_spelling(key: str) -> Callable[[re.Match[str]], str]:
    def spell(match: re.Match[str]) -> str:
        value = match[1]
        return f"`{key}: {value}`" if value and value.islower() else f"`{key}`"

    return spell


def _check(validate: Callable[[str, str], Any], what: str | None = None) -> Callable[[Any, ValidationInfo], Any]:
    def run(value: Any, info: ValidationInfo) -> Any:
        if not isinstance(value, str):
            return value  # the type check that follows says what is wrong
        named = what or (code(info.field_name) if info.field_name else "the value")
        try:
            return validate(value, named)
        except UsageError as err:
            raise ValueError(_reason(err)) from None

    return run


def _as_text(value: Any) -> Any:
    """YAML reads ``600`` and ``1.13`` as numbers; values that are text in the grammar take them as text."""
    return str(value) if isinstance(value, int | float) and not isinstance(value, bool) else value


def _git_url(value: str, what: str) -> str:
    return git_url(value, what)[0]


def _substitute_name(value: str, what: str) -> str:
    if not _SUBSTITUTE_NAME.match(value):
        raise UsageError(f"{what} must be a Flux variable name (letters, digits and '_'), not '{value}'")
    return value


def _setting_key(value: str, what: str) -> str:
    setting = find_setting(value)  # UsageError with "did you mean" when unknown
    if setting.key != value:
        raise UsageError(f"write '{setting.key}' (settings are spelled as microsoft.flux spells them)")
    return value


def _setting_value(value: Any) -> Any:
    """Settings are text in ARM; YAML's true and 6 are written as "true" and "6"."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    if value is None or isinstance(value, str):
        return value
    raise ValueError(f"a setting takes one value (text, a number or true/false), not a {type(value).__name__}")


def _string(pattern: str | None = None, **extra: Any) -> WithJsonSchema:
    schema: dict[str, Any] = {"type": "string", **extra}
    if pattern:
        schema["pattern"] = pattern
    return WithJsonSchema(schema)


_DURATION_PATTERN = r"^([0-9]+(h|m|s|ms))+$"
_DNS_LABEL_PATTERN = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"

Duration = Annotated[
    int,
    BeforeValidator(_check(seconds)),
    BeforeValidator(_as_text),
    _string(_DURATION_PATTERN, examples=["10m", "1h30m", "45s"]),
]
ConfigName = Annotated[
    str, AfterValidator(_check(dns_label, "a configuration name")), _string(_DNS_LABEL_PATTERN, maxLength=63)
]
KustomizationName = Annotated[
    str, AfterValidator(_check(dns_label, "a kustomization name")), _string(_DNS_LABEL_PATTERN, maxLength=63)
]
Namespace = Annotated[str, AfterValidator(_check(dns_label)), _string(_DNS_LABEL_PATTERN, maxLength=63)]
ClusterKey = Annotated[
    str,
    AfterValidator(_check(cluster_name, "a cluster (alias, name or ARM id)")),
    _string(description="inventory alias, cluster name or full ARM id"),
]
SourcePath = Annotated[str, AfterValidator(_check(path)), _string(maxLength=1024)]
GitUrl = Annotated[
    str, AfterValidator(_check(_git_url)), _string(maxLength=2048, examples=["https://github.com/org/repo"])
]
GitRefName = Annotated[str, BeforeValidator(_as_text), AfterValidator(_check(git_ref_name)), _string(maxLength=255)]
SemverRange = Annotated[str, BeforeValidator(_as_text), AfterValidator(_check(semver_range)), _string()]
CommitSha = Annotated[str, AfterValidator(_check(commit_sha)), _string(r"^([0-9a-f]{40}|[0-9a-f]{64})$")]
CredentialRef = Annotated[
    str,
    AfterValidator(_check(credential_ref)),
    _string(r"^[A-Za-z0-9][A-Za-z0-9._:/-]{0,127}$", description="the name of a credential fluxops holds"),
]
SecretName = Annotated[str, AfterValidator(_check(dns_subdomain)), _string(maxLength=253)]
HttpsUser = Annotated[str, BeforeValidator(_as_text), _string(r"^[^\s:@/]{1,256}$")]
Version = Annotated[str, BeforeValidator(_as_text), AfterValidator(_check(version)), _string(r"^\d+\.\d+\.\d+")]
SubstituteName = Annotated[
    str, AfterValidator(_check(_substitute_name, "a substitute name")), _string(r"^[A-Za-z_][A-Za-z0-9_]*$")
]
SubstituteValue = Annotated[str, BeforeValidator(_as_text), WithJsonSchema({"type": ["string", "number"]})]
SettingKey = Annotated[
    str,
    AfterValidator(_check(_setting_key, "a setting")),
    WithJsonSchema({"type": "string", "enum": sorted(SETTINGS)}),
]
SettingValue = Annotated[
    str | None,
    BeforeValidator(_setting_value),
    WithJsonSchema({"type": ["string", "boolean", "integer", "number", "null"]}),
]

# ---------------------------------------------------------------------------------------------
# The documents (pydantic: types, unknown keys, the JSON schema)
# ---------------------------------------------------------------------------------------------


def _title(name: str, _: Any) -> str:
    return name  # the key as it is written, not pydantic's "Dependson"


class _Document(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, field_title_generator=_title)


class KustomizationDocument(_Document):
    """A Flux kustomization of the configuration's source (a path in it, applied with these options)."""

    path: SourcePath = Field("", description="path in the source, e.g. ./apps/staging (default: its root)")
    dependsOn: list[KustomizationName] = Field(
        default_factory=list, description="kustomizations of this configuration to reconcile first"
    )
    prune: StrictBool = Field(False, description="delete objects removed from the source")
    force: StrictBool = Field(False, description="recreate objects that cannot be patched")
    wait: StrictBool = Field(True, description="wait for the objects to be ready")
    interval: Duration | None = Field(None, description="sync interval (default 10m)")
    retryInterval: Duration | None = Field(None, description="interval after a failure (default: interval)")
    timeout: Duration | None = Field(None, description="default 10m")
    substitute: dict[SubstituteName, SubstituteValue] = Field(
        default_factory=dict, description="postBuild substitutions, NAME: value"
    )


#: YAML source key -> (its field in bot.sources, the /flux flag that field's messages name)
_SOURCE_FIELDS: dict[str, tuple[str, str]] = {
    "url": ("url", "--url"),
    "branch": ("branch", "--branch"),
    "tag": ("tag", "--tag"),
    "semver": ("semver", "--semver"),
    "commit": ("commit", "--commit"),
    "provider": ("provider", "--provider"),
    "httpsUser": ("https_user", "--https-user"),
    "httpsKeyRef": ("https_key_ref", "--https-key-ref"),
    "sshPrivateKeyRef": ("ssh_private_key_ref", "--ssh-private-key-ref"),
    "knownHostsRef": ("known_hosts_ref", "--known-hosts-ref"),
    "localAuthRef": ("local_auth_ref", "--local-auth-ref"),
}


@dataclass(frozen=True)
class _YamlSource:
    """A fleet file's source keys as ``bot.sources.SourceFields``: values by field, spelled as YAML keys."""

    values: Mapping[str, str]
    keys: Mapping[str, str]

    def given(self, dest: str, /) -> bool:
        return dest in self.values

    def value(self, dest: str, /) -> str | None:
        return self.values.get(dest)

    def switch(self, dest: str, /) -> bool | None:
        return None  # no git source field is a switch

    def spelled(self, dest: str, /) -> str:
        return self.keys.get(dest, dest)


_REFS = ("branch", "tag", "semver", "commit")


class SourceDocument(_Document):
    """The Git repository a configuration follows; credentials only by name."""

    kind: Literal["git"] = Field("git", description="git (the only source kind fleet files declare so far)")
    url: GitUrl
    branch: GitRefName | None = None
    tag: GitRefName | None = None
    semver: SemverRange | None = None
    commit: CommitSha | None = None
    interval: Duration | None = Field(None, description="sync interval (default 10m)")
    timeout: Duration | None = Field(None, description="default 10m")
    provider: Literal["azure", "generic"] | None = Field(None, description="azure: workload identity with Azure DevOps")
    httpsUser: HttpsUser | None = None
    httpsKeyRef: CredentialRef | None = None
    sshPrivateKeyRef: CredentialRef | None = None
    knownHostsRef: CredentialRef | None = None
    localAuthRef: SecretName | None = Field(None, description="a Kubernetes secret already on the cluster")

    @model_validator(mode="after")
    def _rules(self) -> SourceDocument:
        given = [key for key in _REFS if getattr(self, key) is not None]
        if not given:
            raise ValueError("which version of the repository? give one of branch, tag, semver or commit")
        if len(given) > 1:
            raise ValueError(f"give one of branch, tag, semver or commit, not {' and '.join(given)}")
        self.build()
        return self

    def build(self) -> tuple[GitSource, CredentialRefs]:
        """The source and its credential references, by the rules of ``/flux config create`` (ValueError if broken)."""
        given = {key: getattr(self, key) for key in _SOURCE_FIELDS if getattr(self, key) is not None}
        fields = _YamlSource(
            {_SOURCE_FIELDS[k][0]: v for k, v in given.items()}, {_SOURCE_FIELDS[k][0]: k for k in given}
        )
        try:
            source, refs, _ = sources.build_source(fields)
        except UsageError as err:
            raise ValueError(_reason(err)) from None
        assert isinstance(source, GitSource)
        source = replace(
            source,
            timeout_seconds=self.timeout if self.timeout is not None else 600,
            sync_interval_seconds=self.interval if self.interval is not None else 600,
        )
        return source, refs


class ConfigurationDocument(_Document):
    """A Flux configuration (``Microsoft.KubernetesConfiguration/fluxConfigurations``)."""

    namespace: Namespace = Field("default", description="create-only in Azure")
    scope: Literal["cluster", "namespace"] = Field("cluster", description="create-only in Azure")
    suspend: StrictBool = False
    source: SourceDocument
    kustomizations: dict[KustomizationName, KustomizationDocument] = Field(default_factory=dict)


class ExtensionDocument(_Document):
    """The microsoft.flux extension; fields left out are not managed here (installed with az's defaults)."""

    version: Version | None = Field(None, description="pin a version (needs autoUpgradeMinorVersion: false)")
    autoUpgradeMinorVersion: StrictBool | None = None
    releaseTrain: Literal["stable", "preview", "Stable", "Preview"] | None = None
    settings: dict[SettingKey, SettingValue] = Field(
        default_factory=dict, description="configurationSettings; null removes a setting"
    )

    @model_validator(mode="after")
    def _pinned(self) -> ExtensionDocument:
        if self.version is not None and self.autoUpgradeMinorVersion is True:
            raise ValueError(
                f"version {self.version} can only be pinned with autoUpgradeMinorVersion: false "
                "(or leave version out to follow new versions)"
            )
        return self


class ClusterDocument(_Document):
    """What one cluster runs."""

    extension: ExtensionDocument | None = None
    configurations: dict[ConfigName, ConfigurationDocument] = Field(default_factory=dict)


class FleetDocument(_Document):
    """One YAML document of a fleet repository."""

    model_config = ConfigDict(extra="forbid", frozen=True, field_title_generator=_title, title="fluxops Fleet")

    apiVersion: Literal["fluxops.io/v1"]
    kind: Literal["Fleet"]
    clusters: dict[ClusterKey, ClusterDocument]


def json_schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of one fleet document, as committed in ``schemas/fleet.schema.json``."""
    schema = _key_patterns(FleetDocument.model_json_schema())
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", "$id": SCHEMA_ID, **schema}


def _key_patterns(node: Any) -> Any:
    """pydantic writes a checked mapping key as ``patternProperties``, which lets other keys through;
    ``propertyNames`` + ``additionalProperties`` refuses them, as the loader does."""
    if isinstance(node, list):
        return [_key_patterns(item) for item in node]
    if not isinstance(node, dict):
        return node
    out = {key: _key_patterns(value) for key, value in node.items()}
    patterns = out.get("patternProperties")
    if isinstance(patterns, dict) and len(patterns) == 1 and "additionalProperties" not in out:
        ((pattern, value_schema),) = patterns.items()
        del out["patternProperties"]
        out["propertyNames"] = {**out.get("propertyNames", {}), "pattern": pattern}
        out["additionalProperties"] = value_schema
    return out


def schema_text() -> str:
    return json.dumps(json_schema(), indent=2, ensure_ascii=False) + "\n"


# ---------------------------------------------------------------------------------------------
# What the loader returns
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class DesiredExtension:
    """The extension as declared; None fields are not managed here. A setting whose value is None is removed."""

    auto_upgrade_minor_version: bool | None = None
    release_train: str | None = None  # "Stable" | "Preview"
    version: str | None = None
    settings: tuple[tuple[str, str | None], ...] = ()

    def install_spec(self) -> ExtensionSpec:
        """What to install when the cluster has no extension (az's defaults for what is not declared)."""
        auto = self.auto_upgrade_minor_version
        return ExtensionSpec(
            auto_upgrade_minor_version=(self.version is None) if auto is None else auto,
            release_train=self.release_train or "Stable",
            version=self.version,
            settings=tuple((k, v) for k, v in self.settings if v is not None),
        )


@dataclass(frozen=True)
class DesiredCluster:
    """One declared cluster: ``key`` as written (alias, name or ARM id) and where it was declared."""

    key: str
    extension: DesiredExtension | None = None
    configurations: tuple[FluxConfigSpec, ...] = ()
    #: (configuration name, the credential names it uses), for configurations that name any
    credentials: tuple[tuple[str, CredentialRefs], ...] = ()
    origin: str = ""  # "file:line"

    def credentials_for(self, name: str) -> CredentialRefs:
        return next((refs for config, refs in self.credentials if config == name), CredentialRefs())

    def configuration(self, name: str) -> FluxConfigSpec | None:
        return next((c for c in self.configurations if c.name == name), None)


class FleetSpec(Mapping[str, DesiredCluster]):
    """Every declared cluster by its key, in a stable order (case-insensitive by key)."""

    def __init__(self, clusters: Iterable[DesiredCluster] = ()) -> None:
        ordered = sorted(clusters, key=lambda c: (c.key.casefold(), c.key))
        self._clusters: dict[str, DesiredCluster] = {c.key: c for c in ordered}

    def __getitem__(self, key: str) -> DesiredCluster:
        return self._clusters[key]

    def __iter__(self) -> Iterator[str]:
        return iter(self._clusters)

    def __len__(self) -> int:
        return len(self._clusters)

    def __repr__(self) -> str:
        return f"FleetSpec({list(self._clusters)!r})"


@dataclass(frozen=True)
class FleetProblem:
    """One thing wrong in a fleet file: where (file, line, key path) and what."""

    file: str
    line: int
    key: str
    text: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        return f"{where}: {self.key}: {self.text}" if self.key else f"{where}: {self.text}"


class FleetError(ConfigurationError):
    """The fleet files cannot be read; ``problems`` lists each one (the message lists them too)."""

    def __init__(self, problems: Iterable[FleetProblem]) -> None:
        self.problems = tuple(sorted(problems, key=lambda p: (p.file, p.line, p.key, p.text)))
        count = len(self.problems)
        shown = [f"- {p}" for p in self.problems[:MAX_PROBLEMS]]
        if count > MAX_PROBLEMS:
            shown.append(f"- and {count - MAX_PROBLEMS} more")
        heading = "the fleet files have a problem" if count == 1 else f"the fleet files have {count} problems"
        super().__init__(heading + ":\n" + "\n".join(shown), recommendation=_FIX)


def fleet_files(paths: Iterable[str], root: str) -> list[str]:
    """The fleet files among a repository's ``paths``: ``root`` itself, or ``*.yaml`` / ``*.yml`` under it."""
    base = root.strip().strip("/")
    found = []
    for candidate in paths:
        clean = candidate.strip("/")
        if clean == base or (clean.startswith(base + "/") and clean.endswith((".yaml", ".yml"))):
            found.append(clean)
    return sorted(found)


# ---------------------------------------------------------------------------------------------
# Loading
# ---------------------------------------------------------------------------------------------

Loc = tuple[int | str, ...]


class _Collector:
    """Problems found so far, with the file and document they were found in."""

    def __init__(self) -> None:
        self.problems: list[FleetProblem] = []

    def add(self, file: str, root: yaml.Node | None, loc: Loc, text: str) -> None:
        line = _where(root, loc) if root is not None else 0
        self.problems.append(FleetProblem(file, line, key_path(loc), text))


def load_fleet(files: Mapping[str, str]) -> FleetSpec:
    """Read and check fleet files (path -> YAML text); FleetError lists every problem with file:line and key."""
    found = _Collector()
    first_seen: dict[str, str] = {}  # casefolded cluster key -> "file:line" of its declaration
    clusters: list[DesiredCluster] = []
    for file in sorted(files):
        for root, document in _documents(file, files[file], found):
            for key, cluster in document.clusters.items():
                loc: Loc = ("clusters", key)
                origin = f"{file}:{_where(root, loc)}"
                earlier = first_seen.get(key.casefold())
                if earlier is not None:
                    found.add(file, root, loc, f"cluster '{key}' is declared twice (first in {earlier})")
                    continue
                first_seen[key.casefold()] = origin
                built = _cluster(key, cluster, origin, _reporter(found, file, root, loc))
                if built is not None:
                    clusters.append(built)
    if found.problems:
        raise FleetError(found.problems)
    return FleetSpec(clusters)


def _reporter(found: _Collector, file: str, root: yaml.Node, prefix: Loc) -> Report:
    def report(at: Loc, text: str) -> None:
        found.add(file, root, (*prefix, *at), text)

    return report


def _within(report: Report, prefix: Loc) -> Report:
    def nested(at: Loc, text: str) -> None:
        report((*prefix, *at), text)

    return nested


def _documents(file: str, text: str, found: _Collector) -> Iterator[tuple[yaml.Node, FleetDocument]]:
    """Each document of ``file`` that checks out; problems of the others go to ``found``."""
    loader = yaml.SafeLoader(text)
    try:
        while loader.check_node():
            root = loader.get_node()
            data = loader.construct_document(root) if root is not None else None
            if root is None or data is None:
                continue  # an empty document (a trailing ---)
            document = _document(file, root, data, found)
            if document is not None:
                yield root, document
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None) or getattr(exc, "context_mark", None)
        what = getattr(exc, "problem", None) or getattr(exc, "context", None) or "cannot parse"
        line = mark.line + 1 if mark is not None else 0
        found.problems.append(FleetProblem(file, line, "", f"not valid YAML: {what}"))
    finally:
        loader.dispose()


def _document(file: str, root: yaml.Node, data: Any, found: _Collector) -> FleetDocument | None:
    duplicates = duplicate_keys(root)
    for text in duplicates:  # "line 7: key 'x' appears twice (first on line 5)"
        line_text, _, rest = text.partition(": ")
        found.problems.append(FleetProblem(file, int(line_text.removeprefix("line ")), "", rest))
    if duplicates:
        return None
    if not isinstance(data, dict):
        found.add(
            file,
            root,
            (),
            f"a fleet document is a mapping with apiVersion, kind and clusters, not a {type(data).__name__}",
        )
        return None
    api, kind = data.get("apiVersion"), data.get("kind")
    if api != API_VERSION or kind != KIND:
        key, got, want = ("apiVersion", api, API_VERSION) if api != API_VERSION else ("kind", kind, KIND)
        got_text = "it is missing" if got is None else f"not {got!r}"
        found.add(
            file,
            root,
            (key,) if got is not None else (),
            f"every document under the fleet path must be a fluxops fleet: {key} must be {want}, {got_text}",
        )
        return None
    try:
        return FleetDocument.model_validate(data)
    except ValidationError as exc:
        for error in exc.errors(include_url=False):
            found.add(file, root, _loc(error), _problem(error))
        return None


def _loc(error: ErrorDetails) -> Loc:
    return tuple(error["loc"])


def _problem(error: ErrorDetails) -> str:
    kind = error["type"]
    loc = _loc(error)
    if kind == "extra_forbidden":
        key = str(loc[-1])
        allowed = allowed_keys(FleetDocument, loc[:-1])
        spelled = {_fold(name): name for name in allowed}.get(_fold(key))
        close = spelled or closest(key, allowed)
        hint = f" — did you mean '{close}'?" if close else ""
        if spelled:
            hint += " (fleet files spell keys in camelCase)"
        listing = f" (allowed here: {', '.join(allowed)})" if allowed else ""
        return f"unknown key '{key}'{hint}{listing}"
    return value_problem(error)


def _fold(name: str) -> str:
    return re.sub(r"[-_]", "", name).casefold()


def _where(root: yaml.Node | None, loc: Loc) -> int:
    """The line of the key ``loc`` ends with (not the line of its value's first child); for a key that is
    missing, the line of the key that should hold it; else ``line_of``."""
    if root is None:
        return 0
    if loc and loc[-1] == "[key]":
        loc = loc[:-1]
    if loc and isinstance(loc[-1], str):
        parent: yaml.Node | None = root
        for part in loc[:-1]:
            parent = _child(parent, part)
        if isinstance(parent, yaml.MappingNode):
            for key, _ in parent.value:
                if isinstance(key, yaml.ScalarNode) and key.value == loc[-1]:
                    return int(key.start_mark.line) + 1
            if len(loc) > 1:
                return _where(root, loc[:-1])
    return line_of(root, loc)


def _child(node: yaml.Node | None, part: int | str) -> yaml.Node | None:
    if isinstance(node, yaml.MappingNode) and isinstance(part, str):
        return next((v for k, v in node.value if isinstance(k, yaml.ScalarNode) and k.value == part), None)
    if isinstance(node, yaml.SequenceNode) and isinstance(part, int) and 0 <= part < len(node.value):
        child: yaml.Node = node.value[part]
        return child
    return None


Report = Callable[[Loc, str], None]


def _cluster(key: str, document: ClusterDocument, origin: str, report: Report) -> DesiredCluster | None:
    """The domain value of one cluster document, after the checks that span several keys."""
    ok = True
    extension: DesiredExtension | None = None
    if document.extension is not None:
        extension = _extension(document.extension, report)
        ok = extension is not None
    configs: list[FluxConfigSpec] = []
    credentials: list[tuple[str, CredentialRefs]] = []
    for name, config in document.configurations.items():
        built = _configuration(name, config, _within(report, ("configurations", name)))
        if built is None:
            ok = False
            continue
        spec, refs = built
        configs.append(spec)
        if not refs.is_empty():
            credentials.append((name, refs))
    if not ok:
        return None
    return DesiredCluster(
        key=key,
        extension=extension,
        configurations=tuple(sorted(configs, key=lambda c: c.name)),
        credentials=tuple(sorted(credentials)),
        origin=origin,
    )


def _extension(document: ExtensionDocument, report: Report) -> DesiredExtension | None:
    settings: list[tuple[str, str | None]] = []
    ok = True
    for key, value in document.settings.items():
        if value is None:
            settings.append((key, None))
            continue
        try:
            settings.append(check_setting(key, value))
        except UsageError as err:
            report(("extension", "settings", key), _reason(err))
            ok = False
    if not ok:
        return None
    train = document.releaseTrain
    return DesiredExtension(
        auto_upgrade_minor_version=False if document.version is not None else document.autoUpgradeMinorVersion,
        release_train=train.capitalize() if train else None,
        version=document.version,
        settings=tuple(sorted(settings)),
    )


def _configuration(
    name: str, document: ConfigurationDocument, report: Report
) -> tuple[FluxConfigSpec, CredentialRefs] | None:
    source, refs = document.source.build()  # checked when the document was validated
    kustomizations = [
        Kustomization(
            name=kname,
            path=k.path,
            depends_on=tuple(dict.fromkeys(k.dependsOn)),
            prune=k.prune,
            force=k.force,
            wait=k.wait,
            timeout_seconds=k.timeout if k.timeout is not None else 600,
            sync_interval_seconds=k.interval if k.interval is not None else 600,
            retry_interval_seconds=k.retryInterval,
            substitute=tuple(sorted(k.substitute.items())),
        )
        for kname, k in document.kustomizations.items()
    ]
    names = [k.name for k in kustomizations]
    ok = True
    for k in kustomizations:
        for dependency in k.depends_on:
            if dependency == k.name:
                report(("kustomizations", k.name, "dependsOn"), f"kustomization '{k.name}' cannot depend on itself")
                ok = False
            elif dependency not in names:
                near = closest(dependency, [n for n in names if n != k.name])
                hint = f" — did you mean '{near}'?" if near else ""
                defined = ", ".join(names)
                report(
                    ("kustomizations", k.name, "dependsOn"),
                    f"'{dependency}' is not a kustomization of configuration '{name}'{hint} (it has: {defined})",
                )
                ok = False
    if ok:
        try:
            check_dependencies(kustomizations)
        except UsageError as err:
            report(("kustomizations",), _reason(err).replace("`", "'"))
            ok = False
    if not ok:
        return None
    spec = FluxConfigSpec(
        name=name,
        source=source,
        namespace=document.namespace,
        scope=document.scope,
        kustomizations=tuple(kustomizations),
        suspend=document.suspend,
    )
    return spec, refs
