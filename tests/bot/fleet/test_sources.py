"""Fleet files with Bucket, Azure Blob and OCI sources: read by ``bot.sources.build_source`` (the rules of
``/flux config create``), secrets only as references, planned and applied like Git sources."""

from __future__ import annotations

from dataclasses import replace

import pytest

from bot import flux_patch
from bot.commands import CredentialRefs
from bot.fleet import Action, CreateConfig, FieldDiff, FleetError, UpdateConfig, make_plan
from bot.fleet.fields import reason
from bot.models import (
    AzureBlobSource,
    BucketSource,
    FluxConfigPatch,
    FluxConfigSpec,
    FluxSource,
    GitSource,
    Kustomization,
    OciSource,
    RepositoryRef,
)
from bot.render.plan_markdown import render_plan
from bot.usage import UsageError
from tests.golden_files import assert_golden

from .fixtures import AKS, ARC, fleet, running, tutorial_spec

DIGEST = "sha256:" + "3b1f0c6e2a9d4b7c" * 4
MI = "2f9c1a7e-5b3d-4c8a-9e6f-0a1b2c3d4e5f"


def _cluster(source: str, name: str = "demo-arc", config: str = "cluster-config") -> str:
    """A cluster of the fleet file with one configuration following ``source`` (YAML under ``source:``)."""
    lines = "".join(f"          {line}\n" for line in source.strip().splitlines())
    return (
        f"  {name}:\n    configurations:\n      {config}:\n        namespace: cluster-config\n        source:\n{lines}"
        "        kustomizations:\n          infra:\n            path: ./infrastructure\n            prune: true\n"
    )


BUCKET_YAML = """
kind: bucket
url: https://s3.eu-west-1.amazonaws.com
bucketName: contoso-flux
accessKey: fluxreader
secretKeyRef: aws/fleet-reader
insecure: true
interval: 5m
"""
BUCKET = BucketSource(
    url="https://s3.eu-west-1.amazonaws.com",
    bucket_name="contoso-flux",
    access_key="fluxreader",
    insecure=True,
    sync_interval_seconds=300,
)
BLOB_KEY_YAML = """
kind: azblob
url: https://contosoflux.blob.core.windows.net
containerName: gitops
accountKeyRef: contoso-storage
"""
BLOB = AzureBlobSource(url="https://contosoflux.blob.core.windows.net", container_name="gitops")
BLOB_MI_YAML = f"""
kind: azblob
url: https://contosoflux.blob.core.windows.net
containerName: gitops
managedIdentityClientId: {MI}
"""
OCI_YAML = """
url: oci://contoso.azurecr.io/manifests/cluster-config
tag: v1.4.0
"""
OCI = OciSource(url="oci://contoso.azurecr.io/manifests/cluster-config", tag="v1.4.0")
OCI_DIGEST_YAML = f"""
kind: oci
url: oci://ghcr.io/contoso/cluster-config
digest: {DIGEST}
localAuthRef: ghcr-pull
"""


def _desired(yaml: str) -> tuple[FluxSource, CredentialRefs]:
    desired = fleet(_cluster(yaml))["demo-arc"]
    (config,) = desired.configurations
    return config.source, desired.credentials_for(config.name)


@pytest.mark.parametrize(
    ("yaml", "source", "refs"),
    [
        pytest.param(BUCKET_YAML, BUCKET, CredentialRefs(secret_key="aws/fleet-reader"), id="bucket"),
        pytest.param(BLOB_KEY_YAML, BLOB, CredentialRefs(account_key="contoso-storage"), id="azblob-key"),
        pytest.param(
            BLOB_KEY_YAML.replace("accountKeyRef: contoso-storage", "sasTokenRef: contoso-sas"),
            BLOB,
            CredentialRefs(sas_token="contoso-sas"),
            id="azblob-sas",
        ),
        pytest.param(BLOB_MI_YAML, replace(BLOB, managed_identity_client_id=MI), CredentialRefs(), id="azblob-mi"),
        pytest.param(OCI_YAML, OCI, CredentialRefs(), id="oci-implied"),
        pytest.param(
            OCI_DIGEST_YAML,
            OciSource(url="oci://ghcr.io/contoso/cluster-config", digest=DIGEST, local_auth_ref="ghcr-pull"),
            CredentialRefs(),
            id="oci-digest",
        ),
        pytest.param(
            "kind: oci\nurl: oci://ghcr.io/contoso/cluster-config\nsemver: '>=1.0.0'\n",
            OciSource(url="oci://ghcr.io/contoso/cluster-config", semver=">=1.0.0"),
            CredentialRefs(),
            id="oci-semver",
        ),
    ],
)
def test_each_source_kind_loads_with_its_references(yaml: str, source: FluxSource, refs: CredentialRefs) -> None:
    assert _desired(yaml) == (source, refs)


