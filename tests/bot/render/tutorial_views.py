"""Views as the bot builds them, from what the seed tutorial shows (`az k8s-configuration flux show`, kubectl).

The tutorial: Flux configuration ``cluster-config`` (namespace cluster-config, scope cluster) on the Arc
cluster ``flux-demo-arc`` in ``flux-demo-rg``, GitRepository on the public
gitops-flux2-kustomize-helm-mt repository, branch main, kustomizations ``infra`` (./infrastructure) and
``apps`` (./apps/staging, after infra), both prune. On the cluster: GitRepository cluster-config
"Fetched revision: main/4f1bdad…", Kustomizations cluster-config-infra and cluster-config-apps "Applied
revision: main/4f1bdad…", HelmReleases nginx and redis (from infra) and podinfo (from apps) "Release
reconciliation succeeded".
"""

from __future__ import annotations

from dataclasses import replace

from bot.models import (
    Cluster,
    ClusterRef,
    ClusterType,
    Condition,
    ExtensionState,
    FluxConfigSpec,
    FluxConfigState,
    GitSource,
    HelmReleaseInfo,
    Kustomization,
    ObjectStatus,
    RepositoryRef,
)
from bot.views import (
    AuditEntry,
    ClusterRow,
    ConfirmView,
    ErrorInfo,
    JobView,
    Phase,
    Step,
    StepState,
    TextView,
    mention,
)

SUBSCRIPTION = "6f3c9a1e-2b7d-4e8f-9a0b-1c2d3e4f5a6b"
ARC = ClusterRef(SUBSCRIPTION, "flux-demo-rg", ClusterType.CONNECTED, "flux-demo-arc")
AKS = ClusterRef(SUBSCRIPTION, "flux-demo-rg", ClusterType.MANAGED, "flux-demo-aks")
PROD = ClusterRef(SUBSCRIPTION, "rg-prod-weu", ClusterType.MANAGED, "aks-prod-weu")
URL = "https://github.com/Azure/gitops-flux2-kustomize-helm-mt"
SHA = "4f1bdad4d0a54b939a5e3d52c51464f67e474fcf"
REVISION = f"main/{SHA}"
NAMESPACE = "cluster-config"
ALICE = "U024BE7LH"
BOB = "U0G9QF9C6"
JOB = "j-20220406-7f3a9c"

TUTORIAL_SPEC = FluxConfigSpec(
    name="cluster-config",
    namespace=NAMESPACE,
    scope="cluster",
    source=GitSource(url=URL, ref=RepositoryRef(branch="main")),
    kustomizations=(
        Kustomization(name="infra", path="./infrastructure", prune=True),
        Kustomization(name="apps", path="./apps/staging", prune=True, depends_on=("infra",)),
    ),
)


def ready(status: str, reason: str, message: str, at: str = "2022-04-06T17:20:51Z") -> Condition:
    return Condition(type="Ready", status=status, reason=reason, message=message, last_transition_time=at)


def flux_object(
    kind: str,
    name: str,
    condition: Condition,
    *,
    helm: HelmReleaseInfo | None = None,
    applied_by: str | None = None,
    namespace: str | None = NAMESPACE,
) -> ObjectStatus:
    compliance = {"True": "Compliant", "False": "Non-Compliant"}.get(condition.status, "Pending")
    return ObjectStatus(
        name=name,
        namespace=namespace,
        kind=kind,
        compliance_state=compliance,
        conditions=(condition,),
        helm_release=helm,
        applied_by=applied_by,
    )


def release(name: str, applied_by: str, revision: int = 1) -> ObjectStatus:
    return flux_object(
        "HelmRelease",
        name,
        ready("True", "InstallSucceeded", "Release reconciliation succeeded"),
        helm=HelmReleaseInfo(
            last_revision_applied=revision, chart_name=f"{NAMESPACE}-{name}", chart_namespace=NAMESPACE
        ),
        applied_by=applied_by,
    )


