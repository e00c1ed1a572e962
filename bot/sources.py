"""A Flux source — git, bucket, azblob or oci — as fluxops describes it, and the rules az applies to it.

No grammar here: the ``/flux`` flags (``bot.grammar.sources``) and a fleet file's ``source:`` (``bot.fleet``)
both hand their values over as ``SourceFields``, each by field name and as the person spelled it (for messages);
``build_source`` turns them into a ``bot.models`` source and the credential references it names.

Kinds: ``git`` (default), ``bucket``, ``azblob``, ``oci`` (an ``oci://`` URL implies it). Each kind has its
own fields; a field of another kind is an error that names the right ``--kind``. Authentication rules:
SSH-only options need an SSH URL, HTTPS credentials need an ``http(s)`` URL and come as a pair,
``--local-auth-ref`` excludes every other credential, and secrets only ever come as references.
Azure DevOps has no per-repository deploy keys, so ``--deploy-key generate`` is refused for its URLs
with the two ways it does authenticate.
"""

from __future__ import annotations

import re
from typing import Protocol

from bot import azure_devops_repos
from bot.commands import CredentialRefs
from bot.models import AzureBlobSource, BucketSource, FluxSource, GitSource, OciSource, RepositoryRef
from bot.usage import UsageError, code, one_of, shown
from bot.values import (
    choice,
    commit_sha,
    credential_ref,
    dns_subdomain,
    git_ref_name,
    git_url,
    guid,
    http_url,
    oci_digest,
    oci_url,
    seconds,
    semver_range,
)


class SourceFields(Protocol):
    """The fields a source was written with, by name (the ``/flux`` grammar's ``Options`` is one)."""

    def given(self, dest: str, /) -> bool:
        """Whether the field was written at all."""
        ...

    def value(self, dest: str, /) -> str | None:
        """The field's text (None: not given, or a switch)."""
        ...

    def switch(self, dest: str, /) -> bool | None:
        """The field as a true/false switch (None: not given)."""
        ...

    def spelled(self, dest: str, /) -> str:
        """The field as the person wrote it (``-u``, ``--url``, ``url``), for messages."""
        ...


_KINDS = {
    "git": "git",
    "gitrepository": "git",
    "bucket": "bucket",
    "azblob": "azblob",
    "azureblob": "azblob",
    "azure-blob": "azblob",
    "blob": "azblob",
    "oci": "oci",
    "ocirepository": "oci",
}
#: flags that only one source kind (or two) takes
_KIND_OF_FLAG: dict[str, tuple[str, ...]] = {
    "branch": ("git",),
    "commit": ("git",),
    "tag": ("git", "oci"),
    "semver": ("git", "oci"),
    "digest": ("oci",),
    "deploy_key": ("git",),
    "https_user": ("git",),
    "https_key_ref": ("git",),
    "ssh_private_key_ref": ("git",),
    "known_hosts_ref": ("git",),
    "provider": ("git",),
    "bucket_name": ("bucket",),
    "access_key": ("bucket",),
    "secret_key_ref": ("bucket",),
    "bucket_insecure": ("bucket",),
    "container_name": ("azblob",),
    "account_key_ref": ("azblob",),
    "sas_token_ref": ("azblob",),
    "mi_client_id": ("azblob",),
}
_SSH_ONLY = ("ssh_private_key_ref", "known_hosts_ref", "deploy_key")
_HTTPS_ONLY = ("https_user", "https_key_ref")
_GIT_REFS = ("branch", "tag", "semver", "commit")
_OCI_REFS = ("tag", "semver", "digest")
_BUCKET_NAME = re.compile(r"^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$")
_CONTAINER_NAME = re.compile(r"^[a-z0-9](?!.*--)[a-z0-9-]{1,61}[a-z0-9]$")
_OCI_TAG = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9._-]{0,127}$")
_ACCESS_KEY = re.compile(r"^[A-Za-z0-9+/=._-]{3,128}$")
_HTTPS_USER = re.compile(r"^[^\s:@/]{1,256}$")


