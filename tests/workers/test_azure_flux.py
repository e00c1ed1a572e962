"""Acceptance of the sandbox through the real Azure SDK: every flux configuration operation over HTTPS."""

from __future__ import annotations

import base64
import json
import time
import urllib.request
from collections.abc import Callable
from dataclasses import replace

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from bot import errors
from bot.models import (
    ClusterRef,
    ExtensionSpec,
    FluxConfigPatch,
    FluxConfigSpec,
    FluxConfigState,
    GitSource,
    Kustomization,
    KustomizationChange,
    ProtectedSettings,
    RepositoryRef,
    Secret,
)
from cli.demo import TUTORIAL_SPEC
from sandbox.seed import PRIVATE_REPO, TUTORIAL_REPO, TUTORIAL_URL
from workers.azure_extensions import AzureExtensions
from workers.azure_flux import AzureFluxConfigs

FINAL = ("Compliant", "Non-Compliant")


def tutorial(name: str = "cluster-config", **source: object) -> FluxConfigSpec:
    """The seed tutorial's configuration (as the demo runs it), renamed, with source fields changed."""
    return replace(TUTORIAL_SPEC, name=name, source=replace(TUTORIAL_SPEC.source, **source))  # type: ignore[arg-type]


def wait_for(read: Callable[[], FluxConfigState], done: Callable[[FluxConfigState], bool], seconds: float = 20):
    deadline = time.monotonic() + seconds
    state = read()
    while not done(state):
        assert time.monotonic() < deadline, f"gave up waiting; last state: {state}"
        time.sleep(0.05)
        state = read()
    return state


@pytest.fixture
def cluster(fresh_cluster: ClusterRef, extensions: AzureExtensions) -> ClusterRef:
    extensions.begin_create(fresh_cluster, ExtensionSpec()).result(30)
    return fresh_cluster


def by_kind(state: FluxConfigState, kind: str) -> dict[str, object]:
    return {s.name: s for s in state.statuses if s.kind == kind}


def test_tutorial_configuration_becomes_compliant(flux: AzureFluxConfigs, cluster: ClusterRef, sandbox_thread):
    created = flux.begin_create_or_update(cluster, tutorial()).result(30)
    assert created.provisioning_state == "Succeeded"
    assert created.spec is not None and created.spec.scope == "cluster" and created.spec.namespace == "cluster-config"
    assert [(k.name, k.prune, k.depends_on) for k in created.spec.kustomizations] == [
        ("infra", True, ()),
        ("apps", True, ("infra",)),
    ]

    state = wait_for(lambda: flux.get(cluster, "cluster-config"), lambda s: s.compliance_state in FINAL)

    assert state.compliance_state == "Compliant"
    head = sandbox_thread.call(lambda sb: sb.repos.head(sb.repos.resolve_url(TUTORIAL_URL), "main"))
    assert state.source_synced_commit == f"main/{head}"
    kustomizations = by_kind(state, "Kustomization")
    assert set(kustomizations) == {"cluster-config-infra", "cluster-config-apps"}
    assert all(k.ready and k.ready.status == "True" for k in kustomizations.values())  # type: ignore[attr-defined]
    assert {"nginx", "redis", "podinfo"} <= set(by_kind(state, "HelmRelease"))
    source = by_kind(state, "GitRepository")["cluster-config"]
    assert source.ready.reason == "GitOperationSucceed"  # type: ignore[attr-defined]


def test_missing_path_is_non_compliant_with_useful_message(flux: AzureFluxConfigs, cluster: ClusterRef):
    spec = FluxConfigSpec(
        name="broken",
        namespace="cluster-config",
        source=GitSource(url=TUTORIAL_URL, ref=RepositoryRef(branch="main")),
        kustomizations=(
            Kustomization(name="infra", path="./infrastructure"),
            Kustomization(name="apps", path="./apps/no-such-env", depends_on=("infra",)),
        ),
    )
    flux.begin_create_or_update(cluster, spec).result(30)

    state = wait_for(lambda: flux.get(cluster, "broken"), lambda s: s.compliance_state in FINAL)

    assert state.compliance_state == "Non-Compliant"
    apps = by_kind(state, "Kustomization")["broken-apps"]
    assert apps.ready.status == "False"  # type: ignore[attr-defined]
    assert "apps/no-such-env" in apps.ready.message  # type: ignore[attr-defined]


def _ed25519() -> tuple[str, str]:
    key = Ed25519PrivateKey.generate()
    private = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.OpenSSH, serialization.NoEncryption()
    ).decode()
    public = key.public_key().public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH).decode()
    return private, public


