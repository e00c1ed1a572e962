"""The one shared watch scan: every watched configuration read in bulk, each alert moved one step.

Beat sends ``fluxops.watch.scan`` every FLUXOPS_WATCH_SCAN_INTERVAL seconds; the scan holds a lease in Redis so
two workers never scan at once. It reads the configurations that some channel watches (one per configuration
with `/flux watch NAME -c CLUSTER`, every one — or every one named NAME — on the clusters a selector matches with
`/flux watch [NAME] --clusters env=prod`) in one Resource Graph query per few hundred clusters, never one ARM read
per watch. A push traced to a configuration, a write fluxops made to it, and a change that needs settling ask
for ``check_one`` of that configuration (``fluxops.watch.check``) instead of waiting for the next scan.

Each configuration's alert moves through bot/usecases/watch_transitions.py; what is told is told by
bot/usecases/watch_alerts.py.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from bot import errors
from bot.cluster_ids import parse_cluster_id
from bot.command_codec import decode_command
from bot.decision import Decision
from bot.inventory import matches_selector
from bot.jobs import JobRecord
from bot.models import FluxConfigState
from bot.ports import AlertStore, FluxConfigs, FluxIndex, Subscriptions, WatchChecks
from bot.usecases.context import ClusterDirectory, ResolvedCluster
from bot.usecases.watch_alerts import Teller
from bot.usecases.watch_health import assess
from bot.usecases.watch_transitions import CLEARING, OPEN, Action, AlertRecord, Damping, step

log = logging.getLogger(__name__)

#: clusters named in one Resource Graph query (they are part of its text)
CLUSTERS_PER_QUERY = 200
EVERY = "*"


def alert_key(cluster_id: str, config: str) -> str:
    return f"{cluster_id.lower()}|{config.lower()}"


def parse_selector(text: str) -> tuple[tuple[str, str], ...]:
    """``env=prod,region=weu`` (as stored) back into pairs; "" is every cluster."""
    pairs = (item.partition("=") for item in text.split(",") if item)
    return tuple((key, value) for key, _, value in pairs)


@dataclass
class ScanPorts:
    """What the scan reads and writes through (built by workers/wiring.py, or by tests with fakes)."""

    subscriptions: Subscriptions
    store: AlertStore
    teller: Teller
    clusters: ClusterDirectory
    flux: FluxConfigs
    index: FluxIndex | None = None
    checks: WatchChecks | None = None
    damping: Damping = field(default_factory=Damping)
    clock: Callable[[], float] = time.time


@dataclass
class Watched:
    """The channels watching the configurations of one cluster: by configuration name (lower case), or every one."""

    cluster: ResolvedCluster
    by_config: dict[str, set[str]] = field(default_factory=dict)

    def channels(self, config: str) -> set[str]:
        return self.by_config.get(config.lower(), set()) | self.by_config.get(EVERY, set())


@dataclass
class ScanResult:
    configurations: int = 0
    told: dict[str, int] = field(default_factory=dict)
    skipped: bool = False


def routes(ports: ScanPorts) -> dict[str, Watched]:
    """Cluster id (lower case) -> who watches what on it, from both kinds of watch."""
    found: dict[str, Watched] = {}
    every = list(ports.clusters.all())
    by_id = {c.cluster.ref.arm_id.lower(): c for c in every}
    for cluster_id, config, channel in ports.subscriptions.list():
        where = by_id.get(cluster_id.lower())
        if where is None:  # not in the inventory (any more): nothing to read
            continue
        found.setdefault(cluster_id.lower(), Watched(where)).by_config.setdefault(config.lower(), set()).add(channel)
    for selector, config, channel in ports.subscriptions.selectors():
        pairs = parse_selector(selector)
        for where in every:
            if matches_selector(where.cluster, where.alias, pairs):
                watched = found.setdefault(where.cluster.ref.arm_id.lower(), Watched(where))
                watched.by_config.setdefault(config.lower() or EVERY, set()).add(channel)
    return found


def _read(ports: ScanPorts, watched: Sequence[Watched]) -> list[FluxConfigState]:
    if ports.index is None:
        return [s for w in watched for s in ports.flux.list(w.cluster.cluster.ref)]
    states: list[FluxConfigState] = []
    for start in range(0, len(watched), CLUSTERS_PER_QUERY):
        chunk = watched[start : start + CLUSTERS_PER_QUERY]
        states += ports.index.configurations(clusters=[w.cluster.cluster.ref for w in chunk])
    return states


def scan(ports: ScanPorts, owner: str, lease_seconds: float) -> ScanResult:
    """Read every watched configuration and move each alert one step; nothing when another worker is scanning."""
    if not ports.store.lease(owner, lease_seconds):
        return ScanResult(skipped=True)
    try:
        found = routes(ports)
        result = ScanResult()
        for state in _read(ports, list(found.values())):
            watched = found.get(state.cluster.arm_id.lower())
            channels = watched.channels(state.name) if watched is not None else set()
            if watched is None or not channels:
                continue
            result.configurations += 1
            action = evaluate(ports, watched.cluster, state, channels)
            result.told[action.value] = result.told.get(action.value, 0) + 1
        return result
    finally:
        ports.store.release_lease(owner)


def check_one(ports: ScanPorts, cluster_id: str, config: str) -> Action:
    """Look at one configuration now (a push, a write, a change to settle)."""
    watched = routes(ports).get(cluster_id.lower())
    channels = watched.channels(config) if watched is not None else set()
    if watched is None or not channels:
        return Action.NOTHING
    try:
        state = ports.flux.get(parse_cluster_id(cluster_id), config)
    except errors.NotFound:
        return Action.NOTHING  # deleted: nothing left to watch
    return evaluate(ports, watched.cluster, state, channels)


def evaluate(ports: ScanPorts, where: ResolvedCluster, state: FluxConfigState, channels: set[str]) -> Action:
    """Move the alert of ``state``'s configuration one step and tell ``channels`` what there is to tell."""
    key = alert_key(state.cluster.arm_id, state.name)
    raw, version = ports.store.get(key)
    record = AlertRecord.from_json(raw) if raw else None
    trouble = assess(state)
    now = ports.clock()
    next_step = step(record, trouble, now, ports.damping)
    if next_step.record != record:
        stored = next_step.record.to_json() if next_step.record is not None else None
        if not ports.store.put(key, stored, expect=version):
            return Action.NOTHING  # another worker took this step (and tells it)
    if next_step.recheck_at is not None and ports.checks is not None:
        ports.checks.check(state.cluster.arm_id, state.name, delay=max(0.0, next_step.recheck_at - now))
    teller, label = ports.teller, where.label
    if next_step.action is Action.RESOLVE:
        assert record is not None
        teller.resolve(key, label, state, record, now)
        return Action.RESOLVE
    current = next_step.record
    if current is None or current.status not in (OPEN, CLEARING) or trouble is None:
        return next_step.action
    if next_step.action is Action.NOTHING and not channels - set(ports.store.posts(current.incident)):
        return Action.NOTHING  # told already, nothing new: no events read, no message touched
    view = teller.view(key, label, state, trouble, current, now)
    if next_step.action in (Action.UPDATE, Action.REMIND):
        teller.edit(current.incident, view, teller.reminder(view, now) if next_step.action is Action.REMIND else None)
    # every watching channel gets the alert once: at the opening, and a channel that started watching since
    posted = teller.post_new(current.incident, channels, view)
    if next_step.action is Action.NOTHING and posted:
        log.info("the alert of %s on %s went to %d more channels", state.name, label, posted)
    return next_step.action


def written_config(record: JobRecord) -> tuple[str, str] | None:
    """(cluster id, configuration) a finished command job wrote, when it wrote one: the scan looks at it at once."""
    if record.kind != "command" or not record.command or not record.decision:
        return None
    try:
        command = decode_command(record.command)
        target_id = Decision.from_json(record.decision).target_id
    except Exception:  # not a command this version reads: nothing to check
        return None
    config = getattr(command, "name", None) or getattr(getattr(command, "spec", None), "name", None)
    if not command.mutates or not target_id or not isinstance(config, str) or not config:
        return None
    return target_id, getattr(command, "config", None) or config
