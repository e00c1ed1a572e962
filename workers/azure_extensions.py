"""The microsoft.flux cluster extension through azure-mgmt-kubernetesconfiguration-extensions."""

from __future__ import annotations

from typing import Any

from azure.core.polling import LROPoller
from azure.mgmt.kubernetesconfiguration import SourceControlConfigurationClient
from azure.mgmt.kubernetesconfiguration.extensions import (
    KubernetesConfigurationExtensionsMgmtClient as ExtensionsClient,
)
from azure.mgmt.kubernetesconfiguration.extensions import models as m

from bot.extension_versions import newest_first
from bot.models import Cluster, ClusterRef, ExtensionPatch, ExtensionSpec, ExtensionState
from workers.azure_clients import ClientCache, cluster_args
from workers.azure_connection import ArmConnection
from workers.azure_errors import arm_call
from workers.azure_lro import PollerOperation, TokenEnvelope, resume_poller

FLUX_EXTENSION_TYPE = "microsoft.flux"
#: the newest api-version whose SDK has ``extension_type_versions`` (location scoped: where the cluster is)
EXTENSION_TYPES_API_VERSION = "2022-01-15-preview"


def state_from_model(cluster: ClusterRef, model: m.Extension) -> ExtensionState:
    return state_from_wire(cluster, model.as_dict())


def state_from_wire(cluster: ClusterRef, data: dict[str, Any]) -> ExtensionState:
    """An extensions resource as ARM's GET returns it (wire names), or a Resource Graph row of one."""
    props: dict[str, Any] = data.get("properties") or {}
    error = props.get("errorInfo") or None
    return ExtensionState(
        cluster=cluster,
        name=str(data.get("name", "")),
        extension_type=str(props.get("extensionType", "")),
        provisioning_state=props.get("provisioningState"),
        version=props.get("version"),
        current_version=props.get("currentVersion"),
        auto_upgrade_minor_version=props.get("autoUpgradeMinorVersion"),
        release_train=props.get("releaseTrain"),
        settings=tuple(sorted((props.get("configurationSettings") or {}).items())),
        error=(error or {}).get("message") if isinstance(error, dict) else None,
        **_scope_from_wire(props.get("scope")),
    )


def _scope_from_wire(scope: Any) -> dict[str, str | None]:
    """ExtensionState's ``scope`` and ``namespace`` from ARM's ``scope`` (cluster or namespace, not both)."""
    if not isinstance(scope, dict):
        return {}
    cluster, namespace = scope.get("cluster"), scope.get("namespace")
    if isinstance(namespace, dict):
        return {"scope": "namespace", "namespace": namespace.get("targetNamespace")}
    if isinstance(cluster, dict):
        return {"scope": "cluster", "namespace": cluster.get("releaseNamespace")}
    return {}


def _scope_model(spec: ExtensionSpec) -> m.Scope | None:
    """ARM's ``scope`` for a new extension; None leaves it to ARM (cluster scope in its default namespace)."""
    if spec.scope == "namespace":
        return m.Scope(namespace=m.ScopeNamespace(target_namespace=spec.namespace))
    if spec.namespace is not None:
        return m.Scope(cluster=m.ScopeCluster(release_namespace=spec.namespace))
    return None


def _installing(cluster: ClusterRef, spec: ExtensionSpec) -> str:
    return f"installing the {spec.extension_type} extension '{spec.name}' on cluster '{cluster.name}'"


def _removing(cluster: ClusterRef, name: str) -> str:
    return f"removing extension '{name}' from cluster '{cluster.name}'"


