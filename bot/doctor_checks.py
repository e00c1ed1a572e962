"""`/flux doctor`'s checks: plain functions from what ARM and the cluster report to findings, each with the command
that fixes it. No I/O here (bot/usecases/doctor.py reads the ports and calls these).

The rules come from the seed docs: the three resource providers the tutorial registers; microsoft.flux in the
supported window (the newest and the two minor versions before it, N-2); Flux v1 must go before microsoft.flux can
be installed; with ``multiTenancy.enforce`` on (the default) every ``sourceRef`` must be in the object's own
namespace; Azure sources authenticating with a managed identity need ``workloadIdentity.enable`` (AKS workload
identity) or ``useKubeletIdentity`` (the AKS kubelet identity) on the extension.
"""

from __future__ import annotations

from collections.abc import Sequence

from bot.cluster_objects import FLUX_RESOURCES, HELM_RELEASE, KUSTOMIZATION, FluxObject, Workload
from bot.extension_versions import installable, is_supported, supported
from bot.models import (
    AzureBlobSource,
    ClusterRef,
    ClusterType,
    Compliance,
    ExtensionState,
    FluxConfigState,
    GitSource,
    OciSource,
    Provisioning,
    V1Config,
    arm_time,
)
from bot.views import Finding, Severity

#: the resource providers the tutorial registers before anything else
PROVIDERS = ("Microsoft.Kubernetes", "Microsoft.ContainerService", "Microsoft.KubernetesConfiguration")
#: a configuration Non-Compliant for longer than this many sync intervals is stuck, not just retrying
STUCK_INTERVALS = 3
#: the placeholder in fixes that need an identity's client id: a GUID, so the command parses as it is shown
CLIENT_ID = "00000000-0000-0000-0000-000000000000"
REPLACE_CLIENT_ID = f"in the fix, replace {CLIENT_ID} with your identity's client id"
#: the controllers microsoft.flux runs by default (image-* only when enabled)
CONTROLLERS = ("source-controller", "kustomize-controller", "helm-controller", "notification-controller")
OPTIONAL_CONTROLLERS = ("image-automation-controller", "image-reflector-controller")
FLUX_NAMESPACE = "flux-system"
#: how many objects one finding names before "and N more"
NAMED = 5

E, W, INFO, OK = Severity.ERROR, Severity.WARNING, Severity.INFO, Severity.OK


def _names(items: Sequence[str]) -> str:
    shown = ", ".join(items[:NAMED])
    return shown if len(items) <= NAMED else f"{shown} and {len(items) - NAMED} more"


def providers(states: dict[str, str], subscription_id: str) -> list[Finding]:
    """Each provider the tutorial registers: Registered, or the `az provider register` that fixes it."""
    found: list[Finding] = []
    registered = [ns for ns in PROVIDERS if states.get(ns, "").lower() == "registered"]
    for namespace in PROVIDERS:
        if namespace in registered:
            continue
        state = states.get(namespace) or "NotRegistered"
        severity = W if state.lower() == "registering" else E
        found.append(
            Finding(
                severity,
                "providers",
                f"resource provider {namespace} is {state} in subscription {subscription_id}",
                f"az provider register --namespace {namespace} --subscription {subscription_id}",
            )
        )
    if registered and not found:
        found.append(Finding(OK, "providers", f"resource providers registered: {', '.join(registered)}"))
    return found


def extension(ext: ExtensionState | None, released: Sequence[str], v1: Sequence[V1Config], label: str) -> list[Finding]:
    """microsoft.flux: installed, its provisioning state, its version against the newest and N-2, auto-upgrade."""
    if ext is None:
        if v1:
            return [
                Finding(
                    E,
                    "extension",
                    "microsoft.flux is not installed, and cannot be while Flux v1 configurations are on the cluster "
                    f"({_names([c.name for c in v1])})"
                    + (
                        "; with several, the migration of one answers with the steps (the others deleted by hand "
                        "first, their Flux v2 commands kept)"
                        if len(v1) > 1
                        else ""
                    ),
                    f"/flux v1 migrate {v1[0].name} -c {label}",
                )
            ]
        return [Finding(E, "extension", "microsoft.flux is not installed", f"/flux extension create -c {label}")]
    found: list[Finding] = []
    state = ext.provisioning_state or "Unknown"
    if Provisioning.failed(state):
        why = f": {ext.error}" if ext.error else ""
        found.append(
            Finding(
                E,
                "extension",
                f"microsoft.flux ('{ext.name}') is {state}{why}",
                f"/flux extension update -c {label} --version {installable(released, ext.release_train)[0]}"
                if released
                else f"/flux extension show -c {label}",
            )
        )
    elif state != Provisioning.SUCCEEDED:
        found.append(Finding(INFO, "extension", f"microsoft.flux ('{ext.name}') is {state}; check again when it ends"))
    else:
        found.append(Finding(OK, "extension", f"microsoft.flux ('{ext.name}') is installed and Succeeded"))
    return found + version(ext, released, label)


