"""The one shared watch scan: every watched configuration read in bulk, each alert moved one step.

Beat sends ``fluxops.watch.scan`` every FLUXOPS_WATCH_SCAN_INTERVAL seconds; the scan holds a lease in Redis so
two workers never scan at once. It reads the configurations that some channel watches (one per configuration
with `/flux watch NAME -c CLUSTER`, every one — or every one named NAME — on the clusters a selector matches with
`/flux watch [NAME] --clusters env=prod`) in one Resource Graph query per few hundred clusters, never one ARM read
per watch. A push traced to a configuration, a write fluxops made to it, and a change that needs settling ask
for ``check_one`` of that configuration (``fluxops.watch.check``) instead of waiting for the next scan.

Each configuration's alert moves through bot/usecases/watch_transitions.py; what is told is told by
bot/usecases/watch_alerts.py, only to the channels bot/usecases/watch_routes.py routes it to under the policy in
force now. An open alert is also resolved when its configuration is gone (deleted: after ``settle``, so a read
that misses it once closes nothing), and closed in the channels that stopped watching it (`/flux unwatch`, a
selector that no longer matches): the scan sweeps the alerts it did not read for both.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from bot import errors
from bot.alert_views import Ending
from bot.cluster_ids import parse_cluster_id
from bot.command_codec import decode_command
from bot.decision import Decision
from bot.jobs import JobRecord
from bot.models import FluxConfigState
from bot.policy import Policy
from bot.ports import AlertStore, FluxConfigs, FluxIndex, Subscriptions, WatchChecks
from bot.usecases.context import ClusterDirectory
from bot.usecases.watch_alerts import Ended, Teller
from bot.usecases.watch_health import assess
from bot.usecases.watch_routes import Routes, Watched, routes
from bot.usecases.watch_transitions import CLEARING, OPEN, SUSPECT, Action, AlertRecord, Damping, step, step_gone

log = logging.getLogger(__name__)

#: clusters named in one Resource Graph query (they are part of its text)
CLUSTERS_PER_QUERY = 200


def alert_key(cluster_id: str, config: str) -> str:
    return f"{cluster_id.lower()}|{config.lower()}"


@dataclass
class ScanPorts:
    """What the scan reads and writes through (built by workers/wiring.py, or by tests with fakes)."""

    subscriptions: Subscriptions
    store: AlertStore
    teller: Teller
    clusters: ClusterDirectory
    flux: FluxConfigs
    #: the policy in force: a channel hears about a cluster only while its watch's creator has a role there
    policy: Policy
    index: FluxIndex | None = None
    checks: WatchChecks | None = None
    damping: Damping = field(default_factory=Damping)
    clock: Callable[[], float] = time.time

    def routes(self) -> Routes:
        return routes(self.subscriptions, self.clusters, self.policy)


@dataclass
class ScanResult:
    configurations: int = 0
    told: dict[str, int] = field(default_factory=dict)
    skipped: bool = False


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
        found = ports.routes()
        told = found.told()
        result, seen = ScanResult(), set()
        for state in _read(ports, told):
            watched = found.watched.get(state.cluster.arm_id.lower())
            if watched is None or not watched.channels(state.name):
                continue
            seen.add(alert_key(state.cluster.arm_id, state.name))
            result.configurations += 1
            action = evaluate(ports, watched, state)
            result.told[action.value] = result.told.get(action.value, 0) + 1
        read = {w.cluster.cluster.ref.arm_id.lower() for w in told}
        for key in sorted(set(ports.store.recorded()) - seen):  # alerts of configurations not read, or not watched
            action = sweep(ports, found, read, key)
            if action is not Action.NOTHING:
                result.told[action.value] = result.told.get(action.value, 0) + 1
        return result
    finally:
        ports.store.release_lease(owner)


def check_one(ports: ScanPorts, cluster_id: str, config: str) -> Action:
    """Look at one configuration now (a push, a write, a change to settle, an unwatch)."""
    found = ports.routes()
    key = alert_key(cluster_id, config)
    watched = found.watched.get(cluster_id.lower())
    if watched is None or not watched.channels(config):
        return sweep(ports, found, set(), key)  # nobody to tell: closed where it was posted, if it was
    try:
        state = ports.flux.get(parse_cluster_id(cluster_id), config)
    except errors.NotFound:
        return sweep(ports, found, {cluster_id.lower()}, key)  # read, and gone
    return evaluate(ports, watched, state)


def evaluate(ports: ScanPorts, watched: Watched, state: FluxConfigState) -> Action:
    """Move the alert of ``state``'s configuration one step and tell its channels what there is to tell."""
    channels, refused = watched.channels(state.name), watched.refused(state.name)
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
        version += 1
    if next_step.recheck_at is not None and ports.checks is not None:
        ports.checks.check(state.cluster.arm_id, state.name, delay=max(0.0, next_step.recheck_at - now))
    teller, label = ports.teller, watched.cluster.label
    if next_step.action is Action.RESOLVE:
        assert record is not None
        teller.resolve(Ended(key, label, state.name, record, now, state), channels)
        return Action.RESOLVE
    current = next_step.record
    if current is None or current.status not in (OPEN, CLEARING):
        return next_step.action
    posts = ports.store.posts(current.incident)
    departed = set(posts) - channels - refused
    if departed and ports.store.put(key, current.to_json(), expect=version):  # one worker closes them
        teller.close(Ended(key, label, state.name, current, now, state), departed)
    if trouble is None:
        return next_step.action
    if next_step.action is Action.NOTHING and not channels - set(posts):
        return Action.NOTHING  # told already, nothing new: no events read, no message touched
    view = teller.view(key, label, state, trouble, current, now)
    if next_step.action in (Action.UPDATE, Action.REMIND):
        reminder = teller.reminder(view, now) if next_step.action is Action.REMIND else None
        teller.edit(current.incident, view, channels, reminder)
    # every watching channel gets the alert once: at the opening, and a channel that started watching since
    posted = teller.post_new(current.incident, channels, view)
    if next_step.action is Action.NOTHING and posted:
        log.info("the alert of %s on %s went to %d more channels", state.name, label, posted)
    return next_step.action


