"""watch, unwatch, watches (channel subscriptions) and plan, apply, confirm, cancel (pull-request comments)."""

from __future__ import annotations

import pytest

from bot.commands import (
    ApplyFleet,
    BaseCommand,
    CancelJob,
    ClusterTarget,
    Command,
    ConfirmJob,
    Ignore,
    PlanFleet,
    Role,
    Run,
    Unwatch,
    UnwatchClusters,
    Watch,
    WatchClusters,
    WatchList,
)
from bot.grammar import help_text, parse
from bot.grammar.help_topics import TOPICS
from bot.grammar.tokens import normalize, tokenize
from bot.grammar.vocabulary import COMMANDS
from bot.models import ClusterType
from tests.bot.grammar_helpers import error, reply, run

C = ClusterTarget("c")
JOB = "j-0123456789ab"


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # watch
        ("watch apps -c c", Watch(name="apps", target=C)),
        ("/flux watch apps -c c", Watch(name="apps", target=C)),
        ("watch --name apps -c c", Watch(name="apps", target=C)),
        ("watch -c c -n apps", Watch(name="apps", target=C)),
        ("WATCH apps --cluster c", Watch(name="apps", target=C)),
        (
            "watch apps -c c -g rg -t connectedClusters",
            Watch(name="apps", target=ClusterTarget("c", "rg", ClusterType.CONNECTED)),
        ),
        ("watch apps -c c --channel C0123ABC", Watch(name="apps", target=C, channel="C0123ABC")),
        ("watch apps -c c --channel=C0123ABC", Watch(name="apps", target=C, channel="C0123ABC")),
        ("watch apps -c c --channel G01PRIVATE9", Watch(name="apps", target=C, channel="G01PRIVATE9")),
        # Slack's escaped channel mentions carry the id; the label is dropped
        ("watch apps -c c --channel <#C0123ABC|ops-alerts>", Watch(name="apps", target=C, channel="C0123ABC")),
        ("watch apps -c c --channel <#C0123ABC>", Watch(name="apps", target=C, channel="C0123ABC")),
        ("watch apps -c c --channel <#C0123ABC|>", Watch(name="apps", target=C, channel="C0123ABC")),
        ("watch apps -c c --channel=<#C0123ABC|ops-alerts>", Watch(name="apps", target=C, channel="C0123ABC")),
        ("watch apps -c c --channel <#C0123ABC|odd label>", Watch(name="apps", target=C, channel="C0123ABC")),
        ("watch apps -c c --channel #C0123ABC", Watch(name="apps", target=C, channel="C0123ABC")),
        ("subscribe apps -c c", Watch(name="apps", target=C)),
        # a configuration named "list" (``watch list`` is ``watches``)
        ("watch --name list -c c", Watch(name="list", target=C)),
        # unwatch
        ("unwatch apps -c c", Unwatch(name="apps", target=C)),
        ("unwatch apps -c c --channel <#C0123ABC|ops>", Unwatch(name="apps", target=C, channel="C0123ABC")),
        ("unsubscribe -n apps -c c -t aks", Unwatch(name="apps", target=ClusterTarget("c", None, ClusterType.MANAGED))),
        # watches
        ("watches", WatchList()),
        ("watches -c c", WatchList(target=C)),
        ("watches -c c -g rg", WatchList(target=ClusterTarget("c", "rg"))),
        ("watch list", WatchList()),
        ("watch ls -c c", WatchList(target=C)),
        ("subscriptions", WatchList()),
        # pull-request commands
        ("plan", PlanFleet()),
        ("/flux plan", PlanFleet()),
        ("apply", ApplyFleet()),
        ("/flux APPLY", ApplyFleet()),
        (f"confirm {JOB}", ConfirmJob(job_id=JOB)),
        (f"confirm {JOB.upper()}", ConfirmJob(job_id=JOB)),
        (f"cancel {JOB}", CancelJob(job_id=JOB)),
    ],
)
def test_forms(text: str, expected: Command) -> None:
    assert run(text) == expected