def version(ext: ExtensionState, released: Sequence[str], label: str) -> list[Finding]:
    """The installed version against the release train's newest and the supported window, and auto-upgrade."""
    current = ext.current_version or ext.version
    train = ext.release_train or "Stable"
    auto = ext.auto_upgrade_minor_version
    upgrades = "auto-upgrade minor version is on" if auto else "auto-upgrade minor version is off"
    if not released:
        return [Finding(INFO, "version", f"ARM lists no released microsoft.flux versions on the {train} train here")]
    ordered = installable(released, train)
    newest, window = ordered[0], supported(ordered)
    if current is None:
        return [Finding(W, "version", "microsoft.flux reports no version yet", f"/flux extension show -c {label}")]
    fix_version = f"/flux extension update -c {label} --version {newest}"
    if current == newest:
        found = [Finding(OK, "version", f"microsoft.flux {current} is the newest on the {train} train")]
    elif is_supported(current, ordered):
        found = [
            Finding(
                INFO,
                "version",
                f"microsoft.flux {current} is supported (N-2: {', '.join(window)}); the newest is {newest}",
                fix_version if not auto else "",
            )
        ]
    else:
        found = [
            Finding(
                E,
                "version",
                f"microsoft.flux {current} is no longer supported: only {', '.join(window)} are (the newest and "
                "the two minor versions before it)",
                fix_version,
            )
        ]
    if auto:
        found.append(Finding(OK, "version", f"{upgrades}: new minor versions install themselves"))
    else:
        pinned = f", pinned to {ext.version}" if ext.version else ""
        found.append(
            Finding(
                W if current != newest else INFO,
                "version",
                f"{upgrades}{pinned}: fixes and new minor versions wait for someone to update",
                f"/flux extension update -c {label} --auto-upgrade true",
            )
        )
    return found


def v1_leftovers(configs: Sequence[V1Config], label: str) -> list[Finding]:
    """Each Flux v1 configuration still on the cluster: it blocks microsoft.flux; migrate it."""
    if not configs:
        return [Finding(OK, "v1", "no Flux v1 configurations")]
    return [
        Finding(
            E,
            "v1",
            f"Flux v1 configuration '{c.name}' ({c.repository_url}, operator namespace "
            f"{c.operator_namespace or 'unknown'}) is still on the cluster: Flux v1 is retired and blocks "
            "microsoft.flux",
            f"/flux v1 migrate {c.name} -c {label}",
        )
        for c in configs
    ]


def _interval(state: FluxConfigState) -> int:
    spec = state.spec
    if spec is None:
        return 600
    intervals = [spec.source.sync_interval_seconds, *(k.sync_interval_seconds for k in spec.kustomizations)]
    return max(intervals)


def _failing_since(state: FluxConfigState) -> tuple[float | None, bool]:
    """When the failing objects last changed state (their Ready condition), else when Azure last heard from the
    agent (epoch s); and whether it is the former (when the failure started) rather than the latter."""
    times = [
        c.last_transition_time
        for s in state.statuses
        for c in s.conditions
        if c.type == "Ready" and c.status == "False" and c.last_transition_time
    ]
    moments = [t.timestamp() for t in (arm_time(x) for x in times) if t is not None]
    if moments:
        return min(moments), True
    updated = arm_time(state.status_updated_at)
    return (updated.timestamp() if updated else None), False


