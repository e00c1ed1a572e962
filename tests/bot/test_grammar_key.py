"""key rotate, key status (deploy keys), and the Azure DevOps refusal of ``config create --deploy-key generate``."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from bot.commands import ClusterTarget, Command, KeyRotate, KeyStatus, Reply, Run
from bot.grammar import help_text, parse
from bot.grammar.vocabulary import COMMANDS, PLANNED
from bot.models import ClusterType
from tests.bot.grammar_helpers import error, reply, run
from tests.bot.test_grammar_fuzz import FAST, check

C = ClusterTarget("c")
KEY = "dk-0123456789"
FORMS = ("`NAME -c CLUSTER`", "`--repo URL`", "`--key ID`", "`--https-key-ref REF`")
ROTATE_USAGE = "/flux key rotate (NAME -c CLUSTER [-g RG] [-t TYPE] | --repo URL | --key ID | --https-key-ref REF)"
ADO_URLS = (
    "https://dev.azure.com/contoso/fleet/_git/apps",
    "https://contoso@dev.azure.com/contoso/fleet/_git/apps",
    "git@ssh.dev.azure.com:v3/contoso/fleet/apps",
    "ssh://git@ssh.dev.azure.com/v3/contoso/fleet/apps",
    "https://contoso.visualstudio.com/fleet/_git/apps",
)

FORMS_AND_COMMANDS: list[tuple[str, Command]] = [
    # the key one configuration uses
    ("key rotate apps -c c", KeyRotate(name="apps", target=C)),
    ("key rotate --name apps -c c", KeyRotate(name="apps", target=C)),
    ("key rotate -c c -n apps", KeyRotate(name="apps", target=C)),
    (
        "key rotate apps -c c -g rg -t connectedClusters",
        KeyRotate(name="apps", target=ClusterTarget("c", "rg", ClusterType.CONNECTED)),
    ),
    (
        "KEY ROTATE apps --cluster c -t aks",
        KeyRotate(name="apps", target=ClusterTarget("c", None, ClusterType.MANAGED)),
    ),
    # every key of a repository, its URL as typed, in any spelling canonical_repo reads
    ("key rotate --repo ssh://git@github.com/org/repo", KeyRotate(repository="ssh://git@github.com/org/repo")),
    ("key rotate --repo git@github.com:Org/Repo.git", KeyRotate(repository="git@github.com:Org/Repo.git")),
    ("key rotate --repository https://github.com/org/repo", KeyRotate(repository="https://github.com/org/repo")),
    ("key rotate --repo=https://github.com/org/repo.git", KeyRotate(repository="https://github.com/org/repo.git")),
    ("key rotate --repo http://git.internal:8080/org/repo", KeyRotate(repository="http://git.internal:8080/org/repo")),
    # one key by id, any case
    (f"key rotate --key {KEY}", KeyRotate(key_id=KEY)),
    ("key rotate --key DK-ABCDEF0123", KeyRotate(key_id="dk-abcdef0123")),
    ("key rotate --key=Dk-AbCdEf0123", KeyRotate(key_id="dk-abcdef0123")),
    (f"key rotate --key-id {KEY}", KeyRotate(key_id=KEY)),
    # an HTTPS credential fluxops holds
    ("key rotate --https-key-ref ado/fleet-token", KeyRotate(credential="ado/fleet-token")),
    ("key rotate --https-key-ref=github:bot", KeyRotate(credential="github:bot")),
    # key status
    ("key status", KeyStatus()),
    ("key status -c c", KeyStatus(target=C)),
    ("key status -c c -g rg", KeyStatus(target=ClusterTarget("c", "rg"))),
    ("key status apps -c c", KeyStatus(name="apps", target=C)),
    ("key status --name apps -c c", KeyStatus(name="apps", target=C)),
    # aliases
    ("key list", KeyStatus()),
    ("key ls -c c", KeyStatus(target=C)),
    ("key show apps -c c", KeyStatus(name="apps", target=C)),
    ("keys status", KeyStatus()),
    ("keys list", KeyStatus()),
    ("deploy-keys ls", KeyStatus()),
    ("keys rotate apps -c c", KeyRotate(name="apps", target=C)),
    ("deploy-key rotate --key DK-0123456789", KeyRotate(key_id=KEY)),
]


@pytest.mark.parametrize(("text", "expected"), FORMS_AND_COMMANDS)
def test_forms(text: str, expected: Command) -> None:
    assert run(text) == expected
    assert run(f"/flux {text}") == expected


@pytest.mark.parametrize(("text", "expected"), FORMS_AND_COMMANDS)
def test_pull_request_comments_read_the_same(text: str, expected: Command) -> None:
    comment = f"/flux {text}\n\nRotating after the offboarding; see the ticket. -c prod --repo x"
    assert parse(comment, comment=True) == Run(expected)


@pytest.mark.parametrize(
    ("spelled", "expected"),
    [
        ("DK-0123456789", KEY),
        ("Dk-0123456789", KEY),
        ("dk-ABCDEF0123", "dk-abcdef0123"),
        ("DK-AbCdEf0123", "dk-abcdef0123"),
        ("dk-abcdef0123", "dk-abcdef0123"),
    ],
)
def test_key_ids_are_read_in_any_case_and_kept_in_lower_case(spelled: str, expected: str) -> None:
    assert run(f"key rotate --key {spelled}") == KeyRotate(key_id=expected)
    assert run(f"/flux key rotate --key-id={spelled}", comment=True) == KeyRotate(key_id=expected)


@pytest.mark.parametrize(
    ("text", "says", "hint", "usage"),
    [
        # nothing, or more than one way of saying what rotates
        ("key rotate", "What should rotate?", "`--https-key-ref REF`", True),
        ("key rotate apps --repo https://github.com/o/r", "NAME and `--repo` are two ways", "`--key ID`", True),
        ("key rotate --name apps --key dk-0123456789", "`--name` and `--key` are two ways", "`--repo URL`", True),
        ("key rotate --repo https://github.com/o/r --key dk-0123456789", "`--repo` and `--key` are two", "NAME", True),
        ("key rotate --key dk-0123456789 --https-key-ref r", "`--key` and `--https-key-ref` are two", "NAME", True),
        # cluster flags belong to NAME only
        (
            "key rotate --key dk-0123456789 -c c",
            "`--key` names one key wherever it is used; it takes no `-c`",
            "Leave `-c` out",
            True,
        ),
        ("key rotate --repo https://github.com/o/r --cluster c", "it takes no `--cluster`", "`NAME -c CLUSTER`", True),
        ("key rotate --https-key-ref r -g rg", "it takes no `-g`", "Leave `-g` out", True),
        ("key rotate -c c", "Which configuration's key?", "`/flux key rotate NAME -c CLUSTER`", True),
        ("key rotate -t aks", "`-t` goes with the NAME", "`/flux key status -c CLUSTER`", True),
        ("key rotate apps", "`-c CLUSTER` is required", "`/flux clusters` lists them", True),
        # what NAME cannot be
        ("key rotate dk-0123456789", "looks like a key id", "`/flux key rotate --key dk-0123456789`", True),
        ("key rotate DK-0123456789", "looks like a key id", "`/flux key rotate --key dk-0123456789`", True),
        (
            "key rotate https://github.com/o/r",
            "A repository URL goes after `--repo`",
            "`/flux key rotate --repo URL`",
            True,
        ),
        ("key rotate Apps_1 -c c", "must be a lowercase DNS name", "Did you mean `apps-1`?", False),
        ("key rotate apps more -c c", "Unexpected word `more`", "Quote values", True),
        # values
        (
            "key rotate --repo notaurl",
            "`--repo` takes a git repository URL, not `notaurl`",
            "`ssh://git@github.com/org/repo`",
            False,
        ),
        (
            "key rotate --repository ftp://h/o/r",
            "`--repository` takes a git repository URL",
            "`ssh://git@github.com/org/repo`",
            False,
        ),
        (
            "key rotate --repo https://github.com/org",
            "takes a git repository URL",
            "`ssh://git@github.com/org/repo`",
            False,
        ),
        (
            "key rotate --key dk-123",
            "`--key` takes a key id such as `dk-3f9a0c12e4`",
            "`/flux key status` lists the ids",
            False,
        ),
        ("key rotate --key-id dk-012345678g", "`--key-id` takes a key id", "`/flux key status` lists the ids", False),
        ("key rotate --key 0123456", "(`dk-` and 10 hex digits), not `0123456`", "`/flux key status`", False),
        # the reply masks a --key value of 8+ characters wherever it appears; the example must survive
        ("key rotate --key 0123456789", "such as `dk-3f9a0c12e4` (`dk-` and 10", "`/flux key status`", False),
        ("key rotate --https-key-ref 'a b'", "`--https-key-ref` takes the name of a credential", "", False),
        ("key rotate --repo https://bad_host/org/repo", "`--repo` has no valid host", "", False),
        ("key rotate --repo", "`--repo` needs a value", "`--repo URL`", True),
        ("key rotate --key dk-0123456789 --key dk-0123456788", "`--key` is given twice", "Give it once", True),
        (
            "key rotate --rpeo https://github.com/o/r",
            "is not an option of `key rotate`",
            "Did you mean `--repo`?",
            True,
        ),
    ],
)
def test_key_rotate_refusals(text: str, says: str, hint: str, usage: bool) -> None:
    message = error(text)
    assert says in message
    assert hint in message
    assert message.endswith("See `/flux help key rotate`.")
    assert (f"Usage: `{ROTATE_USAGE}`" in message) is usage


@pytest.mark.parametrize(
    "text",
    [
        "key rotate",
        "key rotate apps --repo https://github.com/o/r",
        "key rotate --repo https://github.com/o/r --https-key-ref r",
        "key rotate --key dk-0123456789 -c c",
        "key rotate --https-key-ref r -t aks",
    ],
)
def test_nothing_or_a_combination_names_all_four_forms(text: str) -> None:
    message = error(text)
    for form in FORMS:
        assert form in message, form


@pytest.mark.parametrize("url", ADO_URLS)
def test_key_rotate_repo_refuses_azure_devops_and_says_what_to_do_instead(url: str) -> None:
    message = error(f"key rotate --repo {url}")
    assert "names an Azure DevOps repository, and Azure DevOps has no deploy keys" in message
    assert "`/flux key rotate --https-key-ref REF`" in message
    assert "`--provider azure`" in message


def test_key_rotate_repo_never_repeats_a_password() -> None:
    message = error("key rotate --repo https://bot:s3cr3t-pass-word@github.com/org/repo")
    assert "s3cr3t-pass-word" not in message
    assert "Secrets are never typed into chat" in message


def test_key_rotate_key_never_repeats_a_secret_given_as_the_id() -> None:
    message = error("key rotate --key hunter2hunter2hunter2")
    assert "`--key` takes a key id" in message
    assert "hunter2hunter2hunter2" not in message


def test_key_is_an_id_in_key_commands_only() -> None:
    # elsewhere `--key VALUE` still reads as a secret typed into chat
    assert "would put a secret into chat" in error("config create x -c c --key hunter2")
    assert "would put a secret into chat" not in error("key rotate --key hunter2")


@pytest.mark.parametrize(
    ("text", "says", "hint"),
    [
        ("key status apps", "a name alone does not say which cluster it is on: add `-c CLUSTER`", "`/flux key status`"),
        ("key status --name apps -g rg", "add `-c CLUSTER`", "lists every key"),
        ("key status -g rg", "`-g` only narrows down `-c CLUSTER`", "leave it out to list every key"),
        ("key status -t aks", "`-t` only narrows down `-c CLUSTER`", "Add `-c CLUSTER`"),
        ("key status --key dk-0123456789", "`key status` takes no `--key`", "`/flux key rotate --key ID`"),
        ("key list --repo https://github.com/o/r", "`key status` takes no `--repo`", "`/flux key rotate --repo URL`"),
        ("key status --https-key-ref r", "takes no `--https-key-ref`", "`/flux key rotate --https-key-ref REF`"),
        ("key status apps more -c c", "Unexpected word `more`", "Quote values"),
    ],
)
def test_key_status_refusals(text: str, says: str, hint: str) -> None:
    message = error(text)
    assert says in message
    assert hint in message
    assert "Usage: `/flux key status [NAME] [-c CLUSTER] [-g RG] [-t TYPE]`" in message
    assert message.endswith("See `/flux help key status`.")


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("key", "`key` needs one of `rotate` or `status`"),
        ("keys", "`key` needs one of `rotate` or `status`"),
        ("key rotat apps -c c", "Did you mean `key rotate`?"),
        ("key delete apps -c c", "`key` has `rotate` or `status`"),
        ("rotate apps -c c", "Did you mean `key rotate`?"),
    ],
)
def test_group_words(text: str, says: str) -> None:
    message = error(text)
    assert says in message
    assert "not available in this version" not in message


def test_key_is_no_longer_planned() -> None:
    assert "key" not in PLANNED
    assert {KeyRotate.verb, KeyStatus.verb} <= set(COMMANDS)


@pytest.mark.parametrize(
    "text",
    [
        "key rotate",
        "key rotate apps --repo https://github.com/o/r",
        "key rotate --key dk-123",
        f"key rotate --repo {ADO_URLS[0]}",
        "key status apps",
    ],
)
def test_refusals_read_the_same_in_pull_request_comments(text: str) -> None:
    comment = parse(f"/flux {text}\nwhy: the old key leaked into a build log", comment=True)
    assert isinstance(comment, Reply) and comment.error
    assert comment == parse(text)


def test_help_key_names_both_subcommands() -> None:
    text = reply("help key")
    assert text.startswith("*`/flux key`*")
    assert f"`{ROTATE_USAGE}`" in text
    assert "`/flux key status [NAME] [-c CLUSTER] [-g RG] [-t TYPE]`" in text
    assert reply("key --help") == text
    assert reply("help keys") == text


@pytest.mark.parametrize("command", ["key rotate", "key status"])
def test_help_of_each_subcommand(command: str) -> None:
    text = reply(f"help {command}")
    assert text.startswith(f"*`/flux {command}`*")
    assert reply(f"{command} --help") == text
    assert "Examples:" in text
    overview = [line for line in help_text(None).splitlines() if f"`/flux {command}`" in line]
    assert len(overview) == 1


def test_help_key_rotate_explains_the_four_forms_and_azure_devops() -> None:
    text = help_text("key rotate")
    for flag in ("NAME, -n, --name NAME", "--repo, --repository URL", "--key, --key-id ID", "--https-key-ref REF"):
        assert f"`{flag}`" in text, flag
    assert "Azure DevOps, which has no deploy keys" in text
    assert reply("help key list").startswith("*`/flux key status`*")


@pytest.mark.parametrize("url", ADO_URLS)
def test_deploy_key_generate_refuses_azure_devops_with_both_alternatives(url: str) -> None:
    message = error(f"config create apps -c c -u {url} --branch main --deploy-key generate")
    assert "Azure DevOps: it has no per-repository deploy keys and no API to add SSH keys" in message
    # HTTPS with a credential fluxops holds, rotated later with key rotate
    https = "https://dev.azure.com/contoso/fleet/_git/apps"
    assert f"`-u {https} --https-user USER --https-key-ref REF`" in message
    assert "`/flux key rotate --https-key-ref REF`" in message
    # or the cluster's workload identity
    assert f"`-u {https} --provider azure`" in message
    assert "only works with SSH URLs" not in message
    assert message.endswith("See `/flux help config create`.")


def test_deploy_key_generate_refuses_an_azure_devops_url_it_cannot_read_with_a_template() -> None:
    message = error("config create apps -c c -u https://dev.azure.com/contoso/apps --branch main --deploy-key generate")
    assert "no per-repository deploy keys" in message
    assert "`-u https://dev.azure.com/ORG/PROJECT/_git/REPO --https-user USER --https-key-ref REF`" in message


def test_deploy_key_generate_keeps_its_ssh_only_rule_elsewhere() -> None:
    message = error("config create apps -c c -u https://github.com/org/repo --branch main --deploy-key generate")
    assert "only works with SSH URLs" in message
    assert "Azure DevOps" not in message
    assert run("config create apps -c c -u git@github.com:org/repo --branch main --deploy-key generate")


def test_azure_devops_without_deploy_key_still_parses() -> None:
    for flags in ("--https-user bot --https-key-ref ado/token", "--provider azure"):
        assert run(f"config create apps -c c -u {ADO_URLS[0]} --branch main {flags}")


WORDS = st.sampled_from(
    [
        "key",
        "keys",
        "rotate",
        "status",
        "list",
        "apps",
        "-c",
        "c",
        "-g",
        "-t",
        "aks",
        "--name",
        "--repo",
        "--repository",
        "--key",
        "--key-id",
        "--https-key-ref",
        KEY,
        "DK-ABCDEF0123",
        "dk-12",
        "ado/token",
        "https://github.com/org/repo",
        "git@github.com:org/repo.git",
        ADO_URLS[2],
        "https://bot:hunter2hunter2@github.com/o/r",
        "ghp_" + "a" * 36,
        "=",
        "",
    ]
)


@FAST
@given(st.sampled_from(["key rotate", "key status", "keys", "key ls"]), st.lists(WORDS, max_size=8))
def test_key_word_soup(head: str, words: list[str]) -> None:
    text = " ".join([head, *words])
    check(text, parse(text))
    check(text, parse("/flux " + text, comment=True))
