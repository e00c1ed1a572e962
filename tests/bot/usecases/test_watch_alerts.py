"""The watch alert's life with in-memory fakes: damping, one alert per incident, edits, reminders, resolution, and
two workers racing for the same transition."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace

import pytest

from bot.alert_views import AlertKind, AlertReply, AlertView, Change, ReplyKind
from bot.models import (
    Cluster,
    ClusterRef,
    ClusterType,
    Condition,
    FluxConfigSpec,
    FluxConfigState,
    GitSource,
    ObjectStatus,
    RepositoryRef,
)
from bot.usecases.context import ResolvedCluster
from bot.usecases.watch_alerts import Teller
from bot.usecases.watch_health import assess
from bot.usecases.watch_scan import ScanPorts, alert_key, check_one, scan
from bot.usecases.watch_transitions import OPEN, SUSPECT, Action, Damping, step

REF = ClusterRef("sub", "rg", ClusterType.CONNECTED, "prod-weu")
CLUSTER = Cluster(REF, "westeurope", {"env": "prod"})


def state(*objects: ObjectStatus, compliance: str = "Compliant", provisioning: str = "Succeeded") -> FluxConfigState:
    return FluxConfigState(
        cluster=REF,
        spec=None,
        source_kind="GitRepository",
        provisioning_state=provisioning,
        compliance_state=compliance,
        source_synced_commit="main@sha1:" + "a" * 40,
        statuses=objects,
    )


def obj(kind: str, name: str, status: str, message: str = "", reason: str = "X") -> ObjectStatus:
    return ObjectStatus(name, "apps", kind, None, (Condition("Ready", status, reason, message),))


HEALTHY = state(obj("GitRepository", "apps", "True"), obj("Kustomization", "apps-apps", "True"))
BROKEN = state(
    obj("GitRepository", "apps", "True"),
    obj("Kustomization", "apps-apps", "False", "path not found", "BuildFailed"),
    compliance="Non-Compliant",
)


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


@dataclass
class FakeStore:
    records: dict[str, tuple[str, int]] = field(default_factory=dict)
    post_ts: dict[str, dict[str, str]] = field(default_factory=dict)
    changes: dict[str, Change] = field(default_factory=dict)
    lessee: str | None = None

    def get(self, key: str) -> tuple[str | None, int]:
        raw, version = self.records.get(key, (None, 0))
        return raw, version

    def put(self, key: str, record: str | None, *, expect: int) -> bool:
        if self.records.get(key, ("", 0))[1] != expect:
            return False
        if record is None:
            self.records.pop(key, None)
        else:
            self.records[key] = (record, expect + 1)
        return True

    def claim_post(self, incident: str, channel: str) -> bool:
        posts = self.post_ts.setdefault(incident, {})
        if channel in posts:
            return False
        posts[channel] = ""
        return True

    def save_post(self, incident: str, channel: str, ts: str) -> None:
        self.post_ts[incident][channel] = ts

    def release_post(self, incident: str, channel: str) -> None:
        self.post_ts[incident].pop(channel, None)

    def posts(self, incident: str) -> dict[str, str]:
        return dict(self.post_ts.get(incident, {}))

    def forget_posts(self, incident: str) -> None:
        pass

    def note_change(self, key: str, change: Change) -> None:
        self.changes[key] = change

    def last_change(self, key: str) -> Change | None:
        return self.changes.get(key)

    def lease(self, owner: str, seconds: float) -> bool:
        if self.lessee not in (None, owner):
            return False
        self.lessee = owner
        return True

    def release_lease(self, owner: str) -> None:
        if self.lessee == owner:
            self.lessee = None


@dataclass
class FakeNotifier:
    sent: list[tuple[str, str, str, object]] = field(default_factory=list)  # (call, channel, ts, view)

    def post(self, channel: str, view: AlertView) -> str:
        self.sent.append(("post", channel, "", view))
        return f"ts{len(self.sent)}"

    def update(self, channel: str, ts: str, view: AlertView) -> None:
        self.sent.append(("update", channel, ts, view))

    def reply(self, channel: str, ts: str, view: AlertReply) -> str:
        self.sent.append(("reply", channel, ts, view))
        return "r"

    def calls(self) -> list[tuple[str, str]]:
        return [(call, channel) for call, channel, _, _ in self.sent]


@dataclass
class FakeSubscriptions:
    exact: list[tuple[str, str, str]] = field(default_factory=list)
    selected: list[tuple[str, str, str]] = field(default_factory=list)

    def list(self, cluster_id: str | None = None) -> list[tuple[str, str, str]]:
        return self.exact

    def selectors(self) -> list[tuple[str, str, str]]:
        return self.selected


@dataclass
class FakeDirectory:
    def all(self) -> Sequence[ResolvedCluster]:
        return [ResolvedCluster(CLUSTER, "prod")]


@dataclass
class FakeFlux:
    now: FluxConfigState

    def list(self, cluster: ClusterRef) -> list[FluxConfigState]:
        return [self.now]

    def get(self, cluster: ClusterRef, name: str) -> FluxConfigState:
        return self.now


@dataclass
class FakeChecks:
    asked: list[tuple[str, str, float]] = field(default_factory=list)

    def check(self, cluster_id: str, config: str, *, delay: float = 0.0) -> None:
        self.asked.append((cluster_id, config, delay))

    def note_change(self, cluster_id: str, config: str, change: Change) -> None:
        raise AssertionError("the scan records no changes")


class World:
    def __init__(self, subscriptions: FakeSubscriptions) -> None:
        self.store, self.notifier, self.checks = FakeStore(), FakeNotifier(), FakeChecks()
        self.flux = FakeFlux(named(HEALTHY))
        self.clock = 1000.0
        self.ports = ScanPorts(
            subscriptions=subscriptions,  # type: ignore[arg-type]
            store=self.store,
            teller=Teller(store=self.store, notifier=self.notifier),
            clusters=FakeDirectory(),  # type: ignore[arg-type]
            flux=self.flux,  # type: ignore[arg-type]
            checks=self.checks,
            damping=Damping(settle=30, remind_every=3600),
            clock=lambda: self.clock,
        )

    def scan_at(self, at: float, now: FluxConfigState, owner: str = "w1") -> None:
        self.clock, self.flux.now = at, named(now)
        assert not scan(self.ports, owner, 60).skipped


def named(s: FluxConfigState) -> FluxConfigState:
    spec = FluxConfigSpec(
        name="apps", namespace="apps", source=GitSource(url="https://x/y", ref=RepositoryRef(branch="main"))
    )
    return replace(s, spec=spec)


@pytest.fixture
def world() -> World:
    subscriptions = FakeSubscriptions(exact=[(REF.arm_id.lower(), "apps", "C1")], selected=[("env=prod", "", "C2")])
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
