"""Issue 16's acceptance, typed into Slack as `fluxops chat` does: a Bucket, an Azure Blob (account key, SAS
token) and an OCI configuration (tag, semver, digest, a private repository through a cluster Secret) each
created with `/flux config create ... --kind ...` against the sandbox's S3 server, azurite and OCI registry,
each reaching Compliant with its HelmReleases listed; a wrong secret fails with the source's own error in the
job's message; `config update` of each sends only what was asked (the ARM emulator's request log, secrets
redacted), never another kind's block; `kustomization delete` works on a configuration that is not Git.

Everything runs for real: fake Slack -> fluxops web -> Redis -> a Celery worker -> the Azure SDK -> the ARM
emulator -> the simulated Flux, which fetches with boto3, azure-storage-blob and HTTP from the real servers."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest

from bot.models import ClusterRef, ClusterType
from cli.chat import Chat
from sandbox.stack import Stack
from tests.scenarios.conftest import arm_requests
from tests.scenarios.test_slack_lifecycle import job_text
from workers.azure_flux import AzureFluxConfigs

ON = "-c flux-demo-aks"
INFRA = "--kustomization name=infra path=./infrastructure prune=true"
APPS = "--kustomization name=apps path=./apps/staging prune=true depends_on=infra"
RELEASES = ("nginx", "redis", "podinfo")
#: the source block of each ARM sourceKind
BLOCKS = {
    "GitRepository": "gitRepository",
    "Bucket": "bucket",
    "AzureBlob": "azureBlob",
    "OCIRepository": "ociRepository",
}


@pytest.fixture(scope="module")
def sources(stack: Stack) -> dict[str, Any]:
    described = stack.describe()["sources"]
    assert isinstance(described, dict)
    assert not described["missing"], f"every source server runs here: {described['missing']}"
    return described


@pytest.fixture(scope="module")
def aks(stack: Stack) -> ClusterRef:
    endpoints = stack.sandbox.endpoints
    assert endpoints is not None
    return ClusterRef(endpoints.subscription_id, "flux-demo-rg", ClusterType.MANAGED, "flux-demo-aks")


@pytest.fixture
def cleanup(arm_flux: AzureFluxConfigs, aks: ClusterRef) -> Iterator[list[str]]:
    """Names of configurations a test made: deleted afterwards, so the cluster stays as other scenarios expect."""
    made: list[str] = []
    yield made
    existing = {c.name for c in arm_flux.list(aks)}
    for name in made:
        if name in existing:
            arm_flux.begin_delete(aks, name).result(60)


def run(chat: Chat, command: str, *, expect: int = 0, confirm: bool = False) -> str:
    """The job's one message once the command ended as ``expect`` says."""
    code = chat.run(command, confirm=confirm)
    text = job_text(chat, chat.last_job_id or "")
    assert code == expect, text
    return text


def create(chat: Chat, cleanup: list[str], name: str, source: str, *, expect: int = 0, more: str = "") -> str:
    cleanup.append(name)
    return run(chat, f"/flux config create {name} {ON} {source} {INFRA} {more}".strip(), expect=expect)


def assert_compliant_with_releases(text: str, source_kind: str, name: str, namespace: str, *releases: str) -> None:
    assert "Compliance: ✅ Compliant" in text, text
    assert f"✅ {source_kind} `{namespace}/{name}` · Compliant" in text, text
    for release in releases:
        assert f"✅ HelmRelease `{namespace}/{release}` · Compliant" in text, text


def writes(stack: Stack, name: str) -> list[tuple[str, dict[str, Any]]]:
    """(method, properties) of every PUT and PATCH of configuration ``name``, from the ARM emulator's log."""
    marker = f"/fluxconfigurations/{name}"
    return [
        (r["method"], r["body"]["properties"])
        for r in arm_requests(stack)
        if r["path"].lower().endswith(marker) and r["method"] in ("PUT", "PATCH")
    ]


def last_patch(stack: Stack, name: str, source_kind: str) -> dict[str, Any]:
    """The last PATCH of ``name``, checked to carry no other kind's source block."""
    method, properties = writes(stack, name)[-1]
    assert method == "PATCH"
    others = {block for kind, block in BLOCKS.items() if kind != source_kind}
    assert not others & set(properties), f"a {source_kind} configuration got {sorted(others & set(properties))}"
    return properties


@contextmanager
def credential_holding(stack: Stack, name: str, value: str) -> Iterator[None]:
    """The credential file ``name`` holds ``value`` (a stale secret, say) for a while; fluxops reads it each time."""
    path = Path(stack.state_dir) / "credentials" / name
    kept = path.read_text()
    path.write_text(value + "\n")
    try:
        yield
    finally:
        path.write_text(kept)


