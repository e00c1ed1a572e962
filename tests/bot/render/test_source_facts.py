"""``describe``: each source kind as views show it, and what config show / list print of it."""

from __future__ import annotations

import pytest

from bot.models import AzureBlobSource, BucketSource, FluxConfigState, FluxSource, GitSource, OciSource, RepositoryRef
from bot.render.slack import render
from bot.render.source_facts import Fact, describe
from bot.views import JobView, Phase
from cli.slack_text import blocks_to_text
from tests.bot.render import source_views as sv
from tests.bot.render import tutorial_views as tv

SHA = tv.SHA


@pytest.mark.parametrize(
    ("source", "kind", "selector", "auth"),
    [
        (GitSource("u", RepositoryRef(branch="main")), "GitRepository", ("branch", "main"), ()),
        (GitSource("u", RepositoryRef(commit=SHA)), "GitRepository", ("commit", "4f1bdad4d0a5"), ()),
        (GitSource("u", RepositoryRef(semver=">=1.0")), "GitRepository", ("semver", ">=1.0"), ()),
        (
            GitSource("u", RepositoryRef(tag="v1"), provider="Azure", local_auth_ref="s", ssh_known_hosts="a2g="),
            "GitRepository",
            ("tag", "v1"),
            (
                ("workload identity (provider azure)", None),
                ("secret on the cluster", "s"),
                ("known hosts pinned", None),
            ),
        ),
        (BucketSource("u", "flux"), "Bucket", ("bucket", "flux"), ()),
        (
            sv.BUCKET,
            "Bucket",
            ("bucket", "contoso-flux"),
            (("access key ID", "AKIAIOSFODNN7EXAMPLE"), ("insecure (plain HTTP)", None)),
        ),
        (
            sv.BLOB_MI,
            "AzureBlob",
            ("container", "gitops"),
            (("managed identity, client ID", "2f9c1a7e-5b3d-4c8a-9e6f-0a1b2c3d4e5f"),),
        ),
        (sv.BLOB_LOCAL, "AzureBlob", ("container", "gitops"), (("secret on the cluster", "blob-credentials"),)),
        (
            sv.BLOB_KEY,
            "AzureBlob",
            ("container", "gitops"),
            (("account key or SAS token, if one was given (never shown)", None),),
        ),
        (OciSource("oci://x", tag="v1"), "OCIRepository", ("tag", "v1"), ()),
        (OciSource("oci://x"), "OCIRepository", ("tag", "latest"), ()),
        (sv.OCI_SEMVER, "OCIRepository", ("semver", ">=1.0.0 <2.0.0"), ()),
        (sv.OCI_DIGEST, "OCIRepository", ("digest", "sha256:3b1f0c6e2a9d"), (("secret on the cluster", "ghcr-pull"),)),
    ],
)
def test_describe_each_kind(source: FluxSource, kind: str, selector: tuple[str, str], auth: tuple[Fact, ...]) -> None:
    facts = describe(source)
    assert (facts.kind, facts.url, facts.selector, facts.auth) == (kind, source.url, selector, auth)
    assert (facts.sync_interval_seconds, facts.timeout_seconds) == (
        source.sync_interval_seconds,
        source.timeout_seconds,
    )


def _text(view: JobView) -> str:
    return "\n".join(blocks_to_text(m.blocks, m.text) for m in render(view))


@pytest.mark.parametrize(
    ("case", "lines"),
    [
        (
            "config_show_bucket",
            (
                "Source: Bucket https://s3.eu-west-1.amazonaws.com",
                "Reference: bucket `contoso-flux`",
                "Auth: access key ID `AKIAIOSFODNN7EXAMPLE` · insecure (plain HTTP)",
                "Sync: every 5m, timeout 10m",
            ),
        ),
        (
            "config_show_azblob_identity",
            (
                "Reference: container `gitops`",
                "Auth: managed identity, client ID `2f9c1a7e-5b3d-4c8a-9e6f-0a1b2c3d4e5f`",
            ),
        ),
        (
            "config_show_oci_digest",
            ("Source: OCIRepository `oci://ghcr.io/contoso/cluster-config`", "Reference: digest `sha256:3b1f0c6e2a9d`"),
        ),
        ("config_show_git_https", ("Auth: HTTPS user `flux`",)),
    ],
)
def test_config_show_says_what_the_source_is(case: str, lines: tuple[str, ...]) -> None:
    view = sv.CASES[case]()
    assert isinstance(view, JobView)
    shown = _text(view).splitlines()
    for line in lines:
        assert line in shown


def test_a_public_git_repository_has_no_auth_line() -> None:
    assert "Auth:" not in _text(tv.tutorial_compliant())


def test_config_list_names_each_source() -> None:
    text = _text(sv.config_list_sources())
    for row in (
        "✅ cluster-config · Compliant · provisioning Succeeded · git branch `main` · ",
        "✅ from-bucket · Compliant · provisioning Succeeded · bucket `contoso-flux` · ",
        "✅ from-blob · Compliant · provisioning Succeeded · azblob container `gitops` · ",
        "✅ from-oci · Compliant · provisioning Succeeded · oci tag `v1.4.0` · ",
    ):
        assert row in text


def test_config_list_of_a_kind_fluxops_does_not_model_names_the_kind() -> None:
    config = FluxConfigState(tv.ARC, None, "HelmRepository", "Succeeded", "Compliant")
    view = JobView(job_id="j", actor=tv.ALICE, title="config list", phase=Phase.SUCCEEDED, configs=(config,))
    assert " · HelmRepository · no revision yet · 0 kustomizations" in _text(view)


@pytest.mark.parametrize(
    ("source", "auth"),
    [
        (
            AzureBlobSource("u", "c", sp_client_id="c1", sp_tenant_id="t1"),
            (("service principal, client ID", "c1"), ("tenant", "t1")),
        ),
        (
            OciSource("oci://x/y", tag="v1", use_workload_identity=True),
            (("workload identity (provider azure)", None),),
        ),
        (OciSource("oci://x/y", tag="v1", insecure=True), (("insecure (plain HTTP)", None),)),
        (
            GitSource("u", RepositoryRef(branch="main"), https_ca_cert=True),
            (("own HTTPS CA certificate", None),),
        ),
    ],
)
def test_service_principal_workload_identity_insecure_and_ca_are_shown(
    source: FluxSource, auth: tuple[Fact, ...]
) -> None:
    assert describe(source).auth == auth
