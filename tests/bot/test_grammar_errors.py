"""Every kind of usage error: each says what was wrong, what to type instead, and where the help is."""

from __future__ import annotations

import pytest

from bot.grammar import MAX_LENGTH
from tests.bot.grammar_helpers import error

CREATE = "config create x -c c -u https://github.com/org/repo"
SSH = "config create x -c c -u git@github.com:org/repo.git --branch main"
HTTPS = f"{CREATE} --branch main"


@pytest.mark.parametrize(
    ("text", "expected", "help_topic"),
    [
        # the text itself
        ('status -c "prod', "A quote is not closed", None),
        ("status -c prod\\", "lone backslash", None),
        ("x" * (MAX_LENGTH + 1), f"fluxops reads at most {MAX_LENGTH}", None),
        # command words
        ("confg create x", "Did you mean `config`?", None),
        ("statsu -c c", "Did you mean `status`?", None),
        ("create x -c c", "Did you mean `config create`, `kustomization create` or `extension create`?", None),
        ("config", "`config` needs one of `create`, `update`, `delete`, `show` or `list`", "config"),
        ("config crate x", "Did you mean `config create`?", "config"),
        ("kustomization destroy x", "Did you mean `kustomization delete`?", "kustomization"),
        ("kustomization frob x", "`kustomization` has `create`", "kustomization"),
        ("-c prod status", "Start with a command", None),
        ("doctor", "Which cluster? `-c CLUSTER` checks one", "doctor"),
        ("doctor -c c --clusters env=prod", "not both", "doctor"),
        ("v1", "`v1` needs one of `list` or `migrate`", "v1"),
        ("v1 migrate -c c", "The Flux v1 configuration's name is missing", "v1 migrate"),
        ("v1 migrat x -c c", "Did you mean `v1 migrate`?", "v1"),
        ("fleet apply x --branch main", "`--clusters KEY=VALUE,...` is required", "fleet apply"),
        ("fleet aply x", "Did you mean `fleet apply`?", "fleet"),
        ("help confg create", "Did you mean `config create`?", None),
        ("help config create now", "Try `/flux help config create`", None),
        # flags
        (f"{CREATE} --brnach main", "Did you mean `--branch`?", "config create"),
        (f"{CREATE} -branch main", "Did you mean `--branch`?", "config create"),
        (f"{CREATE} --frobnicate", "`--frobnicate` is not an option of `config create`", "config create"),
        (f"{CREATE} --branch", "`--branch` needs a value. Write `--branch BRANCH`", "config create"),
        (f"{CREATE} --branch --suspend", "`--branch` needs a value", "config create"),
        (f"{CREATE} --branch=", "`--branch` needs a value", "config create"),
        (f"{CREATE} --branch a --branch b", "`--branch` is given twice", "config create"),
        (f"{HTTPS} --no-extension=yes", "`--no-extension` takes no value", "config create"),
        (f"{HTTPS} --suspend=perhaps", "takes `true` or `false`", "config create"),
        ("status x y -c c", "Unexpected word `y`", "status"),
        (f"{HTTPS} path=./apps", "Kustomization keys go after `--kustomization`", "config create"),
        ("status x -c c env=prod", "Settings go after a flag", "status"),
        ("config show a -n b -c c", "Two names: `a` and `-n` `b`", "config show"),
        # required arguments
        ("config show -c c", "NAME is missing", "config show"),
        ("config show x", "`-c CLUSTER` is required", "config show"),
        ("config create x -c c --branch main", "`-u URL` is required", "config create"),
        (CREATE, "Give one of `--branch`, `--tag`, `--semver` or `--commit`", "config create"),
        (f"{CREATE} --branch main --commit {'a' * 40}", "not `--branch` and `--commit`", "config create"),
        # values
        ("config create -c c -u https://h/r --branch main --name Bad_Name", "lowercase DNS name", "config create"),
        ("config create " + "a" * 64 + " -c c", "names have at most 63", "config create"),
        (f"{HTTPS} --namespace -x", "`--namespace` needs a value", "config create"),
        (f"{HTTPS} --namespace Team_A", "Did you mean `team-a`?", "config create"),
        (f"{HTTPS} --scope tenant", "takes `cluster` or `namespace`", "config create"),
        (f"{HTTPS} --kind svn", "takes `git`, `bucket`, `azblob` or `oci`", "config create"),
        (f"{HTTPS} --interval 10", "Add a unit", "config create"),
        (f"{HTTPS} --interval 0s", "longer than zero", "config create"),
        (f"{HTTPS} --interval soon", "Write it like `1h2m5s`", "config create"),
        (f"{HTTPS} --timeout 1500ms", "whole seconds", "config create"),
        (f"{HTTPS} --interval 99999999999h", "too long", "config create"),
        (f"{CREATE} --commit abc123", "full commit SHA", "config create"),
        (f"{CREATE} --branch 'a b'", "not a valid git branch or tag name", "config create"),
        (f"{CREATE} --semver latest", "semver range", "config create"),
        ("config create x -c c -u ftp://h/r --branch main", "must be a git URL", "config create"),
        ("config create x -c c -u github.com/org/repo --branch main", "must be a git URL", "config create"),
        (
            "config create x -c c -u oci://ghcr.io/o/r --kind git --tag v1",
            "`oci://` URL needs `--kind oci`",
            "config create",
        ),
        ("config create x -c c -u https://h/r --kind oci --tag v1", "must start with `oci://`", "config create"),
        ("config create x -c c -u oci://ghcr.io --tag v1", "a registry and a repository", "config create"),
        ("config create x -c c -u oci://ghcr.io/o/r --tag 'v 1'", "not a valid OCI tag", "config create"),
        ("config create x -c c -u oci://ghcr.io/o/r --digest sha1:abc", "`sha256:`", "config create"),
        ("config create x -c c -u oci://ghcr.io/o/r", "Give one of `--tag`, `--semver` or `--digest`", "config create"),
        (
            "config create x -c c --kind bucket -u s3://b --bucket-name bb",
            "must start with `https://`",
            "config create",
        ),
        ("status -c 'prod cluster'", "cluster name, alias or ARM id", "status"),
        ("status -c /subscriptions/x/resourceGroups/rg", "not the ARM id of an AKS or Arc cluster", "status"),
        ("status -c c -g 'bad rg'", "not a valid resource group name", "status"),
        ("status -c c -t provisionedClusters", "AKS and Arc clusters only", "status"),
        ("status -c c -t kind", "takes `managedClusters` (AKS) or `connectedClusters`", "status"),
        (
            "status -c /subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg/providers/"
            "Microsoft.Kubernetes/connectedClusters/a -g other",
            "contradicts the resource group",
            "status",
        ),
        (
            "status -c /subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg/providers/"
            "Microsoft.Kubernetes/connectedClusters/a -t aks",
            "contradicts the cluster type",
            "status",
        ),
        # source kinds
        (f"{HTTPS} --bucket-name b", "`--bucket-name` is for `--kind bucket`; this source is `git`", "config create"),
        (f"{HTTPS} --container-name b", "Add `--kind azblob`", "config create"),
        (f"{HTTPS} --digest sha256:{'0' * 64}", "is for `--kind oci`", "config create"),
        (
            "config create x -c c --kind oci -u oci://r/o/a --branch main",
            "`--branch` is for `--kind git`",
            "config create",
        ),
        ("config create x -c c --kind bucket -u https://s3 ", "`--bucket-name BUCKET` is required", "config create"),
        ("config create x -c c --kind bucket -u https://s3 --bucket-name Bad_Bucket", "not a valid bucket name", None),
        (
            "config create x -c c --kind bucket -u https://s3 --bucket-name bkt --access-key AKIA123",
            "go together",
            None,
        ),
        ("config create x -c c --kind bucket -u https://s3 --bucket-name bkt --secret-key-ref s", "go together", None),
        ("config create x -c c --kind azblob -u https://a.blob.core.windows.net", "`--container-name", None),
        (
            "config create x -c c --kind azblob -u https://a.blob.core.windows.net --container-name ccc "
            "--account-key-ref k --sas-token-ref s",
            "two ways to authenticate",
            "config create",
        ),
        (
            "config create x -c c --kind azblob -u https://a.blob.core.windows.net --container-name ccc "
            "--mi-client-id me",
            "takes a GUID",
            "config create",
        ),
        # git authentication, as az checks it
        (f"{HTTPS} --ssh-private-key-ref keys/k", "only works with SSH URLs", "config create"),
        (f"{HTTPS} --known-hosts-ref hosts/h", "only works with SSH URLs", "config create"),
        (f"{HTTPS} --deploy-key generate", "only works with SSH URLs", "config create"),
        (f"{SSH} --https-user u --https-key-ref r", "only works with `https://` or `http://` URLs", "config create"),
        (
            f"{HTTPS} --https-user u",
            "`--https-user` and `--https-key-ref` go together. Add `--https-key-ref REF`",
            None,
        ),
        (f"{HTTPS} --https-key-ref r", "Add `--https-user USER`", "config create"),
        (f"{SSH} --deploy-key please", "`--deploy-key` takes only `generate`", "config create"),
        (f"{SSH} --deploy-key generate --ssh-private-key-ref k", "both give the key", "config create"),
        (f"{SSH} --deploy-key generate --local-auth-ref s", "both give credentials", "config create"),
        (f"{HTTPS} --provider azure --https-user u --https-key-ref r", "takes no other credentials", "config create"),
        (f"{SSH} --provider azure", "not SSH", "config create"),
        (f"{HTTPS} --provider gitlab", "takes `azure` or `generic`", "config create"),
        (f"{HTTPS} --https-user 'a b' --https-key-ref r", "not a valid user name", "config create"),
        (f"{HTTPS} --https-user u --https-key-ref 'a b'", "name of a credential", "config create"),
        (f"{HTTPS} --local-auth-ref Not_A_Secret_Name", "lowercase Kubernetes name", "config create"),
        # config update
        ("config update x -c c", "Nothing to change", "config update"),
        ("config update x -c c --namespace other", "can only be set when a configuration is created", None),
        ("config update x -c c --scope namespace", "delete the configuration and create it again", None),
        ("config update x -c c --kind oci", "`--kind` can only be set when a configuration is created", None),
        ("config update x -c c --suspend", "Use `/flux suspend x` or `/flux resume x`", "config update"),
        ("config update x -c c --deploy-key generate", "only with a new URL (`-u URL`)", "config update"),
        (
            "config update x -c c -u https://github.com/o/r --deploy-key generate",
            "only works with SSH URLs",
            "config update",
        ),
        (
            "config update x -c c --bucket-name b --container-name c",
            "belong to different source kinds (`--kind bucket` and `--kind azblob`)",
            "config update",
        ),
        ("config update x -c c --branch a --tag b", "not `--branch` and `--tag`", "config update"),
        ("config update x -c c -u git@h:o/r --https-user u --https-key-ref r", "this URL is SSH", "config update"),
        ("config update x -c c --kustomization name=a", "says nothing to change", "config update"),
        (
            "config update x -c c --digest sha256:" + "ab" * 32 + " --branch main",
            "`--branch` and `--digest` belong to different source kinds",
            None,
        ),
        (
            "config update x -c c --kustomization name=a path=./a --kustomization name=a prune=true",
            "changed twice",
            None,
        ),
        # clusters and audit
        ("clusters --selector env", "`--selector` needs KEY=VALUE", "clusters"),
        ("clusters --selector =prod", "`KEY=VALUE` tags", "clusters"),
        ("clusters --selector env=prod,env=dev", "two values of `env`", "clusters"),
        ("clusters prod", "Unexpected word `prod`", "clusters"),
        ("audit --since 7", "a period such as `7d`", "audit"),
        ("audit --since 0h", "longer than zero", "audit"),
        ("audit --limit 0", "from 1 to 100", "audit"),
        ("audit --limit many", "whole number", "audit"),
        ("audit --cluster 'a b'", "cluster name", "audit"),
    ],
)
def test_usage_errors(text: str, expected: str, help_topic: str | None) -> None:
    reply = error(text)
    assert expected in reply
    assert "See `/flux help" in reply
    if help_topic is not None:
        assert f"See `/flux help {help_topic}`." in reply


