"""redact: secrets in typed commands, URLs and log lines become ***; ordinary words stay."""

from __future__ import annotations

import pytest

from bot.redact import is_secret_flag, kind_of_secret, redact, secret_values

SHA = "4f1bdad4d0a54b939a5e3d52c51464f67e474fcf"
PEM = "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAABG5vbmU\n-----END OPENSSH PRIVATE KEY-----"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # secret-ish flags, with = or space, quoted or not
        ("--https-key abc123 --branch main", "--https-key *** --branch main"),
        ("--https-key=abc123 --branch main", "--https-key=*** --branch main"),
        ("--https-key 'two words' -c c", "--https-key *** -c c"),
        ('--https-key "two words" -c c', "--https-key *** -c c"),
        ("--https-key “two words” -c c", "--https-key *** -c c"),
        ("--ssh-private-key-file ~/.ssh/id -c c", "--ssh-private-key-file *** -c c"),
        ("--password hunter2", "--password ***"),
        ("--client-secret s --client-certificate c", "--client-secret *** --client-certificate ***"),
        ("--sas-token tok --my-api-token t2 --db_password p", "--sas-token *** --my-api-token *** --db_password ***"),
        ("--secret-key k --account-key k2 --private-key k3", "--secret-key *** --account-key *** --private-key ***"),
        ("--known-hosts h --known-hosts-file f", "--known-hosts *** --known-hosts-file ***"),
        ("--config-protected a=1 b=2 --branch main", "--config-protected *** *** --branch main"),
        ("--https-key --branch main", "--https-key --branch main"),
        # not secrets: references, identities, the deploy-key switch
        (
            "--https-key-ref github/bot --secret-key-ref s3/fleet",
            "--https-key-ref github/bot --secret-key-ref s3/fleet",
        ),
        ("--deploy-key generate --mi-client-id 7d3a4e4b-1f0c-4b8e-9d3e-2a6f5c1b0e9a", None),
        ("--account-key-ref k --sas-token-ref t --ssh-private-key-ref r --known-hosts-ref h", None),
        # PEM blocks
        (f"--x {PEM} --y", "--x *** --y"),
        ("-----BEGIN RSA PRIVATE KEY----- MIIEowIBAAKCAQEA and the rest", "***"),
        # tokens
        ("tok ghp_abcdefghijklmnopqrstuvwxyz0123456789 end", "tok *** end"),
        ("gho_abcdefghijklmnopqrstuvwxyz0123456789", "***"),
        ("github_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyz", "***"),
        ("slack xoxb-123456789012-abcdefghijkl and xoxp-1-2-3-abcdef", "slack *** and ***"),
        ("Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0In0.sig", "Authorization: Bearer ***"),
        # key=value secrets and URLs
        (
            "https://a.blob.core.windows.net/c?sv=2021&sig=AbC%2Bd%3D&se=2030",
            "https://a.blob.core.windows.net/c?sv=2021&sig=***&se=2030",
        ),
        (
            "DefaultEndpointsProtocol=https;AccountKey=abc+def/g==;EndpointSuffix=x",
            "DefaultEndpointsProtocol=https;AccountKey=***;EndpointSuffix=x",
        ),
        ("password=p4ss token=t0k client_secret=c", "password=*** token=*** client_secret=***"),
        ("https://bot:hunter2@github.com/org/repo", "https://bot:***@github.com/org/repo"),
        ("https://contoso@dev.azure.com/contoso/p/_git/r", None),
        # long random strings
        ("key 0123456789abcdef0123456789abcdef0 end", "key *** end"),
        ("blob aGVsbG8gd29ybGQgdGhpcyBpcyBhIHNlY3JldA1234567 end", "blob *** end"),
        ("ado pat abcdefghijklmnopqrstuvwxyz0123456789abcdefghijklmnop", "ado pat ***"),
        (f"revision main/{SHA}", "revision ***"),
        # long strings that are not secrets
        (f"--commit {SHA}", None),
        (f"--commit={SHA}", None),
        ("--digest sha256:" + "ab" * 32, None),
        ("image@sha256:" + "cd" * 32, None),
        ("https://github.com/Azure/gitops-flux2-kustomize-helm-mt --path ./apps/staging", None),
        (
            "/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/flux-demo-rg/providers/"
            "Microsoft.Kubernetes/connectedClusters/flux-demo-arc",
            None,
        ),
        ("source-controller.ssh-host-key-args=--ssh-hostkey-algos=rsa-sha2-512,rsa-sha2-256", None),
        ("kustomize-controller.resources.limits.memory=2Gi basic path=./infrastructure", None),
        ("", None),
    ],
)
def test_redact(text: str, expected: str | None) -> None:
    assert redact(text) == (text if expected is None else expected)


def test_secret_values_are_what_redact_masks() -> None:
    text = "--https-key 'a b c d e f' tok ghp_abcdefghijklmnopqrstuvwxyz0123456789"
    assert secret_values(text) == ["a b c d e f", "ghp_abcdefghijklmnopqrstuvwxyz0123456789"]
    assert secret_values("nothing here") == []


@pytest.mark.parametrize(
    ("flag", "secret"),
    [
        ("--https-key", True),
        ("--HTTPS_KEY", True),
        ("--ssh-private-key", True),
        ("--sas-token", True),
        ("--password", True),
        ("--pat", True),
        ("--client-secret", True),
        ("--configuration-protected-settings", True),
        ("--https-key-ref", False),
        ("--secret-key-ref", False),
        ("--deploy-key", False),
        ("--mi-client-id", False),
        ("--branch", False),
        ("--kustomization", False),
    ],
)
def test_is_secret_flag(flag: str, secret: bool) -> None:
    assert is_secret_flag(flag) is secret


def test_kind_of_secret_only_on_sure_signs() -> None:
    assert kind_of_secret(PEM) == "a private key"
    assert kind_of_secret("ghp_abcdefghijklmnopqrstuvwxyz0123456789") == "a GitHub token"
    assert kind_of_secret("https://u:p@h/x") == "a password in a URL"
    # a random-looking string is masked in logs but not refused: it might be a legitimate value
    assert kind_of_secret("aGVsbG8gd29ybGQgdGhpcyBpcyBhIHNlY3JldA1234567") is None
    assert kind_of_secret("name=basic path=./infrastructure") is None
