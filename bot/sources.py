"""A Flux source — git, bucket, azblob or oci — as fluxops describes it, and the rules az applies to it.

No grammar here: the ``/flux`` flags (``bot.grammar.sources``) and a fleet file's ``source:`` (``bot.fleet``)
both hand their values over as ``SourceFields`` (``bot.source_fields``); ``build_source`` turns them into a
``bot.models`` source and the credential references it names, ``source_changes`` into what ``config update``
changes. Git is here; bucket, Azure Blob and OCI are in ``bot.source_kinds``.

Kinds: ``git`` (default), ``bucket``, ``azblob``, ``oci`` (an ``oci://`` URL implies it). Each kind has its
own fields; a field of another kind is an error that names the right ``--kind`` (on update, where the kind is
the configuration's, two fields of different kinds are). Authentication rules: SSH-only options need an SSH
URL, HTTPS credentials need an ``http(s)`` URL and come as a pair, ``--local-auth-ref`` excludes every other
credential, and secrets only ever come as references. Azure DevOps has no per-repository deploy keys, so
``--deploy-key generate`` is refused for its URLs with the two ways it does authenticate.
"""

from __future__ import annotations

import re

from bot import azure_devops_repos, source_kinds
from bot.commands import CredentialRefs
from bot.models import FluxConfigPatch, FluxSource, GitSource, RepositoryRef
from bot.source_fields import SourceFields, credentials, durations, local_auth_ref, one_given, required_url
from bot.usage import UsageError, code, shown
from bot.values import choice, commit_sha, git_ref_name, git_url, oci_url, seconds, semver_range

__all__ = ["SourceFields", "build_source", "source_changes"]

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
    "https_ca_cert_ref": ("git",),
    "ssh_private_key_ref": ("git",),
    "known_hosts_ref": ("git",),
    "provider": ("git", "oci"),
    "bucket_name": ("bucket",),
    "access_key": ("bucket",),
    "secret_key_ref": ("bucket",),
    "bucket_insecure": ("bucket",),
    "container_name": ("azblob",),
    "account_key_ref": ("azblob",),
    "sas_token_ref": ("azblob",),
    "mi_client_id": ("azblob",),
    **{dest: ("azblob",) for dest in source_kinds.SERVICE_PRINCIPAL},
    "insecure": ("oci",),
    "tls_client_cert_ref": ("oci",),
    "tls_private_key_ref": ("oci",),
    "tls_ca_cert_ref": ("oci",),
}
_SSH_ONLY = ("ssh_private_key_ref", "known_hosts_ref", "deploy_key")
_HTTPS_ONLY = ("https_user", "https_key_ref", "https_ca_cert_ref")
_GIT_REFS = ("branch", "tag", "semver", "commit")
_HTTPS_USER = re.compile(r"^[^\s:@/]{1,256}$")
_PROVIDERS = {"azure": "Azure", "generic": "Generic"}


def source_kind(fields: SourceFields) -> str:
    """git, bucket, azblob or oci: ``--kind``, else oci for an ``oci://`` URL, else git."""
    given = fields.value("kind")
    if given is not None:
        return choice(given, code(fields.spelled("kind")), _KINDS, ("git", "bucket", "azblob", "oci"))
    url = fields.value("url") or ""
    return "oci" if url.lower().startswith("oci://") else "git"


def _wanted(kinds: tuple[str, ...]) -> str:
    return " or ".join(f"`--kind {k}`" for k in kinds)


def check_kind_flags(fields: SourceFields, kind: str) -> None:
    """No flag of another source kind."""
    for dest, kinds in _KIND_OF_FLAG.items():
        if fields.given(dest) and kind not in kinds:
            wanted = _wanted(kinds)
            raise UsageError(
                f"{code(fields.spelled(dest))} is for {wanted}; this source is `{kind}`.",
                hint=f"Add {wanted}, or leave {code(fields.spelled(dest))} out."
                if not fields.given("kind")
                else f"Leave {code(fields.spelled(dest))} out.",
                usage=True,
            )


def implied_kinds(fields: SourceFields) -> tuple[str, ...]:
    """The source kinds the given flags fit (``config update``: the configuration's kind decides, but two
    flags of different kinds never fit one configuration)."""
    kinds: tuple[str, ...] = ("git", "bucket", "azblob", "oci")
    first: str | None = None
    url = (fields.value("url") or "").lower()
    if url.startswith("oci://"):
        kinds, first = ("oci",), "url"
    for dest, allowed in _KIND_OF_FLAG.items():
        if not fields.given(dest):
            continue
        narrowed = tuple(k for k in kinds if k in allowed)
        if not narrowed:
            assert first is not None
            before = "an `oci://` URL" if first == "url" else code(fields.spelled(first))
            raise UsageError(
                f"{before} and {code(fields.spelled(dest))} belong to different source kinds "
                f"({_wanted(kinds)} and {_wanted(allowed)}); a configuration has one.",
                hint="Change only what its kind takes; leave one of them out.",
                usage=True,
            )
        kinds, first = narrowed, first or dest
    return kinds


def repository_ref(fields: SourceFields, *, required: bool) -> RepositoryRef | None:
    """Exactly one (``required``) or at most one of ``--branch``, ``--tag``, ``--semver``, ``--commit``."""
    found = one_given(fields, _GIT_REFS, required=required)
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


