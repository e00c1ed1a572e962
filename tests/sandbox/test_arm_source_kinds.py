"""Bucket, Azure Blob and OCI flux configurations through the real Azure SDK against the ARM emulator: accepted
and validated as ARM takes them, secrets never answered, and reconciled for real by the simulated Flux from the
sandbox's S3 server, azurite and OCI registry (Compliant with the tutorial's HelmReleases, or the source's own
error for a wrong credential); the request log records what each write sent, secrets redacted."""

from __future__ import annotations

import base64
import time
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from azure.core.exceptions import HttpResponseError
from azure.mgmt.kubernetesconfiguration.fluxconfigurations import (
    KubernetesConfigurationFluxConfigurationsMgmtClient as FluxClient,
)
from azure.mgmt.kubernetesconfiguration.fluxconfigurations import models as m

from sandbox.credential import SandboxCredential
from sandbox.runtime import SandboxThread
from sandbox.seed import TUTORIAL_ARC, TUTORIAL_RG
from sandbox.source_servers import SourceAccess
from sandbox.source_servers.cluster_secrets import REGISTRY_SECRET
from tests.sandbox.source_world import OPTIONS

NAMESPACE = "cluster-config"
KUSTOMIZATIONS = {
    "infra": m.KustomizationDefinition(path="./infrastructure", prune=True),
    "apps": m.KustomizationDefinition(path="./apps/staging", prune=True, depends_on=["infra"]),
}
TARGET = ("flux-demo-rg", "Microsoft.Kubernetes", "connectedClusters", TUTORIAL_ARC)


class World:
    def __init__(self, thread: SandboxThread) -> None:
        self.thread = thread
        sandbox = thread.sandbox
        assert sandbox is not None and sandbox.endpoints is not None and sandbox.flux.source_access is not None
        self.endpoints = sandbox.endpoints
        self.access: SourceAccess = sandbox.flux.source_access
        self.client = FluxClient(
            SandboxCredential(),
            self.endpoints.subscription_id,
            base_url=self.endpoints.arm_url,
            connection_verify=str(self.endpoints.ca_file),
            polling_interval=0.05,
        )

    def create(self, name: str, **properties: Any) -> m.FluxConfiguration:
        body = m.FluxConfiguration(
            properties=m.FluxConfigurationProperties(
                scope="cluster", namespace=NAMESPACE, kustomizations=KUSTOMIZATIONS, **properties
            )
        )
        return self.client.flux_configurations.begin_create_or_update(*TARGET, name, body).result()

    def update(self, name: str, patch: dict[str, Any]) -> m.FluxConfiguration:
        return self.client.flux_configurations.begin_update(*TARGET, name, {"properties": patch}).result()

    def settled(self, name: str, want: str | None = None, limit: float = 30.0) -> m.FluxConfiguration:
        """The configuration once its compliance is ``want`` (default: Compliant or Non-Compliant)."""
        wanted = (want,) if want else ("Compliant", "Non-Compliant")
        deadline = time.monotonic() + limit
        while True:
            config = self.client.flux_configurations.get(*TARGET, name)
            if config.properties.compliance_state in wanted:
                return config
            assert time.monotonic() < deadline, f"{name} is still {config.properties.compliance_state}"
            time.sleep(0.1)

    def fetched(self, name: str, auth_method: str, limit: float = 30.0) -> bool:
        """Whether the simulated Flux fetched ``name`` with ``auth_method`` and succeeded (waits for it)."""
        deadline = time.monotonic() + limit
        while time.monotonic() < deadline:
            log = self.thread.call(lambda sb: sb.flux.fetch_attempts(config=name))
            if any(a.ok and a.auth_method == auth_method for a in log):
                return True
            time.sleep(0.1)
        return False

    def writes(self, name: str) -> list[dict[str, Any]]:
        """What each PUT / PATCH of configuration ``name`` sent, as the emulator's request log keeps it."""
        log = requests.get(f"{self.endpoints.arm_url}/_sandbox/requests", verify=str(self.endpoints.ca_file)).json()
        return [
            {"method": r["method"], "body": r["body"]}
            for r in log
            if r["path"].endswith(f"/fluxConfigurations/{name}") and r["method"] in ("PUT", "PATCH")
        ]