def test_ssh_key_must_be_a_registered_deploy_key(flux: AzureFluxConfigs, cluster: ClusterRef, sandbox_thread):
    private, public = _ed25519()
    spec = tutorial("private", url=f"ssh://git@github.com/{PRIVATE_REPO}")
    protected = ProtectedSettings(ssh_private_key=Secret(private))
    flux.begin_create_or_update(cluster, spec, protected).result(30)

    failed = wait_for(lambda: flux.get(cluster, "private"), lambda s: s.compliance_state in FINAL)

    assert failed.compliance_state == "Non-Compliant"
    source = by_kind(failed, "GitRepository")["private"]
    assert source.ready.status == "False"  # type: ignore[attr-defined]
    assert "unable to authenticate" in source.ready.message  # type: ignore[attr-defined]

    sandbox_thread.call(
        lambda sb: sb.access.add_deploy_key("github.com", PRIVATE_REPO, public, title="fluxops test", read_only=True)
    )
    # A new generation (any update) makes the agent fetch again, now with a registered key.
    flux.begin_update(cluster, "private", FluxConfigPatch(suspend=False)).result(30)
    healed = wait_for(lambda: flux.get(cluster, "private"), lambda s: s.compliance_state == "Compliant")
    assert healed.source_synced_commit and healed.source_synced_commit.startswith("main/")


def test_pushed_commit_moves_source_synced_commit(flux: AzureFluxConfigs, cluster: ClusterRef, sandbox_thread):
    spec = tutorial("follow", sync_interval_seconds=60)  # 60 s at time scale 100: 0.6 s
    flux.begin_create_or_update(cluster, spec).result(30)
    first = wait_for(lambda: flux.get(cluster, "follow"), lambda s: s.compliance_state == "Compliant")

    new_sha = sandbox_thread.call(
        lambda sb: sb.repos.commit(
            TUTORIAL_REPO, {"apps/staging/NOTES.md": f"pushed at {time.time()}\n"}, "docs: a pushed commit"
        )
    )

    moved = wait_for(lambda: flux.get(cluster, "follow"), lambda s: s.source_synced_commit == f"main/{new_sha}")
    assert moved.source_synced_commit != first.source_synced_commit
    assert moved.compliance_state == "Compliant"


def test_suspend_reports_suspended_and_resume_reconciles(flux: AzureFluxConfigs, cluster: ClusterRef):
    flux.begin_create_or_update(cluster, tutorial("pausable")).result(30)
    wait_for(lambda: flux.get(cluster, "pausable"), lambda s: s.compliance_state == "Compliant")

    suspended = flux.begin_update(cluster, "pausable", FluxConfigPatch(suspend=True)).result(30)
    assert suspended.spec is not None and suspended.spec.suspend is True
    wait_for(lambda: flux.get(cluster, "pausable"), lambda s: s.compliance_state == "Suspended")

    flux.begin_update(cluster, "pausable", FluxConfigPatch(suspend=False)).result(30)
    wait_for(lambda: flux.get(cluster, "pausable"), lambda s: s.compliance_state == "Compliant")


def test_update_changes_only_given_fields_and_null_removes_a_kustomization(flux: AzureFluxConfigs, cluster: ClusterRef):
    flux.begin_create_or_update(cluster, tutorial("patchme")).result(30)
    patch = FluxConfigPatch(
        kustomizations=(
            KustomizationChange(name="apps", remove=True),
            KustomizationChange(name="infra", sync_interval_seconds=300),
        )
    )
    state = flux.begin_update(cluster, "patchme", patch).result(30)
    assert state.spec is not None
    assert [k.name for k in state.spec.kustomizations] == ["infra"]
    infra = state.spec.kustomizations[0]
    assert (infra.sync_interval_seconds, infra.path, infra.prune) == (300, "./infrastructure", True)
    assert state.spec.source.url == TUTORIAL_URL and state.spec.namespace == "cluster-config"


def test_delete_removes_it(flux: AzureFluxConfigs, cluster: ClusterRef):
    flux.begin_create_or_update(cluster, tutorial("doomed")).result(30)
    assert flux.begin_delete(cluster, "doomed").result(30) is None
    with pytest.raises(errors.NotFound) as caught:
        flux.get(cluster, "doomed")
    assert "doomed" in caught.value.message and "flux clusters" in caught.value.recommendation
    assert [s.name for s in flux.list(cluster)] == []


def test_create_without_flux_extension_says_to_install_it(flux: AzureFluxConfigs, fresh_cluster: ClusterRef):
    with pytest.raises(errors.InvalidRequest) as caught:
        flux.begin_create_or_update(fresh_cluster, tutorial()).result(30)
    err = caught.value
    assert err.code == "ExtensionNotFound"
    assert "microsoft.flux" in err.message and "applying flux configuration 'cluster-config'" in err.message
    assert f"/flux extension create -c {fresh_cluster.name}" in err.recommendation


def test_scope_and_namespace_are_create_only(flux: AzureFluxConfigs, cluster: ClusterRef):
    flux.begin_create_or_update(cluster, tutorial("fixed")).result(30)
    moved = FluxConfigSpec(**{**tutorial("fixed").__dict__, "namespace": "elsewhere"})
    with pytest.raises(errors.InvalidRequest) as caught:
        flux.begin_create_or_update(cluster, moved).result(30)
    assert "'namespace' cannot be changed" in caught.value.message


