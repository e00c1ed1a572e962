"""A fleet file's ``source:``: a Git repository, an S3-compatible bucket, an Azure Blob container or an OCI
repository, built by ``bot.sources.build_source``, the very function ``/flux config create`` uses, so a fleet
file and a command take the same fields by the same rules (keys in camelCase, their messages in keys)::

    source: {url: https://github.com/org/fleet, branch: main}            # kind: git (the default)
    source:
      kind: bucket
      url: https://s3.eu-west-1.amazonaws.com
      bucketName: contoso-flux
      accessKey: AKIAIOSFODNN7EXAMPLE     # the access key ID; the secret key by reference:
      secretKeyRef: aws/fleet-reader
      insecure: false                     # true: plain HTTP
    source:
      kind: azblob
      url: https://contosoflux.blob.core.windows.net
      containerName: gitops
      accountKeyRef: NAME                 # or sasTokenRef: NAME, or managedIdentityClientId: GUID,
                                          # or localAuthRef: a secret already on the cluster, or a service
                                          # principal: spClientId, tenantId and spClientSecretRef (or
                                          # spClientCertRef [+ spClientCertPasswordRef, spClientCertSendChain])
    source: {url: oci://contoso.azurecr.io/manifests, tag: v1.4.0}      # kind: oci (implied); or semver, digest
    source:
      url: oci://contoso.azurecr.io/manifests
      semver: ">=1.4.0"
      provider: azure                     # the cluster's workload identity; or localAuthRef, or TLS material:
      tlsClientCertRef: NAME              # tlsClientCertRef + tlsPrivateKeyRef, tlsCACertRef; insecure: plain HTTP
      tlsPrivateKeyRef: NAME
    source: {url: https://git.contoso.com/fleet, branch: main, httpsUser: flux, httpsKeyRef: NAME,
             httpsCACertRef: NAME}        # git: the CA certificate of a private HTTPS server, by name

Secrets only ever come as references (``*Ref``: the NAME of a credential fluxops holds).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool, model_validator

from bot import sources
from bot.commands import CredentialRefs
from bot.fleet.fields import (
    OCI_SOURCE_FIELDS,
    SOURCE_FIELDS,
    CommitSha,
    CredentialRef,
    Duration,
    GitRefName,
    HttpsUser,
    SecretName,
    SemverRange,
    SourceUrl,
    reason,
)
from bot.models import FluxSource
from bot.usage import UsageError


def _title(name: str, _: object) -> str:
    return name  # the key as it is written


@dataclass(frozen=True)
class _YamlSource:
    """A fleet file's source keys as ``bot.sources.SourceFields``: values by field, spelled as YAML keys."""

    values: Mapping[str, str]
    switches: Mapping[str, bool]
    keys: Mapping[str, str]

    def given(self, dest: str, /) -> bool:
        return dest in self.values or dest in self.switches

    def value(self, dest: str, /) -> str | None:
        return self.values.get(dest)

    def switch(self, dest: str, /) -> bool | None:
        return self.switches.get(dest)

    def spelled(self, dest: str, /) -> str:
        return self.keys.get(dest, dest)


_GIT_REFS = ("branch", "tag", "semver", "commit")


