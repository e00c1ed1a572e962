"""Configurations with each source kind Flux on Azure takes (Slack and Markdown goldens share these cases).

The same tutorial layout (kustomizations infra and apps) served from an S3-compatible bucket, an Azure Blob
container and an OCI repository, as ``config show`` and ``config list`` show them: identifiers only (access
key ID, client IDs, secret names on the cluster), never a secret.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace

from bot.models import AzureBlobSource, BucketSource, FluxConfigState, FluxSource, GitSource, OciSource, RepositoryRef
from bot.views import JobView, Phase, View
from tests.bot.render import tutorial_views as tv

DIGEST = "sha256:3b1f0c6e2a9d4b7c8e5f1a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d5e6f"

BUCKET = BucketSource(
    url="https://s3.eu-west-1.amazonaws.com",
    bucket_name="contoso-flux",
    access_key="AKIAIOSFODNN7EXAMPLE",
    insecure=True,
    sync_interval_seconds=300,
)
BLOB_MI = AzureBlobSource(
    url="https://contosoflux.blob.core.windows.net",
    container_name="gitops",
    managed_identity_client_id="2f9c1a7e-5b3d-4c8a-9e6f-0a1b2c3d4e5f",
)
BLOB_KEY = AzureBlobSource(url="https://contosoflux.blob.core.windows.net", container_name="gitops")
BLOB_LOCAL = replace(BLOB_KEY, local_auth_ref="blob-credentials")
OCI_TAG = OciSource(url="oci://contoso.azurecr.io/manifests/cluster-config", tag="v1.4.0")
OCI_DIGEST = OciSource(url="oci://ghcr.io/contoso/cluster-config", digest=DIGEST, local_auth_ref="ghcr-pull")
OCI_SEMVER = OciSource(url="oci://ghcr.io/contoso/cluster-config", semver=">=1.0.0 <2.0.0")
GIT_HTTPS = GitSource(
    url="https://dev.azure.com/contoso/platform/_git/fleet", ref=RepositoryRef(branch="main"), https_user="flux"
)


def _state(source: FluxSource, revision: str) -> FluxConfigState:
    """The tutorial's configuration, Compliant, following ``source`` (its source object of that kind)."""
    source_object = replace(
        tv.SOURCE_OK, kind=source.kind, conditions=(tv.ready("True", "Succeeded", f"stored artifact for {revision}"),)
    )
    return replace(
        tv.COMPLIANT,
        spec=replace(tv.TUTORIAL_SPEC, source=source),
        source_kind=source.kind,
        source_synced_commit=revision,
        statuses=(source_object, *tv.COMPLIANT.statuses[1:]),
    )


def _show(source: FluxSource, revision: str) -> Callable[[], View]:
    def view() -> JobView:
        return JobView(
            job_id="j-20220406-50c0de",
            actor=tv.ALICE,
            title="config show cluster-config on flux-demo-arc",
            phase=Phase.SUCCEEDED,
            config=_state(source, revision),
        )

    return view


def config_list_sources() -> JobView:
    """One configuration of each kind on the cluster."""
    configs = tuple(
        replace(_state(source, revision), spec=replace(tv.TUTORIAL_SPEC, name=name, source=source))
        for name, source, revision in (
            ("cluster-config", tv.TUTORIAL_SPEC.source, tv.REVISION),
            ("from-bucket", BUCKET, "sha256:9f86d081884c"),
            ("from-blob", BLOB_MI, "sha256:60303ae22b99"),
            ("from-oci", OCI_TAG, "v1.4.0@sha256:2c26b46b68ff"),
        )
    )
    return JobView(
        job_id="j-20220409-50c0de",
        actor=tv.BOB,
        title="config list on flux-demo-arc",
        phase=Phase.SUCCEEDED,
        configs=configs,
    )


CASES: dict[str, Callable[[], View]] = {
    "config_show_bucket": _show(BUCKET, "sha256:9f86d081884c"),
    "config_show_azblob_identity": _show(BLOB_MI, "sha256:60303ae22b99"),
    "config_show_azblob_key": _show(BLOB_KEY, "sha256:60303ae22b99"),
    "config_show_azblob_local": _show(BLOB_LOCAL, "sha256:60303ae22b99"),
    "config_show_oci_tag": _show(OCI_TAG, "v1.4.0@sha256:2c26b46b68ff"),
    "config_show_oci_digest": _show(OCI_DIGEST, f"sha256:{DIGEST[7:]}"),
    "config_show_oci_semver": _show(OCI_SEMVER, "v1.2.0@sha256:2c26b46b68ff"),
    "config_show_git_https": _show(GIT_HTTPS, tv.REVISION),
    "config_list_sources": config_list_sources,
}
