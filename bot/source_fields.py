"""The fields a Flux source was written with, and the readers every source kind shares.

``/flux`` flags (``bot.grammar.sources``) and a fleet file's ``source:`` (``bot.fleet``) both hand their
values over as ``SourceFields``: by field name, and as the person spelled them (for messages).
``bot.sources`` (git, and the kind rules) and ``bot.source_kinds`` (bucket, Azure Blob, OCI) read them.
"""

from __future__ import annotations

from typing import Protocol

from bot.commands import CredentialRefs
from bot.usage import UsageError, code, one_of
from bot.values import credential_ref, dns_subdomain, seconds


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


def ref(fields: SourceFields, dest: str) -> str | None:
    """A credential reference (the name of a credential fluxops holds), or None when not given."""
    value = fields.value(dest)
    return credential_ref(value, code(fields.spelled(dest))) if value is not None else None


def durations(fields: SourceFields) -> tuple[int, int]:
    """(timeout, sync interval) in seconds, 600 each by default."""
    timeout = fields.value("timeout")
    interval = fields.value("interval")
    return (
        seconds(timeout, code(fields.spelled("timeout"))) if timeout is not None else 600,
        seconds(interval, code(fields.spelled("interval"))) if interval is not None else 600,
    )


def local_auth_ref(fields: SourceFields) -> str | None:
    """``--local-auth-ref``: the name of a Secret on the cluster."""
    value = fields.value("local_auth_ref")
    return dns_subdomain(value, code(fields.spelled("local_auth_ref"))) if value is not None else None


def required_url(fields: SourceFields) -> str:
    value = fields.value("url")
    if value is None:
        raise UsageError("Where is the source? `-u URL` is required.", usage=True)
    return value


def one_given(fields: SourceFields, dests: tuple[str, ...], *, required: bool) -> tuple[str, str] | None:
    """The one field of ``dests`` that was given and its value; an error when two were (or none, if required)."""
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


#: CredentialRefs field -> the source field naming it
_CREDENTIAL_FIELDS = {
    "https_key": "https_key_ref",
    "ssh_private_key": "ssh_private_key_ref",
    "known_hosts": "known_hosts_ref",
    "secret_key": "secret_key_ref",
    "account_key": "account_key_ref",
    "sas_token": "sas_token_ref",
    "sp_client_secret": "sp_client_secret_ref",
    "sp_client_cert": "sp_client_cert_ref",
    "sp_client_cert_password": "sp_client_cert_password_ref",
    "https_ca_cert": "https_ca_cert_ref",
    "tls_client_cert": "tls_client_cert_ref",
    "tls_private_key": "tls_private_key_ref",
    "tls_ca_cert": "tls_ca_cert_ref",
}


def credentials(fields: SourceFields) -> CredentialRefs:
    """Every credential reference the source fields name (the kind rules have refused those of other kinds)."""
    return CredentialRefs(**{name: ref(fields, dest) for name, dest in _CREDENTIAL_FIELDS.items()})