def source_kind(fields: SourceFields) -> str:
    """git, bucket, azblob or oci: ``--kind``, else oci for an ``oci://`` URL, else git."""
    given = fields.value("kind")
    if given is not None:
        return choice(given, code(fields.spelled("kind")), _KINDS, ("git", "bucket", "azblob", "oci"))
    url = fields.value("url") or ""
    return "oci" if url.lower().startswith("oci://") else "git"


def check_kind_flags(fields: SourceFields, kind: str) -> None:
    """No flag of another source kind."""
    for dest, kinds in _KIND_OF_FLAG.items():
        if fields.given(dest) and kind not in kinds:
            wanted = " or ".join(f"`--kind {k}`" for k in kinds)
            raise UsageError(
                f"{code(fields.spelled(dest))} is for {wanted}; this source is `{kind}`.",
                hint=f"Add {wanted}, or leave {code(fields.spelled(dest))} out."
                if not fields.given("kind")
                else f"Leave {code(fields.spelled(dest))} out.",
                usage=True,
            )


def _one_of(fields: SourceFields, dests: tuple[str, ...], *, required: bool) -> tuple[str, str] | None:
    given = [dest for dest in dests if fields.given(dest)]
    names = one_of(f"--{d}" for d in dests)
    if len(given) > 1:
        raise UsageError(
            f"Give one of {names}, not {code(fields.spelled(given[0]))} and {code(fields.spelled(given[1]))}.",
            usage=True,
        )
    if not given:
        if required:
            raise UsageError(f"Which version of the source? Give one of {names}.", usage=True)
        return None
    value = fields.value(given[0])
    assert value is not None
    return given[0], value


def repository_ref(fields: SourceFields, *, required: bool) -> RepositoryRef | None:
    """Exactly one (``required``) or at most one of ``--branch``, ``--tag``, ``--semver``, ``--commit``."""
    found = _one_of(fields, _GIT_REFS, required=required)
    if found is None:
        return None
    dest, value = found
    what = code(fields.spelled(dest))
    if dest == "branch":
        return RepositoryRef(branch=git_ref_name(value, what))
    if dest == "tag":
        return RepositoryRef(tag=git_ref_name(value, what))
    if dest == "semver":
        return RepositoryRef(semver=semver_range(value, what))
    return RepositoryRef(commit=commit_sha(value, what))


def _ref(fields: SourceFields, dest: str) -> str | None:
    value = fields.value(dest)
    return credential_ref(value, code(fields.spelled(dest))) if value is not None else None


def check_git_auth(fields: SourceFields, *, ssh: bool | None) -> None:
    """The az rules for git credentials; ``ssh`` is whether the URL is SSH (None: no URL given)."""
    if ssh is False:
        for dest in _SSH_ONLY:
            if fields.given(dest):
                raise UsageError(
                    f"{code(fields.spelled(dest))} only works with SSH URLs (`ssh://...` or `git@host:path`), "
                    "and this URL is HTTP(S).",
                    hint="Use an SSH URL, or `--https-user USER --https-key-ref REF` for HTTPS.",
                )
    if ssh is True:
        for dest in _HTTPS_ONLY:
            if fields.given(dest):
                raise UsageError(
                    f"{code(fields.spelled(dest))} only works with `https://` or `http://` URLs, and this URL is SSH.",
                    hint="Use an HTTPS URL, or `--ssh-private-key-ref REF` / `--deploy-key generate` for SSH.",
                )
    if fields.given("https_user") != fields.given("https_key_ref"):
        missing = "--https-key-ref REF" if fields.given("https_user") else "--https-user USER"
        raise UsageError("`--https-user` and `--https-key-ref` go together.", hint=f"Add {code(missing)}.", usage=True)
    if fields.given("deploy_key"):
        if (fields.value("deploy_key") or "").lower() != "generate":
            raise UsageError(
                "`--deploy-key` takes only `generate`: fluxops makes the key.",
                hint="To use a key fluxops already holds, write `--ssh-private-key-ref REF`.",
            )
        if fields.given("ssh_private_key_ref"):
            raise UsageError("`--deploy-key generate` and `--ssh-private-key-ref` both give the key.", hint="Keep one.")
    credentials = [d for d in ("https_key_ref", "ssh_private_key_ref", "deploy_key") if fields.given(d)]
    if fields.given("local_auth_ref") and credentials:
        raise UsageError(
            f"`--local-auth-ref` and {code(fields.spelled(credentials[0]))} both give credentials.",
            hint="`--local-auth-ref` names a secret already on the cluster; keep one of them.",
        )
    if (fields.value("provider") or "").lower() == "azure":
        if credentials or fields.given("local_auth_ref"):
            raise UsageError(
                "`--provider azure` authenticates with the cluster's workload identity; it takes no other credentials."
            )
        if ssh is True:
            raise UsageError("`--provider azure` works with `https://` Azure DevOps URLs, not SSH.")