@pytest.mark.parametrize(
    ("text", "expected", "help_topic"),
    [
        # watch / unwatch arguments
        ("watch -c c", "NAME is missing", "watch"),
        ("watch apps", "`-c CLUSTER` is required", "watch"),
        ("unwatch apps", "`-c CLUSTER` is required", "unwatch"),
        ("watch apps more -c c", "Unexpected word `more`", "watch"),
        ("watch Apps_1 -c c", "Did you mean `apps-1`?", "watch"),
        ("watch apps -n other -c c", "Two names: `apps` and `-n` `other`", "watch"),
        ("watch apps -c c --chanel C0123ABC", "Did you mean `--channel`?", "watch"),
        ("watch apps -c c --channel", "`--channel` needs a value", "watch"),
        ("watch apps -c c --channel C0123ABC --channel C0123ABD", "`--channel` is given twice", "watch"),
        ("watch apps -c c -t kind", "takes `managedClusters` (AKS) or `connectedClusters`", "watch"),
        # channel shapes
        ("watch apps -c c --channel #ops-alerts", "does not look channels up by name", "watch"),
        ("watch apps -c c --channel ops-alerts", "takes a Slack channel id such as `C0123ABC`", "watch"),
        ("watch apps -c c --channel c0123abc", "Channel ids are upper case: did you mean `C0123ABC`?", "watch"),
        ("watch apps -c c --channel <@U0123ABC>", "That is a person", "watch"),
        ("watch apps -c c --channel @U0123ABC", "That is a person", "watch"),
        ("watch apps -c c --channel D0123ABC", "direct-message conversation", "watch"),
        ("watch apps -c c --channel <#ops>", "not `\u2039#ops\u203a`", "watch"),
        ("watch apps -c c --channel C01", "takes a Slack channel id", "watch"),
        ("unwatch apps -c c --channel https://x.slack.com/archives/C0123ABC", "takes a Slack channel id", "unwatch"),
        # watches
        ("watches -g rg", "`-g` only narrows down `-c CLUSTER`", "watches"),
        ("watches -t aks", "`-t` only narrows down `-c CLUSTER`", "watches"),
        ("watches apps", "Unexpected word `apps`", "watches"),
        ("watches --channel C0123ABC", "`--channel` is not an option of `watches`", "watches"),
        ("wach apps -c c", "Did you mean `watch`?", None),
        ("unwach apps -c c", "Did you mean `unwatch`?", None),
        # plan / apply
        ("apply -c prod", "it takes no `-c`", "apply"),
        ("apply --cluster prod", "it takes no `--cluster`", "apply"),
        ("plan -g rg", "it takes no `-g`", "plan"),
        ("apply cluster-config", "`apply` takes no arguments, not `cluster-config`", "apply"),
        ("apply --force", "`--force` is not an option of `apply`", "apply"),
        ("aply", "Did you mean `apply`?", None),
        ("fleet apply x", "`--clusters KEY=VALUE,...` is required", "fleet apply"),
        # confirm / cancel
        ("confirm", "JOB_ID is missing", "confirm"),
        ("cancel", "JOB_ID is missing", "cancel"),
        ("confirm 42", "takes a job id such as `j-0123456789ab`", "confirm"),
        ("confirm j-0123", "(`j-` and 12 hex digits), not `j-0123`", "confirm"),
        ("cancel j-0123456789ag", "not `j-0123456789ag`", "cancel"),
        ("cancel j-0123456789abc", "12 hex digits", "cancel"),
        (f"confirm {JOB} {JOB}", "`confirm` takes one job id", "confirm"),
        (f"confirm {JOB} --yes", "`--yes` is not an option of `confirm`", "confirm"),
        ("confrim j-0123456789ab", "Did you mean `confirm`?", None),
    ],
)
def test_usage_errors(text: str, expected: str, help_topic: str | None) -> None:
    message = error(text)
    assert expected in message
    assert "See `/flux help" in message
    if help_topic is not None:
        assert f"See `/flux help {help_topic}`." in message


@pytest.mark.parametrize(
    ("text", "usage"),
    [
        (
            "watch -c c",
            "/flux watch NAME -c CLUSTER [-g RG] [-t TYPE] [--channel CHANNEL] | "
            "/flux watch [NAME] --clusters KEY=VALUE,... [--channel CHANNEL]",
        ),
        (
            "unwatch apps",
            "/flux unwatch NAME -c CLUSTER [-g RG] [-t TYPE] [--channel CHANNEL] | "
            "/flux unwatch [NAME] --clusters KEY=VALUE,... [--channel CHANNEL]",
        ),
        ("watches extra", "/flux watches [-c CLUSTER] [-g RG] [-t TYPE]"),
        ("plan now", "/flux plan"),
        ("apply -c c", "/flux apply"),
        ("confirm", "/flux confirm JOB_ID DIGEST"),
        ("cancel a b", "/flux cancel JOB_ID"),
        ("unlock", "/flux unlock CLUSTER"),
        ("unlock a b", "/flux unlock CLUSTER"),
    ],
)
def test_missing_and_unexpected_arguments_repeat_the_usage_line(text: str, usage: str) -> None:
    assert f"Usage: `{usage}`" in error(text)


@pytest.mark.parametrize(
    ("command", "role", "mutates", "verb"),
    [
        (Watch(name="apps", target=C), Role.VIEWER, False, "watch"),
        (Unwatch(name="apps", target=C), Role.VIEWER, False, "unwatch"),
        (WatchList(), Role.VIEWER, False, "watches"),
        (PlanFleet(), Role.VIEWER, False, "plan"),
        (ApplyFleet(), Role.OPERATOR, True, "apply"),
        (ConfirmJob(job_id=JOB), Role.VIEWER, False, "confirm"),
        (CancelJob(job_id=JOB), Role.VIEWER, False, "cancel"),
    ],
)
def test_how_each_command_is_treated(command: BaseCommand, role: Role, mutates: bool, verb: str) -> None:
    assert (command.role, command.mutates, command.destructive, command.verb) == (role, mutates, False, verb)
    assert command.lock_name is None
    assert verb in COMMANDS