SOURCE_OK = flux_object(
    "GitRepository", "cluster-config", ready("True", "GitOperationSucceed", f"Fetched revision: {REVISION}")
)
INFRA_OK = flux_object(
    "Kustomization", "cluster-config-infra", ready("True", "ReconciliationSucceeded", f"Applied revision: {REVISION}")
)
APPS_OK = flux_object(
    "Kustomization", "cluster-config-apps", ready("True", "ReconciliationSucceeded", f"Applied revision: {REVISION}")
)
RELEASES = (
    release("nginx", "cluster-config-infra"),
    release("redis", "cluster-config-infra"),
    release("podinfo", "cluster-config-apps"),
)

COMPLIANT = FluxConfigState(
    cluster=ARC,
    spec=TUTORIAL_SPEC,
    source_kind="GitRepository",
    provisioning_state="Succeeded",
    compliance_state="Compliant",
    source_synced_commit=REVISION,
    source_updated_at="2022-04-06T17:19:02Z",
    status_updated_at="2022-04-06T17:21:33.4170000Z",
    statuses=(SOURCE_OK, INFRA_OK, APPS_OK, *RELEASES),
)

PENDING = replace(
    COMPLIANT,
    compliance_state="Pending",
    status_updated_at="2022-04-06T17:16:40Z",
    statuses=(
        SOURCE_OK,
        flux_object(
            "Kustomization", "cluster-config-infra", ready("Unknown", "Progressing", "Reconciliation in progress")
        ),
        flux_object(
            "Kustomization",
            "cluster-config-apps",
            ready("Unknown", "DependencyNotReady", "dependency 'cluster-config/cluster-config-infra' is not ready"),
        ),
    ),
)

APPS_NOT_FOUND = flux_object(
    "Kustomization",
    "cluster-config-apps",
    ready("False", "ArtifactFailed", "kustomization path not found: ./apps/nope"),
)
NON_COMPLIANT = replace(
    COMPLIANT,
    spec=replace(
        TUTORIAL_SPEC,
        kustomizations=(
            TUTORIAL_SPEC.kustomizations[0],
            replace(TUTORIAL_SPEC.kustomizations[1], path="./apps/nope"),
        ),
    ),
    compliance_state="Non-Compliant",
    error_message="Kustomization 'cluster-config/cluster-config-apps': kustomization path not found: ./apps/nope",
    statuses=(SOURCE_OK, INFRA_OK, APPS_NOT_FOUND, *RELEASES[:2]),
)

SUSPENDED = replace(COMPLIANT, spec=replace(TUTORIAL_SPEC, suspend=True), compliance_state="Suspended")

WATCH_DOING = "reconciling flux configuration 'cluster-config' on cluster 'flux-demo-arc'"
CREATE_STEPS = (
    Step("installed microsoft.flux 1.17.3 on flux-demo-arc", StepState.DONE),
    Step("created flux configuration cluster-config", StepState.DONE),
)


def tutorial_compliant() -> JobView:
    return JobView(
        job_id=JOB,
        actor=ALICE,
        title="config create cluster-config on flux-demo-arc",
        phase=Phase.SUCCEEDED,
        steps=(*CREATE_STEPS, Step("Flux applied main/4f1bdad4d0a5 on flux-demo-arc", StepState.DONE)),
        config=COMPLIANT,
    )


def tutorial_pending() -> JobView:
    return JobView(
        job_id=JOB,
        actor=ALICE,
        title="config create cluster-config on flux-demo-arc",
        phase=Phase.WATCHING,
        steps=(*CREATE_STEPS, Step("waiting for Flux to apply main/4f1bdad4d0a5", StepState.RUNNING)),
        note="waiting for Flux on the cluster to apply it",
        config=PENDING,
    )


def tutorial_non_compliant() -> JobView:
    return JobView(
        job_id="j-20220406-b21e04",
        actor=BOB,
        title="config update cluster-config on flux-demo-arc",
        phase=Phase.FAILED,
        steps=(
            Step("updated flux configuration cluster-config", StepState.DONE),
            Step("waiting for Flux to apply main/4f1bdad4d0a5", StepState.FAILED),
        ),
        config=NON_COMPLIANT,
        error=ErrorInfo(
            doing=WATCH_DOING,
            message="Flux reports Non-Compliant: "
            "Kustomization cluster-config-apps: kustomization path not found: ./apps/nope",
            recommendation="fix the repository (paths, manifests) and push, or change the configuration with "
            "`/flux config update cluster-config -c flux-demo-arc`; `/flux status cluster-config -c flux-demo-arc` "
            "shows every object",
        ),
    )