ERRORS = [
    ("kind: bucket\nurl: https://s3.example.com\n", "Which bucket? 'bucketName' is required with 'kind: bucket'"),
    (BUCKET_YAML.replace("secretKeyRef: aws/fleet-reader\n", ""), "'accessKey' and 'secretKeyRef' go together"),
    (BUCKET_YAML.replace("kind: bucket", "kind: git"), "'bucketName' is for 'kind: bucket'; this source is 'git'"),
    (BUCKET_YAML.replace("https://s3.eu-west-1.amazonaws.com", "s3.eu-west-1.amazonaws.com"), "'url' must start with"),
    (
        BUCKET_YAML.replace("aws/fleet-reader", "3f9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d3e2f1a"),
        "looks like a secret, not the name of one",
    ),
    (
        BLOB_KEY_YAML + "sasTokenRef: contoso-sas\n",
        "'accountKeyRef' and 'sasTokenRef' are two ways to authenticate",
    ),
    (BLOB_MI_YAML.replace(MI, "not-a-guid"), "'managedIdentityClientId' takes a GUID"),
    ("kind: oci\nurl: oci://ghcr.io/contoso/x\n", "Which version of the source? Give one of"),
    ("kind: oci\nurl: oci://ghcr.io/contoso/x\ntag: v1\ndigest: sha256:abc\n", "Give one of"),
    ("kind: git\nurl: oci://ghcr.io/contoso/x\ntag: v1\n", "an 'oci://' URL needs 'kind: oci'"),
    ("kind: s3\nurl: https://s3.example.com\n", "kind"),
]


@pytest.mark.parametrize(("yaml", "says"), ERRORS)
def test_a_broken_source_is_named_with_the_fleet_files_keys(yaml: str, says: str) -> None:
    with pytest.raises(FleetError) as caught:
        fleet(_cluster(yaml))
    text = str(caught.value)
    assert says in text, text
    assert "--" not in text.split("cluster-config.source", 1)[-1].split("\n", 1)[0]  # no /flux flags in a file


def test_plan_creates_each_kind_and_lists_its_fields() -> None:
    desired = fleet(
        _cluster(BUCKET_YAML, config="from-bucket")
        + _cluster(BLOB_MI_YAML, config="from-blob").replace("  demo-arc:\n    configurations:\n", "")
        + _cluster(OCI_YAML, config="from-oci").replace("  demo-arc:\n    configurations:\n", "")
    )
    plan = make_plan(desired, {"demo-arc": running("demo-arc", ARC)})
    assert plan.can_apply
    creates = {op.spec.name: op for op in plan.operations() if isinstance(op, CreateConfig)}
    assert creates["from-bucket"].spec.source == BUCKET
    assert creates["from-bucket"].credentials == CredentialRefs(secret_key="aws/fleet-reader")
    assert creates["from-oci"].spec.source == OCI
    fields = {c.name: c.fields for c in plan.clusters[0].configs}
    assert fields["from-bucket"][2:] == (
        FieldDiff("source.kind", None, "bucket"),
        FieldDiff("source.url", None, "https://s3.eu-west-1.amazonaws.com"),
        FieldDiff("source.bucketName", None, "contoso-flux"),
        FieldDiff("source.interval", None, 300),
        FieldDiff("source.timeout", None, 600),
        FieldDiff("source.accessKey", None, "fluxreader"),
        FieldDiff("source.insecure", None, True),
        FieldDiff("source.secretKeyRef", None, "aws/fleet-reader"),
    )
    assert FieldDiff("source.managedIdentityClientId", None, MI) in fields["from-blob"]
    assert FieldDiff("source.tag", None, "v1.4.0") in fields["from-oci"]


def _on_cluster(source: FluxSource) -> FluxConfigSpec:
    spec = tutorial_spec()
    return replace(
        spec, source=source, kustomizations=(Kustomization(name="infra", path="./infrastructure", prune=True),)
    )


@pytest.mark.parametrize(
    ("yaml", "source"),
    [
        pytest.param(BUCKET_YAML, BUCKET, id="bucket"),
        pytest.param(BLOB_KEY_YAML, BLOB, id="azblob"),
        pytest.param(OCI_YAML, OCI, id="oci"),
    ],
)
def test_a_configuration_as_declared_is_unchanged_and_a_kustomization_change_applies(
    yaml: str, source: FluxSource
) -> None:
    actual = {"demo-arc": running("demo-arc", ARC, _on_cluster(source))}
    assert make_plan(fleet(_cluster(yaml)), actual).clusters[0].configs[0].action is Action.UNCHANGED

    moved = _cluster(yaml).replace("path: ./infrastructure", "path: ./infra")
    plan = make_plan(fleet(moved), actual)
    (change,) = plan.clusters[0].configs
    assert change.action is Action.UPDATE and not change.all_blocked and plan.can_apply
    (op,) = plan.operations()
    assert isinstance(op, UpdateConfig)
    assert (op.patch.url, op.patch.ref, op.patch.sync_interval_seconds) == (None, None, None)  # no source block
    assert [k.path for k in op.patch.kustomizations] == ["./infra"]