def provider(fields: SourceFields) -> str | None:
    """``--provider``: "Azure" or "Generic" (ARM's spelling)."""
    value = fields.value("provider")
    return choice(value, code(fields.spelled("provider")), _PROVIDERS, ("azure", "generic")) if value else None


def _generate_needs_ssh(ssh: bool | None) -> None:
    if not ssh:
        raise UsageError(
            "`--deploy-key generate` makes an SSH key, so the URL must be SSH.",
            hint="For GitHub write `git@github.com:ORG/REPO.git`.",
        )


def _git(fields: SourceFields) -> tuple[GitSource, CredentialRefs, bool]:
    text = required_url(fields)
    if text.lower().startswith("oci://"):
        raise UsageError("An `oci://` URL needs `--kind oci`.", usage=True)
    url, ssh = git_url(text, code(fields.spelled("url")))
    ref_ = repository_ref(fields, required=True)
    assert ref_ is not None
    generate = fields.given("deploy_key")
    # before the SSH-only check: for an Azure DevOps URL "use an SSH URL" would not help
    if generate and azure_devops_repos.is_azure_devops(url):
        raise azure_devops_repos.no_deploy_keys_on_ado(url)
    check_git_auth(fields, ssh=ssh)
    if generate:
        _generate_needs_ssh(ssh)
    timeout, interval = durations(fields)
    source = GitSource(
        url=url,
        ref=ref_,
        https_user=https_user(fields),
        local_auth_ref=local_auth_ref(fields),
        provider=provider(fields),
        timeout_seconds=timeout,
        sync_interval_seconds=interval,
    )
    return source, credentials(fields), generate


def build_source(fields: SourceFields) -> tuple[FluxSource, CredentialRefs, bool]:
    """The source ``config create`` asks for, its credential references, and whether to generate a deploy key."""
    kind = source_kind(fields)
    check_kind_flags(fields, kind)
    if kind == "git":
        return _git(fields)
    if kind == "bucket":
        bucket, refs = source_kinds.bucket(fields)
        return bucket, refs, False
    if kind == "azblob":
        blob, refs = source_kinds.azure_blob(fields)
        return blob, refs, False
    oci, refs = source_kinds.oci(fields)
    return oci, refs, False


def any_url(fields: SourceFields) -> tuple[str, bool | None]:
    """The URL of ``config update`` (kind unknown): git, http(s) or oci; and whether it is SSH."""
    text = required_url(fields)
    what = code(fields.spelled("url"))
    if text.lower().startswith("oci://"):
        return oci_url(text, what), None
    return git_url(text, what)


def _version(fields: SourceFields, kinds: tuple[str, ...]) -> tuple[RepositoryRef | None, str | None]:
    """(git or OCI tag/semver as a RepositoryRef, OCI digest) that ``config update`` gives, if any."""
    if kinds == ("oci",):
        found = source_kinds.oci_version(fields, required=False)
        if found is None:
            return None, None
        dest, value = found
        return (None, value) if dest == "digest" else (RepositoryRef(**{dest: value}), None)
    return repository_ref(fields, required=False), None


def source_changes(fields: SourceFields) -> tuple[FluxConfigPatch, CredentialRefs, bool]:
    """What ``config update`` changes in the source (a merge patch of its source fields, for whatever kind the
    configuration is), the credentials it names, and whether to generate a deploy key."""
    kinds = implied_kinds(fields)
    url, ssh = any_url(fields) if fields.given("url") else (None, None)
    ref_, digest = _version(fields, kinds)
    generate = fields.given("deploy_key")
    if generate and url is not None and azure_devops_repos.is_azure_devops(url):
        raise azure_devops_repos.no_deploy_keys_on_ado(url)
    if "git" in kinds:
        check_git_auth(fields, ssh=ssh)
    if generate:
        _generate_needs_ssh(ssh)
    source_kinds.check_bucket_auth(fields)
    source_kinds.check_blob_auth(fields, create=False)
    source_kinds.check_oci_tls(fields)
    if kinds == ("oci",):
        source_kinds.oci_workload_identity(fields)
    timeout, interval = fields.value("timeout"), fields.value("interval")
    insecure = fields.switch("bucket_insecure") if fields.given("bucket_insecure") else fields.switch("insecure")
    patch = FluxConfigPatch(
        url=url,
        ref=ref_,
        digest=digest,
        https_user=https_user(fields),
        sync_interval_seconds=seconds(interval, code(fields.spelled("interval"))) if interval is not None else None,
        timeout_seconds=seconds(timeout, code(fields.spelled("timeout"))) if timeout is not None else None,
        local_auth_ref=local_auth_ref(fields),
        provider=provider(fields),
        bucket_name=source_kinds.bucket_name(fields),
        access_key=source_kinds.access_key(fields),
        insecure=insecure,
        container_name=source_kinds.container_name(fields),
        managed_identity_client_id=source_kinds.guid_field(fields, "mi_client_id"),
        sp_client_id=source_kinds.guid_field(fields, "sp_client_id"),
        sp_tenant_id=source_kinds.guid_field(fields, "sp_tenant_id"),
        sp_client_cert_send_chain=fields.switch("sp_client_cert_send_chain"),
    )
    return patch, credentials(fields), generate
