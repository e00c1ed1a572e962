"""``/flux events NAME -c CLUSTER [--kind K] [--since 1h]``: the grammar, its help and the job record's codec."""

from __future__ import annotations

import pytest

from bot.command_codec import decode_command, encode
from bot.commands import ClusterTarget, Events, Role
from bot.models import ClusterType
from tests.bot.grammar_helpers import error, reply, run


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "/flux events cluster-config -c flux-demo-arc",
            Events(ClusterTarget("flux-demo-arc"), "cluster-config"),
        ),
        (
            "/flux event --name apps -c prod -g rg -t aks --kind hr --since 30m",
            Events(ClusterTarget("prod", "rg", ClusterType.MANAGED), "apps", kind="HelmRelease", since_seconds=1800),
        ),
        (
            "/flux events apps -c prod --kind gitrepositories --since 2h30m",
            Events(ClusterTarget("prod"), "apps", kind="GitRepository", since_seconds=9000),
        ),
        (
            "/flux events apps -c prod --kind OCIRepository --since 1d",
            Events(ClusterTarget("prod"), "apps", kind="OCIRepository", since_seconds=86_400),
        ),
    ],
)
def test_events_parses(text: str, expected: Events) -> None:
    assert run(text) == expected


def test_events_defaults_to_every_kind_over_the_last_hour_and_is_a_viewers_read() -> None:
    command = run("/flux events apps -c prod")
    assert isinstance(command, Events)
    assert (command.kind, command.since_seconds) == (None, 3600)
    assert command.role is Role.VIEWER and not command.mutates


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("/flux events -c prod", "NAME is missing."),
        ("/flux events apps", "`-c CLUSTER` is required"),
        ("/flux events apps -c prod --kind kustomizaton", "Did you mean `Kustomization`?"),
        ("/flux events apps -c prod --kind Pod", "The kinds are `GitRepository`, `Bucket`"),
        ("/flux events apps -c prod --since soon", "`--since` takes a period"),
        ("/flux events apps -c prod --since 0h", "must be longer than zero"),
        ("/flux events apps -c prod --knd ks", "Did you mean `--kind`?"),
        ("/flux events apps extra -c prod", "Unexpected word `extra`"),
    ],
)
def test_events_errors_say_what_to_type(text: str, says: str) -> None:
    assert says in error(text)


def test_events_help() -> None:
    text = reply("/flux help events")
    assert text.startswith("*`/flux events`*")
    assert "`--kind KIND`" in text and "`--since DURATION`" in text
    assert "`/flux status NAME -c CLUSTER`" in text
    assert reply("/flux events --help") == text
    assert "`/flux events`" in reply("/flux help")


def test_events_travels_in_the_job_record() -> None:
    command = run("/flux events apps -c prod --kind ks --since 45m")
    assert decode_command(encode(command)) == command
