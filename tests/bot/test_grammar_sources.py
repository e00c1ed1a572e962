"""Bucket, Azure Blob and OCI flags of config create|update, az's names for them, and kustomization postBuild:
what each command parses to, and the errors that point the right way."""

from __future__ import annotations

import pytest

from bot import command_codec
from bot.commands import ConfigCreate, ConfigUpdate, CredentialRefs
from bot.models import (
    AzureBlobSource,
    FluxConfigPatch,
    GitSource,
    Kustomization,
    KustomizationChange,
    OciSource,
    RepositoryRef,
    SubstituteFrom,
)
from tests.bot.grammar_helpers import error, run

BLOB = "config create x -c c --kind azblob -u https://acct.blob.core.windows.net --container-name manifests"
OCI = "config create x -c c -u oci://ghcr.io/org/manifests --tag v1"
GUID_1 = "11111111-1111-1111-1111-111111111111"
GUID_2 = "22222222-2222-2222-2222-222222222222"
SP = f"--sp-client-id {GUID_1} --tenant-id {GUID_2}"


def create(text: str) -> ConfigCreate:
    command = run(text)
    assert isinstance(command, ConfigCreate)
    return command


def update(text: str) -> ConfigUpdate:
    command = run(text)
    assert isinstance(command, ConfigUpdate)
    return command


def test_a_blob_service_principal_with_a_secret() -> None:
    command = create(f"{BLOB} {SP} --sp-client-secret-ref sp/secret")

    assert command.spec.source == AzureBlobSource(
        url="https://acct.blob.core.windows.net", container_name="manifests", sp_client_id=GUID_1, sp_tenant_id=GUID_2
    )
    assert command.credentials == CredentialRefs(sp_client_secret="sp/secret")


def test_a_blob_service_principal_with_a_certificate() -> None:
    command = create(
        f"{BLOB} {SP} --sp-client-cert-ref sp/cert --sp-client-cert-password-ref sp/pass --sp-client-cert-send-chain"
    )

    assert isinstance(command.spec.source, AzureBlobSource) and command.spec.source.sp_client_cert_send_chain
    assert command.credentials == CredentialRefs(sp_client_cert="sp/cert", sp_client_cert_password="sp/pass")


@pytest.mark.parametrize("flag", ["--managed-identity-client-id", "--mi-client-id"])
def test_a_blob_managed_identity_by_either_name(flag: str) -> None:
    source = create(f"{BLOB} {flag} {GUID_1}").spec.source

    assert isinstance(source, AzureBlobSource) and source.managed_identity_client_id == GUID_1


def test_https_ca_cert_is_a_reference() -> None:
    command = create("config create x -c c -u https://git.example.com/o/r --branch main --https-ca-cert certs/ca")

    assert command.credentials == CredentialRefs(https_ca_cert="certs/ca")
    assert isinstance(command.spec.source, GitSource)


def test_oci_provider_azure_is_the_workload_identity() -> None:
    source = create(f"{OCI} --provider azure").spec.source

    assert source == OciSource(url="oci://ghcr.io/org/manifests", tag="v1", use_workload_identity=True)


def test_oci_tls_material_and_insecure() -> None:
    command = create(f"{OCI} --tls-client-cert-ref t/cert --tls-private-key-ref t/key --tls-ca-cert-ref t/ca")
    assert command.credentials == CredentialRefs(tls_client_cert="t/cert", tls_private_key="t/key", tls_ca_cert="t/ca")

    source = create(f"{OCI} --insecure").spec.source
    assert isinstance(source, OciSource) and source.insecure


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (f"{BLOB} {SP}", "A service principal needs its client id, its tenant and a secret or certificate."),
        (f"{BLOB} --sp-client-id {GUID_1} --sp-client-secret-ref s", "`--tenant-id`"),
        (f"{BLOB} {SP} --sp-client-secret-ref s --account-key-ref k", "are two ways to authenticate"),
        (f"{BLOB} {SP} --sp-client-secret-ref s --mi-client-id {GUID_1}", "are two ways to authenticate"),
        (
            f"{BLOB} {SP} --sp-client-secret-ref s --sp-client-cert-ref c",
            "are two ways for a service principal to sign in",
        ),
        (f"{BLOB} {SP} --sp-client-secret-ref s --sp-client-cert-send-chain", "goes with a certificate"),
        (
            f"config create x -c c -u https://github.com/o/r --branch main --sp-client-id {GUID_1}",
            "`--sp-client-id` is for `--kind azblob`; this source is `git`.",
        ),
        (
            "config create x -c c -u git@github.com:o/r --branch main --https-ca-cert ca",
            "`--https-ca-cert` only works with `https://` or `http://` URLs",
        ),
        (f"{OCI} --tls-client-cert-ref c", "`--tls-client-cert-ref` and `--tls-private-key-ref` go together."),
        (f"{OCI} --provider azure --local-auth-ref regcred", "takes no `--local-auth-ref`"),
        (f"{OCI} --insecure --tls-ca-cert-ref ca", "`--insecure` is plain HTTP"),
        (f"{OCI} --bucket-insecure", "`--bucket-insecure` is for `--kind bucket`; this source is `oci`."),
        (
            "config create x -c c -u https://github.com/o/r --branch main "
            "--kustomization name=a substitute_from=Deployment:x",
            "takes `ConfigMap:NAME` or `Secret:NAME` items",
        ),
        ("config update x -c c --sp-client-id " + GUID_1 + " --bucket-name bbb", "belong to different source kinds"),
        ("config update x -c c -u oci://ghcr.io/o/m --branch main", "an `oci://` URL and `--branch`"),
    ],
)
def test_errors_name_the_right_flag_or_kind(text: str, expected: str) -> None:
    assert expected in error(text)


