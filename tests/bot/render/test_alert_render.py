"""Watch alerts (bot/render/documents/alerts.py) against golden files, in Slack and in Markdown.

Goldens live in tests/golden/slack_alerts/ (``<case>.txt`` as a person reads it, ``<case>.json`` as it goes to
Slack) and tests/golden/markdown_alerts/ (``<case>.md``); the cases are tests/bot/render/alert_views.py.
Regenerate after an intended change and review the diff:

    UPDATE_GOLDEN=1 PYTHONPATH=. .venv/bin/pytest tests/bot/render/test_alert_render.py
"""

from __future__ import annotations

import pytest

from bot.render import markdown, slack
from cli.slack_text import blocks_to_text
from tests.bot.render.alert_views import CASES
from tests.bot.render.test_markdown import check_inert
from tests.bot.render.test_slack_push import _snapshot
from tests.bot.render.test_slack_render import check_limits
from tests.golden_files import assert_exact, assert_no_stale


@pytest.mark.parametrize("case", sorted(CASES))
def test_golden_slack(case: str) -> None:
    messages = slack.render_document(CASES[case]())
    assert messages
    for message in messages:
        check_limits(message)
    text, data = _snapshot(messages)
    assert_exact(f"slack_alerts/{case}.txt", text)
    assert_exact(f"slack_alerts/{case}.json", data)


@pytest.mark.parametrize("case", sorted(CASES))
def test_golden_markdown(case: str) -> None:
    text = markdown.render_document(CASES[case]())
    check_inert(text)
    assert_exact(f"markdown_alerts/{case}.md", text)


def test_no_stale_goldens() -> None:
    assert_no_stale("slack_alerts", (f"{case}{suffix}" for case in CASES for suffix in (".txt", ".json")))
    assert_no_stale("markdown_alerts", (f"{case}.md" for case in CASES))


def test_what_each_stage_says() -> None:
    """What the goldens show, asserted so a careless UPDATE_GOLDEN cannot lose it."""

    def read(case: str) -> str:
        return "\n".join(blocks_to_text(m.blocks, m.text) for m in slack.render_document(CASES[case]()))

    opened = read("alert_open")
    assert "Alert: cluster-config on flux-demo-arc" in opened and "kustomization path not found" in opened
    assert "push of 9b2c6f1 to main" in opened and "octocat" in opened
    assert "podinfo" in read("alert_updated") and "could not be read" in read("alert_updated")
    assert "Still broken" in read("alert_reminder_reply") and "4h 1m" in read("alert_reminder_reply")
    assert read("alert_resolved").startswith("✅ Resolved: cluster-config on flux-demo-arc")
    assert "Resolved after 5h 30m · was: Kustomization" in read("alert_resolved")
    assert "healthy again" in read("alert_resolved_reply")
    assert "the configuration was deleted" in read("alert_resolved_deleted")
    assert "cluster-config on flux-demo-arc was deleted" in read("alert_resolved_deleted_reply")
    assert "no longer watches" in read("alert_resolved_unwatched")
    assert "this channel no longer watches cluster-config" in read("alert_resolved_unwatched_reply")