def https_user(fields: SourceFields) -> str | None:
    value = fields.value("https_user")
    if value is None:
        return None
    if not _HTTPS_USER.match(value):
        raise UsageError(f"{code(fields.spelled('https_user'))} is not a valid user name: {shown(value)}.")
    return value


def git_credentials(fields: SourceFields) -> CredentialRefs:
    return CredentialRefs(
        https_key=_ref(fields, "https_key_ref"),
        ssh_private_key=_ref(fields, "ssh_private_key_ref"),
        known_hosts=_ref(fields, "known_hosts_ref"),
    )


def _durations(fields: SourceFields) -> tuple[int, int]:
    """(timeout, sync interval) in seconds, 600 each by default."""
    timeout = fields.value("timeout")
    interval = fields.value("interval")
    return (
        seconds(timeout, code(fields.spelled("timeout"))) if timeout is not None else 600,
        seconds(interval, code(fields.spelled("interval"))) if interval is not None else 600,
    )


def _local_auth_ref(fields: SourceFields) -> str | None:
    value = fields.value("local_auth_ref")
    return dns_subdomain(value, code(fields.spelled("local_auth_ref"))) if value is not None else None


def _url(fields: SourceFields) -> str:
    value = fields.value("url")
    if value is None:
        raise UsageError("Where is the source? `-u URL` is required.", usage=True)
    return value


def _git(fields: SourceFields) -> tuple[GitSource, CredentialRefs, bool]:
    text = _url(fields)
    if text.lower().startswith("oci://"):
        raise UsageError("An `oci://` URL needs `--kind oci`.", usage=True)
    url, ssh = git_url(text, code(fields.spelled("url")))
    ref = repository_ref(fields, required=True)
    assert ref is not None
    generate = fields.given("deploy_key")
    # before the SSH-only check: for an Azure DevOps URL "use an SSH URL" would not help
    if generate and azure_devops_repos.is_azure_devops(url):
        raise azure_devops_repos.no_deploy_keys_on_ado(url)
    check_git_auth(fields, ssh=ssh)
    if generate and not ssh:
        raise UsageError(
            "`--deploy-key generate` makes an SSH key, so the URL must be SSH.",
            hint="For GitHub write `git@github.com:ORG/REPO.git`.",
        )
    provider = fields.value("provider")
    timeout, interval = _durations(fields)
    source = GitSource(
        url=url,
        ref=ref,
        https_user=https_user(fields),
        local_auth_ref=_local_auth_ref(fields),
        provider=choice(provider, "`--provider`", {"azure": "Azure", "generic": "Generic"}, ("azure", "generic"))
        if provider is not None
        else None,
        timeout_seconds=timeout,
        sync_interval_seconds=interval,
    )
    return source, git_credentials(fields), generate


