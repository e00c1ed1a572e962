"""What every renderer says the same way: revisions, times, intervals, sources, tallies, clipping."""

from __future__ import annotations

import pytest

from bot.render import wording as w
from tests.bot.render import tutorial_views as tv

SHA = tv.SHA


@pytest.mark.parametrize(
    ("text", "short"),
    [
        (f"main/{SHA}", "main/4f1bdad4d0a5"),
        (f"release/v1.2/{SHA}", "release/v1.2/4f1bdad4d0a5"),
        (f"Applied revision: main@sha1:{SHA}", "Applied revision: main@sha1:4f1bdad4d0a5"),
        ("sha256:" + "ab" * 32, "sha256:abababababab"),
        ("4f1bdad", "4f1bdad"),
        (SHA + "00", SHA + "00"),  # 42 hex digits is not a commit id
    ],
)
def test_short_revision(text: str, short: str) -> None:
    assert w.short_revision(text) == short


@pytest.mark.parametrize(
    ("raw", "shown"),
    [
        ("2022-04-06T17:15:48Z", "2022-04-06 17:15:48 UTC"),
        ("2022-04-06T17:15:48.4170000Z", "2022-04-06 17:15:48 UTC"),
        ("2022-04-06T19:15:48+02:00", "2022-04-06 17:15:48 UTC"),
        ("2022-04-06T17:15:48", "2022-04-06 17:15:48 UTC"),
        ("last tuesday", "last tuesday"),
        (None, None),
    ],
)
def test_timestamp(raw: str | None, shown: str | None) -> None:
    assert w.timestamp(raw) == shown


def test_interval() -> None:
    assert [w.interval(s) for s in (0, 45, 60, 600, 5400, 3661)] == ["0s", "45s", "1m", "10m", "1h30m", "1h1m1s"]


def test_tally_puts_the_worst_first() -> None:
    assert w.tally(["Compliant"] * 6) == "all 6 compliant"
    assert w.tally(["Compliant", "Pending", "Non-Compliant", "Compliant"]) == "1 non-compliant, 1 pending, 2 compliant"


def test_clip_says_how_much_was_left_out() -> None:
    assert w.clip("short", 10) == "short"
    clipped = w.clip("x" * 1000, 100)
    assert len(clipped) <= 100 and clipped.endswith("(940 more characters)")


def test_redact_masks_secrets_but_keeps_revisions() -> None:
    text = w.redact(f"https://bot:ghp_0123456789abcdefghij@github.com/x main/{SHA} ?sig=s3cr3t")
    assert "ghp_" not in text and "s3cr3t" not in text
    assert "main/4f1bdad4d0a5" in text


def test_failing_objects_come_first_in_their_order() -> None:
    ordered = w.failing_first(tv.NON_COMPLIANT.statuses)
    assert [o.name for o in ordered] == [
        "cluster-config-apps",
        "cluster-config",
        "cluster-config-infra",
        "nginx",
        "redis",
    ]
    assert w.object_state(tv.PENDING.statuses[1]) == "Pending"
