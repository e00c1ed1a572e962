"""The values of fleet files, each checked by the ``/flux`` grammar's own validator (one rule, two spellings).

A validator's ``UsageError`` becomes pydantic's ``ValueError``, its message said in the fleet file's words:
flags become keys (``reason``). Each type also carries the JSON schema an editor checks it with.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Annotated, Any

from pydantic import AfterValidator, BeforeValidator, ValidationInfo, WithJsonSchema

from bot.flux_settings import SETTINGS, find_setting
from bot.usage import UsageError, code
from bot.values import (
    cluster_name,
    commit_sha,
    credential_ref,
    dns_label,
    dns_subdomain,
    git_ref_name,
    git_url,
    http_url,
    oci_url,
    path,
    seconds,
    semver_range,
    version,
)

_SUBSTITUTE_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
#: a selector key: a tag name, or ``name``/``resource_group``/``type``/``subscription`` (as `/flux clusters --selector`)
_SELECTOR_KEY_PATTERN = r"^[A-Za-z0-9_.\-/]{1,512}$"
_SELECTOR_KEY = re.compile(_SELECTOR_KEY_PATTERN)

#: YAML source key -> (its field in bot.sources, the /flux flag that field's messages name)
SOURCE_FIELDS: dict[str, tuple[str, str]] = {
    "url": ("url", "--url"),
    "branch": ("branch", "--branch"),
    "tag": ("tag", "--tag"),
    "semver": ("semver", "--semver"),
    "commit": ("commit", "--commit"),
    "provider": ("provider", "--provider"),
    "httpsUser": ("https_user", "--https-user"),
    "httpsKeyRef": ("https_key_ref", "--https-key-ref"),
    "sshPrivateKeyRef": ("ssh_private_key_ref", "--ssh-private-key-ref"),
    "knownHostsRef": ("known_hosts_ref", "--known-hosts-ref"),
    "localAuthRef": ("local_auth_ref", "--local-auth-ref"),
    "kind": ("kind", "--kind"),
    "digest": ("digest", "--digest"),
    "bucketName": ("bucket_name", "--bucket-name"),
    "accessKey": ("access_key", "--access-key"),
    "secretKeyRef": ("secret_key_ref", "--secret-key-ref"),
    "insecure": ("bucket_insecure", "--bucket-insecure"),
    "containerName": ("container_name", "--container-name"),
    "accountKeyRef": ("account_key_ref", "--account-key-ref"),
    "sasTokenRef": ("sas_token_ref", "--sas-token-ref"),
    "managedIdentityClientId": ("mi_client_id", "--mi-client-id"),
    "spClientId": ("sp_client_id", "--sp-client-id"),
    "tenantId": ("sp_tenant_id", "--tenant-id"),
    "spClientSecretRef": ("sp_client_secret_ref", "--sp-client-secret-ref"),
    "spClientCertRef": ("sp_client_cert_ref", "--sp-client-cert-ref"),
    "spClientCertPasswordRef": ("sp_client_cert_password_ref", "--sp-client-cert-password-ref"),
    "spClientCertSendChain": ("sp_client_cert_send_chain", "--sp-client-cert-send-chain"),
    "httpsCACertRef": ("https_ca_cert_ref", "--https-ca-cert"),
    "tlsClientCertRef": ("tls_client_cert_ref", "--tls-client-cert-ref"),
    "tlsPrivateKeyRef": ("tls_private_key_ref", "--tls-private-key-ref"),
    "tlsCACertRef": ("tls_ca_cert_ref", "--tls-ca-cert-ref"),
}
#: the YAML keys whose field depends on the source's kind: ``insecure`` is ``--bucket-insecure`` for a bucket
#: and ``--insecure`` for an OCI repository (the grammar's two flags; the fleet file has one key)
OCI_SOURCE_FIELDS: dict[str, tuple[str, str]] = {"insecure": ("insecure", "--insecure")}


def reason(err: UsageError) -> str:
    """The grammar's message in the fleet file's words: its flags become keys; a hint that still speaks in
    flags or commands (meaningless in YAML) is left out."""
    text, hint = _as_keys(err.message).rstrip("."), _as_keys(err.hint)
    if hint and "`--" not in hint and "`/flux" not in hint:
        text += f" — {hint[:1].lower()}{hint[1:].rstrip('.')}"
    return text.replace("`", "'")


#: other spellings of a flag that messages may use (az's long names), -> the YAML key
_FLAG_ALIASES = {
    "--managed-identity-client-id": "managedIdentityClientId",
    "--access-key-id": "accessKey",
    "--source-kind": "kind",
    "--sp-tenant-id": "tenantId",
    "--https-ca-cert-ref": "httpsCACertRef",
}


def _as_keys(text: str) -> str:
    """`--https-key-ref REF` -> `httpsKeyRef`, `--provider azure` -> `provider: azure`."""
    flags = [(key, flag) for key, (_, flag) in (*SOURCE_FIELDS.items(), *OCI_SOURCE_FIELDS.items())]
    flags += [(k, f) for f, k in _FLAG_ALIASES.items()]
    for key, flag in flags:
        pattern = re.compile(rf"`{re.escape(flag)}(?: ([A-Z]+|[a-z][a-z0-9-]*))?`")
        text = pattern.sub(_key_spelling(key), text)
    return text


def _key_spelling(key: str) -> Callable[[re.Match[str]], str]:
    def spell(match: re.Match[str]) -> str:
        value = match[1]
        return f"`{key}: {value}`" if value and value.islower() else f"`{key}`"

    return spell


def _check(validate: Callable[[str, str], Any], what: str | None = None) -> Callable[[Any, ValidationInfo], Any]:
    def run(value: Any, info: ValidationInfo) -> Any:
        if not isinstance(value, str):
            return value  # the type check that follows says what is wrong
        named = what or (code(info.field_name) if info.field_name else "the value")
        try:
            return validate(value, named)
        except UsageError as err:
            raise ValueError(reason(err)) from None

    return run


def _as_text(value: Any) -> Any:
    """YAML reads ``600`` and ``1.13`` as numbers; values that are text in the grammar take them as text."""
    return str(value) if isinstance(value, int | float) and not isinstance(value, bool) else value


def _source_url(value: str, info: ValidationInfo) -> str:
    """A source's URL, checked as its kind takes it (``kind`` comes before ``url``, so it is known by now):
    git URLs for git, ``http(s)://`` for buckets and Azure Blob, ``oci://`` for OCI (the kind an ``oci://`` URL
    implies when none is given)."""
    kind = info.data.get("kind") or ("oci" if value.lower().startswith("oci://") else "git")
    try:
        if kind == "oci":
            return oci_url(value, "`url`")
        if kind in ("bucket", "azblob"):
            return http_url(value, "`url`")
        if value.lower().startswith("oci://"):
            raise UsageError("an 'oci://' URL needs `kind: oci`")
        return git_url(value, "`url`")[0]
    except UsageError as err:
        raise ValueError(reason(err)) from None


def _substitute_name(value: str, what: str) -> str:
    if not _SUBSTITUTE_NAME.match(value):
        raise UsageError(f"{what} must be a Flux variable name (letters, digits and '_'), not '{value}'")
    return value


def _selector_key(value: str, what: str) -> str:
    if not _SELECTOR_KEY.match(value):
        raise UsageError(f"{what} must be a tag name (letters, digits, '_', '.', '-', '/'), not '{value}'")
    return value


def _selector_value(value: str, what: str) -> str:
    if not value or len(value) > 256 or any(ord(c) < 32 for c in value):
        raise UsageError(f"{what} takes a tag value (1 to 256 characters, globs allowed), not '{value}'")
    return value


def _setting_key(value: str, what: str) -> str:
    setting = find_setting(value)  # UsageError with "did you mean" when unknown
    if setting.key != value:
        raise UsageError(f"write '{setting.key}' (settings are spelled as microsoft.flux spells them)")
    return value


def _setting_value(value: Any) -> Any:
    """Settings are text in ARM; YAML's true and 6 are written as "true" and "6"."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return str(value)
    if value is None or isinstance(value, str):
        return value
    raise ValueError(f"a setting takes one value (text, a number or true/false), not a {type(value).__name__}")