@pytest.fixture(scope="module")
def world() -> Iterator[World]:
    thread = SandboxThread(OPTIONS)
    endpoints = thread.start()
    extension = (
        f"{endpoints.arm_url}/subscriptions/{endpoints.subscription_id}/resourceGroups/{TUTORIAL_RG}/providers/"
        f"Microsoft.Kubernetes/connectedClusters/{TUTORIAL_ARC}/providers/Microsoft.KubernetesConfiguration/"
        "extensions/flux?api-version=2025-03-01"
    )
    put = requests.put(
        extension,
        json={"properties": {"extensionType": "microsoft.flux"}},
        headers={"Authorization": "Bearer sandbox"},
        verify=str(endpoints.ca_file),
    )
    assert put.status_code == 201, put.text
    status = put.headers["Azure-AsyncOperation"]
    deadline = time.monotonic() + 10
    while (
        requests.get(status, headers={"Authorization": "Bearer x"}, verify=str(endpoints.ca_file)).json()["status"]
        == "InProgress"
    ):
        assert time.monotonic() < deadline
        time.sleep(0.05)
    yield World(thread)
    thread.stop()


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def statuses(config: m.FluxConfiguration) -> dict[str, m.ObjectStatusDefinition]:
    return {f"{s.kind}/{s.name}": s for s in config.properties.statuses or []}


def ready_message(status: m.ObjectStatusDefinition) -> str:
    return str(status.status_conditions[0].message)


def assert_compliant_with_releases(config: m.FluxConfiguration, source: str) -> None:
    found = statuses(config)
    assert config.properties.compliance_state == "Compliant", config.properties.error_message
    assert {"HelmRelease/nginx", "HelmRelease/redis", "HelmRelease/podinfo"} <= set(found)
    assert ready_message(found[source]).startswith("stored artifact")


def test_bucket_source_reconciles_from_s3_and_a_wrong_secret_key_fails_as_s3_says(world: World) -> None:
    s3 = world.access.s3
    assert s3 is not None
    bucket = m.BucketDefinition(url=s3.url, bucket_name=s3.bucket, access_key=s3.access_key_id)
    world.create(
        "s3-demo",
        source_kind="Bucket",
        bucket=bucket,
        configuration_protected_settings={"bucketSecretKey": b64(s3.secret_access_key)},
    )
    config = world.settled("s3-demo")
    assert_compliant_with_releases(config, "Bucket/s3-demo")
    assert config.properties.source_synced_commit_id.startswith("sha256:")
    assert config.properties.configuration_protected_settings is None
    world.update("s3-demo", {"configurationProtectedSettings": {"bucketSecretKey": b64("not-the-secret")}})
    failed = world.settled("s3-demo", "Non-Compliant")
    assert ready_message(statuses(failed)["Bucket/s3-demo"]) == (
        f"failed to confirm existence of '{s3.bucket}' bucket: The request signature we calculated does not match "
        "the signature you provided. Check your key and signing method."
    )
    world.update("s3-demo", {"bucket": {"accessKey": "AKIAUNKNOWN000000000"}})
    unknown = world.settled("s3-demo", "Non-Compliant")
    assert ready_message(statuses(unknown)["Bucket/s3-demo"]) == (
        f"failed to confirm existence of '{s3.bucket}' bucket: "
        "The AWS Access Key Id you provided does not exist in our records."
    )
    assert [w["body"]["properties"] for w in world.writes("s3-demo")][1:] == [
        {"configurationProtectedSettings": {"bucketSecretKey": "<redacted>"}},
        {"bucket": {"accessKey": "AKIAUNKNOWN000000000"}},
    ]


def test_azure_blob_source_with_account_key_then_sas_token_and_secrets_never_answered(world: World) -> None:
    blob = world.access.blob
    assert blob is not None
    world.create(
        "blob-demo",
        source_kind="AzureBlob",
        azure_blob=m.AzureBlobDefinition(url=blob.url, container_name=blob.container, account_key=blob.account_key),
    )
    config = world.settled("blob-demo")
    assert_compliant_with_releases(config, "Bucket/blob-demo")
    assert config.properties.azure_blob.account_key is None
    assert config.properties.azure_blob.container_name == blob.container
    (put,) = world.writes("blob-demo")
    assert put["body"]["properties"]["azureBlob"]["accountKey"] == "<redacted>"
    # a SAS token replaces the account key (one way to authenticate), then a forged one is refused
    world.update("blob-demo", {"azureBlob": {"sasToken": blob.sas_token}})
    assert world.fetched("blob-demo", "sas-token")
    assert_compliant_with_releases(world.settled("blob-demo"), "Bucket/blob-demo")
    forged = blob.sas_token.replace("sig=", "sig=AAAA", 1)
    world.update("blob-demo", {"azureBlob": {"sasToken": forged}})
    failed = world.settled("blob-demo", "Non-Compliant")
    message = ready_message(statuses(failed)["Bucket/blob-demo"])
    assert message.startswith(f"failed to confirm existence of '{blob.container}' bucket: ")
    assert "RESPONSE 403" in message and "sig=" not in message