def configurations(states: Sequence[FluxConfigState], label: str, now: float) -> list[Finding]:
    """Configurations whose last write failed, that stay Non-Compliant for longer than ``STUCK_INTERVALS`` sync
    intervals (retries will not fix them), or are suspended."""
    found: list[Finding] = []
    fine: list[str] = []
    for state in states:
        name = state.name
        show = f"/flux config show {name} -c {label}"
        if Provisioning.failed(state.provisioning_state):
            why = f": {state.error_message}" if state.error_message else ""
            found.append(
                Finding(E, "configurations", f"configuration '{name}' is {state.provisioning_state}{why}", show)
            )
        elif state.compliance_state == Compliance.NON_COMPLIANT:
            interval = _interval(state)
            since, started = _failing_since(state)
            failing = [
                f"{s.kind} {s.name}" for s in state.statuses if s.ready is not None and s.ready.status == "False"
            ]
            what = f" ({_names(failing)})" if failing else ""
            if since is not None and now - since > STUCK_INTERVALS * interval:
                minutes = int((now - since) // 60)
                # without transition times, all Azure tells is when it last heard from the agent, not when the
                # failure started
                how_long = (
                    f" has been Non-Compliant for {minutes} min{what}"
                    if started
                    else f"{what}: Azure last heard from the agent {minutes} min ago, still Non-Compliant"
                )
                found.append(
                    Finding(
                        E,
                        "configurations",
                        f"configuration '{name}'{how_long}, more than {STUCK_INTERVALS} sync intervals of "
                        f"{interval // 60 or 1} min: retrying will not fix it",
                        show,
                    )
                )
            else:
                found.append(
                    Finding(W, "configurations", f"configuration '{name}' is Non-Compliant{what}; Flux retries", show)
                )
        elif state.compliance_state == Compliance.SUSPENDED:
            found.append(
                Finding(
                    INFO, "configurations", f"configuration '{name}' is suspended", f"/flux resume {name} -c {label}"
                )
            )
        else:
            fine.append(name)
    if fine:
        found.append(Finding(OK, "configurations", f"configurations without problems: {_names(fine)}"))
    elif not states:
        found.append(Finding(INFO, "configurations", "no Flux configurations on the cluster yet"))
    return found


def _uses_managed_identity(state: FluxConfigState) -> bool:
    spec = state.spec
    if spec is None:
        return False
    source = spec.source
    if isinstance(source, GitSource):
        return (source.provider or "").lower() == "azure"
    if isinstance(source, OciSource):  # `--provider azure`
        return source.use_workload_identity
    return isinstance(source, AzureBlobSource) and not source.local_auth_ref and bool(source.managed_identity_client_id)


def identity(
    ext: ExtensionState | None, states: Sequence[FluxConfigState], cluster: ClusterRef, label: str
) -> list[Finding]:
    """Sources that authenticate with an Azure identity (``--provider azure``, Azure Blob with a managed identity)
    need the extension set up for one: workload identity, or on AKS the kubelet identity."""
    if ext is None:
        return []
    needing = [s.name for s in states if _uses_managed_identity(s)]
    if not needing:
        return []
    settings = {k: v.lower() for k, v in ext.settings}
    if settings.get("workloadIdentity.enable") == "true":
        if not settings.get("workloadIdentity.azureClientId"):
            return [
                Finding(
                    W,
                    "identity",
                    "workload identity is on but `workloadIdentity.azureClientId` is not set: "
                    f"{_names(needing)} cannot get a token; {REPLACE_CLIENT_ID}",
                    f"/flux extension update -c {label} --config workloadIdentity.azureClientId={CLIENT_ID}",
                )
            ]
        return [Finding(OK, "identity", f"workload identity is set up for {_names(needing)}")]
    if settings.get("useKubeletIdentity") == "true":
        return [Finding(OK, "identity", f"the kubelet identity authenticates {_names(needing)}")]
    aks = cluster.cluster_type is ClusterType.MANAGED
    fix = (
        f"/flux extension update -c {label} --config workloadIdentity.enable=true "
        f"workloadIdentity.azureClientId={CLIENT_ID}"
    )
    other = " (or, at install, `--config useKubeletIdentity=true` for the kubelet identity)" if aks else ""
    return [
        Finding(
            E,
            "identity",
            f"{_names(needing)} authenticate with an Azure identity, but the extension has neither "
            f"`workloadIdentity.enable` nor `useKubeletIdentity` set{other}; then federate the identity with the "
            f"source-controller service account in flux-system; {REPLACE_CLIENT_ID}",
            fix,
        )
    ]


def controllers(workloads: Sequence[Workload], ext: ExtensionState, label: str) -> list[Finding]:
    """The Flux controllers' Deployments in flux-system: there and ready (image-* only when enabled)."""
    settings = dict(ext.settings)
    expected = [c for c in CONTROLLERS if settings.get(f"{c}.enabled", "true").lower() != "false"]
    expected += [c for c in OPTIONAL_CONTROLLERS if settings.get(f"{c}.enabled", "false").lower() == "true"]
    by_name = {w.name: w for w in workloads}
    missing = [c for c in expected if c not in by_name]
    unready = [by_name[c] for c in expected if c in by_name and not by_name[c].ready]
    found: list[Finding] = []
    if missing:
        fix = f"/flux extension show -c {label}"
        found.append(Finding(E, "controllers", f"no Deployment in {FLUX_NAMESPACE} for {_names(missing)}", fix))
    for w in unready:
        found.append(
            Finding(
                E,
                "controllers",
                f"{w.name} is not ready ({w.ready_replicas}/{w.replicas} replicas)",
                f"kubectl -n {FLUX_NAMESPACE} describe deployment {w.name}",
            )
        )
    if not found and expected:
        found.append(Finding(OK, "controllers", f"Flux controllers ready: {', '.join(expected)}"))
    return found


def crds(installed: Sequence[str], ext: ExtensionState, label: str) -> list[Finding]:
    """The Flux v2 CRDs the installed extension put on the cluster."""
    wanted = [f"{plural}.{group}" for group, _version, plural in FLUX_RESOURCES.values()]
    have = {name.lower() for name in installed}
    missing = [name for name in wanted if name not in have]
    if not missing:
        return [Finding(OK, "crds", f"Flux CRDs present ({len(wanted)})")]
    return [Finding(E, "crds", f"Flux CRDs missing: {_names(missing)}", f"/flux extension show -c {label}")]


#: the Deployments Azure's Flux v1 operator (sourceControlConfigurations) made, in any namespace: the operator,
#: its memcached and the Helm operator, each labelled with the ``name`` of its part and the ``instanceName`` of the
#: configuration (the selectors the Azure Flux v1 tutorial's `kubectl get deploy -o wide` shows:
#: ``instanceName=cluster-config,name=flux``); an application's own Deployment carries no ``instanceName``
V1_OPERATOR_SELECTOR = "name in (flux,memcached,helm-operator),instanceName"


def v1_operators(workloads: Sequence[Workload], v1: Sequence[V1Config], label: str) -> list[Finding]:
    """Deployments of a Flux v1 operator (flux, memcached, helm-operator) that no Flux v1 configuration left in
    Azure owns: leftovers (of a migration, or of a v1 configuration deleted while the cluster was offline) that
    keep applying the old repository. One finding per namespace, naming the Deployments to delete."""
    owned = {(c.operator_namespace or "default", c.operator_instance_name or c.name) for c in v1}
    leftovers: dict[str, list[str]] = {}
    for w in workloads:
        instance = dict(w.labels).get("instanceName", "")
        if (w.namespace, instance) not in owned:
            leftovers.setdefault(w.namespace, []).append(w.name)
    return [
        Finding(
            W,
            "v1",
            f"Flux v1 operator Deployments still run in namespace {namespace} with no Flux v1 configuration left "
            f"to own them: {_names(sorted(names))}; they keep applying the old repository",
            f"kubectl -n {namespace} delete deployment {' '.join(sorted(names))}",
        )
        for namespace, names in sorted(leftovers.items())
    ]


def multi_tenancy(objects: Sequence[FluxObject], ext: ExtensionState | None, label: str) -> list[Finding]:
    """With ``multiTenancy.enforce`` on (the default), a Kustomization or HelmRelease whose sourceRef is in another
    namespace fails: the seed's multi-tenancy pitfall."""
    if ext is None:
        return []
    enforced = dict(ext.settings).get("multiTenancy.enforce", "true").lower() != "false"
    crossing = [
        o
        for o in objects
        if o.ref.kind in (KUSTOMIZATION, HELM_RELEASE)
        and o.source_ref is not None
        and o.source_ref.namespace != o.ref.namespace
    ]
    if not crossing:
        return [Finding(OK, "multi-tenancy", "every Kustomization and HelmRelease uses a source in its own namespace")]
    listed = _names([f"{o.ref} -> {o.source_ref}" for o in crossing])
    if not enforced:
        return [
            Finding(
                INFO,
                "multi-tenancy",
                f"sources in other namespaces are allowed (`multiTenancy.enforce=false`): {listed}",
            )
        ]
    return [
        Finding(
            E,
            "multi-tenancy",
            f"multi-tenancy is enforced (the default), so objects whose source is in another namespace fail: {listed}. "
            "Put each source in the same namespace as the objects that use it, or turn enforcement off knowingly",
            f"/flux extension update -c {label} --config multiTenancy.enforce=false",
        )
    ]


def ordered(findings: Sequence[Finding]) -> tuple[Finding, ...]:
    """Worst first; the order of the checks within a severity."""
    return tuple(sorted(findings, key=lambda f: -f.severity.rank))
