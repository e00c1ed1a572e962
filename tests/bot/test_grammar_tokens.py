"""Reading the text: Slack markup and typography, shell quoting, slash and comment modes, the length cap."""

from __future__ import annotations

import pytest

from bot.commands import ClusterTarget, ConfigCreate, Ignore, Reply, Run, Status
from bot.grammar import MAX_LENGTH, parse
from bot.grammar.tokens import normalize, tokenize
from bot.models import GitSource
from tests.bot.grammar_helpers import error, reply, run


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("status -c prod", ["status", "-c", "prod"]),
        ("a \"b c\" 'd e' f\\ g", ["a", "b c", "d e", "f g"]),
        ("a \u201cb c\u201d \u2018d e\u2019", ["a", "b c", "d e"]),
        ("a\u00a0b\u2003c\tdd\n e", ["a", "b", "c", "dd", "e"]),
        ("a\u200bb", ["ab"]),
        ("--branch feature#1", ["--branch", "feature#1"]),
        ("<https://github.com/org/repo|github.com/org/repo>", ["https://github.com/org/repo"]),
        ("<https://github.com/org/repo>", ["https://github.com/org/repo"]),
        ("<http://example.com|example.com>", ["example.com"]),
        ("<mailto:ops@contoso.com|ops@contoso.com>", ["ops@contoso.com"]),
        ("<mailto:ops@contoso.com>", ["ops@contoso.com"]),
        ("<mailto:git@github.com|git@github.com>:org/repo.git", ["git@github.com:org/repo.git"]),
        ("<#C123|ops-alerts> <@U42> <!here>", ["#ops-alerts", "@U42", "!here"]),
        ("a &amp;&amp; b &lt;x&gt; &amp;lt;", ["a", "&&", "b", "<x>", "&lt;"]),
        ("\u2014branch main \u2013c prod", ["--branch", "main", "-c", "prod"]),
        ("x —  y", ["x", "—", "y"]),
    ],
)
def test_tokenize(text: str, words: list[str]) -> None:
    assert tokenize(text) == words


def test_normalize_keeps_plain_text() -> None:
    text = "config create x -c c -u https://github.com/org/repo --branch main"
    assert normalize(text) == text


def test_slack_mangled_command_parses() -> None:
    typed = (
        "config create x -c c -u <https://github.com/org/repo|https://github.com/org/repo> "
        "—branch “main” —kustomization name=apps path=./apps&amp;co"
    )
    command = run(typed)
    assert isinstance(command, ConfigCreate)
    assert isinstance(command.spec.source, GitSource)
    assert command.spec.source.url == "https://github.com/org/repo"
    assert command.spec.source.ref.branch == "main"
    assert command.spec.kustomizations[0].path == "./apps&co"


@pytest.mark.parametrize("text", ["", "   ", "\n\t", "/flux", "/flux   ", "/FLUX"])
def test_empty_slash_command_gets_the_overview(text: str) -> None:
    assert "`/flux config create`" in reply(text)


@pytest.mark.parametrize("text", ["status -c c", "/flux status -c c", "  /flux  status -c c  ", "/Flux status -c c"])
def test_slash_prefix_is_optional(text: str) -> None:
    assert run(text) == Status(target=ClusterTarget("c"))


@pytest.mark.parametrize(
    "comment",
    [
        "/flux status -c c",
        "\n\n  /flux status -c c\nthanks!",
        "/flux status -c c\r\n/flux config delete x -c c",
        "/flux status -c c\n\n```\n/flux extension delete -c c\n```",
    ],
)
def test_comment_first_line_counts(comment: str) -> None:
    assert parse(comment, comment=True) == Run(Status(target=ClusterTarget("c")))


@pytest.mark.parametrize(
    "comment",
    [
        "",
        "LGTM",
        "Please run\n/flux status -c c",
        "`/flux status -c c`",
        "/fluxcd status",
        "> /flux status -c c",
        "/flu status",
        "x" * (MAX_LENGTH * 3),
    ],
)
def test_comments_not_for_fluxops_are_ignored(comment: str) -> None:
    assert parse(comment, comment=True) == Ignore()


def test_comment_with_errors_and_help() -> None:
    assert "`/flux config create`" in reply("/flux\nsome prose", comment=True)
    assert "Did you mean `status`?" in error("/flux statsu -c c\nprose", comment=True)


def test_length_cap() -> None:
    padding = " " * (MAX_LENGTH - len("status -c c"))
    assert isinstance(parse("status -c c" + padding), Run)
    long = "status -c c --name " + "a" * MAX_LENGTH
    assert f"at most {MAX_LENGTH}" in error(long)
    assert f"at most {MAX_LENGTH}" in error("/flux " + long, comment=True)


def test_unbalanced_quotes() -> None:
    for text in ('status -c "c', "status -c 'c", "status -c \u201cc", "status -c \u2018c"):
        assert "A quote is not closed" in error(text)


def test_help_flag_anywhere() -> None:
    assert reply("config create --help").startswith("*`/flux config create`*")
    assert reply("config create x -c c --bogus -h").startswith("*`/flux config create`*")
    assert reply("config --help").startswith("*`/flux config`*")
    assert reply("--help").startswith("*fluxops*")
    assert reply("status --help").startswith("*`/flux status`*")


def test_result_is_one_of_three() -> None:
    for text in ("status -c c", "help", "bogus", ""):
        assert isinstance(parse(text), Run | Reply | Ignore)
