"""Bucket, Azure Blob and OCI configurations through the use-cases: their secrets come from the credentials
fluxops holds (scoped by the policy to ENDPOINT/BUCKET or ACCOUNT/CONTAINER), and `config update` patches the
configuration's own source kind, refusing fields that kind does not have."""

from __future__ import annotations

import pytest

from bot import errors
from bot.commands import CredentialRefs
from bot.fleet import CreateConfig, UpdateConfig
from bot.models import (
    AzureBlobSource,
    BucketSource,
    FluxConfigPatch,
    FluxConfigSpec,
    FluxSource,
    Kustomization,
    OciSource,
    ProtectedSettings,
    Secret,
    SubstituteFrom,
)
from bot.scopes import scope_url
from bot.usecases import scope_checks
from bot.usecases.context import Job, ResolvedCluster
from bot.views import Phase
from tests.bot.usecases.fakes import CLUSTER, World
from tests.bot.usecases.scoping import with_credentials

ARC = CLUSTER.ref
ON = "-c flux-demo-arc --no-extension"
S3 = "https://minio.example.com"
BLOB = "https://acct.blob.core.windows.net"
GUID_1 = "11111111-1111-1111-1111-111111111111"
GUID_2 = "22222222-2222-2222-2222-222222222222"


@pytest.fixture
def world() -> World:
    policy = with_credentials(
        {
            "s3-secret": ["minio.example.com/fleet-manifests"],
            "blob-key": ["acct.blob.core.windows.net/manifests"],
            "blob-sas": ["acct.blob.core.windows.net/manifests"],
            "sp-secret": ["acct.blob.core.windows.net/*"],
            "oci-cert": ["ghcr.io/org/*"],
            "oci-key": ["ghcr.io/org/*"],
        },
        clusters=["flux-demo-arc"],
    )
    world = World(policy=policy)
    world.credentials.values.update(
        {
            "s3-secret": "s3-value",
            "blob-key": "key-value",
            "blob-sas": "sas-value",
            "sp-secret": "sp-value",
            "oci-cert": "cert-pem",
            "oci-key": "key-pem",
        }
    )
    return world


def failed(world: World) -> str:
    view = world.reporter.last
    assert view.phase is Phase.FAILED and view.error is not None
    return view.error.message


def test_a_bucket_secret_key_goes_to_azure_from_the_credential(world: World) -> None:
    text = (
        f"config create b {ON} --kind bucket -u {S3} --bucket-name fleet-manifests --access-key AKIA123 "
        "--secret-key-ref s3-secret --kustomization name=apps path=./apps"
    )
    assert world.run(text) is Phase.SUCCEEDED

    assert world.flux.protected(ARC, "b") == ProtectedSettings(bucket_secret_key=Secret("s3-value"))
    state = world.flux.state(ARC, "b")
    assert state.spec is not None and state.spec.source == BucketSource(
        url=S3, bucket_name="fleet-manifests", access_key="AKIA123"
    )
    assert "s3-value" not in repr(world.reporter.shown) + repr(world.audit.entries)


def test_a_blob_service_principal_secret_goes_to_azure_from_the_credential(world: World) -> None:
    text = (
        f"config create b {ON} --kind azblob -u {BLOB} --container-name manifests "
        f"--sp-client-id {GUID_1} --tenant-id {GUID_2} --sp-client-secret-ref sp-secret"
    )
    assert world.run(text) is Phase.SUCCEEDED

    assert world.flux.protected(ARC, "b") == ProtectedSettings(sp_client_secret=Secret("sp-value"))
    state = world.flux.state(ARC, "b")
    assert state.spec is not None
    assert state.spec.source == AzureBlobSource(
        url=BLOB, container_name="manifests", sp_client_id=GUID_1, sp_tenant_id=GUID_2
    )


def test_oci_tls_material_goes_to_azure_from_the_credentials(world: World) -> None:
    text = (
        f"config create m {ON} -u oci://ghcr.io/org/manifests --tag v1 "
        "--tls-client-cert-ref oci-cert --tls-private-key-ref oci-key"
    )
    assert world.run(text) is Phase.SUCCEEDED

    assert world.flux.protected(ARC, "m") == ProtectedSettings(
        tls_client_certificate=Secret("cert-pem"), tls_private_key=Secret("key-pem")
    )


