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
              kind: git                  # git (default) | bucket | azblob | oci (bot.fleet.source_document)
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
(``*Ref``) and resolved by fluxops at apply time. A cluster is named in one document only.

A document may select its clusters instead (``bot.fleet.selection``, ``bot.fleet.templating``)::

    apiVersion: fluxops.io/v1
    kind: Fleet
    selector: {env: prod, region: weu}   # or `all`; tags as `/flux clusters --selector`
    extension: ...                        # as under a named cluster
    configurations: ...                   # `${cluster.name}`, `${cluster.tags.KEY}` in paths and substitute values

These models check one document's types and keys; ``bot.fleet.load.load_fleet`` reads the files with them
and raises ``FleetError`` (a ``ConfigurationError``) listing every problem as
``file:line: key.path: what is wrong``. ``schemas/fleet.schema.json`` is generated from them
(``bot.fleet.schema_json``) for editors and CI.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool, model_validator

from bot.fleet.fields import (
    ClusterKey,
    ConfigName,
    Duration,
    KustomizationName,
    Namespace,
    SelectorKey,
    SelectorValue,
    SettingKey,
    SettingValue,
    SourcePath,
    SubstituteName,
    SubstituteValue,
    Version,
)
from bot.fleet.source_document import SourceDocument

API_VERSION = "fluxops.io/v1"
KIND = "Fleet"


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


def _one_form(schema: dict[str, Any]) -> None:
    """In JSON Schema: a document names clusters (and nothing at its top but them) or selects them; its
    optional keys are left out rather than null (the loader refuses null for them too)."""
    for name, prop in schema.get("properties", {}).items():
        options = [o for o in prop.get("anyOf", []) if o != {"type": "null"}]
        if "anyOf" in prop and len(options) == 1:
            del prop["anyOf"]
            prop.update(options[0])
        elif "anyOf" in prop:
            prop["anyOf"] = options
        prop.pop("default", None)
        schema["properties"][name] = prop
    schema.update(_FORMS)


_FORMS: dict[str, Any] = {
    "oneOf": [
        {
            "required": ["clusters"],
            "not": {"anyOf": [{"required": [key]} for key in ("selector", "extension", "configurations")]},
        },
        {"required": ["selector"], "not": {"required": ["clusters"]}},
    ]
}


def _not_empty(schema: dict[str, Any]) -> None:
    """``selector: {}`` is refused (``selector: all`` says it): the mapping needs a key in JSON Schema too."""
    for option in schema.get("anyOf", []):
        if option.get("type") == "object":
            option["minProperties"] = 1


class FleetDocument(_Document):
    """One YAML document of a fleet repository: clusters by name (``clusters``), or every cluster of the
    inventory that ``selector`` matches, each given the document's ``extension`` and ``configurations``."""

    model_config = ConfigDict(
        extra="forbid",
        frozen=True,
        field_title_generator=_title,
        title="fluxops Fleet",
        json_schema_extra=_one_form,
    )

    apiVersion: Literal["fluxops.io/v1"]
    kind: Literal["Fleet"]
    clusters: dict[ClusterKey, ClusterDocument] | None = Field(
        None, description="clusters by inventory alias, name or ARM id (or use selector)"
    )
    selector: dict[SelectorKey, SelectorValue] | Literal["all"] | None = Field(
        None,
        description="instead of clusters: every cluster of the inventory whose tags match every KEY: VALUE "
        "(as `/flux clusters --selector`); `all` for every cluster",
        json_schema_extra=_not_empty,
    )
    extension: ExtensionDocument | None = Field(
        None, description="with selector: the extension of every cluster selected"
    )
    configurations: dict[ConfigName, ConfigurationDocument] | None = Field(
        None,
        description="with selector: the configurations of every cluster selected; ${cluster.name}, "
        "${cluster.tags.KEY}, ... in kustomization paths and substitute values",
    )

    @model_validator(mode="after")
    def _one_form(self) -> FleetDocument:
        if self.selector is None:
            if self.clusters is None:
                raise ValueError("a fleet document names its clusters (clusters:) or selects them (selector:)")
            if self.extension is not None or self.configurations is not None:
                raise ValueError("extension and configurations go under a cluster of clusters:, or beside a selector:")
            return self
        if self.clusters is not None:
            raise ValueError(
                "a document names clusters (clusters:) or selects them (selector:), not both: "
                "write them as two documents (---)"
            )
        if self.selector == {}:
            raise ValueError(
                "an empty selector would match every cluster of the inventory: write 'selector: all' if you mean that"
            )
        if not self.configurations and self.extension is None:
            raise ValueError("a selector document declares configurations or an extension for the clusters it selects")
        return self

    def selected(self) -> ClusterDocument:
        """What a selector document gives every cluster it selects, as a cluster's document."""
        return ClusterDocument(extension=self.extension, configurations=self.configurations or {})
