"""`fluxops sandbox demo`: the seed tutorial end to end, through the same Azure adapters the workers use.

Install microsoft.flux on flux-demo-arc, create the tutorial's cluster-config (infra + apps), watch it
become Compliant, show its objects, suspend and resume it, delete it.
"""

from __future__ import annotations

import time
from collections.abc import Callable

from bot.models import (
    ClusterRef,
    ClusterType,
    ExtensionSpec,
    FluxConfigPatch,
    FluxConfigSpec,
    FluxConfigState,
    GitSource,
    Kustomization,
    RepositoryRef,
)
from sandbox.arm.app import EmulatorConfig
from sandbox.credential import SandboxCredential
from sandbox.runtime import SandboxOptions, SandboxThread
from sandbox.seed import TUTORIAL_ARC, TUTORIAL_RG, TUTORIAL_URL
from workers.azure_connection import ArmConnection
from workers.azure_extensions import AzureExtensions
from workers.azure_flux import AzureFluxConfigs
from workers.azure_inventory import AzureInventory

TUTORIAL_SPEC = FluxConfigSpec(
    name="cluster-config",
    namespace="cluster-config",
    scope="cluster",
    source=GitSource(url=TUTORIAL_URL, ref=RepositoryRef(branch="main")),
    kustomizations=(
        Kustomization(name="infra", path="./infrastructure", prune=True),
        Kustomization(name="apps", path="./apps/staging", prune=True, depends_on=("infra",)),
    ),
)


def describe(state: FluxConfigState) -> str:
    """A compact text view of a flux configuration's state."""
    lines = [
        f"{state.name}: provisioning {state.provisioning_state}, compliance {state.compliance_state}, "
        f"source {state.source_synced_commit or '-'}"
    ]
    for obj in state.statuses:
        ready = obj.ready
        mark = "ok " if ready and ready.status == "True" else ".. " if not ready or ready.status == "Unknown" else "ERR"
        lines.append(f"  {mark} {obj.kind:<14} {obj.name:<28} {ready.message if ready else ''}")
    return "\n".join(lines)


def watch(
    read: Callable[[], FluxConfigState], until: Callable[[FluxConfigState], bool], say: Callable[[str], None]
) -> FluxConfigState:
    last = ""
    deadline = time.monotonic() + 60
    while True:
        state = read()
        view = describe(state)
        if view != last:
            say(view)
            last = view
        if until(state) or time.monotonic() > deadline:
            return state
        time.sleep(0.2)


def run_demo(*, quiet: bool = False) -> int:
    def say(text: str) -> None:
        if not quiet:
            print(text, flush=True)

    world = SandboxThread(SandboxOptions(step_seconds=0.5, emulator=EmulatorConfig(operation_seconds=0.3)))
    endpoints = world.start()
    try:
        conn = ArmConnection(
            endpoint=endpoints.arm_url,
            credential=SandboxCredential(),
            ca_bundle=str(endpoints.ca_file),
            poll_interval=0.2,
        )
        inventory = AzureInventory(connection=conn, subscription_ids=[endpoints.subscription_id])
        extensions = AzureExtensions(connection=conn)
        flux = AzureFluxConfigs(connection=conn)
        say(f"sandbox ARM at {endpoints.arm_url}\n")
        for cluster in inventory.list_clusters():
            say(f"cluster {cluster.ref.resource_group}/{cluster.ref.name} ({cluster.ref.cluster_type.value})")
        arc = ClusterRef(endpoints.subscription_id, TUTORIAL_RG, ClusterType.CONNECTED, TUTORIAL_ARC)

        say("\n$ az k8s-extension create --extension-type microsoft.flux -n flux -c flux-demo-arc ...")
        ext = extensions.begin_create(arc, ExtensionSpec()).result(120)
        say(f"extension {ext.name}: {ext.provisioning_state}, version {ext.current_version}")

        say("\n$ az k8s-configuration flux create -n cluster-config --namespace cluster-config --scope cluster ...")
        flux.begin_create_or_update(arc, TUTORIAL_SPEC).result(60)
        final = watch(
            lambda: flux.get(arc, "cluster-config"),
            lambda s: s.compliance_state in ("Compliant", "Non-Compliant"),
            say,
        )
        say("\n$ flux suspend")
        flux.begin_update(arc, "cluster-config", FluxConfigPatch(suspend=True)).result(60)
        watch(lambda: flux.get(arc, "cluster-config"), lambda s: s.compliance_state == "Suspended", say)
        say("\n$ flux resume")
        flux.begin_update(arc, "cluster-config", FluxConfigPatch(suspend=False)).result(60)
        watch(lambda: flux.get(arc, "cluster-config"), lambda s: s.compliance_state == "Compliant", say)
        say("\n$ az k8s-configuration flux delete -n cluster-config")
        flux.begin_delete(arc, "cluster-config").result(60)
        say(f"remaining configurations on {arc.name}: {[s.name for s in flux.list(arc)]}")
        return 0 if final.compliance_state == "Compliant" else 1
    finally:
        world.stop()
