"""The cron subset, freeze and window rules as the config file takes them, and what the calendar says at a moment."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.change_calendar import FREEZE, WINDOW, ChangeCalendar
from bot.config_file import load_config
from bot.cron import Cron, CronError
from bot.errors import ConfigurationError
from bot.models import Cluster, ClusterRef, ClusterType

UTC_ZONE = ZoneInfo("UTC")
PROD = Cluster(ClusterRef("sub", "rg", ClusterType.MANAGED, "prod-weu"), "westeurope", {"env": "prod"})
DEV = Cluster(ClusterRef("sub", "rg", ClusterType.MANAGED, "dev-weu"), "westeurope", {"env": "dev"})


def at(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=UTC)


def calendar(yaml: str) -> ChangeCalendar:
    config = load_config(yaml)
    return ChangeCalendar(config.freezes, config.windows)


@pytest.mark.parametrize(
    ("text", "fires", "not_fires"),
    [
        ("0 18 * * FRI", "2026-12-04 18:00", "2026-12-05 18:00"),  # a Friday; a Saturday
        ("*/15 9-17 * * MON-FRI", "2026-12-07 09:45", "2026-12-07 09:50"),
        ("30 6 1,15 * *", "2026-12-15 06:30", "2026-12-14 06:30"),
        ("0 0 * DEC 0", "2026-12-06 00:00", "2026-11-29 00:00"),  # Sunday as 0, in December only
        ("0 0 * * 7", "2026-12-06 00:00", "2026-12-07 00:00"),  # Sunday as 7
        ("0 0 13 * FRI", "2026-12-04 00:00", "2026-12-05 00:00"),  # day of month OR day of week, as cron has it
    ],
)
def test_cron_fires_when_its_fields_say(text: str, fires: str, not_fires: str) -> None:
    cron = Cron.parse(text)
    hit, miss = at(fires), at(not_fires)
    assert cron.last_fire(hit, UTC_ZONE, timedelta(minutes=1)) == hit
    assert cron.last_fire(miss, UTC_ZONE, timedelta(seconds=30)) is None


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("0 18 * *", "has 4 field(s)"),
        ("60 * * * *", "minute field has 60"),
        ("0 18 * * FRY", "'FRY'"),
        ("0 18-9 * * *", "ends before it starts"),
        ("*/0 * * * *", "step '0'"),
        ("@daily", "has 1 field(s)"),
        ("0 9 30 2 *", "never fires"),
        ("0 0 31 APR,JUN *", "never fires"),
    ],
)
def test_cron_refuses_what_it_does_not_support(text: str, says: str) -> None:
    with pytest.raises(CronError, match=re.escape(says)):
        Cron.parse(text)


def test_next_and_last_fire_follow_the_time_zone() -> None:
    cron = Cron.parse("0 9 * * MON")
    berlin = ZoneInfo("Europe/Berlin")
    # Monday 7 Dec 2026, 09:00 in Berlin is 08:00 UTC (winter time)
    assert cron.next_fire(at("2026-12-05 00:00"), berlin) == at("2026-12-07 08:00")
    assert cron.last_fire(at("2026-12-08 00:00"), berlin, timedelta(days=2)) == at("2026-12-07 08:00")
    assert Cron.parse("0 0 29 2 *").next_fire(at("2026-01-01 00:00"), UTC_ZONE) == at("2028-02-29 00:00")


def test_a_weekend_freeze_holds_until_the_end_it_announces_across_the_clock_change() -> None:
    cal = calendar(
        "freezes:\n  - clusters: env=prod\n    cron: '0 18 * * FRI'\n    duration: 64h\n"
        "    timezone: Europe/Berlin\n    reason: weekend freeze\n"
    )
    closed = cal.closed(PROD, None, at("2026-10-23 16:30"))  # Fri 18:30 CEST, inside the freeze
    # Berlin leaves summer time on Sun 25 Oct 2026: Fri 18:00 CEST + 64 wall-clock hours = Mon 10:00 CET = 09:00 UTC
    assert closed is not None and closed.until == at("2026-10-26 09:00")
    assert cal.closed(PROD, None, at("2026-10-26 08:30")) is not None, "said frozen until 09:00 UTC, open at 08:30"
    assert cal.closed(PROD, None, at("2026-10-26 09:00")) is None
    [period] = [p for p in cal.periods(PROD, None, at("2026-10-26 08:30")) if p.active(at("2026-10-26 08:30"))]
    assert period.end == closed.until, "`/flux freezes` and the refusal say the same end"


def test_a_fixed_freeze_closes_the_clusters_it_selects_until_it_ends() -> None:
    cal = calendar(
        "freezes:\n  - clusters: env=prod\n    from: 2026-12-24T18:00:00Z\n    to: 2026-12-28T06:00:00Z\n"
        "    reason: year-end freeze\n"
    )
    assert cal.closed(PROD, None, at("2026-12-24 17:59")) is None
    closed = cal.closed(PROD, None, at("2026-12-25 12:00"))
    assert closed is not None and closed.kind == FREEZE
    assert closed.text() == "frozen until Mon 28 Dec 06:00 UTC: year-end freeze"
    assert cal.closed(DEV, None, at("2026-12-25 12:00")) is None
    assert cal.closed(PROD, None, at("2026-12-28 06:00")) is None


def test_a_weekly_freeze_and_a_chained_one_say_when_the_cluster_opens() -> None:
    cal = calendar(
        "freezes:\n"
        "  - {clusters: {tags: {env: prod}}, cron: '0 18 * * FRI', duration: 64h, reason: weekend freeze}\n"
        "  - {clusters: {names: [prod-*]}, from: 2026-12-07T10:00:00Z, to: 2026-12-07T20:00:00Z, reason: audit}\n"
    )
    closed = cal.closed(PROD, None, at("2026-12-05 12:00"))  # Saturday
    assert closed is not None
    # the weekend freeze ends Monday 10:00, when the audit freeze starts: the cluster opens at 20:00
    assert closed.until == at("2026-12-07 20:00")
    assert "weekend freeze" in closed.text()
    assert cal.closed(PROD, None, at("2026-12-04 17:59")) is None


def test_windows_allow_changes_only_while_one_is_open() -> None:
    cal = calendar(
        "windows:\n  - clusters: env=prod\n    days: MON-THU\n    hours: '09:00-16:00'\n    timezone: Europe/Berlin\n"
    )
    assert cal.closed(PROD, None, at("2026-12-07 09:00")) is None  # Monday 10:00 in Berlin
    closed = cal.closed(PROD, None, at("2026-12-04 10:00"))  # Friday
    assert closed is not None and closed.kind == WINDOW
    assert closed.until == at("2026-12-07 08:00")
    assert "outside its deployment windows" in closed.text() and "MON-THU 09:00-16:00 Europe/Berlin" in closed.text()
    assert cal.closed(DEV, None, at("2026-12-04 10:00")) is None, "no window selects dev: it is always open"


def test_periods_list_what_is_on_and_what_comes() -> None:
    cal = calendar(
        "freezes:\n  - {clusters: env=prod, cron: '0 18 * * FRI', duration: 64h, reason: weekend freeze}\n"
        "windows:\n  - {clusters: env=prod, cron: '0 6 * * *', duration: 2h}\n"
    )
    now = at("2026-12-05 12:00")
    periods = cal.periods(PROD, None, now)
    assert periods[0].kind == FREEZE and periods[0].active(now) and periods[0].start == at("2026-12-04 18:00")
    assert any(p.kind == WINDOW and p.start == at("2026-12-06 06:00") for p in periods)
    assert cal.periods(DEV, None, now) == []


@pytest.mark.parametrize(
    ("yaml", "says"),
    [
        ("freezes: [{clusters: env=prod, reason: x}]", "either from + to"),
        ("freezes: [{clusters: env=prod, cron: '0 18 * * FRI', reason: x}]", "needs both cron"),
        (
            "freezes: [{clusters: env=prod, from: 2026-12-02T00:00:00Z, to: 2026-12-01T00:00:00Z, reason: x}]",
            "to after from",
        ),
        ("freezes: [{clusters: env=prod, from: 2026-12-01T00:00:00, to: 2026-12-02T00:00:00Z, reason: x}]", "offset"),
        ("freezes: [{clusters: env=prod, cron: '0 18 * * FRI', duration: 64h, reason: ' '}]", "needs a reason"),
        ("freezes: [{clusters: prod, cron: '0 18 * * FRI', duration: 64h, reason: x}]", "not a selector"),
        ("windows: [{clusters: env=prod, cron: '0 6 * * *'}]", "needs a duration"),
        ("freezes: [{clusters: env=prod, cron: '0 9 30 2 *', duration: 1h, reason: x}]", "never fires"),
        ("windows: [{clusters: env=prod, days: MON, hours: '9-17'}]", "09:00-17:00"),
        ("windows: [{clusters: env=prod, cron: '0 6 * * *', duration: 2h, timezone: Mars/Olympus}]", "time zone"),
        ("policy_channel: general", "not a Slack channel id"),
    ],
)
def test_the_config_file_refuses_a_rule_it_cannot_mean(yaml: str, says: str) -> None:
    with pytest.raises(ConfigurationError, match=re.escape(says)):
        load_config(yaml)
