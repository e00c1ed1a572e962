"""Flux configurations on AKS and Arc clusters through azure-mgmt-kubernetesconfiguration-fluxconfigurations."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from azure.core.polling import LROPoller
from azure.mgmt.kubernetesconfiguration.fluxconfigurations import (
    KubernetesConfigurationFluxConfigurationsMgmtClient as FluxClient,
)
from azure.mgmt.kubernetesconfiguration.fluxconfigurations import models as m

from bot.models import ClusterRef, FluxConfigPatch, FluxConfigSpec, FluxConfigState, ProtectedSettings
from workers.azure_clients import ClientCache, cluster_args
from workers.azure_connection import ArmConnection
from workers.azure_errors import arm_call
from workers.azure_lro import PollerOperation, TokenEnvelope, resume_poller
from workers.flux_bodies import patch_body, protected_wire, source_patch, spec_model
from workers.flux_readback import state_from_wire

__all__ = ["AzureFluxConfigs", "patch_body", "protected_wire", "spec_model", "state_from_model", "state_from_wire"]


def state_from_model(cluster: ClusterRef, model: m.FluxConfiguration) -> FluxConfigState:
    return state_from_wire(cluster, model.as_dict())


class AzureFluxConfigs:
    """bot.ports.FluxConfigs over ARM."""

    def __init__(self, *, connection: ArmConnection) -> None:
        self._client = ClientCache(connection, lambda c, sub: FluxClient(c.credential, sub, **c.client_kwargs()))
        self._where = cluster_args

    def get(self, cluster: ClusterRef, name: str) -> FluxConfigState:
        with arm_call(f"reading flux configuration '{name}' on cluster '{cluster.name}'", cluster.name):
            model = self._client(cluster.subscription_id).flux_configurations.get(*self._where(cluster), name)
        return state_from_model(cluster, model)

    def list(self, cluster: ClusterRef) -> list[FluxConfigState]:
        with arm_call(f"listing flux configurations on cluster '{cluster.name}'", cluster.name):
            pages = self._client(cluster.subscription_id).flux_configurations.list(*self._where(cluster))
            return [state_from_model(cluster, model) for model in pages]

    def _put(
        self, cluster: ClusterRef, spec: FluxConfigSpec, protected: ProtectedSettings | None, *, polling: bool
    ) -> LROPoller[Any]:
        with arm_call(f"applying flux configuration '{spec.name}' to cluster '{cluster.name}'", cluster.name):
            return self._client(cluster.subscription_id).flux_configurations.begin_create_or_update(
                *self._where(cluster), spec.name, spec_model(spec, protected), polling=polling
            )

    def _aimed(self, cluster: ClusterRef, name: str, patch: FluxConfigPatch) -> FluxConfigPatch:
        """``patch`` with the configuration's source kind, read from ARM when the caller did not say it and the
        patch changes source fields: a source block of the wrong kind is never sent (ARM would switch kinds)."""
        if patch.source_kind is not None or not source_patch(patch):
            return patch
        return replace(patch, source_kind=self.get(cluster, name).source_kind)

    def _patch(self, cluster: ClusterRef, name: str, patch: FluxConfigPatch, *, polling: bool) -> LROPoller[Any]:
        patch = self._aimed(cluster, name, patch)
        with arm_call(f"updating flux configuration '{name}' on cluster '{cluster.name}'", cluster.name):
            return self._client(cluster.subscription_id).flux_configurations.begin_update(
                *self._where(cluster), name, patch_body(patch), polling=polling
            )

    def _delete(self, cluster: ClusterRef, name: str, *, force: bool, polling: bool) -> LROPoller[Any]:
        with arm_call(f"deleting flux configuration '{name}' from cluster '{cluster.name}'", cluster.name):
            return self._client(cluster.subscription_id).flux_configurations.begin_delete(
                *self._where(cluster), name, force_delete=force or None, polling=polling
            )

    def begin_create_or_update(
        self, cluster: ClusterRef, spec: FluxConfigSpec, protected: ProtectedSettings | None = None
    ) -> PollerOperation[FluxConfigState]:
        return PollerOperation(
            self._put(cluster, spec, protected, polling=True),
            envelope=TokenEnvelope("flux.create", cluster, spec.name, ""),
            doing=f"applying flux configuration '{spec.name}' to cluster '{cluster.name}'",
            convert=lambda model: state_from_model(cluster, model),
        )

    def begin_update(self, cluster: ClusterRef, name: str, patch: FluxConfigPatch) -> PollerOperation[FluxConfigState]:
        return PollerOperation(
            self._patch(cluster, name, patch, polling=True),
            envelope=TokenEnvelope("flux.update", cluster, name, ""),
            doing=f"updating flux configuration '{name}' on cluster '{cluster.name}'",
            convert=lambda model: state_from_model(cluster, model),
        )

    def begin_delete(self, cluster: ClusterRef, name: str, *, force: bool = False) -> PollerOperation[None]:
        return PollerOperation(
            self._delete(cluster, name, force=force, polling=True),
            envelope=TokenEnvelope("flux.delete", cluster, name, ""),
            doing=f"deleting flux configuration '{name}' from cluster '{cluster.name}'",
            convert=lambda _: None,
        )

    # Accepted, not followed: no poller thread per write (a fleet run follows its writes in bulk).
    def submit_create_or_update(
        self, cluster: ClusterRef, spec: FluxConfigSpec, protected: ProtectedSettings | None = None
    ) -> None:
        self._put(cluster, spec, protected, polling=False)

    def submit_update(self, cluster: ClusterRef, name: str, patch: FluxConfigPatch) -> None:
        self._patch(cluster, name, patch, polling=False)

    def submit_delete(self, cluster: ClusterRef, name: str, *, force: bool = False) -> None:
        self._delete(cluster, name, force=force, polling=False)

    def resume(self, token: str) -> PollerOperation[FluxConfigState | None]:
        env = TokenEnvelope.decode(token)
        cluster = env.cluster
        ops = self._client(cluster.subscription_id).flux_configurations
        at = (*self._where(cluster), env.name)
        poller, doing = resume_poller(
            env,
            what="flux configuration",
            starters={
                "flux.create": lambda t: ops.begin_create_or_update(*at, {}, continuation_token=t),
                "flux.update": lambda t: ops.begin_update(*at, {}, continuation_token=t),
                "flux.delete": lambda t: ops.begin_delete(*at, continuation_token=t),
            },
        )

        def convert(model: Any) -> FluxConfigState | None:
            return None if model is None else state_from_model(cluster, model)

        return PollerOperation(poller, envelope=env, doing=doing, convert=convert)
