"""In-memory fakes for the watch scan's tests (tests/bot/usecases/test_watch_alerts.py, test_watch_routing.py):
an alert store, a notifier that records what it sends, the watches with their creators, two prod clusters, and
a Flux that shows what the test says.

Who may see what: ``BOB`` is a viewer of every cluster, ``ALICE`` only of ``prod-weu`` (``REF``); ``OTHER`` is
``prod-neu``, matched by the same ``env=prod`` selector.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace

from bot import errors
from bot.alert_views import AlertReply, AlertView, Change
from bot.config_access import RoleRule
from bot.config_file import FluxopsConfig
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
from bot.policy import Identity, Policy
from bot.usecases.context import ResolvedCluster
from bot.usecases.watch_alerts import Teller
from bot.usecases.watch_scan import ScanPorts, scan
from bot.usecases.watch_transitions import Damping
from bot.watches import WatchEntry

REF = ClusterRef("sub", "rg", ClusterType.CONNECTED, "prod-weu")
CLUSTER = Cluster(REF, "westeurope", {"env": "prod"})
OTHER_REF = ClusterRef("sub", "rg", ClusterType.CONNECTED, "prod-neu")
OTHER = Cluster(OTHER_REF, "northeurope", {"env": "prod"})
ALICE = Identity("slack", "UALICE")
BOB = Identity("slack", "UBOB")


def policy(*, alice_on: tuple[str, ...] = ("prod-weu",), bob: bool = True) -> Policy:
    """Bob views every cluster (unless ``bob`` is False); Alice views the clusters named ``alice_on``."""
    rules = [{"role": "viewer", "slack_users": ["UALICE"], "clusters": {"names": list(alice_on)}}] if alice_on else []
    if bob:
        rules.append({"role": "viewer", "slack_users": ["UBOB"]})
    return Policy(FluxopsConfig(roles=[RoleRule.model_validate(r) for r in rules]))


def state(
    *objects: ObjectStatus, compliance: str = "Compliant", provisioning: str = "Succeeded", cluster: ClusterRef = REF
) -> FluxConfigState:
    return FluxConfigState(
        cluster=cluster,
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


def named(s: FluxConfigState, name: str = "apps") -> FluxConfigState:
    spec = FluxConfigSpec(name=name, namespace="apps", source=GitSource(url="https://x/y", ref=RepositoryRef("main")))
    return replace(s, spec=spec)


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

    def recorded(self) -> list[str]:
        return sorted(self.records)

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

    def to(self, channel: str) -> list[object]:
        """What ``channel`` was sent: posts, edits and replies (their views)."""
        return [view for _, to, _, view in self.sent if to == channel]


@dataclass
class FakeSubscriptions:
    exact: list[WatchEntry] = field(default_factory=list)
    selected: list[WatchEntry] = field(default_factory=list)

    def list(self, cluster_id: str | None = None) -> list[WatchEntry]:
        return [e for e in self.exact if cluster_id is None or e.where == cluster_id.lower()]

    def watchers(self, cluster_id: str, config: str) -> list[WatchEntry]:
        return [e for e in self.exact if e.where == cluster_id.lower() and e.config == config.lower()]

    def selectors(self) -> list[WatchEntry]:
        return self.selected

    def remove(self, cluster_id: str, config: str, channel: str) -> bool:
        before = len(self.exact)
        self.exact = [e for e in self.exact if (e.where, e.config, e.channel) != (cluster_id.lower(), config, channel)]
        return len(self.exact) < before


@dataclass
class FakeDirectory:
    clusters: tuple[ResolvedCluster, ...] = (ResolvedCluster(CLUSTER, "prod"), ResolvedCluster(OTHER, None))

    def all(self) -> Sequence[ResolvedCluster]:
        return self.clusters


@dataclass
class FakeFlux:
    """``now`` on ``REF`` (None: no configuration there), ``other`` on ``OTHER_REF``."""

    now: FluxConfigState | None
    other: FluxConfigState | None = None

    def list(self, cluster: ClusterRef) -> list[FluxConfigState]:
        found = self.now if cluster == REF else self.other
        return [found] if found is not None else []

    def get(self, cluster: ClusterRef, name: str) -> FluxConfigState:
        found = self.now if cluster == REF else self.other
        if found is None or found.name != name:
            raise errors.NotFound(f"no configuration {name}")
        return found


@dataclass
class FakeChecks:
    asked: list[tuple[str, str, float]] = field(default_factory=list)

    def check(self, cluster_id: str, config: str, *, delay: float = 0.0) -> None:
        self.asked.append((cluster_id, config, delay))

    def note_change(self, cluster_id: str, config: str, change: Change) -> None:
        raise AssertionError("the scan records no changes")


class World:
    """The scan over the fakes, at a clock the test moves."""

    def __init__(self, subscriptions: FakeSubscriptions, rules: Policy | None = None) -> None:
        self.store, self.notifier, self.checks = FakeStore(), FakeNotifier(), FakeChecks()
        self.subscriptions = subscriptions
        self.flux = FakeFlux(named(HEALTHY))
        self.clock = 1000.0
        self.ports = ScanPorts(
            subscriptions=subscriptions,  # type: ignore[arg-type]
            store=self.store,
            teller=Teller(store=self.store, notifier=self.notifier),
            clusters=FakeDirectory(),  # type: ignore[arg-type]
            flux=self.flux,  # type: ignore[arg-type]
            policy=rules or policy(),
            checks=self.checks,
            damping=Damping(settle=30, remind_every=3600),
            clock=lambda: self.clock,
        )

    def scan_at(
        self, at: float, now: FluxConfigState | None, owner: str = "w1", other: FluxConfigState | None = None
    ) -> None:
        self.clock = at
        self.flux.now = named(now) if now is not None else None
        self.flux.other = named(other) if other is not None else None
        assert not scan(self.ports, owner, 60).skipped
