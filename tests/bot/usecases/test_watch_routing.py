"""Who hears about what: a channel is told of a cluster only while its watch's creator may see it under the policy
in force when the message goes out (alerts, and traced pushes); an alert whose configuration is deleted, or that a
channel stops watching, is resolved in its thread, not left open."""

from __future__ import annotations

from bot.alert_views import AlertReply, AlertView, Ending, ReplyKind
from bot.usecases.context import Job
from bot.usecases.push_trace import PushTrace
from bot.usecases.watch_scan import alert_key, check_one
from bot.usecases.watch_transitions import Action
from bot.views import Phase, PushView
from bot.watches import WatchEntry
from tests.bot.usecases import test_push_statuses as pushes
from tests.bot.usecases.watch_fakes import (
    ALICE,
    BOB,
    BROKEN,
    HEALTHY,
    OTHER_REF,
    REF,
    FakeSubscriptions,
    World,
    policy,
    state,
)

OTHER_BROKEN = state(*BROKEN.statuses, compliance="Non-Compliant", cluster=OTHER_REF)
OTHER_HEALTHY = state(*HEALTHY.statuses, cluster=OTHER_REF)


def views(world: World, channel: str) -> list[AlertView]:
    return [v for v in world.notifier.to(channel) if isinstance(v, AlertView)]


def replies(world: World, channel: str) -> list[AlertReply]:
    return [v for v in world.notifier.to(channel) if isinstance(v, AlertReply)]


def test_a_selector_watch_alerts_only_about_the_clusters_its_creator_may_see() -> None:
    world = World(FakeSubscriptions(selected=[WatchEntry("env=prod", "", "CALICE", ALICE)]))
    world.scan_at(0, BROKEN, other=OTHER_BROKEN)
    world.scan_at(30, BROKEN, other=OTHER_BROKEN)
    assert [v.cluster for v in views(world, "CALICE")] == ["prod"], "prod-neu is no cluster of Alice's"
    assert not [k for k in world.store.records if k.startswith(OTHER_REF.arm_id.lower())], "prod-neu not even read"


def test_a_policy_change_that_removes_access_stops_the_alerts_at_once() -> None:
    world = World(
        FakeSubscriptions(
            exact=[WatchEntry(REF.arm_id.lower(), "apps", "CALICE", ALICE)],
            selected=[WatchEntry("env=prod", "", "CBOB", BOB)],
        )
    )
    world.scan_at(0, BROKEN)
    world.scan_at(30, BROKEN)
    assert world.notifier.calls() == [("post", "CALICE"), ("post", "CBOB")]
    world.ports.policy = policy(alice_on=())  # Alice loses her role on prod-weu
    world.scan_at(3700, BROKEN)  # a reminder is due
    world.scan_at(3800, HEALTHY)
    world.scan_at(3830, HEALTHY)  # resolved
    assert len(world.notifier.to("CALICE")) == 1, "no reminder, no edit, no resolved reply: only the first post"
    assert [r.kind for r in replies(world, "CBOB")] == [ReplyKind.REMINDER, ReplyKind.RESOLVED]
    world.scan_at(4000, BROKEN)
    world.scan_at(4030, BROKEN)  # a new incident
    assert len(world.notifier.to("CALICE")) == 1 and len(views(world, "CBOB")) == 4


def test_a_watch_without_a_recorded_creator_tells_nothing() -> None:
    world = World(FakeSubscriptions(exact=[WatchEntry(REF.arm_id.lower(), "apps", "COLD", None)]))
    world.scan_at(0, BROKEN)
    world.scan_at(30, BROKEN)
    assert world.notifier.sent == []


def test_an_alert_whose_configuration_is_deleted_is_resolved_after_settling() -> None:
    world = World(FakeSubscriptions(selected=[WatchEntry("env=prod", "", "CBOB", BOB)]))
    world.scan_at(0, BROKEN)
    world.scan_at(30, BROKEN)
    world.scan_at(60, None)  # gone from a read: maybe a gap in it
    world.scan_at(70, BROKEN)  # it was
    world.scan_at(100, None)
    assert world.notifier.calls() == [("post", "CBOB")], "a read that misses it closes nothing"
    assert (REF.arm_id, "apps", 30.0) in world.checks.asked, "a re-check once it would have settled"
    world.clock = 130
    assert check_one(world.ports, REF.arm_id, "apps") is Action.RESOLVE
    [resolved] = replies(world, "CBOB")
    assert resolved.ending is Ending.DELETED and resolved.kind is ReplyKind.RESOLVED
    assert views(world, "CBOB")[-1].ending is Ending.DELETED and views(world, "CBOB")[-1].resolved_at == 130
    assert world.store.records == {}
    world.scan_at(200, None)
    assert len(world.notifier.sent) == 3


