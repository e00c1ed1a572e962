"""The bodies fluxops sends for bucket, Azure Blob and OCI configurations, through the real Azure SDK to the
sandbox ARM emulator: each secret where ARM takes it, a PATCH that names only what was asked in the block of
the configuration's own kind, and GETs read back into the same sources.

The bodies are read off the SDK's pipeline as they leave for the emulator (the emulator's request log keeps no
bodies), so they are what ARM would receive whatever the emulator then answers.
"""

from __future__ import annotations

import base64
import json
from dataclasses import dataclass, field, replace
from typing import Any

import pytest
from azure.core.pipeline import PipelineRequest
from azure.core.pipeline.policies import SansIOHTTPPolicy

from bot import errors
from bot.models import (
    AzureBlobSource,
    BucketSource,
    ClusterRef,
    ClusterType,
    ExtensionSpec,
    FluxConfigPatch,
    FluxConfigSpec,
    GitSource,
    Kustomization,
    KustomizationChange,
    OciSource,
    ProtectedSettings,
    RepositoryRef,
    Secret,
    SubstituteFrom,
)
from tests.workers.test_azure_flux import _get
from workers.azure_connection import ArmConnection
from workers.azure_extensions import AzureExtensions
from workers.azure_flux import AzureFluxConfigs, state_from_wire

HERE = ClusterRef("00000000-0000-0000-0000-000000000001", "rg", ClusterType.CONNECTED, "arc")
GUID_1 = "11111111-1111-1111-1111-111111111111"
GUID_2 = "22222222-2222-2222-2222-222222222222"
PEM = "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----"


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


class _Recorder(SansIOHTTPPolicy[Any, Any]):
    def __init__(self, bodies: list[tuple[str, dict[str, Any]]]) -> None:
        self._bodies = bodies

    def on_request(self, request: PipelineRequest[Any]) -> None:
        http = request.http_request
        if http.method in ("PUT", "PATCH") and "fluxConfigurations" in http.url:
            self._bodies.append((http.method, json.loads(http.body or b"{}")))


@dataclass(frozen=True)
class RecordingConnection(ArmConnection):
    """The sandbox connection, with every flux configuration write's body kept as it leaves the SDK."""

    bodies: list[tuple[str, dict[str, Any]]] = field(default_factory=list)

    def client_kwargs(self) -> dict[str, Any]:
        return {**super().client_kwargs(), "per_call_policies": [_Recorder(self.bodies)]}


@pytest.fixture
def recorded(connection: ArmConnection) -> RecordingConnection:
    return RecordingConnection(
        endpoint=connection.endpoint,
        credential=connection.credential,
        ca_bundle=connection.ca_bundle,
        poll_interval=connection.poll_interval,
    )


@pytest.fixture
def flux(recorded: RecordingConnection) -> AzureFluxConfigs:
    return AzureFluxConfigs(connection=recorded)


@pytest.fixture
def cluster(fresh_cluster: ClusterRef, extensions: AzureExtensions) -> ClusterRef:
    extensions.begin_create(fresh_cluster, ExtensionSpec()).result(30)
    return fresh_cluster


def sent(recorded: RecordingConnection, method: str) -> dict[str, Any]:
    bodies = [body for m, body in recorded.bodies if m == method]
    assert bodies, f"no {method} was sent"
    props: dict[str, Any] = bodies[-1]["properties"]
    return props


def attempt(operation: Any) -> str | None:
    """Run a write to its end; the emulator may not serve every source kind yet (the body was sent either way).
    Returns the emulator's refusal, if any."""
    try:
        operation().result(30)
    except errors.FluxopsError as error:
        return error.message
    return None


def test_a_bucket_secret_key_goes_in_protected_settings(flux: AzureFluxConfigs, cluster, recorded):
    source = BucketSource(url="https://minio.example.com", bucket_name="fleet", access_key="AKIA1", insecure=True)
    spec = FluxConfigSpec(name="b", source=source, kustomizations=(Kustomization(name="apps", path="./apps"),))
    attempt(lambda: flux.begin_create_or_update(cluster, spec, ProtectedSettings(bucket_secret_key=Secret("s3-k"))))

    props = sent(recorded, "PUT")
    assert props["sourceKind"] == "Bucket"
    assert props["bucket"] == {
        "url": "https://minio.example.com",
        "bucketName": "fleet",
        "accessKey": "AKIA1",
        "insecure": True,
        "timeoutInSeconds": 600,
        "syncIntervalInSeconds": 600,
    }
    assert props["configurationProtectedSettings"] == {"bucketSecretKey": b64("s3-k")}
    assert "gitRepository" not in props and "s3-k" not in json.dumps(props["bucket"])