@pytest.mark.parametrize(
    "text",
    [
        "config create -c c -u https://h/r --branch main",
        "config create x -u https://h/r --branch main",
        "status x y -c c",
        "config update x -c c",
        f"{CREATE} --frobnicate",
    ],
)
def test_missing_and_unexpected_arguments_repeat_the_usage_line(text: str) -> None:
    assert "Usage: `/flux " in error(text)


@pytest.mark.parametrize(
    ("text", "instead"),
    [
        ("--ssh-private-key AAAAsecret", "`--ssh-private-key-ref REF`"),
        ("--ssh-private-key-file ~/.ssh/id_ed25519", "`--deploy-key generate`"),
        ("--https-key s3cr3t", "--https-key-ref REF"),
        ("--https-key=s3cr3t", "--https-key-ref REF"),
        ("--password hunter2", "--https-key-ref REF"),
        ("--secret-key wJalrXUtnFEMI", "`--secret-key-ref REF`"),
        ("--account-key Eby8vdM02xNO", "`--account-key-ref REF`"),
        ("--sas-token sv=2020&sig=abc", "`--sas-token-ref REF`"),
        ("--client-secret abc", "`--sp-client-secret-ref REF`"),
        ("--client-certificate cert.pem", "`--sp-client-cert-ref REF`"),
        ("--known-hosts Z2l0aHViLmNvbQ==", "`--known-hosts-ref REF`"),
        ("--known-hosts-file known_hosts", "`--known-hosts-ref REF`"),
        ("--configuration-protected-settings a=b", "protected extension settings"),
        ("--github-token tok123xyz", "a `...-ref` flag"),
        ("--Https_Key tok123xyz", "--https-key-ref REF"),
    ],
)
def test_secret_flags_are_refused_without_echoing_the_value(text: str, instead: str) -> None:
    value = text.split("=", 1)[1] if "=" in text.split()[0] else text.split(" ", 1)[1]
    for command in (f"{HTTPS} {text}", f"status -c c {text}", f"nosuchcommand {text}", text):
        reply = error(command)
        assert "secrets are never typed into chat" in reply
        assert instead in reply
        assert value not in reply


