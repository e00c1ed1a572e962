"""A pushed commit traced over clusters (``PushView``) in Slack: goldens, the headline last, hostile names.

Goldens live in tests/golden/slack_push/ (tests/golden/slack/ is reserved to the cases of
test_slack_render.py, whose stale-file check knows no others): ``<case>.txt`` as a person reads it,
``<case>.json`` as it goes to Slack. ``UPDATE_GOLDEN=1`` rewrites them.

The push views here are shared with test_markdown.py.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from dataclasses import replace

import pytest

from bot.render import slack
from bot.render import wording as w
from bot.render.slack import SlackMessage
from bot.views import Phase, PushView, TraceRow, TraceState
from cli.slack_text import blocks_to_text
from tests.bot.render import event_views as ev
from tests.bot.render import tutorial_views as tv
from tests.bot.render.test_slack_render import raw, render_checked, terminal
from tests.golden_files import assert_exact, assert_no_stale

REPO = "contoso/fleet-config"
PUSHED = "9b2c6f1e0d3a4b5c6d7e8f90a1b2c3d4e5f60718"
PUSH_JOB = "j-20220410-9b2c6f"
COMMIT_URL = f"https://github.com/{REPO}/commit/{PUSHED}"
#: a GitHub token as people paste them: ``ghp_`` and 36 characters
FAKE_TOKEN = "ghp_" + "aB3dE5gH7jK9mN1pQ3sT5vW7yZ9bC1dE3fG5"
PEM_BODY = "b3BlbnNzaC1rZXktdjEAAAAABG5vbmUAAAAEbm9uZQAAAAAAAAAB"
FAKE_PEM = f"-----BEGIN OPENSSH PRIVATE KEY-----\n{PEM_BODY}\n-----END OPENSSH PRIVATE KEY-----"
APPS_MISSING = "Kustomization cluster-config-apps: kustomization path not found: ./apps/nope"


def _row(cluster: str, state: TraceState, detail: str = "", config: str = "cluster-config") -> TraceRow:
    revision = f"main/{PUSHED}" if state is not TraceState.PENDING else f"main/{tv.SHA}"
    return TraceRow(cluster=cluster, config=config, state=state, detail=detail, revision=revision)


def push_pending() -> PushView:
    """Just pushed: no cluster has fetched the commit yet."""
    return PushView(
        job_id=PUSH_JOB,
        repo=REPO,
        branch="main",
        sha=PUSHED,
        pusher="octocat",
        rows=(
            _row("flux-demo-arc", TraceState.PENDING, "waiting for the source to fetch the commit"),
            _row("flux-demo-aks", TraceState.PENDING, "waiting for the source to fetch the commit"),
        ),
        phase=Phase.WATCHING,
        message="apps: podinfo 6.1.0\n\nBump the chart and its values.",
        commit_url=COMMIT_URL,
    )


def push_partly_applied() -> PushView:
    """Seven of nine clusters have it; two are still reconciling."""
    applied = tuple(_row(f"aks-prod-{i:02d}", TraceState.APPLIED) for i in range(1, 8))
    pending = (
        _row("aks-prod-08", TraceState.PENDING, "Kustomization cluster-config-apps: Reconciliation in progress"),
        _row("aks-prod-09", TraceState.PENDING, "waiting for the source to fetch the commit"),
    )
    return replace(push_pending(), rows=(*applied[:3], *pending, *applied[3:]))


def push_all_applied() -> PushView:
    rows = tuple(replace(row, state=TraceState.APPLIED, detail="") for row in push_partly_applied().rows)
    return replace(push_pending(), rows=rows, phase=Phase.SUCCEEDED)


def push_failed() -> PushView:
    """One cluster reports the commit Non-Compliant, naming the kustomization; another lost its configuration."""
    return replace(
        push_pending(),
        phase=Phase.FAILED,
        rows=(
            _row("flux-demo-aks", TraceState.APPLIED),
            _row("flux-demo-arc", TraceState.FAILED, APPS_MISSING),
            _row(
                "prod-weu",
                TraceState.ERROR,
                "flux configuration 'cluster-config' on cluster 'prod-weu' is gone (deleted while tracing)",
            ),
            _row("flux-demo-arc", TraceState.APPLIED, config="team-a"),
        ),
    )


def push_failed_with_event() -> PushView:
    """The failed cluster's row also carries the newest Warning event of its failing kustomization, read from the
    cluster once the row failed."""
    view = push_failed()
    why = f"Kustomization cluster-config-apps: ArtifactFailed: {ev.NOT_FOUND} (4 times)"
    rows = tuple(replace(row, why=why) if row.state is TraceState.FAILED else row for row in view.rows)
    return replace(view, rows=rows)


def push_hostile() -> PushView:
    """Everything a Git host or a cluster reports is hostile: no ping, link, HTML, table break or secret gets out."""
    return PushView(
        job_id=PUSH_JOB,
        repo="<script>alert(1)</script>/x|y",
        branch="main`|<b>",
        sha=PUSHED,
        pusher="U024BE7LH @everyone",
        rows=(
            TraceRow(
                cluster="<!channel> @here",
                config="a|b`c``d",
                state=TraceState.FAILED,
                detail=f"{FAKE_PEM} | col | [click](https://evil.example) <img src=x> &amp; #12 @octo-org/admins",
                revision="main|<x>",
            ),
            TraceRow(cluster="* not bold *", config="ok", state=TraceState.APPLIED, detail=f"token {FAKE_TOKEN}"),
        ),
        phase=Phase.FAILED,
        message=f"fix @everyone <b>now</b> {FAKE_TOKEN} `x` | y",
        commit_url="javascript:alert(1)",
    )


def push_configurations() -> PushView:
    """Two configurations on one cluster follow the branch: the headline counts configurations."""
    return replace(
        push_pending(),
        rows=(
            _row("flux-demo-arc", TraceState.APPLIED),
            _row("flux-demo-arc", TraceState.PENDING, config="team-a"),
        ),
    )


def push_nothing_tracks() -> PushView:
    return replace(push_pending(), rows=(), phase=Phase.SUCCEEDED)


CASES: dict[str, Callable[[], PushView]] = {
    "push_pending": push_pending,
    "push_partly_applied": push_partly_applied,
    "push_all_applied": push_all_applied,
    "push_failed": push_failed,
    "push_failed_with_event": push_failed_with_event,
    "push_hostile": push_hostile,
    "push_configurations": push_configurations,
    "push_nothing_tracks": push_nothing_tracks,
}


def _snapshot(messages: list[SlackMessage]) -> tuple[str, str]:
    texts = []
    for number, message in enumerate(messages, start=1):
        texts.append(f"══ message {number} of {len(messages)} ══ notification: {message.text}")
        texts.append(blocks_to_text(message.blocks, message.text))
        texts.append("")
    data = [{"text": m.text, "blocks": list(m.blocks), "metadata": m.metadata} for m in messages]
    return "\n".join(texts), json.dumps(data, indent=2, ensure_ascii=False) + "\n"


@pytest.mark.parametrize("case", sorted(CASES))
def test_golden(case: str) -> None:
    text, data = _snapshot(render_checked(CASES[case]()))
    assert_exact(f"slack_push/{case}.txt", text)
    assert_exact(f"slack_push/{case}.json", data)


def test_no_stale_goldens() -> None:
    assert_no_stale("slack_push", (f"{case}{suffix}" for case in CASES for suffix in (".txt", ".json")))


@pytest.mark.parametrize("case", sorted(CASES))
def test_text_and_fallback_end_with_the_headline(case: str) -> None:
    view = CASES[case]()
    messages = render_checked(view)
    assert terminal(messages).rstrip().endswith(view.headline)
    assert messages[-1].blocks[-1]["text"]["text"].endswith(view.headline)
    assert all(m.text.endswith(view.headline) for m in messages)
    assert re.search(r"applied on \d+/\d+ (clusters|configurations)$", messages[0].text)


def test_headlines() -> None:
    assert push_pending().headline == "applied on 0/2 clusters"
    assert push_partly_applied().headline == "applied on 7/9 clusters"
    assert push_all_applied().headline == "applied on 9/9 clusters"
    assert push_configurations().headline == "applied on 1/2 configurations"


def test_partly_applied_shows_every_row_worst_first_with_short_revisions() -> None:
    [message] = render_checked(push_partly_applied())
    text = terminal([message])
    rows = [line for line in text.splitlines() if line.startswith(("✅", "⏳")) and "aks-prod-" in line]
    assert [line.split()[1] for line in rows] == ["aks-prod-08", "aks-prod-09"] + [
        f"aks-prod-{i:02d}" for i in range(1, 8)
    ]
    assert "⏳ aks-prod-08 · `cluster-config` · pending · `main/4f1bdad4d0a5` — Kustomization" in text
    assert "✅ aks-prod-01 · `cluster-config` · applied · `main/9b2c6f1e0d3a`" in text
    assert "Clusters · 9: 2 pending, 7 applied" in text
    assert tv.SHA not in raw([message])
    assert raw([message]).count(PUSHED) == 1  # in the commit link only
    assert message.text == (
        "push 9b2c6f1e0d3a to contoso/fleet-config (main) by octocat: reconciling — applied on 7/9 clusters"
    )


def test_heading_links_the_commit_and_names_the_pusher() -> None:
    [message] = render_checked(push_pending())
    assert message.blocks[0] == {
        "type": "header",
        "text": {"type": "plain_text", "text": ":eyes: push to contoso/fleet-config · main", "emoji": True},
    }
    context = message.blocks[1]["elements"][0]["text"]
    assert context == (f"*Reconciling* · <{COMMIT_URL}|9b2c6f1e0d3a> pushed by octocat · job `{PUSH_JOB}`")
    assert f"9b2c6f1e0d3a ({COMMIT_URL}) pushed by octocat" in terminal([message])
    assert "📝 apps: podinfo 6.1.0" in terminal([message])
    assert "Bump the chart" not in terminal([message])  # the subject line only


def test_failure_names_the_kustomization_first() -> None:
    text = terminal(render_checked(push_failed()))
    rows = text[text.index("Clusters · 4") :].splitlines()
    assert rows[1] == f"❌ flux-demo-arc · `cluster-config` · failed · `main/9b2c6f1e0d3a` — {APPS_MISSING}"
    assert rows[2].startswith("⚠️ prod-weu · `cluster-config` · error")
    assert "Clusters · 4: 1 failed, 1 error, 2 applied" in text
    assert text.rstrip().endswith("❌ Failed · applied on 2/4 configurations")


@pytest.mark.parametrize("phase", list(Phase))
def test_metadata_is_a_job_s(phase: Phase) -> None:
    [message] = render_checked(replace(push_pending(), phase=phase))
    assert message.metadata == {
        "event_type": "fluxops_job",
        "event_payload": {"job_id": PUSH_JOB, "phase": phase.value, "terminal": phase.terminal},
    }


def test_hostile_push_cannot_ping_link_or_leak() -> None:
    messages = render_checked(push_hostile())  # render_checked: no < > & outside our own links and mentions
    sent = raw(messages) + "".join(m.text for m in messages)
    assert FAKE_TOKEN not in sent and PEM_BODY not in sent
    assert "BEGIN OPENSSH" not in sent
    # the header is plain_text, which Slack never parses; every mrkdwn text is checked here
    mrkdwn = [
        e["text"]
        for m in messages
        for b in m.blocks
        for e in ([b["text"]] if "text" in b else b.get("elements", []))
        if e["type"] == "mrkdwn"
    ]
    assert not any(re.search(r"<[^<>]*>", t) for t in mrkdwn), "no link, mention or channel reference at all"
    assert "<@U024BE7LH>" not in sent  # a git login is never read as a Slack user id
    assert "javascript:" not in sent  # a commit URL that is not http(s) is not linked, nor shown
    text = terminal(messages)
    assert "pushed by U024BE7LH @everyone" in text
    assert "`a|b'c''d`" in text  # a backtick would end the code span early


def test_a_fleet_of_a_thousand_fits_with_failures_first_and_the_headline_last() -> None:
    rows = tuple(
        _row(
            f"aks-fleet-{i:04d}",
            TraceState.FAILED if i % 250 == 7 else TraceState.APPLIED,
            APPS_MISSING if i % 250 == 7 else "",
        )
        for i in range(1000)
    )
    view = replace(push_pending(), rows=rows, phase=Phase.FAILED)
    messages = render_checked(view)
    assert len(messages) > 1
    text = terminal(messages)
    for i in (7, 257, 507, 757):
        assert f"❌ aks-fleet-{i:04d} · `cluster-config` · failed" in text
    assert f"… and {1000 - slack.MAX_ROWS} more configurations, not shown here" in text
    assert text.rstrip().endswith("❌ Failed · applied on 996/1000 clusters")
    assert [m.text for m in messages] == [
        f"push 9b2c6f1e0d3a to contoso/fleet-config (main) by octocat: failed (part {i} of {len(messages)})"
        " — applied on 996/1000 clusters"
        for i in range(1, len(messages) + 1)
    ]


def test_wording_for_pushes() -> None:
    assert w.trace_tally(push_failed().rows) == "1 failed, 1 error, 2 applied"
    assert w.trace_tally(push_all_applied().rows) == "all 9 applied"
    assert w.trace_tally(()) == "none"
    assert [r.cluster for r in w.trace_order(push_failed().rows)] == [
        "flux-demo-arc",
        "prod-weu",
        "flux-demo-aks",
        "flux-demo-arc",
    ]
    assert w.commit_subject("\n\n  fix: it  \nbody") == "fix: it"
    assert w.push_summary(push_pending()) == "push 9b2c6f1e0d3a to contoso/fleet-config (main) by octocat"
    assert w.confirm_command("j-1") == "/flux confirm j-1" and w.cancel_command("j-1") == "/flux cancel j-1"
    assert w.who_confirms("") == "Confirm"