def test_cluster_target_only_where_there_is_a_cluster() -> None:
    assert Watch(name="apps", target=C).cluster_target == C
    assert Unwatch(name="apps", target=C).cluster_target == C
    assert WatchList(target=C).cluster_target == C
    for command in (WatchList(), PlanFleet(), ApplyFleet(), ConfirmJob(job_id=JOB), CancelJob(job_id=JOB)):
        assert command.cluster_target is None, command


@pytest.mark.parametrize(
    ("comment", "expected"),
    [
        ("/flux apply", ApplyFleet()),
        ("/flux apply\n\nThe plan looks right; applying. Thanks @alice for the review!", ApplyFleet()),
        ("  /flux apply  \r\nprose on the next line -c prod --force", ApplyFleet()),
        ("\n\n/flux plan\nthe plan comment looked stale", PlanFleet()),
        (f"/flux confirm {JOB}\nyes, delete it", ConfirmJob(job_id=JOB)),
        (f"/FLUX cancel {JOB}\n\n> /flux config delete apps -c c", CancelJob(job_id=JOB)),
        ("/flux watch apps -c c --channel C0123ABC\nfor the on-call channel", Watch("apps", C, "C0123ABC")),
    ],
)
def test_pull_request_comments(comment: str, expected: Command) -> None:
    assert parse(comment, comment=True) == Run(expected)


@pytest.mark.parametrize(
    "comment",
    [
        "Looks good to me.\n/flux apply",
        "`/flux apply`",
        "> /flux apply",
        "/fluxapply",
        "please /flux apply",
    ],
)
def test_comments_that_do_not_start_with_flux_are_ignored(comment: str) -> None:
    assert parse(comment, comment=True) == Ignore()


def test_comment_errors_are_about_the_first_line_only() -> None:
    message = error("/flux apply now\nsee -c prod below", comment=True)
    assert "`apply` takes no arguments, not `now`" in message
    assert error(f"/flux confirm\n{JOB}", comment=True).startswith("JOB_ID is missing")


def test_the_tokenizer_keeps_channel_mentions_only_for_the_parser() -> None:
    text = "watch apps --channel <#C0123ABC|ops-alerts> <@U42> <https://h/r|h/r>"
    assert tokenize(text)[3] == "#ops-alerts"
    assert normalize(text, keep_channels=True) == "watch apps --channel <#C0123ABC|ops-alerts> @U42 https://h/r"
    assert normalize("<#C0123ABC|a b>", keep_channels=True) == "<#C0123ABC>"


def test_reparsing_the_stored_text_gives_the_same_command() -> None:
    # the job layer stores the text as Slack sent it and parses it again in the worker
    text = "watch apps -c c --channel <#C0123ABC|ops-alerts>"
    assert parse(text) == parse(text) == Run(Watch(name="apps", target=C, channel="C0123ABC"))


@pytest.mark.parametrize("command", ["watch", "unwatch", "watches", "plan", "apply", "confirm", "cancel"])
def test_help(command: str) -> None:
    text = reply(f"help {command}")
    assert text.startswith(f"*`/flux {command}`*")
    assert reply(f"{command} --help") == text
    overview = [line for line in help_text(None).splitlines() if f"`/flux {command}`" in line]
    assert len(overview) == 1
    if command in ("plan", "apply", "confirm", "cancel"):
        assert "pull-request comment" in overview[0]
        assert "Works in pull-request comments" in text
    else:
        assert "Works in Slack" in text


def test_help_names_watch_list_and_the_channel_forms() -> None:
    assert "`/flux watch list` is the same command" in help_text("watches")
    assert reply("help watch list").startswith("*`/flux watches`*")
    watch = help_text("watch")
    assert "--channel CHANNEL" in watch and "`C0123ABC`" in watch


@pytest.mark.parametrize("command", ["watch", "unwatch"])
def test_watch_help_shows_the_selector_form_and_its_examples_parse(command: str) -> None:
    text = help_text(command)
    assert f"/flux {command} [NAME] --clusters KEY=VALUE,..." in text
    assert "--clusters KEY=VALUE,... | all" in text
    examples = [e for e in TOPICS[command].examples if "--clusters" in e]
    assert examples, "an example of the selector form"
    for example in examples:
        parsed = parse(example)
        assert isinstance(parsed, Run) and isinstance(parsed.command, WatchClusters | UnwatchClusters), example


@pytest.mark.parametrize("head", ["apply", "confirm", "watch apps -c c --channel", "clusters"])
def test_a_long_key_like_word_is_never_repeated(head: str) -> None:
    # not random-looking enough for bot.redact, but a 40-character base64 word may be a key
    word = "0" * 32 + "/" + "0" * 7
    assert word not in error(f"{head} {word}")