def _string(pattern: str | None = None, **extra: Any) -> WithJsonSchema:
    schema: dict[str, Any] = {"type": "string", **extra}
    if pattern:
        schema["pattern"] = pattern
    return WithJsonSchema(schema)


_DURATION_PATTERN = r"^([0-9]+(h|m|s|ms))+$"
_DNS_LABEL_PATTERN = r"^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"

Duration = Annotated[
    int,
    BeforeValidator(_check(seconds)),
    BeforeValidator(_as_text),
    _string(_DURATION_PATTERN, examples=["10m", "1h30m", "45s"]),
]
ConfigName = Annotated[
    str, AfterValidator(_check(dns_label, "a configuration name")), _string(_DNS_LABEL_PATTERN, maxLength=63)
]
KustomizationName = Annotated[
    str, AfterValidator(_check(dns_label, "a kustomization name")), _string(_DNS_LABEL_PATTERN, maxLength=63)
]
Namespace = Annotated[str, AfterValidator(_check(dns_label)), _string(_DNS_LABEL_PATTERN, maxLength=63)]
ClusterKey = Annotated[
    str,
    AfterValidator(_check(cluster_name, "a cluster (alias, name or ARM id)")),
    _string(description="inventory alias, cluster name or full ARM id"),
]
SourcePath = Annotated[str, AfterValidator(_check(path)), _string(maxLength=1024)]
SourceUrl = Annotated[
    str,
    AfterValidator(_source_url),
    _string(
        maxLength=2048,
        examples=["https://github.com/org/repo", "https://s3.amazonaws.com", "oci://ghcr.io/org/manifests"],
    ),
]
GitRefName = Annotated[str, BeforeValidator(_as_text), AfterValidator(_check(git_ref_name)), _string(maxLength=255)]
SemverRange = Annotated[str, BeforeValidator(_as_text), AfterValidator(_check(semver_range)), _string()]
CommitSha = Annotated[str, AfterValidator(_check(commit_sha)), _string(r"^([0-9a-f]{40}|[0-9a-f]{64})$")]
CredentialRef = Annotated[
    str,
    AfterValidator(_check(credential_ref)),
    _string(r"^[A-Za-z0-9][A-Za-z0-9._:/-]{0,127}$", description="the name of a credential fluxops holds"),
]
SecretName = Annotated[str, AfterValidator(_check(dns_subdomain)), _string(maxLength=253)]
HttpsUser = Annotated[str, BeforeValidator(_as_text), _string(r"^[^\s:@/]{1,256}$")]
Version = Annotated[str, BeforeValidator(_as_text), AfterValidator(_check(version)), _string(r"^\d+\.\d+\.\d+")]
SubstituteName = Annotated[
    str, AfterValidator(_check(_substitute_name, "a substitute name")), _string(r"^[A-Za-z_][A-Za-z0-9_]*$")
]
SubstituteValue = Annotated[str, BeforeValidator(_as_text), WithJsonSchema({"type": ["string", "number"]})]
SettingKey = Annotated[
    str,
    AfterValidator(_check(_setting_key, "a setting")),
    WithJsonSchema({"type": "string", "enum": sorted(SETTINGS)}),
]
SettingValue = Annotated[
    str | None,
    BeforeValidator(_setting_value),
    WithJsonSchema({"type": ["string", "boolean", "integer", "number", "null"]}),
]
SelectorKey = Annotated[
    str,
    AfterValidator(_check(_selector_key, "a selector key")),
    _string(_SELECTOR_KEY_PATTERN, description="a tag name, or name | resource_group | type | subscription"),
]
SelectorValue = Annotated[
    str,
    BeforeValidator(_as_text),
    BeforeValidator(lambda v: ("true" if v else "false") if isinstance(v, bool) else v),
    AfterValidator(_check(_selector_value, "a selector")),
    WithJsonSchema({"type": ["string", "number", "boolean"], "description": "the value to match; * and ? are globs"}),
]
