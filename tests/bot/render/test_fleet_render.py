"""A fleet run's message: bounded however large the fleet and however many clusters fail."""

from __future__ import annotations

from dataclasses import replace

import pytest

from bot.render import slack
from bot.render.documents.fleet import FAILURES_NAMED, eta, throttle_words
from bot.render.markdown import render_markdown
from bot.views import ClusterFailure, FleetRunView, Phase, ThrottleInfo, WaveRow, WaveState
from tests.bot.render import fleet_views
from tests.bot.render.test_slack_render import render_checked, terminal


def test_a_thousand_clusters_and_fifty_failures_fit_one_slack_message() -> None:
    view = fleet_views.fleet_huge()
    assert view.total == 1000 and sum(len(w.failed) for w in view.waves) == 50
    messages = render_checked(view)  # every Slack limit, on every message
    assert len(messages) == 1
    text = terminal(messages)
    assert text.count("Non-Compliant") == FAILURES_NAMED
    assert "and 45 more" in text
    assert "fleet-0999" not in text  # the wave's cluster list is not spelled out
    assert sum(len(b.get("text", {}).get("text", "")) for b in messages[0].blocks) <= slack.MAX_MESSAGE_TEXT


def test_fifty_failing_waves_of_twenty_still_fit() -> None:
    reason = "timed out after 10 min at Pending: " + "x" * 400
    waves = tuple(
        WaveRow(
            n,
            WaveState.HALTED,
            total=100,
            done=80,
            failed=tuple(ClusterFailure(f"c-{n}-{i}", reason) for i in range(20)),
        )
        for n in range(1, 11)
    )
    view = replace(fleet_views.fleet_huge(), waves=waves)
    for message in render_checked(view):
        assert message.text
    assert len(render_markdown(view)) <= 65_536


def test_markdown_names_the_same_failures() -> None:
    markdown = render_markdown(fleet_views.fleet_halted())
    assert "`fleet-0012` — Non-Compliant: Kustomization apps: path not found: ./apps/prod" in markdown
    assert "@U0EVIL" not in markdown.replace("\\@U0EVIL", "")


@pytest.mark.parametrize(
    ("seconds", "words"),
    [
        (5, "less than a minute left"),
        (130, "about 2 min left"),
        (3600, "about 1 h left"),
        (3900, "about 1 h 5 min left"),
    ],
)
def test_eta(seconds: float, words: str) -> None:
    assert eta(seconds) == words


@pytest.mark.parametrize(
    ("throttle", "words"),
    [
        (ThrottleInfo(remaining=143), ["ARM writes: 143 left"]),
        (
            ThrottleInfo(remaining=0, shut_seconds=3.6, throttled=3),
            ["throttled: waiting 4 s for ARM", "429s absorbed: 3"],
        ),
        (ThrottleInfo(remaining=None), ["ARM writes: budget not known yet"]),
    ],
)
def test_throttle(throttle: ThrottleInfo, words: list[str]) -> None:
    assert throttle_words(throttle) == words


def test_an_ended_run_shows_no_time_left_or_budget() -> None:
    done = terminal(render_checked(fleet_views.fleet_done()))
    assert "left" not in done and "429s absorbed: 7" in done
    quiet = replace(fleet_views.fleet_done(), throttle=None, phase=Phase.CANCELED)
    assert "429s" not in terminal(render_checked(quiet))


def test_a_run_without_waves_yet_is_only_its_headline() -> None:
    view = FleetRunView(run_id="j-0123456789ab", actor="U1", title="fleet list", phase=Phase.QUEUED, waves=())
    text = terminal(render_checked(view))
    assert "0/0 clusters done" in text and "Waves" not in text
