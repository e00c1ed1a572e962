"""The sandbox's source servers, through real clients: boto3 against moto's S3 server, azure-storage-blob against
azurite, HTTP against the sandbox's OCI registry. Each serves the tutorial and refuses wrong credentials."""

from __future__ import annotations

import base64
import hashlib
import json
from collections.abc import Iterator

import boto3
import pytest
import requests
from azure.core.exceptions import HttpResponseError
from azure.storage.blob import ContainerClient
from botocore.exceptions import ClientError

from sandbox.oci_registry import FLUX_CONFIG_MEDIA_TYPE, FLUX_LAYER_MEDIA_TYPE, OCI_MANIFEST_MEDIA_TYPE
from sandbox.runtime import SandboxThread
from sandbox.source_servers import SourceAccess
from sandbox.tarball import unpack
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