def test_update_of_an_oci_url_and_interval_names_no_source_kind() -> None:
    """The worker reads the configuration's kind; the grammar does not guess it (an OCI update once went out as
    a gitRepository block)."""
    command = update("config update x -c c -u oci://ghcr.io/org/other --interval 5m")

    assert command.patch == FluxConfigPatch(url="oci://ghcr.io/org/other", sync_interval_seconds=300)


@pytest.mark.parametrize(
    ("flags", "patch", "refs"),
    [
        ("--bucket-name new-bucket --bucket-insecure", FluxConfigPatch(bucket_name="new-bucket", insecure=True), None),
        ("--secret-key-ref s3/key", FluxConfigPatch(), CredentialRefs(secret_key="s3/key")),
        ("--local-auth-ref my-secret", FluxConfigPatch(local_auth_ref="my-secret"), None),
        ("--provider azure", FluxConfigPatch(provider="Azure"), None),
        ("--digest sha256:" + "ab" * 32, FluxConfigPatch(digest="sha256:" + "ab" * 32), None),
        (
            f"--sp-client-id {GUID_1} --sp-client-secret-ref sp/new",
            FluxConfigPatch(sp_client_id=GUID_1),
            CredentialRefs(sp_client_secret="sp/new"),
        ),
        ("--sas-token-ref blob/sas", FluxConfigPatch(), CredentialRefs(sas_token="blob/sas")),
        (
            f"--managed-identity-client-id {GUID_2}",
            FluxConfigPatch(managed_identity_client_id=GUID_2),
            None,
        ),
        ("--tag v2", FluxConfigPatch(ref=RepositoryRef(tag="v2")), None),
    ],
)
def test_update_changes_source_fields_of_any_kind(
    flags: str, patch: FluxConfigPatch, refs: CredentialRefs | None
) -> None:
    command = update(f"config update x -c c {flags}")

    assert command.patch == patch
    assert command.credentials == (refs or CredentialRefs())


def test_substitute_from_on_create() -> None:
    command = create(
        "config create x -c c -u https://github.com/o/r --branch main --kustomization name=apps path=./apps "
        "substitute=env:prod substituteFrom=ConfigMap:cluster-vars,Secret:cluster-secrets:optional"
    )

    assert command.spec.kustomizations == (
        Kustomization(
            name="apps",
            path="./apps",
            substitute=(("env", "prod"),),
            substitute_from=(
                SubstituteFrom(kind="ConfigMap", name="cluster-vars"),
                SubstituteFrom(kind="Secret", name="cluster-secrets", optional=True),
            ),
        ),
    )


def test_substitutions_change_and_clear_on_update() -> None:
    command = update("config update x -c c --kustomization name=apps substitute=env:prod substitute-from=")

    assert command.patch.kustomizations == (
        KustomizationChange(name="apps", substitute=(("env", "prod"),), substitute_from=()),
    )


def test_new_fields_survive_the_job_record() -> None:
    created = create(f"{BLOB} {SP} --sp-client-secret-ref sp/secret --kustomization name=a substitute_from=Secret:v")
    updated = update(f"config update x -c c --sp-client-id {GUID_1} --kustomization name=a substitute_from=Secret:v")

    assert command_codec.decode(command_codec.encode(created)) == created
    assert command_codec.decode(command_codec.encode(updated)) == updated