class AzureExtensions:
    """bot.ports.Extensions over ARM."""

    def __init__(self, *, connection: ArmConnection) -> None:
        self._clients = ClientCache(connection, lambda c, sub: ExtensionsClient(c.credential, sub, **c.client_kwargs()))
        self._where = cluster_args
        self._types = ClientCache(
            connection,
            lambda c, sub: SourceControlConfigurationClient(
                c.credential, sub, api_version=EXTENSION_TYPES_API_VERSION, **c.client_kwargs()
            ),
        )

    def _ops(self, subscription_id: str) -> Any:
        return self._clients(subscription_id).extensions

    def versions(
        self, cluster: Cluster, extension_type: str = FLUX_EXTENSION_TYPE, release_train: str = "Stable"
    ) -> list[str]:
        """Released versions of ``extension_type`` on ``release_train`` where the cluster is, newest first."""
        ref = cluster.ref
        doing = f"listing the released {extension_type} versions in '{cluster.location}'"
        with arm_call(doing, ref.name):
            items = list(
                self._types(ref.subscription_id).extension_type_versions.list(cluster.location, extension_type)
            )
        train = release_train.lower()
        return newest_first([v for i in items if (i.release_train or "").lower() == train for v in i.versions or ()])

    def get(self, cluster: ClusterRef, name: str) -> ExtensionState:
        with arm_call(f"reading extension '{name}' on cluster '{cluster.name}'", cluster.name):
            model = self._ops(cluster.subscription_id).get(*self._where(cluster), name)
        return state_from_model(cluster, model)

    def list(self, cluster: ClusterRef) -> list[ExtensionState]:
        with arm_call(f"listing extensions on cluster '{cluster.name}'", cluster.name):
            return [
                state_from_model(cluster, x) for x in self._ops(cluster.subscription_id).list(*self._where(cluster))
            ]

    def find_flux(self, cluster: ClusterRef) -> ExtensionState | None:
        """The cluster's microsoft.flux extension, whatever it is named."""
        return next((x for x in self.list(cluster) if x.extension_type.lower() == FLUX_EXTENSION_TYPE), None)

    def _create(self, cluster: ClusterRef, spec: ExtensionSpec, *, polling: bool) -> LROPoller[Any]:
        body = m.Extension(
            properties=m.ExtensionProperties(
                extension_type=spec.extension_type,
                auto_upgrade_minor_version=spec.auto_upgrade_minor_version,
                release_train=spec.release_train,
                version=spec.version,
                configuration_settings=dict(spec.settings),
                scope=_scope_model(spec),
            )
        )
        with arm_call(_installing(cluster, spec), cluster.name):
            poller: LROPoller[Any] = self._ops(cluster.subscription_id).begin_create(
                *self._where(cluster), spec.name, body, polling=polling
            )
        return poller

    def begin_create(self, cluster: ClusterRef, spec: ExtensionSpec) -> PollerOperation[ExtensionState]:
        return PollerOperation(
            self._create(cluster, spec, polling=True),
            envelope=TokenEnvelope("extension.create", cluster, spec.name, ""),
            doing=_installing(cluster, spec),
            convert=lambda model: state_from_model(cluster, model),
        )

    def submit_create(self, cluster: ClusterRef, spec: ExtensionSpec) -> None:
        """Install and return once ARM accepted it (no poller follows the operation)."""
        self._create(cluster, spec, polling=False)

    def _update(self, cluster: ClusterRef, name: str, patch: ExtensionPatch, *, polling: bool) -> LROPoller[Any]:
        props: dict[str, Any] = {}
        if patch.auto_upgrade_minor_version is not None:
            props["autoUpgradeMinorVersion"] = patch.auto_upgrade_minor_version
        if patch.release_train is not None:
            props["releaseTrain"] = patch.release_train
        if patch.version is not None:
            props["version"] = patch.version
        if patch.settings:
            props["configurationSettings"] = dict(patch.settings)
        with arm_call(f"updating extension '{name}' on cluster '{cluster.name}'", cluster.name):
            poller: LROPoller[Any] = self._ops(cluster.subscription_id).begin_update(
                *self._where(cluster), name, {"properties": props}, polling=polling
            )
        return poller

    def begin_update(self, cluster: ClusterRef, name: str, patch: ExtensionPatch) -> PollerOperation[ExtensionState]:
        return PollerOperation(
            self._update(cluster, name, patch, polling=True),
            envelope=TokenEnvelope("extension.update", cluster, name, ""),
            doing=f"updating extension '{name}' on cluster '{cluster.name}'",
            convert=lambda model: state_from_model(cluster, model),
        )

    def submit_update(self, cluster: ClusterRef, name: str, patch: ExtensionPatch) -> None:
        """Update and return once ARM accepted it (no poller follows the operation)."""
        self._update(cluster, name, patch, polling=False)

    def _delete(self, cluster: ClusterRef, name: str, *, force: bool, polling: bool) -> LROPoller[Any]:
        with arm_call(_removing(cluster, name), cluster.name):
            poller: LROPoller[Any] = self._ops(cluster.subscription_id).begin_delete(
                *self._where(cluster), name, force_delete=force or None, polling=polling
            )
        return poller

    def begin_delete(self, cluster: ClusterRef, name: str, *, force: bool = False) -> PollerOperation[None]:
        doing = _removing(cluster, name)
        return PollerOperation(
            self._delete(cluster, name, force=force, polling=True),
            envelope=TokenEnvelope("extension.delete", cluster, name, ""),
            doing=doing,
            convert=lambda _: None,
        )

    def submit_delete(self, cluster: ClusterRef, name: str, *, force: bool = False) -> None:
        """Remove and return once ARM accepted it (no poller follows the operation)."""
        self._delete(cluster, name, force=force, polling=False)

    def resume(self, token: str) -> PollerOperation[ExtensionState | None]:
        env = TokenEnvelope.decode(token)
        cluster = env.cluster
        ops = self._ops(cluster.subscription_id)
        at = (*self._where(cluster), env.name)
        poller, doing = resume_poller(
            env,
            what="extension",
            starters={
                "extension.create": lambda t: ops.begin_create(*at, {}, continuation_token=t),
                "extension.update": lambda t: ops.begin_update(*at, {}, continuation_token=t),
                "extension.delete": lambda t: ops.begin_delete(*at, continuation_token=t),
            },
        )

        def convert(model: Any) -> ExtensionState | None:
            return None if model is None else state_from_model(cluster, model)

        return PollerOperation(poller, envelope=env, doing=doing, convert=convert)