def test_an_oci_secret_outside_its_scope_is_refused(world: World) -> None:
    text = (
        f"config create m {ON} -u oci://ghcr.io/evil/manifests --tag v1 "
        "--tls-client-cert-ref oci-cert --tls-private-key-ref oci-key"
    )
    assert world.run(text) is Phase.FAILED

    assert "credential 'oci-cert' may not be used for ghcr.io/evil/manifests" in failed(world)
    assert world.flux.writes() == []


def test_a_blob_secret_outside_its_scope_is_refused_before_anything_is_written(world: World) -> None:
    text = f"config create b {ON} --kind azblob -u {BLOB} --container-name other --account-key-ref blob-key"
    assert world.run(text) is Phase.FAILED

    assert "credential 'blob-key' may not be used for acct.blob.core.windows.net/other" in failed(world)
    assert world.flux.writes() == []


def test_update_of_an_oci_configuration_patches_its_oci_source(world: World) -> None:
    source = OciSource(url="oci://ghcr.io/org/manifests", tag="v1")
    world.flux.seed(ARC, FluxConfigSpec(name="m", source=source))

    assert world.run("config update m -c flux-demo-arc -u oci://ghcr.io/org/other --interval 5m") is Phase.SUCCEEDED

    [(name, patch)] = world.flux.patches
    assert (name, patch.source_kind, patch.url, patch.sync_interval_seconds) == (
        "m",
        "OCIRepository",
        "oci://ghcr.io/org/other",
        300,
    )
    state = world.flux.state(ARC, "m")
    assert state.spec is not None
    assert state.spec.source == OciSource(url="oci://ghcr.io/org/other", tag="v1", sync_interval_seconds=300)


def test_update_of_a_bucket_configuration_changes_its_bucket_and_secret(world: World) -> None:
    world.flux.seed(ARC, FluxConfigSpec(name="b", source=BucketSource(url=S3, bucket_name="old-bucket")))

    text = (
        "config update b -c flux-demo-arc --bucket-name fleet-manifests --access-key AKIA9 --secret-key-ref s3-secret"
    )
    assert world.run(text) is Phase.SUCCEEDED

    [(_, patch)] = world.flux.patches
    assert patch.source_kind == "Bucket"
    assert patch.protected == ProtectedSettings(bucket_secret_key=Secret("s3-value"))
    state = world.flux.state(ARC, "b")
    assert state.spec is not None
    assert state.spec.source == BucketSource(url=S3, bucket_name="fleet-manifests", access_key="AKIA9")


@pytest.mark.parametrize(
    ("seeded", "flags", "expected"),
    [
        (
            OciSource(url="oci://ghcr.io/o/m", tag="v1"),
            "--branch main",
            "reads a `oci` source, which has no `--branch`",
        ),
        (
            BucketSource(url=S3, bucket_name="fleet-manifests"),
            "--container-name c01",
            "reads a `bucket` source, which has no `--container-name`",
        ),
        (
            AzureBlobSource(url=BLOB, container_name="manifests"),
            "--digest sha256:" + "ab" * 32,
            "reads a `azblob` source, which has no `--digest`",
        ),
    ],
)
def test_update_refuses_a_field_the_configurations_kind_has_not(
    world: World, seeded: BucketSource | OciSource | AzureBlobSource, flags: str, expected: str
) -> None:
    world.flux.seed(ARC, FluxConfigSpec(name="x", source=seeded))

    assert world.run(f"config update x -c flux-demo-arc {flags}") is Phase.FAILED

    assert expected in failed(world)
    assert world.flux.writes() == []


def test_update_sets_and_clears_substitutions(world: World) -> None:
    k = Kustomization(name="apps", path="./apps", substitute=(("env", "dev"), ("region", "weu")))
    world.flux.seed(
        ARC, FluxConfigSpec(name="m", source=OciSource(url="oci://ghcr.io/o/m", tag="v1"), kustomizations=(k,))
    )

    text = "config update m -c flux-demo-arc --kustomization name=apps substitute=env:prod substitute_from=Secret:vars"
    assert world.run(text) is Phase.SUCCEEDED

    state = world.flux.state(ARC, "m")
    assert state.spec is not None
    [apps] = state.spec.kustomizations
    assert apps.substitute == (("env", "prod"), ("region", "weu"))
    assert apps.substitute_from == (SubstituteFrom(kind="Secret", name="vars"),)
    [(_, patch)] = world.flux.patches
    assert patch.source_kind is None  # kustomizations only: no source block, no read of the kind