@pytest.mark.parametrize(
    ("yaml", "source", "key", "patch"),
    [
        pytest.param(
            BUCKET_YAML.replace("contoso-flux", "contoso-other"),
            BUCKET,
            "bucketName",
            FluxConfigPatch(bucket_name="contoso-other", source_kind="Bucket"),
            id="bucket",
        ),
        pytest.param(
            BUCKET_YAML.replace("insecure: true", "insecure: false"),
            BUCKET,
            "insecure",
            FluxConfigPatch(insecure=False, source_kind="Bucket"),
            id="bucket-insecure-off",
        ),
        pytest.param(
            BLOB_MI_YAML,
            BLOB,
            "managedIdentityClientId",
            FluxConfigPatch(managed_identity_client_id=MI, source_kind="AzureBlob"),
            id="azblob",
        ),
        pytest.param(
            OCI_YAML.replace("v1.4.0", "v1.5.0"),
            OCI,
            "tag",
            FluxConfigPatch(ref=RepositoryRef(tag="v1.5.0"), source_kind="OCIRepository"),
            id="oci-tag",
        ),
        pytest.param(
            OCI_YAML + "provider: azure\n",
            OCI,
            "provider",
            FluxConfigPatch(provider="Azure", source_kind="OCIRepository"),
            id="oci-provider",
        ),
        pytest.param(
            BUCKET_YAML.replace("5m", "10m"),
            BUCKET,
            "interval",
            FluxConfigPatch(sync_interval_seconds=600, source_kind="Bucket"),
            id="bucket-interval",
        ),
    ],
)
def test_a_source_field_of_each_kind_is_patched_in_place_in_its_own_block(
    yaml: str, source: FluxSource, key: str, patch: FluxConfigPatch
) -> None:
    plan = make_plan(fleet(_cluster(yaml)), {"demo-arc": running("demo-arc", ARC, _on_cluster(source))})
    (change,) = plan.clusters[0].configs
    assert [f.path for f in change.fields] == [f"source.{key}"]
    assert change.blocked == ()
    (op,) = plan.operations()
    assert isinstance(op, UpdateConfig) and op.patch == patch
    assert flux_patch.misfits(op.patch, source.kind) == [], "nothing another kind's block would carry"


def test_an_oci_tag_replaced_by_a_digest_clears_the_tag() -> None:
    yaml = OCI_YAML.replace("tag: v1.4.0", f"digest: {DIGEST}")
    plan = make_plan(fleet(_cluster(yaml)), {"demo-arc": running("demo-arc", ARC, _on_cluster(OCI))})
    (op,) = plan.operations()
    assert isinstance(op, UpdateConfig)
    assert op.patch == FluxConfigPatch(digest=DIGEST, source_kind="OCIRepository")
    assert flux_patch.patched_source(OCI, op.patch) == replace(OCI, tag=None, digest=DIGEST)


@pytest.mark.parametrize(
    ("yaml", "source", "key", "why"),
    [
        pytest.param(
            BUCKET_YAML.replace("fluxreader", "fluxwriter"),
            BUCKET,
            "accessKey",
            "fluxops cannot change 'source.accessKey' in place",
            id="bucket-access-key",
        ),
        pytest.param(
            OCI_DIGEST_YAML,
            OciSource(url="oci://ghcr.io/contoso/cluster-config", digest=DIGEST, local_auth_ref="old-pull"),
            "localAuthRef",
            None,
            id="oci-local-auth-swapped",
        ),
        pytest.param(
            OCI_DIGEST_YAML.replace("localAuthRef: ghcr-pull\n", ""),
            OciSource(url="oci://ghcr.io/contoso/cluster-config", digest=DIGEST, local_auth_ref="ghcr-pull"),
            "localAuthRef",
            "'source.localAuthRef' cannot be removed in place",
            id="oci-local-auth-removed",
        ),
    ],
)
def test_what_goes_with_a_secret_or_cannot_be_unset_is_blocked(
    yaml: str, source: FluxSource, key: str, why: str | None
) -> None:
    plan = make_plan(fleet(_cluster(yaml)), {"demo-arc": running("demo-arc", ARC, _on_cluster(source))})
    (change,) = plan.clusters[0].configs
    assert [f.path for f in change.fields] == [f"source.{key}"]
    if why is None:
        assert change.blocked == () and len(plan.operations()) == 1
        return
    (blocked,) = change.blocked
    assert blocked.startswith(why) and "give the configuration a new name" in blocked
    assert plan.operations() == []