def tutorial_suspended() -> JobView:
    return JobView(
        job_id="j-20220406-c0ffee",
        actor=ALICE,
        title="suspend cluster-config on flux-demo-arc",
        phase=Phase.SUCCEEDED,
        steps=(Step("suspended flux configuration cluster-config", StepState.DONE),),
        config=SUSPENDED,
    )


def kustomization_show() -> JobView:
    return JobView(
        job_id="j-20220406-5eed01",
        actor=ALICE,
        title="kustomization show apps --config cluster-config on flux-demo-arc",
        phase=Phase.SUCCEEDED,
        config=COMPLIANT,
        focus="apps",
    )


def queued() -> JobView:
    return JobView(job_id=JOB, actor=ALICE, title="config create cluster-config on flux-demo-arc", phase=Phase.QUEUED)


def waiting_for_lock() -> JobView:
    return JobView(
        job_id="j-20220406-d00d13",
        actor=BOB,
        title="config update cluster-config on flux-demo-arc",
        phase=Phase.WAITING,
        note="waiting for job j-20220406-7f3a9c (config create) to release cluster-config on flux-demo-arc",
    )


def failed_with_error() -> JobView:
    return JobView(
        job_id="j-20220407-0a11ce",
        actor=ALICE,
        title="config create apps on prod-weu",
        phase=Phase.FAILED,
        steps=(Step("create flux configuration apps", StepState.FAILED),),
        error=ErrorInfo(
            doing="updating flux configuration 'apps' on cluster 'prod-weu'",
            message="the cluster has no flux extension",
            recommendation="run `/flux extension create -c prod-weu`",
            code="ExtensionNotFound",
        ),
    )


def confirm_delete() -> ConfirmView:
    return ConfirmView(
        job_id="j-20220408-de1e7e",
        actor=ALICE,
        title="config delete cluster-config on flux-demo-arc",
        summary="Delete flux configuration cluster-config from flux-demo-arc (Arc).",
        consequences=(
            "kustomization infra (prune: true) removes HelmRelease nginx, HelmRelease redis",
            "kustomization apps (prune: true) removes HelmRelease podinfo",
        ),
        confirm_label="Delete",
        approver="an admin of flux-demo-arc",
    )


def config_list() -> JobView:
    team = FluxConfigState(
        cluster=ARC,
        spec=FluxConfigSpec(
            name="team-a",
            namespace="team-a",
            scope="namespace",
            source=GitSource(url="https://dev.azure.com/contoso/platform/_git/team-a", ref=RepositoryRef(tag="v1.4.0")),
            kustomizations=(Kustomization(name="app", path="./deploy"),),
        ),
        source_kind="GitRepository",
        provisioning_state="Succeeded",
        compliance_state="Non-Compliant",
        source_synced_commit="v1.4.0/9b2c6f1e0d3a4b5c6d7e8f90a1b2c3d4e5f60718",
        error_message="Kustomization 'team-a/team-a-app': kustomization path not found: ./deploy",
    )
    creating = FluxConfigState(
        cluster=ARC,
        spec=FluxConfigSpec(
            name="monitoring",
            namespace="monitoring",
            source=GitSource(
                url="ssh://git@github.com/contoso/monitoring.git", ref=RepositoryRef(semver=">=2.0.0 <3.0.0")
            ),
            kustomizations=(
                Kustomization(name="prometheus", path="./prometheus"),
                Kustomization(name="grafana", path="./grafana"),
            ),
        ),
        source_kind="GitRepository",
        provisioning_state="Creating",
        compliance_state="Pending",
    )
    return JobView(
        job_id="j-20220409-115700",
        actor=BOB,
        title="config list on flux-demo-arc",
        phase=Phase.SUCCEEDED,
        configs=(COMPLIANT, team, creating),
    )