# -- fleet files: the same scopes, for every kind ------------------------------------------------------


def _fleet_job(world: World) -> Job:
    record = world.record(f"config list {ON}", job_id="j-fleet")
    return Job(record, world.ports(), world.reporter, "fleet apply")


@pytest.mark.parametrize(
    ("source", "refs", "key", "says"),
    [
        (
            BucketSource(url=S3, bucket_name="other-bucket"),
            CredentialRefs(secret_key="s3-secret"),
            "secretKeyRef",
            "credential 's3-secret' may not be used for minio.example.com/other-bucket",
        ),
        (
            AzureBlobSource(url=BLOB, container_name="other", sp_client_id=GUID_1, sp_tenant_id=GUID_2),
            CredentialRefs(sp_client_secret="blob-key"),
            "spClientSecretRef",
            "credential 'blob-key' may not be used for acct.blob.core.windows.net/other",
        ),
        (
            OciSource(url="oci://ghcr.io/evil/manifests", tag="v1"),
            CredentialRefs(tls_client_cert="oci-cert", tls_private_key="oci-key"),
            "tlsClientCertRef",
            "credential 'oci-cert' may not be used for ghcr.io/evil/manifests",
        ),
    ],
)
def test_a_fleet_files_credential_of_any_kind_is_scoped_at_plan_and_at_apply(
    world: World, source: FluxSource, refs: CredentialRefs, key: str, says: str
) -> None:
    check = scope_checks.fleet_scope(world.ports())
    problem = check(ARC, "from-fleet", scope_url(source), refs, False)
    assert problem is not None and problem[0] == key and problem[1].startswith(says), problem

    op = CreateConfig(
        "flux-demo-arc", "flux-demo-arc", ARC, spec=FluxConfigSpec(name="from-fleet", source=source), credentials=refs
    )
    with pytest.raises(errors.Forbidden) as refused:
        scope_checks.check_fleet_operation(_fleet_job(world), op, ResolvedCluster(CLUSTER, "flux-demo-arc"))
    assert says in refused.value.message


def test_a_fleet_bucket_credential_in_scope_passes_and_a_bucket_move_of_a_held_secret_is_refused(world: World) -> None:
    source = BucketSource(url=S3, bucket_name="fleet-manifests", access_key="AKIA1")
    refs = CredentialRefs(secret_key="s3-secret")
    assert scope_checks.fleet_scope(world.ports())(ARC, "b", scope_url(source), refs, False) is None
    text = (
        f"config create b {ON} --kind bucket -u {S3} --bucket-name fleet-manifests --access-key AKIA1 "
        "--secret-key-ref s3-secret"
    )
    assert world.run(text) is Phase.SUCCEEDED

    moved = UpdateConfig(
        "flux-demo-arc", "flux-demo-arc", ARC, name="b", patch=FluxConfigPatch(bucket_name="elsewhere")
    )
    with pytest.raises(errors.Forbidden) as refused:
        scope_checks.check_fleet_operation(_fleet_job(world), moved, ResolvedCluster(CLUSTER, "flux-demo-arc"))
    assert refused.value.message == (
        "flux configuration 'b' holds credential 's3-secret', which would follow the source to "
        "minio.example.com/elsewhere"
    )

    # the same from Slack: the secret key is stated again for the new bucket, or nothing is written
    writes = len(world.flux.writes())
    assert world.run("config update b -c flux-demo-arc --bucket-name elsewhere", job_id="j-move") is Phase.FAILED
    assert "holds credential 's3-secret', which would follow the new source" in failed(world)
    recommendation = world.reporter.last.error.recommendation if world.reporter.last.error else ""
    assert "`--secret-key-ref REF`" in recommendation
    assert len(world.flux.writes()) == writes