def test_a_bucket_credential_goes_through_the_scope_check() -> None:
    def refuse(cluster: object, name: str, url: str, refs: CredentialRefs, moving: bool) -> tuple[str, str] | None:
        return (
            ("secretKeyRef", f"credential '{refs.secret_key}' may not be used for {url}") if refs.secret_key else None
        )

    plan = make_plan(fleet(_cluster(BUCKET_YAML)), {"demo-arc": running("demo-arc", ARC)}, scope=refuse)
    [(name, reason)] = plan.clusters[0].blocked
    assert name == "cluster-config"
    assert reason.endswith(
        "configurations.cluster-config.source.secretKeyRef: credential 'aws/fleet-reader' may not be used for "
        "https://s3.eu-west-1.amazonaws.com/contoso-flux"  # a bucket is scoped as ENDPOINT/BUCKET
    )
    assert plan.operations() == []


def test_golden_plan_of_every_source_kind() -> None:
    desired = fleet(
        _cluster(BUCKET_YAML, name="demo-aks"),
        _cluster(BLOB_MI_YAML),
        _cluster(OCI_DIGEST_YAML, name="prod-weu"),
    )
    actual = {
        "demo-aks": running("demo-aks", AKS),
        "demo-arc": running("demo-arc", ARC, _on_cluster(BLOB)),
        "prod-weu": running("prod-weu", replace(ARC, name="aks-prod-weu")),
    }
    body = render_plan(make_plan(desired, actual), repo="contoso/fleet", number=9, head_sha="0" * 40, approved=True)
    assert_golden("plan/sources.md", body)


@pytest.mark.parametrize(
    ("message", "said"),
    [
        ("`--managed-identity-client-id` takes a GUID.", "'managedIdentityClientId' takes a GUID"),
        ("`--mi-client-id` takes a GUID.", "'managedIdentityClientId' takes a GUID"),
        ("`--access-key-id` and `--secret-key-ref` go together.", "'accessKey' and 'secretKeyRef' go together"),
        ("An `oci://` URL needs `--kind oci`.", "An 'oci://' URL needs 'kind: oci'"),
    ],
)
def test_messages_of_the_grammar_speak_in_fleet_keys(message: str, said: str) -> None:
    assert reason(UsageError(message)) == said


@pytest.mark.parametrize(
    ("yaml", "source", "refs"),
    [
        pytest.param(
            f"kind: azblob\nurl: {BLOB.url}\ncontainerName: gitops\nspClientId: {MI}\ntenantId: {MI}\n"
            "spClientSecretRef: contoso-sp\n",
            replace(BLOB, sp_client_id=MI, sp_tenant_id=MI),
            CredentialRefs(sp_client_secret="contoso-sp"),
            id="azblob-service-principal",
        ),
        pytest.param(
            f"kind: azblob\nurl: {BLOB.url}\ncontainerName: gitops\nspClientId: {MI}\ntenantId: {MI}\n"
            "spClientCertRef: sp-cert\nspClientCertPasswordRef: sp-pass\nspClientCertSendChain: true\n",
            replace(BLOB, sp_client_id=MI, sp_tenant_id=MI, sp_client_cert_send_chain=True),
            CredentialRefs(sp_client_cert="sp-cert", sp_client_cert_password="sp-pass"),
            id="azblob-certificate",
        ),
        pytest.param(
            OCI_YAML + "provider: azure\ninsecure: true\n",
            replace(OCI, use_workload_identity=True, insecure=True),
            CredentialRefs(),
            id="oci-workload-identity-insecure",
        ),
        pytest.param(
            OCI_YAML + "tlsClientCertRef: oci-cert\ntlsPrivateKeyRef: oci-key\ntlsCACertRef: oci-ca\n",
            OCI,
            CredentialRefs(tls_client_cert="oci-cert", tls_private_key="oci-key", tls_ca_cert="oci-ca"),
            id="oci-tls",
        ),
        pytest.param(
            "url: https://git.contoso.com/fleet\nbranch: main\nhttpsUser: flux\nhttpsKeyRef: git-token\n"
            "httpsCACertRef: contoso-ca\n",
            GitSource(url="https://git.contoso.com/fleet", ref=RepositoryRef(branch="main"), https_user="flux"),
            CredentialRefs(https_key="git-token", https_ca_cert="contoso-ca"),
            id="git-https-ca",
        ),
    ],
)
def test_the_az_authentication_keys_load_as_references(yaml: str, source: FluxSource, refs: CredentialRefs) -> None:
    assert _desired(yaml) == (source, refs)
