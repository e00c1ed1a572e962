"""A flag's "did you mean" stays within what the flag is about.

These read a command whose flags include the az auth flags (service principal, managed identity under both
names, the HTTPS CA certificate).
"""

from __future__ import annotations

import pytest

from bot.grammar.flag_families import families, related
from bot.grammar.flags import Flag, read_flags
from bot.usage import UsageError, edit_distance, typo_of

#: a source command with every auth method az has for Git and Azure Blob
AZ_FLAGS = tuple(
    Flag(name.lstrip("-").replace("-", "_"), (name,))
    for name in (
        "--url",
        "--branch",
        "--tag",
        "--https-user",
        "--https-key-ref",
        "--https-ca-cert",
        "--ssh-private-key-ref",
        "--known-hosts-ref",
        "--account-key-ref",
        "--sas-token-ref",
        "--sp-client-id",
        "--tenant-id",
        "--sp-client-secret-ref",
        "--sp-client-cert-ref",
        "--mi-client-id",
        "--managed-identity-client-id",
        "--bucket-name",
        "--access-key",
        "--secret-key-ref",
        "--container-name",
        "--kustomization",
    )
)


def hint(flag: str) -> str:
    with pytest.raises(UsageError) as caught:
        read_flags([flag, "x"], AZ_FLAGS, command="config create")
    assert caught.value.message == f"`{flag}` is not an option of `config create`."
    return caught.value.hint


@pytest.mark.parametrize(
    ("typed", "meant"),
    [
        ("--sp-clientid", "--sp-client-id"),
        ("--sp-client-idd", "--sp-client-id"),
        ("--ps-client-id", "--sp-client-id"),
        ("--mi-clientid", "--mi-client-id"),
        ("--managed-identity-clientid", "--managed-identity-client-id"),
        ("--managed-identiy-client-id", "--managed-identity-client-id"),
        ("--tennant-id", "--tenant-id"),
        ("--sp-client-cert", "--sp-client-cert-ref"),
        ("--sp-client-secret-rf", "--sp-client-secret-ref"),
        ("--https-ca-crt", "--https-ca-cert"),
        ("--https-usr", "--https-user"),
        ("--sas-tokn-ref", "--sas-token-ref"),
        ("--acount-key-ref", "--account-key-ref"),
        ("--brnach", "--branch"),
        ("--containr-name", "--container-name"),
    ],
)
def test_a_slip_finds_its_flag_in_the_same_family(typed: str, meant: str) -> None:
    assert hint(typed) == f"Did you mean `{meant}`?"


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        # a flag of two families gets only a flag of both, or nothing
        ("--mi-tenant-id", ""),
        ("--mi-client-secret-ref", ""),
        ("--https-ca-file", ""),
        ("--https-cert", ""),
        ("--ssh-user", ""),
        # a flag of no family that could mean either gets both, each named for what it is
        (
            "--client-id",
            "Did you mean `--sp-client-id` (a service principal) or `--managed-identity-client-id` (a managed "
            "identity)?",
        ),
        # within one family a nearby flag is fine
        ("--sp-tenant-id", "Did you mean `--tenant-id`?"),
        ("--sas-key-ref", "Did you mean `--sas-token-ref`?"),
    ],
)
def test_no_suggestion_crosses_to_another_auth_method(typed: str, expected: str) -> None:
    assert hint(typed) == expected


def test_the_service_principal_never_gets_the_managed_identity() -> None:
    without_sp = tuple(flag for flag in AZ_FLAGS if not flag.names[0].startswith(("--sp-", "--tenant")))
    for typed in ("--sp-client-id", "--sp-clientid", "--ps-client-id", "--sp-client-secret-ref"):
        with pytest.raises(UsageError) as caught:
            read_flags([typed, "x"], without_sp, command="config create")
        assert caught.value.hint == "", typed


def test_the_https_ca_certificate_never_gets_the_https_user() -> None:
    without_ca = tuple(flag for flag in AZ_FLAGS if flag.names[0] != "--https-ca-cert")
    with pytest.raises(UsageError) as caught:
        read_flags(["--https-ca-cert", "ref"], without_ca, command="config create")
    assert caught.value.hint == ""


@pytest.mark.parametrize(
    ("flag", "expected"),
    [
        ("--sp-client-id", {"service principal"}),
        ("--tenant-id", {"service principal"}),
        ("--mi-client-id", {"managed identity"}),
        ("--managed-identity-client-id", {"managed identity"}),
        ("--https-ca-cert", {"https credentials", "certificate"}),
        ("--sp-client-cert-ref", {"service principal", "certificate"}),
        ("--account-key-ref", {"storage account key"}),
        ("--secret-key-ref", {"bucket access key"}),
        ("--url", set()),
    ],
)
def test_families(flag: str, expected: set[str]) -> None:
    assert families(flag) == expected


def test_related_is_about_meaning_not_letters() -> None:
    assert edit_distance("--sp-client-id", "--mi-client-id") == 2
    assert not related("--sp-client-id", "--mi-client-id")
    assert related("--sp-clientid", "--sp-client-id")
    # a typed flag that names no family may get any flag spelled near it
    assert related("--brnach", "--branch")


@pytest.mark.parametrize(
    ("word", "choices", "found"),
    [
        ("statsu", ["status", "suspend"], "status"),
        ("get", ["key", "ext", "extension"], None),
        ("deploy", ["key", "doctor"], None),
        ("--depends", ["--depends-on", "--path"], "--depends-on"),
        ("kustomizaton", ["kustomization", "key"], "kustomization"),
        ("--https-ca-cert", ["--https-user", "--https-key-ref"], None),
    ],
)
def test_typo_of_is_a_slip_of_the_keyboard(word: str, choices: list[str], found: str | None) -> None:
    assert typo_of(word, choices) == found


def test_a_beginning_shared_by_several_flags_is_not_guessed() -> None:
    """``--sp-client`` starts three service-principal flags: no pick among them (the start of one, or of one
    topic and its subtopics, is still taken)."""
    from bot.usage import typo_of

    flags = ["--sp-client-id", "--sp-client-secret-ref", "--sp-client-cert-ref"]
    assert typo_of("--sp-client", flags) is None
    assert typo_of("deployed", ["deployed-object", "deployed-object list", "doctor"]) == "deployed-object"
