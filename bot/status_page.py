"""The fleet status page's view model: clusters by configurations, built from what the workers publish.

Pure: the web process reads the inventory, the fleet snapshot, claims, fleet runs, deploy key records and the
audit log from Redis and hands them in; ``build_page`` keeps what the viewer may see (the policy's viewer role
on each cluster, as for `/flux clusters`), filters by the selector of `/flux clusters --selector`, and joins the
rest per cluster. handlers/fleet_html.py renders it.

"Last change" comes from the audit log: the newest entry on the cluster (its ARM id, which jobs write as
``cluster_id``: a name or alias is not unique across resource groups and subscriptions, so an entry without
the id is never shown) whose command names the configuration, refusals left out. A fleet run's entry names a
selector, not a cluster, so its changes show under "fleet runs" until a later command on the cluster.

The snapshot's rows and the audit entries are grouped by cluster id once per page (a page of 1,000 clusters
must not scan every row per cluster).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass

from bot.fleet_snapshot import ConfigRow, FleetSnapshot
from bot.inventory import Resolved, matches_selector
from bot.key_records import DeployKeyRecord
from bot.views import AuditEntry

_SHORT_TYPE = {"managedClusters": "AKS", "connectedClusters": "Arc"}
#: compliance states as ARM names them, and the CSS class each is shown with
COMPLIANCE_CLASS = {
    "Compliant": "ok",
    "Non-Compliant": "bad",
    "Pending": "pending",
    "Suspended": "suspended",
    "Unknown": "unknown",
}
DAY = 86_400.0


@dataclass(frozen=True)
class LastChange:
    when: str  # ISO 8601 UTC, as the audit log keeps it
    who: str  # "slack:U123"
    command: str  # as typed, redacted when it was logged
    result: str


@dataclass(frozen=True)
class KeyAge:
    key_id: str
    age_days: float
    fingerprint: str


@dataclass(frozen=True)
class ConfigView:
    name: str
    compliance: str
    css: str
    provisioning: str
    revision: str
    source_updated_at: str
    error: str
    last_change: LastChange | None
    key: KeyAge | None


@dataclass(frozen=True)
class ClusterView:
    label: str  # alias, or the cluster's name
    name: str
    resource_group: str
    kind: str  # AKS | Arc
    location: str
    tags: tuple[tuple[str, str], ...]
    claimed_by: str | None
    configurations: tuple[ConfigView, ...]


@dataclass(frozen=True)
class RunInfo:
    """A fleet run in flight, as its job record and saved view say."""

    run_id: str
    title: str
    phase: str
    actor: str
    done: int
    total: int
    #: the ARM ids of the run's clusters (a run is shown only to someone who may see all of them)
    cluster_ids: tuple[str, ...] = ()


@dataclass(frozen=True)
class FleetPage:
    viewer: str
    selector: str
    clusters: tuple[ClusterView, ...]
    runs: tuple[RunInfo, ...]
    #: seconds since the snapshot of configurations was taken; None: no snapshot yet
    snapshot_age: float | None
    #: clusters visible to the viewer before the selector (so "0 of 12 match" can be said)
    visible_total: int

    def compliance_counts(self) -> dict[str, int]:
        counts: dict[str, int] = {}
        for cluster in self.clusters:
            for config in cluster.configurations:
                counts[config.compliance] = counts.get(config.compliance, 0) + 1
        return dict(sorted(counts.items()))


def age_text(seconds: float) -> str:
    """``42s``, ``5m``, ``3h``, ``12d``: how old something is, to the unit that matters."""
    seconds = max(0.0, seconds)
    if seconds < 60:
        return f"{int(seconds)}s"
    if seconds < 3600:
        return f"{int(seconds // 60)}m"
    if seconds < DAY:
        return f"{int(seconds // 3600)}h"
    return f"{int(seconds // DAY)}d"


def short_revision(revision: str | None) -> str:
    """``main/0123456789abcdef...`` -> ``main/0123456789ab`` (a digest or commit is long; its head tells it)."""
    if not revision:
        return ""
    ref, sep, sha = revision.rpartition("/")
    if sep and len(sha) > 12:
        return f"{ref}/{sha[:12]}"
    return revision if len(revision) <= 40 else revision[:40]


def names_config(command: str, config: str) -> bool:
    """Whether ``command`` (``/flux config update apps -c x``) names configuration ``config`` as a word."""
    folded = config.casefold()
    return any(word.casefold() == folded for word in command.split())


def audit_by_cluster(audit: Iterable[AuditEntry]) -> dict[str, list[AuditEntry]]:
    """``{cluster id (lowercase): its entries, in audit order}``; refusals (they changed nothing) and entries
    without a cluster id are left out."""
    grouped: dict[str, list[AuditEntry]] = {}
    for entry in audit:
        if entry.cluster_id and not entry.result.startswith("refused"):
            grouped.setdefault(entry.cluster_id.lower(), []).append(entry)
    return grouped


def last_changes(audit: Sequence[AuditEntry], cluster_id: str, configs: Iterable[str]) -> dict[str, LastChange]:
    """The newest entry (``audit`` is newest first) on the cluster whose ARM id is ``cluster_id`` that names
    each configuration; refused commands changed nothing and are skipped, entries without an id never match."""
    folded_id = cluster_id.lower()
    wanted = {c.casefold(): c for c in configs}
    found: dict[str, LastChange] = {}
    for entry in audit:
        if len(found) == len(wanted):
            break
        if not entry.cluster_id or entry.cluster_id.lower() != folded_id or entry.result.startswith("refused"):
            continue
        for folded, config in wanted.items():
            if config not in found and names_config(entry.command, folded):
                found[config] = LastChange(entry.time, entry.actor, entry.command, entry.result)
    return found


def key_ages(keys: Iterable[DeployKeyRecord], now: float) -> dict[str, KeyAge]:
    """``{cluster id/config (lowercase): the age of the active key it uses}``."""
    ages: dict[str, KeyAge] = {}
    for record in keys:
        if record.state != "active":
            continue
        for user in record.users:
            ages[user.key] = KeyAge(record.key_id, (now - record.created_at) / DAY, record.fingerprint)
    return ages


def _config_view(row: ConfigRow, change: LastChange | None, key: KeyAge | None) -> ConfigView:
    compliance = row.compliance or "Unknown"
    return ConfigView(
        name=row.name or "(unnamed)",
        compliance=compliance,
        css=COMPLIANCE_CLASS.get(compliance, "unknown"),
        provisioning=row.provisioning or "",
        revision=short_revision(row.revision),
        source_updated_at=row.source_updated_at or "",
        error=row.error or "",
        last_change=change,
        key=key,
    )


def build_page(
    *,
    viewer: str,
    visible: Sequence[Resolved],
    selector: Sequence[tuple[str, str]],
    snapshot: FleetSnapshot | None,
    claims: Mapping[str, str],
    runs: Sequence[RunInfo],
    keys: Iterable[DeployKeyRecord],
    audit: Sequence[AuditEntry],
    now: float,
) -> FleetPage:
    """The page for ``viewer``: ``visible`` are the inventory's clusters they may view (the caller asked the
    policy), ``claims`` maps lowercase cluster ids to the pull request holding them, ``audit`` is newest first."""
    chosen = [e for e in visible if matches_selector(e.cluster, e.alias, selector)]
    ages = key_ages(keys, now)
    rows_of = snapshot.by_cluster() if snapshot is not None else {}
    audit_of = audit_by_cluster(audit)
    clusters = []
    for entry in chosen:
        ref = entry.cluster.ref
        rows = rows_of.get(ref.arm_id.lower(), [])
        label = entry.alias or ref.name
        changes = last_changes(audit_of.get(ref.arm_id.lower(), []), ref.arm_id, [r.name for r in rows if r.name])
        configs = tuple(
            _config_view(r, changes.get(r.name), ages.get(f"{ref.arm_id.lower()}/{r.name.lower()}")) for r in rows
        )
        clusters.append(
            ClusterView(
                label=label,
                name=ref.name,
                resource_group=ref.resource_group,
                kind=_SHORT_TYPE.get(ref.cluster_type.value, ref.cluster_type.value),
                location=entry.cluster.location,
                tags=tuple(sorted(entry.cluster.tags.items())),
                claimed_by=claims.get(ref.arm_id.lower()),
                configurations=configs,
            )
        )
    seen = {e.cluster.ref.arm_id.lower() for e in visible}
    shown_runs = tuple(r for r in runs if r.cluster_ids and all(c.lower() in seen for c in r.cluster_ids))
    return FleetPage(
        viewer=viewer,
        selector=",".join(f"{k}={v}" for k, v in selector),
        clusters=tuple(clusters),
        runs=shown_runs,
        snapshot_age=None if snapshot is None else max(0.0, now - snapshot.taken_at),
        visible_total=len(visible),
    )