@pytest.mark.parametrize(
    ("value", "kind"),
    [
        ("ghp_abcdefghijklmnopqrstuvwxyz0123456789", "a GitHub token"),
        ("github_pat_11ABCDEFG0123456789_abcdefghijklmnopqrstuvwxyz", "a GitHub token"),
        ("xoxb-123456789012-abcdefghijkl", "a Slack token"),
        ("'-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXk\n-----END OPENSSH PRIVATE KEY-----'", "a private key"),
        ("https://bot:hunter2hunter2@github.com/org/repo", "a password in a URL"),
        ("'https://acct.blob.core.windows.net/c?sv=2021&sig=AbCdEf123%3D'", "a secret `KEY=VALUE`"),
    ],
)
def test_secret_values_are_refused_anywhere(value: str, kind: str) -> None:
    for command in (f"{HTTPS} --https-user u --https-key-ref {value}", f"config create x -c c -u {value} --branch m"):
        reply = error(command)
        assert f"contains {kind}" in reply
        assert value.strip("'") not in reply


def test_a_token_in_an_unknown_place_is_not_repeated() -> None:
    secret = "aGVsbG8gd29ybGQgdGhpcyBpcyBhIHNlY3JldA1234567"
    for text in (f"{secret} -c c", f"status {secret} -c c", f"config create {secret} -c c", f"status -c c --{secret}"):
        reply = error(text)
        assert secret not in reply and secret.lower() not in reply


def test_long_values_are_cut_in_messages() -> None:
    reply = error(f"status -c c --scope-{'x' * 200}")
    assert "x" * 100 not in reply
