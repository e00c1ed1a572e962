"""The watch alert's life with in-memory fakes: damping, one alert per incident, edits, reminders, resolution, and
two workers racing for the same transition."""

from __future__ import annotations

from dataclasses import replace

import pytest

from bot.alert_views import AlertKind, AlertReply, AlertView, Change, ReplyKind
from bot.models import Condition, ObjectStatus
from bot.usecases.watch_health import assess
from bot.usecases.watch_scan import alert_key, check_one, scan
from bot.usecases.watch_transitions import OPEN, SUSPECT, Action, Damping, step
from bot.watches import WatchEntry
from tests.bot.usecases.watch_fakes import BOB, BROKEN, HEALTHY, REF, FakeSubscriptions, World, named, obj, state

# -- what broke ---------------------------------------------------------------------------------


def test_assess_says_what_broke_worst_first() -> None:
    assert assess(HEALTHY) is None
    trouble = assess(BROKEN)
    assert trouble is not None and trouble.kind is AlertKind.NON_COMPLIANT
    assert [o.name for o in trouble.objects] == ["apps-apps"] and "path not found" in trouble.objects[0].message
    source = assess(state(obj("GitRepository", "apps", "False", "auth failed"), compliance="Non-Compliant"))
    assert source is not None and source.kind is AlertKind.SOURCE
    failed = assess(replace(BROKEN, provisioning_state="Failed", error_message="helm timed out"))
    assert failed is not None and failed.kind is AlertKind.PROVISIONING and failed.detail == "helm timed out"
    drifted = ObjectStatus("redis", "apps", "HelmRelease", None, (Condition("Drifted", "True", "DriftDetected", "x"),))
    drift = assess(state(drifted))
    assert drift is not None and drift.kind is AlertKind.DRIFT
    assert assess(replace(BROKEN, compliance_state="Suspended")) is None


# -- the transitions ------------------------------------------------------------------------------

DAMP = Damping(settle=30, remind_every=3600)


def test_a_failure_must_hold_before_it_is_alerted_and_a_flap_tells_nothing() -> None:
    trouble = assess(BROKEN)
    first = step(None, trouble, 1000, DAMP)
    assert first.action is Action.NOTHING and first.record is not None and first.record.status == SUSPECT
    assert first.recheck_at == 1030
    early = step(first.record, trouble, 1010, DAMP)
    assert early.action is Action.NOTHING and early.recheck_at == 1030
    flap = step(first.record, None, 1020, DAMP)
    assert flap == step(None, None, 1020, DAMP)  # forgotten, nothing told
    opened = step(first.record, trouble, 1030, DAMP)
    assert opened.action is Action.OPEN and opened.record is not None and opened.record.status == OPEN


def test_a_failure_flux_says_began_long_enough_ago_is_alerted_at_the_first_read() -> None:
    trouble = assess(BROKEN)
    assert trouble is not None
    held = step(None, replace(trouble, flux_since=960.0), 1000, DAMP)
    assert held.action is Action.OPEN and held.record is not None and held.record.since == 960
    young = step(None, replace(trouble, flux_since=990.0), 1000, DAMP)
    assert young.action is Action.NOTHING and young.recheck_at == 1020


def test_an_open_alert_is_edited_on_change_reminded_and_resolved_only_after_settling() -> None:
    trouble = assess(BROKEN)
    record = step(step(None, trouble, 0, DAMP).record, trouble, 30, DAMP).record
    assert record is not None
    assert step(record, trouble, 60, DAMP).action is Action.NOTHING
    other = assess(replace(BROKEN, statuses=(obj("Kustomization", "apps-apps", "False", "another message"),)))
    assert step(record, other, 60, DAMP).action is Action.UPDATE
    assert step(record, trouble, 30 + 3600, DAMP).action is Action.REMIND
    clearing = step(record, None, 100, DAMP)
    assert clearing.action is Action.NOTHING and clearing.recheck_at == 130
    assert clearing.record is not None
    back = step(clearing.record, trouble, 110, DAMP)
    assert back.action is Action.NOTHING and back.record is not None and back.record.status == OPEN
    assert back.record.incident == record.incident  # one incident: the same message
    assert step(clearing.record, None, 130, DAMP).action is Action.RESOLVE