def clusters_list() -> JobView:
    return JobView(
        job_id="j-20220409-c1a57e",
        actor=BOB,
        title="clusters",
        phase=Phase.SUCCEEDED,
        clusters=(
            ClusterRow(Cluster(ARC, "westeurope", {"env": "demo", "region": "weu"}), flux_version="1.17.3"),
            ClusterRow(Cluster(AKS, "westeurope", {"env": "demo", "region": "weu"}), alias="demo-aks"),
            ClusterRow(
                Cluster(PROD, "westeurope", {"env": "prod", "region": "weu", "team": "platform"}),
                alias="prod-weu",
                flux_version="1.16.11",
            ),
        ),
    )


def audit_list() -> JobView:
    entries = (
        AuditEntry(
            id="1649265301000-0",
            time="2022-04-06T17:15:01Z",
            actor=f"slack:{ALICE}",
            origin="slack:C0FLUXOPS",
            command="/flux extension create -c flux-demo-arc",
            cluster="flux-demo-arc",
            job_id="j-20220406-1e0001",
            result="succeeded",
        ),
        AuditEntry(
            id="1649265348000-0",
            time="2022-04-06T17:15:48Z",
            actor=f"slack:{ALICE}",
            origin="slack:C0FLUXOPS",
            command=f"/flux config create cluster-config -c flux-demo-arc -u {URL} --branch main",
            cluster="flux-demo-arc",
            job_id=JOB,
            result="succeeded",
        ),
        AuditEntry(
            id="1649270000000-0",
            time="2022-04-06T18:33:20Z",
            actor=f"slack:{BOB}",
            origin="slack:C0FLUXOPS",
            command="/flux config update cluster-config -c flux-demo-arc --kustomization name=apps path=./apps/nope",
            cluster="flux-demo-arc",
            job_id="j-20220406-b21e04",
            result="failed: Flux reports Non-Compliant",
        ),
        AuditEntry(
            id="1649271000000-0",
            time="2022-04-06T18:50:00Z",
            actor="github:octocat",
            origin="github:Azure/gitops-flux2-kustomize-helm-mt#42",
            command="/flux config delete cluster-config -c flux-demo-arc",
            cluster="flux-demo-arc",
            job_id="j-20220406-f0f0f0",
            result="refused: octocat is a viewer of flux-demo-arc",
        ),
    )
    return JobView(
        job_id="j-20220409-a0d175", actor=ALICE, title="audit --since 7d", phase=Phase.SUCCEEDED, audit=entries
    )


def extension_show() -> JobView:
    return JobView(
        job_id="j-20220409-e7e7e7",
        actor=ALICE,
        title="extension show on flux-demo-arc",
        phase=Phase.SUCCEEDED,
        extension=ExtensionState(
            cluster=ARC,
            name="flux",
            extension_type="microsoft.flux",
            provisioning_state="Succeeded",
            version=None,
            current_version="1.17.3",
            auto_upgrade_minor_version=True,
            release_train="Stable",
            settings=(
                ("helm-controller.detectDrift", "true"),
                ("helm-controller.outOfMemoryWatch.enabled", "true"),
                ("image-automation-controller.enabled", "false"),
                ("multiTenancy.enforce", "false"),
                ("source-controller.enabled", "true"),
            ),
        ),
    )


HELP = """\
*fluxops* runs Flux v2 on AKS and Azure Arc clusters from Slack. Flags follow `az k8s-configuration`.

*Commands*
• `/flux clusters [--selector env=prod,region=weu]` — the clusters fluxops knows
• `/flux config create NAME -c CLUSTER -u URL --branch B --kustomization name=K path=P ...`
• `/flux config show|list|delete ...` and `/flux status [NAME] -c CLUSTER`
• `/flux extension create|update|delete|show -c CLUSTER`
• `/flux audit [--since 7d] [--cluster C]`

*Example* (the Azure tutorial):
```
/flux config create cluster-config -c flux-demo-arc -g flux-demo-rg -t connectedClusters \\
    --namespace cluster-config --scope cluster \\
    -u https://github.com/Azure/gitops-flux2-kustomize-helm-mt --branch main \\
    --kustomization name=infra path=./infrastructure prune=true \\
    --kustomization name=apps path=./apps/staging prune=true depends_on=infra
```
Secrets are never typed into chat: use `--deploy-key generate` or `--https-key-ref REF`.
`/flux help COMMAND` shows one command's flags."""