def sweep(ports: ScanPorts, found: Routes, read: set[str], key: str) -> Action:
    """The alert ``key`` when its configuration was not read: gone from a cluster ``read`` (resolved once that
    has held ``settle``), or no longer watched by some or all of the channels it was posted in (closed there)."""
    raw, version = ports.store.get(key)
    if not raw:
        return Action.NOTHING
    record = AlertRecord.from_json(raw)
    cluster_id, _, config = key.rpartition("|")
    where = found.inventory.get(cluster_id)
    if where is None:
        return Action.NOTHING  # the cluster left the inventory: nothing can be checked, kept until it is back
    watched = found.watched.get(cluster_id)
    channels = watched.channels(config) if watched is not None else set()
    refused = watched.refused(config) if watched is not None else set()
    now = ports.clock()
    if channels and cluster_id in read:  # watched, its cluster read, and not there: deleted (or a gap in a read)
        next_step = step_gone(record, now, ports.damping)
        if next_step.record != record:
            stored = next_step.record.to_json() if next_step.record is not None else None
            if not ports.store.put(key, stored, expect=version):
                return Action.NOTHING
        if next_step.recheck_at is not None and ports.checks is not None:
            ports.checks.check(where.cluster.ref.arm_id, config, delay=max(0.0, next_step.recheck_at - now))
        if next_step.action is Action.RESOLVE:
            ports.teller.resolve(Ended(key, where.label, config, record, now), channels, Ending.DELETED)
        return next_step.action
    if channels:
        return Action.NOTHING  # watched but not read in this pass: the next one reads it
    # nobody may be told about it any more: closed where it was posted, except where the policy forbids telling
    told = record.status != SUSPECT
    departed = set(ports.store.posts(record.incident)) - refused if told else set()
    keep = bool(refused) and told  # still watched, by channels that may not be told now: kept for when they may
    if keep and not departed:
        return Action.NOTHING
    if not ports.store.put(key, raw if keep else None, expect=version):
        return Action.NOTHING  # another worker closes it
    if departed:
        ports.teller.close(Ended(key, where.label, config, record, now), departed)
    if not keep:
        ports.store.forget_posts(record.incident)
    return Action.RESOLVE if departed else Action.NOTHING


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