def test_blob_secrets_go_in_the_azure_blob_block(flux: AzureFluxConfigs, cluster, recorded):
    source = AzureBlobSource(
        url="https://acct.blob.core.windows.net",
        container_name="manifests",
        sp_client_id=GUID_1,
        sp_tenant_id=GUID_2,
        sp_client_cert_send_chain=True,
    )
    protected = ProtectedSettings(sp_client_certificate=Secret(PEM), sp_client_certificate_password=Secret("pfx-pass"))
    attempt(lambda: flux.begin_create_or_update(cluster, FluxConfigSpec(name="blob", source=source), protected))

    props = sent(recorded, "PUT")
    assert props["sourceKind"] == "AzureBlob"
    assert props["azureBlob"]["servicePrincipal"] == {
        "clientId": GUID_1,
        "tenantId": GUID_2,
        "clientCertificate": b64(PEM),
        "clientCertificatePassword": "pfx-pass",
        "clientCertificateSendChain": True,
    }
    assert "configurationProtectedSettings" not in props


def test_blob_account_key_and_sas_token(flux: AzureFluxConfigs, cluster, recorded):
    source = AzureBlobSource(url="https://acct.blob.core.windows.net", container_name="manifests")
    attempt(
        lambda: flux.begin_create_or_update(
            cluster, FluxConfigSpec(name="blob2", source=source), ProtectedSettings(account_key=Secret("acct-key"))
        )
    )

    assert sent(recorded, "PUT")["azureBlob"]["accountKey"] == "acct-key"


def test_oci_provider_azure_tls_and_https_ca_cert(flux: AzureFluxConfigs, cluster, recorded):
    source = OciSource(url="oci://ghcr.io/org/manifests", semver="1.x", use_workload_identity=True)
    protected = ProtectedSettings(tls_ca_certificate=Secret(PEM))
    attempt(lambda: flux.begin_create_or_update(cluster, FluxConfigSpec(name="oci", source=source), protected))

    oci = sent(recorded, "PUT")["ociRepository"]
    assert oci["useWorkloadIdentity"] is True
    assert oci["repositoryRef"] == {"semver": "1.x"}
    assert oci["tlsConfig"] == {"caCertificate": b64(PEM)}

    git = FluxConfigSpec(
        name="git", source=GitSource(url="https://git.example.com/o/r", ref=RepositoryRef(branch="main"))
    )
    attempt(lambda: flux.begin_create_or_update(cluster, git, ProtectedSettings(https_ca_cert=Secret(PEM))))
    props = sent(recorded, "PUT")
    assert props["gitRepository"]["httpsCACert"] == b64(PEM)
    assert "configurationProtectedSettings" not in props


BUCKET = BucketSource(url="https://minio.example.com", bucket_name="fleet")
BLOB = AzureBlobSource(
    url="https://acct.blob.core.windows.net", container_name="manifests", managed_identity_client_id=GUID_1
)
OCI = OciSource(url="oci://ghcr.io/org/manifests", tag="v1")
GIT = GitSource(url="https://github.com/org/repo", ref=RepositoryRef(branch="main"))
APPS = Kustomization(name="apps", path="./apps", substitute=(("env", "dev"), ("region", "weu")))


def test_a_patch_that_does_not_name_the_kind_goes_to_the_configurations_kind(flux: AzureFluxConfigs, cluster, recorded):
    """A caller that does not say the kind (a fleet run) still never sends a gitRepository block to an OCI
    configuration: the adapter reads the kind first."""
    flux.begin_create_or_update(cluster, FluxConfigSpec(name="o", source=OCI)).result(30)

    flux.begin_update(cluster, "o", FluxConfigPatch(url="oci://ghcr.io/org/other", sync_interval_seconds=300)).result(
        30
    )

    assert sent(recorded, "PATCH") == {
        "ociRepository": {"url": "oci://ghcr.io/org/other", "syncIntervalInSeconds": 300}
    }
    state = flux.get(cluster, "o")
    assert state.source_kind == "OCIRepository" and state.spec is not None
    assert state.spec.source == replace(OCI, url="oci://ghcr.io/org/other", sync_interval_seconds=300)