def _bucket(fields: SourceFields) -> tuple[BucketSource, CredentialRefs]:
    url = http_url(_url(fields), code(fields.spelled("url")))
    name = fields.value("bucket_name")
    if name is None:
        raise UsageError("Which bucket? `--bucket-name BUCKET` is required with `--kind bucket`.", usage=True)
    if not _BUCKET_NAME.match(name) or ".." in name:
        raise UsageError(f"`--bucket-name` is not a valid bucket name: {shown(name)}.")
    access_key = fields.value("access_key")
    if access_key is not None and not _ACCESS_KEY.match(access_key):
        raise UsageError("`--access-key` takes an access key ID (letters and digits).")
    if fields.given("access_key") != fields.given("secret_key_ref"):
        missing = "--secret-key-ref REF" if fields.given("access_key") else "--access-key ACCESS_KEY_ID"
        raise UsageError("`--access-key` and `--secret-key-ref` go together.", hint=f"Add {code(missing)}.")
    if fields.given("local_auth_ref") and fields.given("secret_key_ref"):
        raise UsageError("`--local-auth-ref` and `--secret-key-ref` both give credentials.", hint="Keep one of them.")
    timeout, interval = _durations(fields)
    source = BucketSource(
        url=url,
        bucket_name=name,
        access_key=access_key,
        insecure=bool(fields.switch("bucket_insecure")),
        timeout_seconds=timeout,
        sync_interval_seconds=interval,
        local_auth_ref=_local_auth_ref(fields),
    )
    return source, CredentialRefs(secret_key=_ref(fields, "secret_key_ref"))


def _azure_blob(fields: SourceFields) -> tuple[AzureBlobSource, CredentialRefs]:
    url = http_url(_url(fields), code(fields.spelled("url")))
    name = fields.value("container_name")
    if name is None:
        raise UsageError("Which container? `--container-name CONTAINER` is required with `--kind azblob`.", usage=True)
    if not _CONTAINER_NAME.match(name):
        raise UsageError(f"`--container-name` is not a valid blob container name: {shown(name)}.")
    auth = [d for d in ("account_key_ref", "sas_token_ref", "mi_client_id", "local_auth_ref") if fields.given(d)]
    if len(auth) > 1:
        raise UsageError(
            f"{code(fields.spelled(auth[0]))} and {code(fields.spelled(auth[1]))} are two ways to authenticate.",
            hint="Azure Blob sources take one of `--account-key-ref`, `--sas-token-ref`, `--mi-client-id` and "
            "`--local-auth-ref`.",
        )
    client_id = fields.value("mi_client_id")
    timeout, interval = _durations(fields)
    source = AzureBlobSource(
        url=url,
        container_name=name,
        managed_identity_client_id=guid(client_id, "`--mi-client-id`") if client_id is not None else None,
        timeout_seconds=timeout,
        sync_interval_seconds=interval,
        local_auth_ref=_local_auth_ref(fields),
    )
    return source, CredentialRefs(account_key=_ref(fields, "account_key_ref"), sas_token=_ref(fields, "sas_token_ref"))


def _oci(fields: SourceFields) -> OciSource:
    url = oci_url(_url(fields), code(fields.spelled("url")))
    dest, value = _one_of(fields, _OCI_REFS, required=True) or ("", "")
    what = code(fields.spelled(dest))
    if dest == "tag" and not _OCI_TAG.match(value):
        raise UsageError(f"{what} is not a valid OCI tag: {shown(value)}.")
    timeout, interval = _durations(fields)
    return OciSource(
        url=url,
        tag=value if dest == "tag" else None,
        semver=semver_range(value, what) if dest == "semver" else None,
        digest=oci_digest(value, what) if dest == "digest" else None,
        timeout_seconds=timeout,
        sync_interval_seconds=interval,
        local_auth_ref=_local_auth_ref(fields),
    )


def build_source(fields: SourceFields) -> tuple[FluxSource, CredentialRefs, bool]:
    """The source ``config create`` asks for, its credential references, and whether to generate a deploy key."""
    kind = source_kind(fields)
    check_kind_flags(fields, kind)
    if kind == "git":
        return _git(fields)
    if kind == "bucket":
        bucket, refs = _bucket(fields)
        return bucket, refs, False
    if kind == "azblob":
        blob, refs = _azure_blob(fields)
        return blob, refs, False
    return _oci(fields), CredentialRefs(), False


def any_url(fields: SourceFields) -> tuple[str, bool | None]:
    """The URL of ``config update`` (kind unknown): git, http(s) or oci; and whether it is SSH."""
    text = _url(fields)
    what = code(fields.spelled("url"))
    if text.lower().startswith("oci://"):
        return oci_url(text, what), None
    return git_url(text, what)