def test_azure_blob_service_principal_is_checked_against_the_sandbox_directory(world: World) -> None:
    blob, sp = world.access.blob, world.access.principal
    assert blob is not None
    principal = m.ServicePrincipalDefinition(client_id=sp.client_id, tenant_id=sp.tenant_id, client_secret="wrong")
    world.create(
        "blob-sp",
        source_kind="AzureBlob",
        azure_blob=m.AzureBlobDefinition(url=blob.url, container_name=blob.container, service_principal=principal),
    )
    failed = world.settled("blob-sp", "Non-Compliant")
    assert "AADSTS7000215: Invalid client secret provided" in ready_message(statuses(failed)["Bucket/blob-sp"])
    world.update("blob-sp", {"azureBlob": {"servicePrincipal": {"clientSecret": sp.client_secret}}})
    assert_compliant_with_releases(world.settled("blob-sp", "Compliant"), "Bucket/blob-sp")


def test_oci_source_by_semver_then_tag_and_a_missing_secret(world: World) -> None:
    reg = world.access.registry
    assert reg is not None
    oci = m.OCIRepositoryDefinition(
        url=reg.url, repository_ref=m.OCIRepositoryRefDefinition(semver="<1.0.0"), local_auth_ref=REGISTRY_SECRET
    )
    world.create("oci-demo", source_kind="OCIRepository", oci_repository=oci)
    config = world.settled("oci-demo")
    assert_compliant_with_releases(config, "OCIRepository/oci-demo")
    assert config.properties.source_synced_commit_id == "0.9.0@" + reg.tags["0.9.0"]
    world.update("oci-demo", {"ociRepository": {"repositoryRef": {"semver": None, "tag": "1.0.0"}}})
    deadline = time.monotonic() + 30
    while (config := world.settled("oci-demo", "Compliant")).properties.source_synced_commit_id.startswith("0.9.0"):
        assert time.monotonic() < deadline
        time.sleep(0.1)
    assert config.properties.source_synced_commit_id == "1.0.0@" + reg.tags["1.0.0"]
    assert config.properties.oci_repository.sync_interval_in_seconds == 600
    world.update("oci-demo", {"ociRepository": {"localAuthRef": "no-such-secret"}})
    failed = world.settled("oci-demo", "Non-Compliant")
    assert ready_message(statuses(failed)["OCIRepository/oci-demo"]) == (
        f"failed to get secret '{NAMESPACE}/no-such-secret': secrets \"no-such-secret\" not found"
    )
    world.update("oci-demo", {"ociRepository": {"localAuthRef": None}})
    deadline = time.monotonic() + 30
    while "secrets" in (message := ready_message(statuses(world.settled("oci-demo"))["OCIRepository/oci-demo"])):
        assert time.monotonic() < deadline
        time.sleep(0.1)
    assert message.startswith(f"failed to determine artifact digest: GET https://{reg.host}/token?")
    assert message.endswith("UNAUTHORIZED: authentication required")
    patches = [w["body"]["properties"] for w in world.writes("oci-demo") if w["method"] == "PATCH"]
    assert patches[0] == {"ociRepository": {"repositoryRef": {"semver": None, "tag": "1.0.0"}}}


@pytest.mark.parametrize(
    ("properties", "says"),
    [
        ({"sourceKind": "Bucket", "bucket": {"url": "https://s3.example"}}, "bucket.bucketName 'None' is not valid"),
        (
            {
                "sourceKind": "OCIRepository",
                "ociRepository": {"url": "oci://r.example/a", "repositoryRef": {"tag": "1", "semver": "1.x"}},
            },
            "ociRepository.repositoryRef sets tag and semver",
        ),
        (
            {
                "sourceKind": "AzureBlob",
                "azureBlob": {"url": "https://a.example", "containerName": "abc", "accountKey": "k", "sasToken": "s"},
            },
            "azureBlob has accountKey and sasToken",
        ),
        (
            {
                "sourceKind": "Bucket",
                "bucket": {"url": "https://s3.example", "bucketName": "abc", "accessKey": "AKIA1"},
            },
            "configurationProtectedSettings has no bucketSecretKey",
        ),
        (
            {"sourceKind": "Bucket", "bucket": {"url": "https://s3.example", "bucketName": "abc", "secretKey": "x"}},
            "Unknown properties in 'bucket': secretKey",
        ),
    ],
)
def test_invalid_source_blocks_are_refused_as_arm_would(world: World, properties: dict[str, Any], says: str) -> None:
    with pytest.raises(HttpResponseError) as error:
        world.client.flux_configurations.begin_create_or_update(*TARGET, "bad", {"properties": properties}).result()
    assert error.value.status_code == 400
    assert says in str(error.value.message)