def test_bucket_create_update_kustomization_delete_and_a_stale_secret_key(
    stack: Stack, chat: Chat, sources: dict[str, Any], cleanup: list[str]
) -> None:
    s3 = sources["bucket"]
    source = (
        f"--kind bucket -u {s3['url']} --bucket-name {s3['bucket']} --access-key {s3['access_key']} "
        f"--secret-key-ref {s3['secret_key_ref']}"
    )
    created = create(chat, cleanup, "src-bucket", f"--namespace src-bucket {source}", more=APPS)
    assert_compliant_with_releases(created, "Bucket", "src-bucket", "src-bucket", *RELEASES)
    ((_, put),) = writes(stack, "src-bucket")
    assert put["sourceKind"] == "Bucket" and put["configurationProtectedSettings"] == {"bucketSecretKey": "<redacted>"}
    assert put["bucket"]["accessKey"] == s3["access_key"] and "secretKey" not in put["bucket"]

    shown = run(chat, f"/flux config show src-bucket {ON}")
    assert "Source: Bucket" in shown and f"bucket `{s3['bucket']}`" in shown
    assert all(f"HelmRelease `src-bucket/{r}`" in shown for r in RELEASES)

    run(chat, f"/flux config update src-bucket {ON} --interval 5m")
    assert last_patch(stack, "src-bucket", "Bucket") == {"bucket": {"syncIntervalInSeconds": 300}}
    # the bucket's secret key would follow it to another bucket: stated again (scoped to it), or refused
    refused = run(chat, f"/flux config update src-bucket {ON} --bucket-name fluxops-missing", expect=1)
    assert f"holds credential '{s3['secret_key_ref']}'" in refused and "`--secret-key-ref REF`" in refused, refused
    assert last_patch(stack, "src-bucket", "Bucket") == {"bucket": {"syncIntervalInSeconds": 300}}, "nothing sent"
    restate = f"--secret-key-ref {s3['secret_key_ref']}"
    moved = run(chat, f"/flux config update src-bucket {ON} --bucket-name fluxops-missing {restate}", expect=1)
    assert last_patch(stack, "src-bucket", "Bucket") == {
        "bucket": {"bucketName": "fluxops-missing"},
        "configurationProtectedSettings": {"bucketSecretKey": "<redacted>"},
    }
    assert "bucket 'fluxops-missing' not found" in moved
    back = run(chat, f"/flux config update src-bucket {ON} --bucket-name {s3['bucket']} {restate}")
    assert "Compliance: ✅ Compliant" in back

    removed = run(chat, f"/flux kustomization delete apps --config src-bucket {ON}", confirm=True)
    assert last_patch(stack, "src-bucket", "Bucket") == {"kustomizations": {"apps": None}}
    assert "Compliance: ✅ Compliant" in removed and "`apps`" not in removed.split("Kustomizations")[-1]

    with credential_holding(stack, s3["secret_key_ref"], "a-secret-key-rotated-out-last-year"):
        stale = create(chat, cleanup, "src-bucket-stale", f"--namespace src-bucket-stale {source}", expect=1)
    assert (
        f"Flux reports Non-Compliant: Bucket src-bucket-stale: failed to confirm existence of '{s3['bucket']}' "
        "bucket: The request signature we calculated does not match the signature you provided." in stale
    ), stale
    assert "What to do: check the source's address and credentials" in stale
    assert "a-secret-key-rotated-out-last-year" not in stale