@pytest.mark.parametrize(
    ("seed", "patch", "expected", "after"),
    [
        (
            OCI,
            FluxConfigPatch(source_kind="OCIRepository", url="oci://ghcr.io/org/other", sync_interval_seconds=300),
            {"ociRepository": {"url": "oci://ghcr.io/org/other", "syncIntervalInSeconds": 300}},
            replace(OCI, url="oci://ghcr.io/org/other", sync_interval_seconds=300),
        ),
        (
            BUCKET,
            FluxConfigPatch(
                source_kind="Bucket", bucket_name="next", protected=ProtectedSettings(bucket_secret_key=Secret("k2"))
            ),
            {"bucket": {"bucketName": "next"}, "configurationProtectedSettings": {"bucketSecretKey": b64("k2")}},
            replace(BUCKET, bucket_name="next"),
        ),
        (
            BLOB,
            FluxConfigPatch(source_kind="AzureBlob", protected=ProtectedSettings(sas_token=Secret("sv=1&sig=x"))),
            {
                "azureBlob": {
                    "sasToken": "sv=1&sig=x",
                    "accountKey": None,
                    "servicePrincipal": None,
                    "managedIdentity": None,
                    "localAuthRef": None,
                }
            },
            replace(BLOB, managed_identity_client_id=None),
        ),
        (
            OCI,
            FluxConfigPatch(source_kind="OCIRepository", provider="Azure", digest="sha256:" + "ab" * 32),
            {
                "ociRepository": {
                    "useWorkloadIdentity": True,
                    "localAuthRef": None,
                    "repositoryRef": {"tag": None, "semver": None, "digest": "sha256:" + "ab" * 32},
                }
            },
            replace(OCI, tag=None, digest="sha256:" + "ab" * 32, use_workload_identity=True),
        ),
        (
            GIT,
            FluxConfigPatch(source_kind="GitRepository", local_auth_ref="git-creds", provider="Generic"),
            {"gitRepository": {"localAuthRef": "git-creds", "provider": "Generic"}},
            replace(GIT, local_auth_ref="git-creds", provider="Generic"),
        ),
    ],
)
def test_a_patch_names_only_what_was_asked_in_the_block_of_its_kind(
    flux: AzureFluxConfigs, cluster, recorded, seed, patch, expected, after
):
    flux.begin_create_or_update(cluster, FluxConfigSpec(name="cfg", source=seed)).result(30)

    flux.begin_update(cluster, "cfg", patch).result(30)

    assert sent(recorded, "PATCH") == expected
    state = flux.get(cluster, "cfg")
    assert state.spec is not None and state.spec.source == after


KEYED = replace(BUCKET, access_key="AKIA1")
LOCAL_OCI = replace(OCI, local_auth_ref="registry-creds")


@pytest.mark.parametrize(
    ("seed", "protected", "patch", "expected", "after"),
    [
        (
            KEYED,
            ProtectedSettings(bucket_secret_key=Secret("s3-k")),
            FluxConfigPatch(source_kind="Bucket", local_auth_ref="bucket-creds"),
            {
                "bucket": {"accessKey": None, "localAuthRef": "bucket-creds"},
                "configurationProtectedSettings": {"bucketSecretKey": None},
            },
            replace(BUCKET, local_auth_ref="bucket-creds"),
        ),
        (
            replace(BUCKET, local_auth_ref="bucket-creds"),
            None,
            FluxConfigPatch(
                source_kind="Bucket", access_key="AKIA2", protected=ProtectedSettings(bucket_secret_key=Secret("k2"))
            ),
            {
                "bucket": {"accessKey": "AKIA2", "localAuthRef": None},
                "configurationProtectedSettings": {"bucketSecretKey": b64("k2")},
            },
            replace(BUCKET, access_key="AKIA2"),
        ),
        (
            LOCAL_OCI,
            None,
            FluxConfigPatch(source_kind="OCIRepository", provider="Azure"),
            {"ociRepository": {"useWorkloadIdentity": True, "localAuthRef": None}},
            replace(OCI, use_workload_identity=True),
        ),
        (
            replace(OCI, use_workload_identity=True),
            None,
            FluxConfigPatch(source_kind="OCIRepository", local_auth_ref="registry-creds"),
            {"ociRepository": {"useWorkloadIdentity": None, "localAuthRef": "registry-creds"}},
            LOCAL_OCI,
        ),
    ],
)
def test_a_patch_that_changes_how_a_source_authenticates_clears_the_other_way(
    flux: AzureFluxConfigs, cluster, recorded, seed, protected, patch, expected, after
):
    """As for Azure Blob: ARM takes one way to authenticate, and a merge patch keeps what it omits, so the way
    given replaces the other (without this, the emulator answers 400 as ARM does)."""
    flux.begin_create_or_update(cluster, FluxConfigSpec(name="auth", source=seed), protected).result(30)

    flux.begin_update(cluster, "auth", patch).result(30)

    assert sent(recorded, "PATCH") == expected
    state = flux.get(cluster, "auth")
    assert state.spec is not None and state.spec.source == after


