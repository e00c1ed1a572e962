"""The sandbox's source servers, through real clients: boto3 against moto's S3 server, azure-storage-blob against
azurite, HTTP against the sandbox's OCI registry. Each serves the tutorial and refuses wrong credentials; a second
start on the same state directory seeds them again; a server that cannot be seeded is left out saying why, and a
start stopped part-way leaves no child process running."""

from __future__ import annotations

import asyncio
import base64
import hashlib
import json
from collections.abc import Iterator
from pathlib import Path

import boto3
import psutil
import pytest
import requests
from azure.core.exceptions import HttpResponseError
from azure.storage.blob import ContainerClient
from botocore.exceptions import ClientError

from sandbox.oci_registry import FLUX_CONFIG_MEDIA_TYPE, FLUX_LAYER_MEDIA_TYPE, OCI_MANIFEST_MEDIA_TYPE
from sandbox.runtime import SandboxThread
from sandbox.source_servers import SourceAccess, SourceServers
from sandbox.tarball import unpack
from sandbox.tls import local_tls
from sandbox.tutorial_repo import tutorial_files
from tests.sandbox.source_world import OPTIONS


@pytest.fixture(scope="module")
def access() -> Iterator[SourceAccess]:
    world = SandboxThread(OPTIONS)
    world.start()
    sources = world.call(lambda sb: sb.flux.source_access)
    assert sources is not None and not sources.missing, sources and sources.missing
    yield sources
    world.stop()


def s3_client(access: SourceAccess, key_id: str, secret: str):
    assert access.s3 is not None
    return boto3.client(
        "s3",
        endpoint_url=access.s3.url,
        region_name="us-east-1",
        aws_access_key_id=key_id,
        aws_secret_access_key=secret,
        verify=str(access.ca_file),
    )


def test_s3_bucket_holds_the_tutorial_for_its_key_only(access: SourceAccess) -> None:
    assert access.s3 is not None
    s3 = s3_client(access, access.s3.access_key_id, access.s3.secret_access_key)
    keys = {o["Key"] for o in s3.list_objects_v2(Bucket=access.s3.bucket)["Contents"]}
    assert keys == set(tutorial_files())
    body = s3.get_object(Bucket=access.s3.bucket, Key="apps/base/podinfo/release.yaml")["Body"].read()
    assert b"kind: HelmRelease" in body
    with pytest.raises(ClientError) as wrong_secret:
        s3_client(access, access.s3.access_key_id, "not-the-secret").list_objects_v2(Bucket=access.s3.bucket)
    assert wrong_secret.value.response["Error"]["Code"] == "SignatureDoesNotMatch"
    with pytest.raises(ClientError) as unknown_key:
        s3_client(access, "AKIAUNKNOWN000000000", "x").get_bucket_location(Bucket=access.s3.bucket)
    assert unknown_key.value.response["Error"]["Message"] == (
        "The AWS Access Key Id you provided does not exist in our records."
    )


def test_blob_container_reads_with_account_key_and_sas_and_refuses_a_wrong_key(access: SourceAccess) -> None:
    blob = access.blob
    assert blob is not None
    verify = str(access.ca_file)
    by_key = ContainerClient(
        blob.url, blob.container, credential={"account_name": blob.account, "account_key": blob.account_key},
        connection_verify=verify,
    )  # fmt: skip
    assert {b.name for b in by_key.list_blobs()} == set(tutorial_files())
    by_sas = ContainerClient(blob.url, blob.container, credential=blob.sas_token, connection_verify=verify)
    assert by_sas.download_blob("infrastructure/redis/release.yaml").readall().startswith(b"apiVersion:")
    wrong = base64.b64encode(b"\0" * 64).decode()
    refused = ContainerClient(
        blob.url, blob.container, credential={"account_name": blob.account, "account_key": wrong},
        connection_verify=verify,
    )  # fmt: skip
    with pytest.raises(HttpResponseError) as error:
        next(iter(refused.list_blobs()))
    assert error.value.status_code == 403
    anonymous = ContainerClient(blob.url, blob.container, connection_verify=verify)
    with pytest.raises(HttpResponseError):
        next(iter(anonymous.list_blobs()))


def test_the_public_container_is_read_without_credentials(access: SourceAccess) -> None:
    blob = access.blob
    assert blob is not None
    verify = str(access.ca_file)
    anonymous = ContainerClient(blob.url, blob.public_container, connection_verify=verify)
    assert {b.name for b in anonymous.list_blobs()} == set(tutorial_files())
    assert requests.get(blob.public_listing, verify=verify, timeout=30).status_code == 200