def test_azure_blob_by_account_key_and_sas_token_update_and_a_wrong_key(
    stack: Stack, chat: Chat, sources: dict[str, Any], cleanup: list[str]
) -> None:
    blob = sources["azure_blob"]
    source = f"--kind azblob -u {blob['url']} --container-name {blob['container']}"
    by_key = create(
        chat, cleanup, "src-blob-key", f"--namespace src-blob-key {source} --account-key-ref {blob['account_key_ref']}"
    )
    assert_compliant_with_releases(by_key, "Bucket", "src-blob-key", "src-blob-key", "nginx", "redis")
    by_sas = create(
        chat, cleanup, "src-blob-sas", f"--namespace src-blob-sas {source} --sas-token-ref {blob['sas_token_ref']}"
    )
    assert_compliant_with_releases(by_sas, "Bucket", "src-blob-sas", "src-blob-sas", "nginx", "redis")
    ((_, key_put),) = writes(stack, "src-blob-key")
    ((_, sas_put),) = writes(stack, "src-blob-sas")
    assert key_put["azureBlob"]["accountKey"] == "<redacted>" and "sasToken" not in key_put["azureBlob"]
    assert sas_put["azureBlob"]["sasToken"] == "<redacted>" and "accountKey" not in sas_put["azureBlob"]
    assert "configurationProtectedSettings" not in key_put, "the blob's secrets go in its block, as az sends them"

    listed = run(chat, f"/flux deployed-object list src-blob-sas {ON}")
    assert "HelmRelease `nginx` in `src-blob-sas`" in listed and "HelmRelease `redis` in `src-blob-sas`" in listed

    run(chat, f"/flux config update src-blob-sas {ON} --interval 5m")
    assert last_patch(stack, "src-blob-sas", "AzureBlob") == {"azureBlob": {"syncIntervalInSeconds": 300}}
    # the account key would follow it to another container: stated again (scoped to it), or refused
    refused = run(chat, f"/flux config update src-blob-key {ON} --container-name fluxops-missing", expect=1)
    assert f"holds credential '{blob['account_key_ref']}'" in refused, refused
    assert last_patch(stack, "src-blob-sas", "AzureBlob") == {"azureBlob": {"syncIntervalInSeconds": 300}}
    assert [m for m, _ in writes(stack, "src-blob-key")] == ["PUT"], "nothing sent"
    restate = f"--account-key-ref {blob['account_key_ref']}"
    moved = run(chat, f"/flux config update src-blob-key {ON} --container-name fluxops-missing {restate}", expect=1)
    patched = last_patch(stack, "src-blob-key", "AzureBlob")
    assert patched["azureBlob"]["containerName"] == "fluxops-missing"
    assert patched["azureBlob"]["accountKey"] == "<redacted>"
    assert "bucket 'fluxops-missing' not found" in moved

    # a key that is well formed but not the account's: azurite refuses it and says why
    wrong = "d3Jvbmcta2V5LXdyb25nLWtleS13cm9uZy1rZXktd3Jvbmcta2V5LXdyb25nLWtleS13cm9uZy1rZXk="
    with credential_holding(stack, blob["account_key_ref"], wrong):
        refused = create(
            chat,
            cleanup,
            "src-blob-wrong",
            f"--namespace src-blob-wrong {source} --account-key-ref {blob['account_key_ref']}",
            expect=1,
        )
    assert (
        f"Flux reports Non-Compliant: Bucket src-blob-wrong: failed to confirm existence of '{blob['container']}' "
        f"bucket: GET {blob['url']}/{blob['container']}: RESPONSE 403: 403 Server failed to authenticate the request."
        in refused
    ), refused
    assert "ERROR CODE: AuthorizationFailure" in refused, refused
    assert wrong not in refused


def test_oci_by_tag_semver_digest_and_a_private_repository(
    stack: Stack, chat: Chat, sources: dict[str, Any], cleanup: list[str]
) -> None:
    oci = sources["oci"]
    public, private, older = oci["public_url"], oci["url"], oci["tags"]["0.9.0"]
    by_tag = create(chat, cleanup, "src-oci-tag", f"--namespace src-oci-tag -u {public} --tag 1.0.0")
    assert_compliant_with_releases(by_tag, "OCIRepository", "src-oci-tag", "src-oci-tag", "nginx", "redis")
    by_semver = create(
        chat, cleanup, "src-oci-semver", f"--namespace src-oci-semver --kind oci -u {public} --semver '>=1.0.0'"
    )
    assert_compliant_with_releases(by_semver, "OCIRepository", "src-oci-semver", "src-oci-semver", "nginx", "redis")
    assert f"`1.0.0@{oci['tags']['1.0.0'][:19]}" in by_semver

    # the private repository: the registry's pull secret is on the cluster (`--local-auth-ref`), in the namespace
    auth = f"--kind oci -u {private} --local-auth-ref {oci['local_auth_ref']}"
    by_digest = create(chat, cleanup, "src-oci-digest", f"--namespace default {auth} --digest {older}")
    assert_compliant_with_releases(by_digest, "OCIRepository", "src-oci-digest", "default", "nginx", "redis")
    assert f"`{older[:19]}" in by_digest
    ((_, put),) = writes(stack, "src-oci-digest")
    assert put["ociRepository"]["repositoryRef"] == {"digest": older}
    assert put["ociRepository"]["localAuthRef"] == oci["local_auth_ref"]
    by_tag = create(chat, cleanup, "src-oci-private", f"--namespace cluster-config {auth} --tag latest")
    assert_compliant_with_releases(by_tag, "OCIRepository", "src-oci-private", "cluster-config", "nginx", "redis")

    run(chat, f"/flux config update src-oci-private {ON} --interval 5m")
    assert last_patch(stack, "src-oci-private", "OCIRepository") == {"ociRepository": {"syncIntervalInSeconds": 300}}
    retagged = run(chat, f"/flux config update src-oci-private {ON} --tag 0.9.0")
    patch = last_patch(stack, "src-oci-private", "OCIRepository")
    assert patch == {"ociRepository": {"repositoryRef": {"tag": "0.9.0", "semver": None, "digest": None}}}
    assert f"`0.9.0@{older[:19]}" in retagged and "Compliance: ✅ Compliant" in retagged
    assert "Sync: every 5m" in retagged, "the earlier update stays"

    # without the pull secret the registry refuses the pull, and Flux says so
    refused = create(
        chat, cleanup, "src-oci-anon", f"--namespace src-oci-anon --kind oci -u {private} --tag 1.0.0", expect=1
    )
    assert "Flux reports Non-Compliant: OCIRepository src-oci-anon: failed to determine artifact digest:" in refused
    assert "UNAUTHORIZED: authentication required" in refused
