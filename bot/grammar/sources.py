"""The source of a Flux configuration: its flags per kind, and the rules az applies to them.

Kinds: ``git`` (default), ``bucket``, ``azblob``, ``oci`` (an ``oci://`` URL implies it). Each kind has its
own flags; a flag of another kind is an error that names the right ``--kind``. Authentication rules:
SSH-only options need an SSH URL, HTTPS credentials need an ``http(s)`` URL and come as a pair,
``--local-auth-ref`` excludes every other credential, and secrets only ever come as references.
Azure DevOps has no per-repository deploy keys, so ``--deploy-key generate`` is refused for its URLs
with the two ways it does authenticate.
"""

from __future__ import annotations

import re

from bot.commands import CredentialRefs
from bot.grammar.flags import Arity, Flag, Options
from bot.grammar.usage import UsageError, code, one_of, shown
from bot.grammar.values import (
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
from bot.models import AzureBlobSource, BucketSource, FluxSource, GitSource, OciSource, RepositoryRef
from bot.repo_urls import canonical_repo

URL = Flag("url", ("--url", "-u"), metavar="URL")
BRANCH = Flag("branch", ("--branch",), metavar="BRANCH")
TAG = Flag("tag", ("--tag",), metavar="TAG")
SEMVER = Flag("semver", ("--semver",), metavar="RANGE")
COMMIT = Flag("commit", ("--commit",), metavar="SHA")
DIGEST = Flag("digest", ("--digest",), metavar="sha256:DIGEST")
KIND = Flag("kind", ("--kind", "--source-kind"), metavar="git|bucket|azblob|oci")
INTERVAL = Flag("interval", ("--interval", "--sync-interval"), metavar="DURATION")
TIMEOUT = Flag("timeout", ("--timeout",), metavar="DURATION")
DEPLOY_KEY = Flag("deploy_key", ("--deploy-key",), metavar="generate")
HTTPS_USER = Flag("https_user", ("--https-user",), metavar="USER")
HTTPS_KEY_REF = Flag("https_key_ref", ("--https-key-ref",), metavar="REF")
SSH_KEY_REF = Flag("ssh_private_key_ref", ("--ssh-private-key-ref",), metavar="REF")
KNOWN_HOSTS_REF = Flag("known_hosts_ref", ("--known-hosts-ref",), metavar="REF")
LOCAL_AUTH_REF = Flag("local_auth_ref", ("--local-auth-ref", "--local-ref"), metavar="SECRET")
PROVIDER = Flag("provider", ("--provider",), metavar="azure|generic")
BUCKET_NAME = Flag("bucket_name", ("--bucket-name",), metavar="BUCKET")
ACCESS_KEY = Flag("access_key", ("--access-key", "--access-key-id"), metavar="ACCESS_KEY_ID")
SECRET_KEY_REF = Flag("secret_key_ref", ("--secret-key-ref",), metavar="REF")
BUCKET_INSECURE = Flag("bucket_insecure", ("--bucket-insecure",), Arity.OPTIONAL_BOOL)
CONTAINER_NAME = Flag("container_name", ("--container-name",), metavar="CONTAINER")
ACCOUNT_KEY_REF = Flag("account_key_ref", ("--account-key-ref",), metavar="REF")
SAS_TOKEN_REF = Flag("sas_token_ref", ("--sas-token-ref",), metavar="REF")
MI_CLIENT_ID = Flag("mi_client_id", ("--mi-client-id",), metavar="GUID")

SOURCE_FLAGS: tuple[Flag, ...] = (
    URL,
    BRANCH,
    TAG,
    SEMVER,
    COMMIT,
    DIGEST,
    KIND,
    INTERVAL,
    TIMEOUT,
    DEPLOY_KEY,
    HTTPS_USER,
    HTTPS_KEY_REF,
    SSH_KEY_REF,
    KNOWN_HOSTS_REF,
    LOCAL_AUTH_REF,
    PROVIDER,
    BUCKET_NAME,
    ACCESS_KEY,
    SECRET_KEY_REF,
    BUCKET_INSECURE,
    CONTAINER_NAME,
    ACCOUNT_KEY_REF,
    SAS_TOKEN_REF,
    MI_CLIENT_ID,
)

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
#: Azure DevOps hosts, also in URLs ``canonical_repo`` cannot read (a path that is not org/project/_git/repo)
_ADO_HOST = re.compile(
    r"(?i)^(?:[a-z][a-z0-9+.-]*://)?(?:[^@/]*@)?"
    r"(?:ssh\.dev\.azure\.com|dev\.azure\.com|[^@/:]+\.visualstudio\.com)(?:[:/]|$)"
)
_ADO_SEGMENT = re.compile(r"^[A-Za-z0-9._~%-]+$")


def source_kind(options: Options) -> str:
    """git, bucket, azblob or oci: ``--kind``, else oci for an ``oci://`` URL, else git."""
    given = options.value("kind")
    if given is not None:
        return choice(given, code(options.spelled("kind")), _KINDS, ("git", "bucket", "azblob", "oci"))
    url = options.value("url") or ""
    return "oci" if url.lower().startswith("oci://") else "git"


def check_kind_flags(options: Options, kind: str) -> None:
    """No flag of another source kind."""
    for dest, kinds in _KIND_OF_FLAG.items():
        if options.given(dest) and kind not in kinds:
            wanted = " or ".join(f"`--kind {k}`" for k in kinds)
            raise UsageError(
                f"{code(options.spelled(dest))} is for {wanted}; this source is `{kind}`.",
                hint=f"Add {wanted}, or leave {code(options.spelled(dest))} out."
                if not options.given("kind")
                else f"Leave {code(options.spelled(dest))} out.",
                usage=True,
            )


def _one_of(options: Options, dests: tuple[str, ...], *, required: bool) -> tuple[str, str] | None:
    given = [dest for dest in dests if options.given(dest)]
    names = one_of(f"--{d}" for d in dests)
    if len(given) > 1:
        raise UsageError(
            f"Give one of {names}, not {code(options.spelled(given[0]))} and {code(options.spelled(given[1]))}.",
            usage=True,
        )
    if not given:
        if required:
            raise UsageError(f"Which version of the source? Give one of {names}.", usage=True)
        return None
    value = options.value(given[0])
    assert value is not None
    return given[0], value


def repository_ref(options: Options, *, required: bool) -> RepositoryRef | None:
    """Exactly one (``required``) or at most one of ``--branch``, ``--tag``, ``--semver``, ``--commit``."""
    found = _one_of(options, _GIT_REFS, required=required)
    if found is None:
        return None
    dest, value = found
    what = code(options.spelled(dest))
    if dest == "branch":
        return RepositoryRef(branch=git_ref_name(value, what))
    if dest == "tag":
        return RepositoryRef(tag=git_ref_name(value, what))
    if dest == "semver":
        return RepositoryRef(semver=semver_range(value, what))
    return RepositoryRef(commit=commit_sha(value, what))


def is_azure_devops(url: str) -> bool:
    """Whether ``url`` names an Azure DevOps repository, in any of its spellings."""
    found = canonical_repo(url)
    return found[0] == "dev.azure.com" if found is not None else _ADO_HOST.match(url) is not None


def ado_https_url(url: str) -> str:
    """The HTTPS spelling of an Azure DevOps repository URL, or a template when it cannot be made."""
    found = canonical_repo(url)
    parts = found[1].split("/") if found is not None else []
    if len(parts) == 3 and all(_ADO_SEGMENT.match(part) for part in parts):
        return "https://dev.azure.com/{}/{}/_git/{}".format(*parts)
    return "https://dev.azure.com/ORG/PROJECT/_git/REPO"


def no_deploy_keys_on_ado(url: str) -> UsageError:
    https = ado_https_url(url)
    return UsageError(
        "`--deploy-key generate` cannot work with Azure DevOps: it has no per-repository deploy keys and no API "
        "to add SSH keys.",
        hint=f"Use HTTPS with a credential fluxops holds: {code(f'-u {https} --https-user USER --https-key-ref REF')} "
        "(after you change the credential, `/flux key rotate --https-key-ref REF` hands it to the configurations); "
        f"or the cluster's workload identity: {code(f'-u {https} --provider azure')}.",
    )


def _ref(options: Options, dest: str) -> str | None:
    value = options.value(dest)
    return credential_ref(value, code(options.spelled(dest))) if value is not None else None


def check_git_auth(options: Options, *, ssh: bool | None) -> None:
    """The az rules for git credentials; ``ssh`` is whether the URL is SSH (None: no URL given)."""
    if ssh is False:
        for dest in _SSH_ONLY:
            if options.given(dest):
                raise UsageError(
                    f"{code(options.spelled(dest))} only works with SSH URLs (`ssh://...` or `git@host:path`), "
                    "and this URL is HTTP(S).",
                    hint="Use an SSH URL, or `--https-user USER --https-key-ref REF` for HTTPS.",
                )
    if ssh is True:
        for dest in _HTTPS_ONLY:
            if options.given(dest):
                raise UsageError(
                    f"{code(options.spelled(dest))} only works with `https://` or `http://` URLs, and this URL is SSH.",
                    hint="Use an HTTPS URL, or `--ssh-private-key-ref REF` / `--deploy-key generate` for SSH.",
                )
    if options.given("https_user") != options.given("https_key_ref"):
        missing = "--https-key-ref REF" if options.given("https_user") else "--https-user USER"
        raise UsageError("`--https-user` and `--https-key-ref` go together.", hint=f"Add {code(missing)}.", usage=True)
    if options.given("deploy_key"):
        if (options.value("deploy_key") or "").lower() != "generate":
            raise UsageError(
                "`--deploy-key` takes only `generate`: fluxops makes the key.",
                hint="To use a key fluxops already holds, write `--ssh-private-key-ref REF`.",
            )
        if options.given("ssh_private_key_ref"):
            raise UsageError("`--deploy-key generate` and `--ssh-private-key-ref` both give the key.", hint="Keep one.")
    credentials = [d for d in ("https_key_ref", "ssh_private_key_ref", "deploy_key") if options.given(d)]
    if options.given("local_auth_ref") and credentials:
        raise UsageError(
            f"`--local-auth-ref` and {code(options.spelled(credentials[0]))} both give credentials.",
            hint="`--local-auth-ref` names a secret already on the cluster; keep one of them.",
        )
    if (options.value("provider") or "").lower() == "azure":
        if credentials or options.given("local_auth_ref"):
            raise UsageError(
                "`--provider azure` authenticates with the cluster's workload identity; it takes no other credentials."
            )
        if ssh is True:
            raise UsageError("`--provider azure` works with `https://` Azure DevOps URLs, not SSH.")


def https_user(options: Options) -> str | None:
    value = options.value("https_user")
    if value is None:
        return None
    if not _HTTPS_USER.match(value):
        raise UsageError(f"{code(options.spelled('https_user'))} is not a valid user name: {shown(value)}.")
    return value


def git_credentials(options: Options) -> CredentialRefs:
    return CredentialRefs(
        https_key=_ref(options, "https_key_ref"),
        ssh_private_key=_ref(options, "ssh_private_key_ref"),
        known_hosts=_ref(options, "known_hosts_ref"),
    )


def _durations(options: Options) -> tuple[int, int]:
    """(timeout, sync interval) in seconds, 600 each by default."""
    timeout = options.value("timeout")
    interval = options.value("interval")
    return (
        seconds(timeout, code(options.spelled("timeout"))) if timeout is not None else 600,
        seconds(interval, code(options.spelled("interval"))) if interval is not None else 600,
    )


def _local_auth_ref(options: Options) -> str | None:
    value = options.value("local_auth_ref")
    return dns_subdomain(value, code(options.spelled("local_auth_ref"))) if value is not None else None


def _url(options: Options) -> str:
    value = options.value("url")
    if value is None:
        raise UsageError("Where is the source? `-u URL` is required.", usage=True)
    return value


def _git(options: Options) -> tuple[GitSource, CredentialRefs, bool]:
    text = _url(options)
    if text.lower().startswith("oci://"):
        raise UsageError("An `oci://` URL needs `--kind oci`.", usage=True)
    url, ssh = git_url(text, code(options.spelled("url")))
    ref = repository_ref(options, required=True)
    assert ref is not None
    generate = options.given("deploy_key")
    # before the SSH-only check: for an Azure DevOps URL "use an SSH URL" would not help
    if generate and is_azure_devops(url):
        raise no_deploy_keys_on_ado(url)
    check_git_auth(options, ssh=ssh)
    if generate and not ssh:
        raise UsageError(
            "`--deploy-key generate` makes an SSH key, so the URL must be SSH.",
            hint="For GitHub write `git@github.com:ORG/REPO.git`.",
        )
    provider = options.value("provider")
    timeout, interval = _durations(options)
    source = GitSource(
        url=url,
        ref=ref,
        https_user=https_user(options),
        local_auth_ref=_local_auth_ref(options),
        provider=choice(provider, "`--provider`", {"azure": "Azure", "generic": "Generic"}, ("azure", "generic"))
        if provider is not None
        else None,
        timeout_seconds=timeout,
        sync_interval_seconds=interval,
    )
    return source, git_credentials(options), generate


def _bucket(options: Options) -> tuple[BucketSource, CredentialRefs]:
    url = http_url(_url(options), code(options.spelled("url")))
    name = options.value("bucket_name")
    if name is None:
        raise UsageError("Which bucket? `--bucket-name BUCKET` is required with `--kind bucket`.", usage=True)
    if not _BUCKET_NAME.match(name) or ".." in name:
        raise UsageError(f"`--bucket-name` is not a valid bucket name: {shown(name)}.")
    access_key = options.value("access_key")
    if access_key is not None and not _ACCESS_KEY.match(access_key):
        raise UsageError("`--access-key` takes an access key ID (letters and digits).")
    if options.given("access_key") != options.given("secret_key_ref"):
        missing = "--secret-key-ref REF" if options.given("access_key") else "--access-key ACCESS_KEY_ID"
        raise UsageError("`--access-key` and `--secret-key-ref` go together.", hint=f"Add {code(missing)}.")
    if options.given("local_auth_ref") and options.given("secret_key_ref"):
        raise UsageError("`--local-auth-ref` and `--secret-key-ref` both give credentials.", hint="Keep one of them.")
    timeout, interval = _durations(options)
    source = BucketSource(
        url=url,
        bucket_name=name,
        access_key=access_key,
        insecure=bool(options.switch("bucket_insecure")),
        timeout_seconds=timeout,
        sync_interval_seconds=interval,
        local_auth_ref=_local_auth_ref(options),
    )
    return source, CredentialRefs(secret_key=_ref(options, "secret_key_ref"))


def _azure_blob(options: Options) -> tuple[AzureBlobSource, CredentialRefs]:
    url = http_url(_url(options), code(options.spelled("url")))
    name = options.value("container_name")
    if name is None:
        raise UsageError("Which container? `--container-name CONTAINER` is required with `--kind azblob`.", usage=True)
    if not _CONTAINER_NAME.match(name):
        raise UsageError(f"`--container-name` is not a valid blob container name: {shown(name)}.")
    auth = [d for d in ("account_key_ref", "sas_token_ref", "mi_client_id", "local_auth_ref") if options.given(d)]
    if len(auth) > 1:
        raise UsageError(
            f"{code(options.spelled(auth[0]))} and {code(options.spelled(auth[1]))} are two ways to authenticate.",
            hint="Azure Blob sources take one of `--account-key-ref`, `--sas-token-ref`, `--mi-client-id` and "
            "`--local-auth-ref`.",
        )
    client_id = options.value("mi_client_id")
    timeout, interval = _durations(options)
    source = AzureBlobSource(
        url=url,
        container_name=name,
        managed_identity_client_id=guid(client_id, "`--mi-client-id`") if client_id is not None else None,
        timeout_seconds=timeout,
        sync_interval_seconds=interval,
        local_auth_ref=_local_auth_ref(options),
    )
    return source, CredentialRefs(
        account_key=_ref(options, "account_key_ref"), sas_token=_ref(options, "sas_token_ref")
    )


def _oci(options: Options) -> OciSource:
    url = oci_url(_url(options), code(options.spelled("url")))
    dest, value = _one_of(options, _OCI_REFS, required=True) or ("", "")
    what = code(options.spelled(dest))
    if dest == "tag" and not _OCI_TAG.match(value):
        raise UsageError(f"{what} is not a valid OCI tag: {shown(value)}.")
    timeout, interval = _durations(options)
    return OciSource(
        url=url,
        tag=value if dest == "tag" else None,
        semver=semver_range(value, what) if dest == "semver" else None,
        digest=oci_digest(value, what) if dest == "digest" else None,
        timeout_seconds=timeout,
        sync_interval_seconds=interval,
        local_auth_ref=_local_auth_ref(options),
    )


def build_source(options: Options) -> tuple[FluxSource, CredentialRefs, bool]:
    """The source ``config create`` asks for, its credential references, and whether to generate a deploy key."""
    kind = source_kind(options)
    check_kind_flags(options, kind)
    if kind == "git":
        return _git(options)
    if kind == "bucket":
        bucket, refs = _bucket(options)
        return bucket, refs, False
    if kind == "azblob":
        blob, refs = _azure_blob(options)
        return blob, refs, False
    return _oci(options), CredentialRefs(), False


def any_url(options: Options) -> tuple[str, bool | None]:
    """The URL of ``config update`` (kind unknown): git, http(s) or oci; and whether it is SSH."""
    text = _url(options)
    what = code(options.spelled("url"))
    if text.lower().startswith("oci://"):
        return oci_url(text, what), None
    return git_url(text, what)