def help_text() -> TextView:
    return TextView(text=HELP)


def usage_error() -> TextView:
    return TextView(
        text="unknown command `confg` in `/flux confg show cluster-config -c flux-demo-arc`\n"
        "did you mean `/flux config show cluster-config -c flux-demo-arc`? `/flux help` lists every command.",
        error=True,
    )


def hostile_names() -> JobView:
    """Names and messages that try to ping, link or leak: all of it must arrive as inert text."""
    spec = replace(
        TUTORIAL_SPEC,
        name="x<!channel>",
        source=GitSource(url="https://deploy:ghp_s3cr3tT0k3n@github.com/a&b/<repo>", ref=RepositoryRef(branch="a&b")),
    )
    evil = flux_object(
        "HelmRelease",
        "<@U999EVIL>",
        ready("False", "InstallFailed", "<https://evil.example|click me> & <!here> @here @channel"),
    )
    state = replace(
        COMPLIANT,
        spec=spec,
        compliance_state="Non-Compliant",
        error_message="see <https://evil.example|this> & ping <!subteam^S123|@oncall>",
        statuses=(evil,),
    )
    return JobView(
        job_id="j-<@U999EVIL>",
        actor="<!everyone>",
        title="config show <!channel> & <@U999EVIL>",
        phase=Phase.FAILED,
        steps=(Step("created <!here> with token https://u:hunter2@example.com/x?sig=abc123&sv=1", StepState.DONE),),
        note=f"confirmed by {mention('U0G9QF9C6')}, asked for <!channel> by <@U999EVIL>",
        config=state,
    )


def huge_config() -> JobView:
    """A configuration with 200 Flux objects (a big monorepo): the view must split."""
    kustomizations = tuple(
        Kustomization(name=f"team-{i:02d}", path=f"./teams/team-{i:02d}", prune=True) for i in range(40)
    )
    statuses = [SOURCE_OK]
    for i, k in enumerate(kustomizations):
        condition = (
            ready(
                "False",
                "BuildFailed",
                f"kustomize build failed: accumulating resources from './teams/team-{i:02d}/base'",
            )
            if i % 13 == 5
            else ready("True", "ReconciliationSucceeded", f"Applied revision: {REVISION}")
        )
        statuses.append(flux_object("Kustomization", f"cluster-config-{k.name}", condition))
    index = 0
    while len(statuses) < 200:
        team = index % 40
        statuses.append(release(f"svc-{index:03d}-team-{team:02d}", f"cluster-config-team-{team:02d}", 1 + index % 4))
        index += 1
    state = replace(
        COMPLIANT,
        spec=replace(TUTORIAL_SPEC, kustomizations=kustomizations),
        compliance_state="Non-Compliant",
        error_message="Kustomization 'cluster-config/cluster-config-team-05': kustomize build failed",
        statuses=tuple(statuses),
    )
    return JobView(
        job_id="j-20220410-b16b16",
        actor=ALICE,
        title="status cluster-config on flux-demo-arc",
        phase=Phase.SUCCEEDED,
        config=state,
    )


def huge_config_list() -> JobView:
    """60 configurations on one cluster (config list)."""
    configs = []
    for i in range(60):
        name = f"tenant-{i:02d}"
        state = (
            ("Non-Compliant", f"Kustomization '{name}/{name}-app': kustomization path not found: ./tenants/{name}")
            if i % 7 == 3
            else ("Compliant", None)
        )
        configs.append(
            FluxConfigState(
                cluster=ARC,
                spec=FluxConfigSpec(
                    name=name,
                    namespace=name,
                    scope="namespace",
                    source=GitSource(url=f"https://github.com/contoso/{name}", ref=RepositoryRef(branch="main")),
                    kustomizations=(Kustomization(name="app", path=f"./tenants/{name}"),),
                ),
                source_kind="GitRepository",
                provisioning_state="Succeeded",
                compliance_state=state[0],
                source_synced_commit=f"main/{SHA}",
                error_message=state[1],
            )
        )
    return JobView(
        job_id="j-20220410-60c0f9",
        actor=BOB,
        title="config list on flux-demo-arc",
        phase=Phase.SUCCEEDED,
        configs=tuple(configs),
    )
