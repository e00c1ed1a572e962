"""Secrets are never typed into chat: the flags that would carry one, and values that are one.

az takes ``--ssh-private-key``, ``--https-key``, ``--sas-token`` and friends as literal values. fluxops
refuses them before reading anything else, says which ``...-ref`` flag (a credential fluxops holds) or
``--deploy-key generate`` to use instead, and never repeats the value.
"""

from __future__ import annotations

from collections.abc import Sequence

from bot.grammar.flags import flag_key, is_flag
from bot.grammar.vocabulary import resolve
from bot.redact import is_secret_flag, kind_of_secret
from bot.usage import UsageError, shown

_SSH = "`--ssh-private-key-ref REF` (an SSH key fluxops holds) or `--deploy-key generate` (fluxops makes one)"
_HTTPS = "`--https-user USER --https-key-ref REF` (a token fluxops holds)"
_SERVICE_PRINCIPAL = (
    "`--sp-client-id GUID --tenant-id GUID` with `--sp-client-secret-ref REF` or `--sp-client-cert-ref REF` "
    "(a service principal secret or certificate fluxops holds), or `--managed-identity-client-id GUID`"
)
_SP_CERTIFICATE = (
    "`--sp-client-cert-ref REF --sp-client-cert-password-ref REF` (a service principal certificate and its "
    "password, held by fluxops)"
)
_PROTECTED = "nothing: protected extension settings are set by an administrator outside chat"

#: secret flag -> what to type instead
INSTEAD: dict[str, str] = {
    "--ssh-private-key": _SSH,
    "--ssh-private-key-file": _SSH,
    "--private-key": _SSH,
    "--private-key-file": _SSH,
    "--https-key": _HTTPS,
    "--https-password": _HTTPS,
    "--password": _HTTPS,
    "--pat": _HTTPS,
    "--token": _HTTPS,
    "--secret-key": "`--secret-key-ref REF` (the bucket's secret key, held by fluxops)",
    "--account-key": "`--account-key-ref REF` (the storage account key, held by fluxops)",
    "--sas-token": "`--sas-token-ref REF` (a SAS token fluxops holds)",
    "--client-secret": _SERVICE_PRINCIPAL,
    "--sp-client-secret": _SERVICE_PRINCIPAL,
    "--client-certificate": _SERVICE_PRINCIPAL,
    "--client-certificate-file": _SERVICE_PRINCIPAL,
    "--client-certificate-password": _SP_CERTIFICATE,
    "--sp-client-cert": _SERVICE_PRINCIPAL,
    "--sp-client-cert-password": _SP_CERTIFICATE,
    "--tls-private-key": "`--tls-client-cert-ref REF --tls-private-key-ref REF` (a client certificate and key "
    "fluxops holds)",
    "--known-hosts": "`--known-hosts-ref REF` (known hosts fluxops holds)",
    "--known-hosts-file": "`--known-hosts-ref REF` (known hosts fluxops holds)",
    "--config-protected": _PROTECTED,
    "--config-protected-settings": _PROTECTED,
    "--configuration-protected-settings": _PROTECTED,
    "--config-protected-file": _PROTECTED,
    "--configuration-protected-settings-file": _PROTECTED,
}
#: flags whose name sounds secret but whose value is not (an access key *ID*)
_NOT_SECRET = frozenset({"--access-key"})
#: the same, in some commands only: ``key rotate --key ID`` takes fluxops' id of a deploy key (``dk-...``);
#: ``key status`` does not take it, and should say so rather than call an id a secret
_NOT_SECRET_IN: dict[str, frozenset[str]] = {"key rotate": frozenset({"--key"}), "key status": frozenset({"--key"})}
_GENERIC = "a `...-ref` flag naming a credential fluxops holds (see `/flux help config create`)"


def refuse_secrets(words: Sequence[str]) -> None:
    """Raise a UsageError when a word is a secret flag or a value that is plainly a secret."""
    not_secret = _NOT_SECRET | _NOT_SECRET_IN.get(_command_of(words), frozenset())
    for word in words:
        if is_flag(word):
            name = flag_key(word.split("=", 1)[0])
            if name in INSTEAD or (name not in not_secret and is_secret_flag(name)):
                raise UsageError(
                    f"{shown(name)} would put a secret into chat, and secrets are never typed into chat.",
                    hint=f"Use {INSTEAD.get(name, _GENERIC)} instead; if you already sent a real secret, rotate it.",
                )
    for word in words:
        kind = kind_of_secret(word)
        if kind is not None:
            raise UsageError(
                f"The command contains {kind}. Secrets are never typed into chat.",
                hint="Use a `...-ref` flag naming a credential fluxops holds, or `--deploy-key generate`; "
                "rotate the secret you sent.",
            )


def _command_of(words: Sequence[str]) -> str:
    """The command ``words`` name ("" when they name none): only to look up ``_NOT_SECRET_IN``."""
    if not words:
        return ""
    try:
        return resolve(words)[0]
    except UsageError:
        return ""