class SourceDocument(BaseModel):
    """What a configuration follows (``kind``: git, bucket, azblob or oci); credentials only by name."""

    model_config = ConfigDict(extra="forbid", frozen=True, field_title_generator=_title)

    kind: Literal["git", "bucket", "azblob", "oci"] | None = Field(
        None, description="git (default), bucket, azblob or oci (an oci:// URL implies it)"
    )
    url: SourceUrl
    # git (tag and semver: oci too)
    branch: GitRefName | None = None
    tag: GitRefName | None = None
    semver: SemverRange | None = None
    commit: CommitSha | None = None
    provider: Literal["azure", "generic"] | None = Field(
        None, description="azure: the cluster's workload identity (git: Azure DevOps; oci: the registry)"
    )
    httpsUser: HttpsUser | None = None
    httpsKeyRef: CredentialRef | None = None
    httpsCACertRef: CredentialRef | None = Field(None, description="git: the HTTPS server's CA certificate, by name")
    sshPrivateKeyRef: CredentialRef | None = None
    knownHostsRef: CredentialRef | None = None
    # oci
    digest: str | None = Field(None, description="oci: sha256:<64 hex>")
    tlsClientCertRef: CredentialRef | None = Field(None, description="oci: a TLS client certificate, by name")
    tlsPrivateKeyRef: CredentialRef | None = Field(None, description="oci: the client certificate's key, by name")
    tlsCACertRef: CredentialRef | None = Field(None, description="oci: the registry's CA certificate, by name")
    # bucket
    bucketName: str | None = Field(None, description="bucket: the bucket's name")
    accessKey: str | None = Field(None, description="bucket: the access key ID (with secretKeyRef)")
    secretKeyRef: CredentialRef | None = Field(None, description="bucket: the secret key, by name")
    insecure: StrictBool | None = Field(None, description="bucket or oci: true for plain HTTP")
    # azblob
    containerName: str | None = Field(None, description="azblob: the container's name")
    accountKeyRef: CredentialRef | None = Field(None, description="azblob: the account key, by name")
    sasTokenRef: CredentialRef | None = Field(None, description="azblob: a SAS token, by name")
    managedIdentityClientId: str | None = Field(None, description="azblob: a managed identity's client ID")
    spClientId: str | None = Field(None, description="azblob: a service principal's client ID")
    tenantId: str | None = Field(None, description="azblob: the service principal's tenant ID")
    spClientSecretRef: CredentialRef | None = Field(None, description="azblob: the service principal's secret")
    spClientCertRef: CredentialRef | None = Field(None, description="azblob: its certificate (PEM with key)")
    spClientCertPasswordRef: CredentialRef | None = Field(None, description="azblob: the certificate's password")
    spClientCertSendChain: StrictBool | None = Field(None, description="azblob: send the certificate chain")
    # every kind
    localAuthRef: SecretName | None = Field(None, description="a Kubernetes secret already on the cluster")
    interval: Duration | None = Field(None, description="sync interval (default 10m)")
    timeout: Duration | None = Field(None, description="default 10m")

    @model_validator(mode="after")
    def _rules(self) -> SourceDocument:
        fields = self._fields()
        try:  # first: a key of another kind (a bucket's keys under git say so, not "which version?")
            sources.check_kind_flags(fields, sources.source_kind(fields))
        except UsageError as err:
            raise ValueError(reason(err)) from None
        if (self.kind or "git") == "git" and not self.url.lower().startswith("oci://"):
            given = [key for key in _GIT_REFS if getattr(self, key) is not None]
            if not given:
                raise ValueError("which version of the repository? give one of branch, tag, semver or commit")
            if len(given) > 1:
                raise ValueError(f"give one of branch, tag, semver or commit, not {' and '.join(given)}")
        self.build()
        return self

    def build(self) -> tuple[FluxSource, CredentialRefs]:
        """The source and its credential references, by the rules of ``/flux config create`` (ValueError if broken)."""
        try:
            source, refs, _ = sources.build_source(self._fields())
        except UsageError as err:
            raise ValueError(reason(err)) from None
        source = replace(
            source,
            timeout_seconds=self.timeout if self.timeout is not None else 600,
            sync_interval_seconds=self.interval if self.interval is not None else 600,
        )
        return source, refs

    def _fields(self) -> _YamlSource:
        given = {key: getattr(self, key) for key in SOURCE_FIELDS if getattr(self, key, None) is not None}
        oci = self.kind == "oci" or (self.kind is None and self.url.lower().startswith("oci://"))
        table = {**SOURCE_FIELDS, **OCI_SOURCE_FIELDS} if oci else SOURCE_FIELDS
        return _YamlSource(
            values={table[k][0]: str(v) for k, v in given.items() if not isinstance(v, bool)},
            switches={table[k][0]: v for k, v in given.items() if isinstance(v, bool)},
            keys={table[k][0]: k for k in given},
        )