def test_protected_settings_are_never_returned(flux: AzureFluxConfigs, cluster: ClusterRef, endpoints):
    secret = "s3cr3t-https-token-value"
    spec = tutorial("withsecret", https_user="flux")
    flux.begin_create_or_update(cluster, spec, ProtectedSettings(https_key=Secret(secret))).result(30)
    url = (
        f"{endpoints.arm_url}{cluster.arm_id}/providers/Microsoft.KubernetesConfiguration/fluxConfigurations"
        "?api-version=2025-04-01"
    )
    raw = _get(url, endpoints)
    assert secret not in raw and base64.b64encode(secret.encode()).decode() not in raw
    assert "configurationProtectedSettings" not in raw


def test_injected_failed_operation_surfaces_as_our_error(flux: AzureFluxConfigs, cluster: ClusterRef, sandbox_thread):
    sandbox_thread.call(
        lambda sb: sb.arm.faults.configure(
            [
                {
                    "method": "PUT",
                    "path": "fluxConfigurations/doesnotapply$",
                    "operation": "fail",
                    "times": 1,
                    "code": "ExtensionOperationFailed",
                    "message": "the flux agent could not apply the configuration: helm install timed out",
                }
            ]
        )
    )
    try:
        with pytest.raises(errors.OperationFailed) as caught:
            flux.begin_create_or_update(cluster, tutorial("doesnotapply")).result(30)
    finally:
        sandbox_thread.call(lambda sb: sb.arm.faults.configure([]))
    err = caught.value
    assert err.code == "ExtensionOperationFailed"
    assert "applying flux configuration 'doesnotapply'" in err.message and "helm install timed out" in err.message
    assert flux.get(cluster, "doesnotapply").provisioning_state == "Failed"


def test_injected_503s_are_retried_by_the_sdk(flux: AzureFluxConfigs, cluster: ClusterRef, sandbox_thread):
    flux.begin_create_or_update(cluster, tutorial("flaky")).result(30)
    sandbox_thread.call(
        lambda sb: sb.arm.faults.configure(
            [
                {
                    "method": "GET",
                    "path": "fluxConfigurations/flaky$",
                    "sequence": [503, 500, "ok"],
                    "retry_after": 0.1,
                }
            ]
        )
    )
    try:
        state = flux.get(cluster, "flaky")
    finally:
        sandbox_thread.call(lambda sb: sb.arm.faults.configure([]))
    assert state.name == "flaky"
    statuses = sandbox_thread.call(
        lambda sb: [r.status for r in sb.arm.requests if r.method == "GET" and r.path.endswith("/flaky")]
    )
    assert statuses[-3:] == [503, 500, 200]


def test_continuation_token_resumes_in_another_process(
    flux: AzureFluxConfigs, cluster: ClusterRef, connection, sandbox_thread
):
    sandbox_thread.call(
        lambda sb: sb.arm.faults.configure(
            [{"method": "PUT", "path": "fluxConfigurations/resumed$", "operation": "slow", "seconds": 1.0}]
        )
    )
    try:
        op = flux.begin_create_or_update(cluster, tutorial("resumed"))
        token = op.token
    finally:
        sandbox_thread.call(lambda sb: sb.arm.faults.configure([]))
    assert not op.done()
    # A restarted worker has nothing but the token.
    resumed = AzureFluxConfigs(connection=connection).resume(token).result(30)
    assert resumed is not None and resumed.provisioning_state == "Succeeded" and resumed.name == "resumed"
    puts = sandbox_thread.call(
        lambda sb: [r for r in sb.arm.requests if r.method == "PUT" and r.path.endswith("/resumed")]
    )
    assert len(puts) == 1  # resumed, not started over


def _get(url: str, endpoints, token: str | None = "t") -> str:  # noqa: S107 (a dummy bearer)
    import ssl

    ctx = ssl.create_default_context(cafile=str(endpoints.ca_file))
    request = urllib.request.Request(url, headers={"Authorization": f"Bearer {token}"} if token else {})
    try:
        with urllib.request.urlopen(request, context=ctx) as response:
            return response.read().decode()
    except urllib.error.HTTPError as exc:
        return json.dumps({"status": exc.code, "body": json.loads(exc.read() or b"{}")})


@pytest.mark.parametrize("token", ["not-a-token", "eyJraW5kIjogImZsdXguY3JlYXRlIn0="])
def test_resume_with_a_bad_token_is_our_error(flux: AzureFluxConfigs, token: str):
    with pytest.raises(errors.InvalidRequest) as caught:
        flux.resume(token).result(5)
    assert caught.value.recommendation == "start the command again"


def test_resume_with_a_corrupt_sdk_token_is_our_error(flux: AzureFluxConfigs, cluster: ClusterRef):
    from workers.azure_lro import TokenEnvelope

    token = TokenEnvelope("flux.create", cluster, "x", "garbage").encode()
    with pytest.raises(errors.InvalidRequest) as caught:
        flux.resume(token).result(5)
    assert "continuation token is not valid" in caught.value.message


def test_resume_of_another_kind_is_refused(flux: AzureFluxConfigs, cluster: ClusterRef):
    from workers.azure_lro import TokenEnvelope

    with pytest.raises(errors.InvalidRequest) as caught:
        flux.resume(TokenEnvelope("extension.create", cluster, "flux", "t").encode())
    assert "not for this flux configuration" in caught.value.message