# -- the scan, with fakes ----------------------------------------------------------------------------


@pytest.fixture
def world() -> World:
    subscriptions = FakeSubscriptions(
        exact=[WatchEntry(REF.arm_id.lower(), "apps", "C1", BOB)], selected=[WatchEntry("env=prod", "", "C2", BOB)]
    )
    return World(subscriptions)


def test_one_alert_per_incident_edited_not_reposted_and_resolved_in_its_thread(world: World) -> None:
    world.store.note_change(alert_key(REF.arm_id, "apps"), Change("github:octocat", "push of abc to main", 990))
    world.scan_at(1000, HEALTHY)
    world.scan_at(1010, BROKEN)
    assert world.notifier.sent == []  # not settled yet
    assert world.checks.asked == [(REF.arm_id, "apps", 30.0)]  # a re-check when it would settle
    world.scan_at(1040, BROKEN)
    assert world.notifier.calls() == [("post", "C1"), ("post", "C2")]  # the exact watch and the selector watch
    view = world.notifier.sent[0][3]
    assert isinstance(view, AlertView) and view.change is not None and view.change.actor == "github:octocat"
    assert view.since == 1010 and view.objects[0].name == "apps-apps"
    for at in (1100, 1160, 1220):
        world.scan_at(at, BROKEN)
    assert len(world.notifier.sent) == 2, "further scans change nothing"
    world.scan_at(1300, HEALTHY)
    world.scan_at(1330, HEALTHY)
    assert world.notifier.calls()[2:] == [("update", "C1"), ("reply", "C1"), ("update", "C2"), ("reply", "C2")]
    reply = world.notifier.sent[3][3]
    assert isinstance(reply, AlertReply) and reply.kind is ReplyKind.RESOLVED
    assert world.notifier.sent[3][2] == "ts1", "the resolved reply goes in the alert's thread"
    resolved = world.notifier.sent[2][3]
    assert isinstance(resolved, AlertView) and resolved.resolved_at == 1330
    world.scan_at(1400, HEALTHY)
    assert len(world.notifier.sent) == 6


def test_a_reminder_goes_in_the_thread_at_most_every_interval(world: World) -> None:
    world.scan_at(0, BROKEN)
    world.scan_at(30, BROKEN)
    world.scan_at(3000, BROKEN)
    assert len(world.notifier.sent) == 2
    world.scan_at(3630, BROKEN)
    replies = [v for call, _, _, v in world.notifier.sent if call == "reply"]
    assert len(replies) == 2 and all(isinstance(r, AlertReply) and r.kind is ReplyKind.REMINDER for r in replies)
    world.scan_at(3700, BROKEN)
    assert len([c for c in world.notifier.calls() if c[0] == "reply"]) == 2


def test_two_workers_racing_for_one_transition_tell_it_once(world: World) -> None:
    world.scan_at(0, BROKEN)
    raw, version = world.store.get(alert_key(REF.arm_id, "apps"))
    # another worker stores the opening between this one's read and its write
    original_get = world.store.get
    world.store.get = lambda key: (raw, version)  # type: ignore[method-assign]
    world.store.records[alert_key(REF.arm_id, "apps")] = (raw or "", version + 1)
    world.clock, world.flux.now = 30, named(BROKEN)
    assert check_one(world.ports, REF.arm_id, "apps") is Action.NOTHING
    assert world.notifier.sent == []
    world.store.get = original_get  # type: ignore[method-assign]


def test_a_scan_is_skipped_while_another_worker_holds_the_lease(world: World) -> None:
    assert world.store.lease("other", 60)
    assert scan(world.ports, "w1", 60).skipped


def test_a_failed_post_is_tried_again_at_the_next_scan(world: World) -> None:
    failing = world.notifier.post
    calls = {"n": 0}

    def flaky(channel: str, view: AlertView) -> str:
        calls["n"] += 1
        if calls["n"] == 1:
            raise RuntimeError("slack is down")
        return failing(channel, view)

    world.notifier.post = flaky  # type: ignore[method-assign]
    world.scan_at(0, BROKEN)
    world.scan_at(30, BROKEN)
    assert world.notifier.calls() == [("post", "C2")]
    world.scan_at(90, BROKEN)
    assert sorted(world.notifier.calls()) == [("post", "C1"), ("post", "C2")]