def test_registry_serves_flux_artifacts_by_tag_and_digest_behind_a_token(access: SourceAccess) -> None:
    reg = access.registry
    assert reg is not None
    base, verify = f"https://{reg.host}", str(access.ca_file)
    manifest_url = f"{base}/v2/{reg.repository}/manifests/1.0.0"
    challenge = requests.get(manifest_url, verify=verify)
    assert challenge.status_code == 401
    assert challenge.json()["errors"][0]["code"] == "UNAUTHORIZED"
    assert challenge.headers["WWW-Authenticate"] == (
        f'Bearer realm="{base}/token",service="{reg.host}",scope="repository:{reg.repository}:pull"'
    )
    token_url = f"{base}/token?service={reg.host}&scope=repository:{reg.repository}:pull"
    assert requests.get(token_url, auth=(reg.username, "wrong"), verify=verify).status_code == 401
    token = requests.get(token_url, auth=(reg.username, reg.password), verify=verify).json()["token"]
    auth = {"Authorization": f"Bearer {token}"}
    got = requests.get(manifest_url, headers=auth, verify=verify)
    assert got.status_code == 200
    assert got.headers["Content-Type"] == OCI_MANIFEST_MEDIA_TYPE
    digest = got.headers["Docker-Content-Digest"]
    assert digest == "sha256:" + hashlib.sha256(got.content).hexdigest() == reg.tags["1.0.0"] == reg.tags["latest"]
    manifest = json.loads(got.content)
    assert manifest["config"]["mediaType"] == FLUX_CONFIG_MEDIA_TYPE
    (layer,) = manifest["layers"]
    assert layer["mediaType"] == FLUX_LAYER_MEDIA_TYPE
    by_digest = requests.get(f"{base}/v2/{reg.repository}/manifests/{digest}", headers=auth, verify=verify)
    assert by_digest.content == got.content
    tarball = requests.get(f"{base}/v2/{reg.repository}/blobs/{layer['digest']}", headers=auth, verify=verify)
    assert "sha256:" + hashlib.sha256(tarball.content).hexdigest() == layer["digest"]
    assert unpack(tarball.content) == {k: v.encode() for k, v in tutorial_files().items()}
    tags = requests.get(f"{base}/v2/{reg.repository}/tags/list", headers=auth, verify=verify).json()
    assert tags == {"name": reg.repository, "tags": ["0.9.0", "1.0.0", "latest"]}
    basic = requests.get(manifest_url, auth=(reg.username, reg.password), verify=verify)
    assert basic.status_code == 200
    missing = requests.get(f"{base}/v2/{reg.repository}/manifests/2.0.0", headers=auth, verify=verify)
    assert (missing.status_code, missing.json()["errors"][0]["code"]) == (404, "MANIFEST_UNKNOWN")
    public = requests.get(f"{base}/v2/{reg.public_repository}/manifests/latest", verify=verify)
    assert public.status_code == 200


def blob_names(access: SourceAccess) -> set[str]:
    blob = access.blob
    assert blob is not None
    client = ContainerClient(blob.url, blob.container, credential=blob.sas_token, connection_verify=str(access.ca_file))
    return {b.name for b in client.list_blobs()}


async def test_a_second_start_on_the_same_state_dir_seeds_the_sources_again(tmp_path: Path) -> None:
    """`fluxops sandbox up --state-dir D`, twice: azurite finds the containers of the first run in D."""
    tls = local_tls(tmp_path / "tls")
    first = SourceServers(tls=tls, state_dir=tmp_path)
    try:
        access = await first.start()
        assert access.blob is not None and access.missing == {}
        key = {"account_name": access.blob.account, "account_key": access.blob.account_key}
        ContainerClient(
            access.blob.url, access.blob.container, credential=key, connection_verify=str(access.ca_file)
        ).upload_blob("left-over.yaml", b"kind: ConfigMap\n")
    finally:
        await first.stop()
    second = SourceServers(tls=tls, state_dir=tmp_path)
    try:
        again = await second.start()
        assert again.missing == {}
        assert again.s3 is not None and again.blob is not None and again.registry is not None
        assert blob_names(again) == set(tutorial_files())  # filled anew: what the first run left is gone
    finally:
        await second.stop()


@pytest.mark.parametrize(
    ("fault", "why"),
    [
        ("switch answers 404", "turning signature checks on (POST https://127.0.0.1:"),
        ("takes unsigned requests", "it accepted a request signed with a wrong secret"),
    ],
)
async def test_an_s3_server_that_does_not_check_signatures_is_left_out_saying_why(
    tmp_path: Path, fault: str, why: str
) -> None:
    servers = SourceServers(tls=local_tls(tmp_path / "tls"), state_dir=tmp_path)
    s3 = servers.s3
    assert s3 is not None
    if fault == "switch answers 404":
        s3.auth_switch += "-nowhere"
    else:
        s3.unsigned_requests = 100  # moto takes 100 more requests unsigned: a wrong secret would pass
    try:
        access = await servers.start()
        assert access.s3 is None
        assert access.missing["Bucket"].startswith("the S3 server (moto) could not be seeded: S3AuthError: ")
        assert why in access.missing["Bucket"]
        assert access.blob is not None and access.registry is not None  # the others serve on
        assert s3.child.proc is not None and s3.child.proc.poll() is not None  # stopped, not left running
    finally:
        await servers.stop()


def running(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


async def test_a_start_stopped_part_way_leaves_no_child_running(tmp_path: Path) -> None:
    """Cancelled once moto and azurite are spawned (Ctrl-C, a caller's timeout): both are stopped."""
    servers = SourceServers(tls=local_tls(tmp_path / "tls"), state_dir=tmp_path)
    start = asyncio.create_task(servers.start())
    pids: list[int] = []
    while len(pids) < 2:  # the code under test spawns them
        await asyncio.sleep(0.01)
        pids = [s.child.proc.pid for s in (servers.s3, servers.azurite) if s is not None and s.child.proc]
    start.cancel()
    with pytest.raises(asyncio.CancelledError):
        await start
    left = [pid for pid in pids if running(pid)]
    for pid in left:  # a failing run does not leave them behind either
        psutil.Process(pid).kill()
    assert left == []