def test_a_patch_of_substitutions_merges_variables_and_replaces_sources(flux: AzureFluxConfigs, cluster, recorded):
    infra = Kustomization(name="infra", path="./infra", substitute=(("a", "1"),))
    flux.begin_create_or_update(cluster, FluxConfigSpec(name="subs", source=GIT, kustomizations=(infra, APPS))).result(
        30
    )
    patch = FluxConfigPatch(
        kustomizations=(
            KustomizationChange(
                name="apps", substitute=(("env", "prod"),), substitute_from=(SubstituteFrom("Secret", "vars"),)
            ),
            KustomizationChange(name="infra", substitute=()),
        )
    )

    flux.begin_update(cluster, "subs", patch).result(30)

    assert sent(recorded, "PATCH") == {
        "kustomizations": {
            "apps": {
                "postBuild": {
                    "substitute": {"env": "prod"},
                    "substituteFrom": [{"kind": "Secret", "name": "vars", "optional": False}],
                }
            },
            "infra": {"postBuild": {"substitute": None}},
        }
    }
    state = flux.get(cluster, "subs")
    assert state.spec is not None
    assert {k.name: (k.substitute, k.substitute_from) for k in state.spec.kustomizations} == {
        "infra": ((), ()),
        "apps": ((("env", "prod"), ("region", "weu")), (SubstituteFrom("Secret", "vars"),)),
    }


def test_blob_and_bucket_secrets_are_not_returned(flux: AzureFluxConfigs, cluster, recorded, endpoints):
    """The azureBlob block's secret fields and the bucket's protected secret key are write-only, as in ARM."""
    by_key = AzureBlobSource(url=BLOB.url, container_name=BLOB.container_name)  # one way to authenticate
    flux.begin_create_or_update(
        cluster, FluxConfigSpec(name="quiet", source=by_key), ProtectedSettings(account_key=Secret("acct-key-value"))
    ).result(30)
    flux.begin_create_or_update(
        cluster, FluxConfigSpec(name="quiet2", source=BUCKET), ProtectedSettings(bucket_secret_key=Secret("s3-value"))
    ).result(30)

    state = flux.get(cluster, "quiet")
    assert state.spec is not None and state.spec.source == by_key
    url = f"{endpoints.arm_url}{cluster.arm_id}/providers/Microsoft.KubernetesConfiguration/fluxConfigurations"
    raw = _get(f"{url}?api-version=2025-04-01", endpoints)
    for secret in ("acct-key-value", "s3-value"):
        assert secret not in raw and b64(secret) not in raw


@pytest.mark.parametrize(
    ("block", "expected"),
    [
        (
            {
                "sourceKind": "Bucket",
                "bucket": {
                    "url": "https://s3",
                    "bucketName": "b1",
                    "accessKey": "AK",
                    "insecure": True,
                    "localAuthRef": "s",
                },
            },
            BucketSource(url="https://s3", bucket_name="b1", access_key="AK", insecure=True, local_auth_ref="s"),
        ),
        (
            {
                "sourceKind": "AzureBlob",
                "azureBlob": {
                    "url": "https://acct",
                    "containerName": "c1",
                    "syncIntervalInSeconds": 120,
                    "servicePrincipal": {"clientId": GUID_1, "tenantId": GUID_2, "clientCertificateSendChain": True},
                    "managedIdentity": None,
                },
            },
            AzureBlobSource(
                url="https://acct",
                container_name="c1",
                sync_interval_seconds=120,
                sp_client_id=GUID_1,
                sp_tenant_id=GUID_2,
                sp_client_cert_send_chain=True,
            ),
        ),
        (
            {
                "sourceKind": "AzureBlob",
                "azureBlob": {"url": "https://acct", "containerName": "c1", "managedIdentity": {"clientId": GUID_2}},
            },
            AzureBlobSource(url="https://acct", container_name="c1", managed_identity_client_id=GUID_2),
        ),
        (
            {
                "sourceKind": "OCIRepository",
                "gitRepository": None,
                "ociRepository": {
                    "url": "oci://r/m",
                    "repositoryRef": {"digest": "sha256:" + "cd" * 32},
                    "useWorkloadIdentity": True,
                    "insecure": False,
                },
            },
            OciSource(url="oci://r/m", digest="sha256:" + "cd" * 32, use_workload_identity=True),
        ),
    ],
)
def test_gets_read_back_every_source_kind(block: dict[str, Any], expected: object):
    state = state_from_wire(HERE, {"name": "x", "properties": {**block, "kustomizations": {}}})

    assert state.spec is not None and state.spec.source == expected
    assert state.source_kind == block["sourceKind"]


def test_a_get_reads_post_build_substitute_from():
    kustomization = {
        "postBuild": {
            "substitute": {"a": "1"},
            "substituteFrom": [{"kind": "ConfigMap", "name": "v", "optional": True}],
        }
    }
    state = state_from_wire(
        HERE,
        {
            "name": "x",
            "properties": {"gitRepository": {"url": "https://g/o/r"}, "kustomizations": {"k": kustomization}},
        },
    )

    assert state.spec is not None
    [k] = state.spec.kustomizations
    assert (k.substitute, k.substitute_from) == ((("a", "1"),), (SubstituteFrom("ConfigMap", "v", optional=True),))