def test_unwatching_closes_the_alert_in_that_channel_only() -> None:
    subscriptions = FakeSubscriptions(
        exact=[WatchEntry(REF.arm_id.lower(), "apps", "C1", BOB)], selected=[WatchEntry("env=prod", "", "C2", BOB)]
    )
    world = World(subscriptions)
    world.scan_at(0, BROKEN)
    world.scan_at(30, BROKEN)
    subscriptions.remove(REF.arm_id, "apps", "C1")
    world.clock = 40
    check_one(world.ports, REF.arm_id, "apps")  # what `/flux unwatch` asks for
    [closed] = replies(world, "C1")
    assert closed.ending is Ending.UNWATCHED and views(world, "C1")[-1].ending is Ending.UNWATCHED
    assert replies(world, "C2") == []
    world.scan_at(100, HEALTHY)
    world.scan_at(130, HEALTHY)
    assert len(world.notifier.to("C1")) == 3, "C1 hears nothing more"
    assert [r.ending for r in replies(world, "C2")] == [Ending.HEALTHY]


def test_an_alert_nobody_watches_any_more_is_closed_at_the_next_scan_and_forgotten() -> None:
    subscriptions = FakeSubscriptions(selected=[WatchEntry("env=prod", "", "C2", BOB)])
    world = World(subscriptions)
    world.scan_at(0, BROKEN)
    world.scan_at(30, BROKEN)
    subscriptions.selected = []  # `/flux unwatch --clusters env=prod`
    world.scan_at(60, BROKEN)
    assert [r.ending for r in replies(world, "C2")] == [Ending.UNWATCHED]
    assert alert_key(REF.arm_id, "apps") not in world.store.records
    world.scan_at(90, BROKEN)
    assert len(world.notifier.sent) == 3


def test_a_channel_whose_creator_lost_access_is_not_even_told_the_alert_closed() -> None:
    subscriptions = FakeSubscriptions(selected=[WatchEntry("env=prod", "", "CALICE", ALICE)])
    world = World(subscriptions)
    world.scan_at(0, BROKEN)
    world.scan_at(30, BROKEN)
    world.ports.policy = policy(alice_on=())
    world.scan_at(60, BROKEN)
    world.scan_at(90, HEALTHY)
    assert world.notifier.calls() == [("post", "CALICE")]


def test_a_traced_push_goes_only_to_channels_whose_creator_may_see_and_shows_them_their_clusters_only() -> None:
    world, flux, _ = pushes.fleet(3)
    flux.applies = {f"aks-{i:02d}": 2.0 for i in range(3)}
    ids = {c.ref.name: c.ref.arm_id.lower() for c in world.more_clusters}
    ports = world.ports()
    ports.policy = policy(alice_on=("aks-00", "aks-01"))
    ports.chat.subscriptions = FakeSubscriptions(  # type: ignore[assignment]
        exact=[
            WatchEntry(ids["aks-00"], "apps", "CALICE", ALICE),
            WatchEntry(ids["aks-02"], "apps", "CSNEAK", ALICE),  # set up when Alice could see aks-02
            WatchEntry(ids["aks-02"], "apps", "CBOB", BOB),
        ]
    )
    job = Job(world.record("/flux clusters", job_id="j-1"), ports, world.reporter, "push")
    assert PushTrace(job, pushes.EVENT).run() is Phase.SUCCEEDED
    assert sorted(world.channels) == ["CALICE", "CBOB"], "aks-02 is no cluster of Alice's any more"
    shown = world.channels["CALICE"].shown[-1]
    assert isinstance(shown, PushView) and [r.cluster for r in shown.rows] == ["aks-00", "aks-01"]
    every = world.channels["CBOB"].shown[-1]
    assert isinstance(every, PushView) and len(every.rows) == 3
