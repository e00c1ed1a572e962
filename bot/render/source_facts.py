"""What a configuration's source is, said the same way by every view: ``describe`` is the one place that
knows each source kind (Git, Bucket, Azure Blob, OCI) and what of it may be shown.

A description names the kind (ARM's ``sourceKind``), the URL, what of the source is followed (``branch main``,
``bucket flux``, ``container gitops``, ``tag v1``) and how it authenticates. Only what ARM returns is shown:
identifiers (an access key ID, a managed identity's client ID, an HTTPS user, a secret's name on the cluster),
never a secret value (ARM keeps those in ``configurationProtectedSettings`` and never returns them).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import assert_never

from bot.models import AzureBlobSource, BucketSource, FluxSource, GitSource, OciSource
from bot.render.wording import reference, short_revision

#: (what, value): ``("access key ID", "AKIA…")``; a None value: the words alone (``("insecure (plain HTTP)", None)``)
Fact = tuple[str, str | None]


@dataclass(frozen=True)
class SourceFacts:
    kind: str
    url: str
    #: what is followed: ("branch", "main"), ("bucket", "flux"), ("container", "gitops"), ("digest", "sha256:…")
    selector: tuple[str, str]
    #: how it authenticates and transport options; empty when there is nothing to say (a public repository)
    auth: tuple[Fact, ...]
    sync_interval_seconds: int
    timeout_seconds: int

    @property
    def kind_word(self) -> str:
        """The kind as ``--kind`` names it: git, bucket, azblob, oci."""
        return kind_word(self.kind)


#: ARM's sourceKind -> the ``--kind`` of /flux and fleet files
_KIND_WORDS = {"GitRepository": "git", "Bucket": "bucket", "AzureBlob": "azblob", "OCIRepository": "oci"}


def kind_word(source_kind: str) -> str:
    """``git`` for ``GitRepository``, ... ; a kind fluxops does not know as ARM names it."""
    return _KIND_WORDS.get(source_kind, source_kind)


_ON_CLUSTER = "secret on the cluster"


def describe(source: FluxSource) -> SourceFacts:
    """The source as views show it (no secret value is part of it)."""
    match source:
        case GitSource():
            what, _, value = reference(source.ref).partition(" ")
            selector, auth = (what, value), _git_auth(source)
        case BucketSource():
            selector, auth = ("bucket", source.bucket_name), _bucket_auth(source)
        case AzureBlobSource():
            selector, auth = ("container", source.container_name), _blob_auth(source)
        case OciSource():
            selector, auth = _oci_selector(source), _oci_auth(source)
        case _:
            assert_never(source)
    return SourceFacts(
        kind=source.kind,
        url=source.url,
        selector=selector,
        auth=auth,
        sync_interval_seconds=source.sync_interval_seconds,
        timeout_seconds=source.timeout_seconds,
    )


def _local(source: FluxSource) -> tuple[Fact, ...]:
    return ((_ON_CLUSTER, source.local_auth_ref),) if source.local_auth_ref else ()


def _git_auth(source: GitSource) -> tuple[Fact, ...]:
    facts: list[Fact] = []
    if (source.provider or "").lower() == "azure":
        facts.append(("workload identity (provider azure)", None))
    if source.https_user:
        facts.append(("HTTPS user", source.https_user))
    facts += _local(source)
    if source.ssh_known_hosts:
        facts.append(("known hosts pinned", None))
    if source.https_ca_cert:
        facts.append(("own HTTPS CA certificate", None))
    return tuple(facts)


def _bucket_auth(source: BucketSource) -> tuple[Fact, ...]:
    facts: list[Fact] = []
    if source.access_key:
        facts.append(("access key ID", source.access_key))
    facts += _local(source)
    if source.insecure:
        facts.append(("insecure (plain HTTP)", None))
    return tuple(facts)


def _blob_auth(source: AzureBlobSource) -> tuple[Fact, ...]:
    # a secret or certificate of the service principal is never returned by ARM, so it is not shown
    tenant = source.sp_tenant_id
    if source.managed_identity_client_id:
        return (("managed identity, client ID", source.managed_identity_client_id),)
    if source.sp_client_id:
        return (("service principal, client ID", source.sp_client_id), *((("tenant", tenant),) if tenant else ()))
    if source.local_auth_ref:
        return _local(source)
    return (("account key or SAS token, if one was given (never shown)", None),)


def _oci_selector(source: OciSource) -> tuple[str, str]:
    if source.digest:
        return "digest", short_revision(source.digest)
    if source.semver:
        return "semver", source.semver
    return "tag", source.tag or "latest"


def _oci_auth(source: OciSource) -> tuple[Fact, ...]:
    facts: list[Fact] = []
    if source.use_workload_identity:
        facts.append(("workload identity (provider azure)", None))
    facts += _local(source)
    if source.insecure:
        facts.append(("insecure (plain HTTP)", None))
    return tuple(facts)
