"""The status page's view model: visibility, selector, snapshot rows, last change from the audit log, key ages."""

from __future__ import annotations

from bot.fleet_snapshot import ConfigRow, FleetSnapshot, take_snapshot
from bot.inventory import Inventory
from bot.key_records import DeployKeyRecord, KeyUser
from bot.models import Cluster, ClusterRef, ClusterType, FluxConfigState
from bot.status_page import DAY, RunInfo, age_text, audit_by_cluster, build_page, last_changes, short_revision
from bot.views import AuditEntry

SUB = "00000000-0000-0000-0000-000000000001"
PROD = ClusterRef(SUB, "rg", ClusterType.MANAGED, "prod-weu-aks")
DEV = ClusterRef(SUB, "rg", ClusterType.CONNECTED, "dev-arc")
NOW = 1_700_000_000.0


def inventory() -> Inventory:
    return Inventory([Cluster(PROD, "westeurope", {"env": "prod"}), Cluster(DEV, "westeurope", {"env": "dev"})])


def audit(
    cluster: str, command: str, result: str = "succeeded", actor: str = "slack:U1", cluster_id: str | None = None
) -> AuditEntry:
    """An entry on ``cluster`` (PROD's or DEV's id by its name, unless ``cluster_id`` says otherwise)."""
    if cluster_id is None:
        cluster_id = {"prod-weu-aks": PROD.arm_id, "dev-arc": DEV.arm_id}.get(cluster.casefold(), "")
    return AuditEntry("1-0", "2024-01-01T00:00:00Z", actor, "slack:C1", command, cluster, "j1", result, cluster_id)


def page(**overrides: object):  # type: ignore[no-untyped-def]
    snapshot = FleetSnapshot(
        taken_at=NOW - 90,
        configurations=(
            ConfigRow(cluster_id=PROD.arm_id.upper(), name="apps", compliance="Compliant", revision="main/" + "a" * 40),
            ConfigRow(cluster_id=DEV.arm_id, name="apps", compliance="Non-Compliant", error="path not found"),
        ),
    )
    args: dict[str, object] = {
        "viewer": "slack:U1",
        "visible": inventory().all(),
        "selector": (),
        "snapshot": snapshot,
        "claims": {PROD.arm_id.lower(): "github:org/fleet#7"},
        "runs": (),
        "keys": (),
        "audit": (),
        "now": NOW,
    }
    args.update(overrides)
    return build_page(**args)  # type: ignore[arg-type]


def test_rows_join_the_snapshot_claims_and_compliance_per_cluster() -> None:
    built = page()
    assert [c.label for c in built.clusters] == ["dev-arc", "prod-weu-aks"]
    dev, prod = built.clusters
    assert prod.claimed_by == "github:org/fleet#7" and dev.claimed_by is None
    assert prod.configurations[0].compliance == "Compliant" and prod.configurations[0].css == "ok"
    assert prod.configurations[0].revision == "main/aaaaaaaaaaaa"
    assert dev.configurations[0].css == "bad" and dev.configurations[0].error == "path not found"
    assert built.snapshot_age == 90 and built.compliance_counts() == {"Compliant": 1, "Non-Compliant": 1}


def test_the_selector_is_the_one_of_flux_clusters() -> None:
    assert [c.label for c in page(selector=(("env", "prod"),)).clusters] == ["prod-weu-aks"]
    assert [c.label for c in page(selector=(("type", "arc"),)).clusters] == ["dev-arc"]
    assert [c.label for c in page(selector=(("name", "prod-*"),)).clusters] == ["prod-weu-aks"]
    empty = page(selector=(("env", "qa"),))
    assert empty.clusters == () and empty.visible_total == 2


def test_without_a_snapshot_the_clusters_show_and_the_age_is_unknown() -> None:
    built = page(snapshot=None)
    assert built.snapshot_age is None and all(c.configurations == () for c in built.clusters)


def test_last_change_is_the_newest_entry_naming_the_configuration_refusals_left_out() -> None:
    entries = [
        audit("prod-weu-aks", "/flux config update apps -c prod-weu-aks", "refused: needs operator", "slack:U9"),
        audit("prod-weu-aks", "/flux config update other -c prod-weu-aks", actor="slack:U8"),
        audit("dev-arc", "/flux config update apps -c dev-arc", actor="slack:U7"),
        audit("prod-weu-aks", "/flux config create apps -c prod-weu-aks", actor="slack:U4", cluster_id=""),
        audit("PROD-WEU-AKS", "/flux config create apps -c prod-weu-aks", actor="slack:U2"),
        audit("prod-weu-aks", "/flux config create apps -c prod-weu-aks", actor="slack:U3"),
    ]
    found = last_changes(entries, PROD.arm_id.upper(), ["apps"])
    assert found["apps"].who == "slack:U2"  # U4's entry has no cluster id (older fluxops): not shown
    assert last_changes(entries, PROD.arm_id, ["applications"]) == {}


def test_last_change_of_a_cluster_never_shows_a_namesake_in_another_resource_group() -> None:
    """A name (or alias) is unique only in its resource group: the viewer of team-a/prod must not see what was
    run on team-b/prod, which they may not view."""
    mine = ClusterRef(SUB, "team-a", ClusterType.MANAGED, "prod")
    theirs = ClusterRef(SUB, "team-b", ClusterType.MANAGED, "prod")
    other_sub = ClusterRef("00000000-0000-0000-0000-000000000002", "team-a", ClusterType.MANAGED, "prod")
    both = Inventory([Cluster(mine, "westeurope", {}), Cluster(theirs, "westeurope", {})])
    visible = [e for e in both.all() if e.cluster.ref == mine]
    snapshot = FleetSnapshot(taken_at=NOW, configurations=(ConfigRow(cluster_id=mine.arm_id, name="apps"),))
    secret = "/flux config update apps -c prod --branch team-b-secret"
    entries = [
        audit("prod", secret, actor="slack:UB", cluster_id=theirs.arm_id),
        audit("prod", secret, actor="slack:UC", cluster_id=other_sub.arm_id),
        audit("prod", secret, actor="slack:UD", cluster_id=""),
    ]
    built = page(visible=visible, snapshot=snapshot, audit=entries, claims={})
    assert [c.resource_group for c in built.clusters] == ["team-a"]
    assert built.clusters[0].configurations[0].last_change is None
    mine_entry = audit("prod", "/flux config update apps -c prod", actor="slack:UA", cluster_id=mine.arm_id)
    built = page(visible=visible, snapshot=snapshot, audit=[*entries, mine_entry], claims={})
    change = built.clusters[0].configurations[0].last_change
    assert change is not None and change.who == "slack:UA"


class CountingAudit(list[AuditEntry]):
    """A list that counts the entries read from it."""

    visits = 0

    def __iter__(self):  # type: ignore[no-untyped-def]
        for entry in super().__iter__():
            self.visits += 1
            yield entry


def test_grouping_by_cluster_gives_the_per_cluster_answers_and_reads_each_entry_once() -> None:
    refs = [ClusterRef(SUB, f"rg{n % 3}", ClusterType.MANAGED, f"c{n % 5}") for n in range(15)]
    rows = tuple(
        ConfigRow(cluster_id=(r.arm_id.upper() if n % 2 else r.arm_id), name=name)
        for n, r in enumerate(refs)
        for name in ("apps", "infra")
    )
    snapshot = FleetSnapshot(taken_at=NOW, configurations=rows)
    grouped = snapshot.by_cluster()
    for ref in refs:  # the old per-cluster scan, as the reference
        scanned = [row for row in rows if row.cluster_id.casefold() == ref.arm_id.casefold()]
        assert grouped[ref.arm_id.lower()] == scanned == snapshot.of_cluster(ref.arm_id.upper())
    assert sum(len(v) for v in grouped.values()) == len(rows)

    entries = CountingAudit(
        audit(
            r.name,
            f"/flux config update {('apps', 'infra')[n % 2]} -c {r.name}",
            "refused: no" if n % 7 == 0 else "succeeded",
            f"slack:U{n}",
            cluster_id=r.arm_id.upper() if n % 3 else r.arm_id,
        )
        for n, r in enumerate(refs * 3)
    )
    by_cluster = audit_by_cluster(entries)
    assert entries.visits == len(entries)
    for ref in refs:
        assert last_changes(by_cluster.get(ref.arm_id.lower(), []), ref.arm_id, ["apps", "infra"]) == last_changes(
            list(entries), ref.arm_id, ["apps", "infra"]
        )
    entries.visits = 0
    inv = Inventory([Cluster(r, "westeurope", {}) for r in dict.fromkeys(refs)])
    built = page(visible=inv.all(), snapshot=snapshot, audit=entries, claims={})
    assert entries.visits == len(entries)  # once per page, not once per cluster
    assert len(built.clusters) == len(dict.fromkeys(refs))
    assert any(c.last_change is not None for cl in built.clusters for c in cl.configurations)


def test_key_ages_come_from_active_records_of_each_configuration() -> None:
    record = DeployKeyRecord(
        key_id="dk-0123456789",
        repository="ssh://git@github.com/org/repo",
        host="github.com",
        full_name="org/repo",
        fingerprint="SHA256:x",
        public_key="ssh-ed25519 AAAA",
        created_at=NOW - 40 * DAY,
        users=(KeyUser(PROD.arm_id, "apps"),),
    )
    retired = DeployKeyRecord(**{**record.__dict__, "key_id": "dk-aaaaaaaaaa", "state": "retired"})
    prod = page(keys=[record, retired]).clusters[1]
    key = prod.configurations[0].key
    assert key is not None and key.key_id == "dk-0123456789" and round(key.age_days) == 40


def test_a_run_shows_only_to_someone_who_may_see_all_its_clusters() -> None:
    both = RunInfo("r1", "fleet apply apps to env=*", "running", "U1", 1, 2, (PROD.arm_id, DEV.arm_id))
    planless = RunInfo("r2", "fleet apply x", "queued", "U1", 0, 0, ())
    assert [r.run_id for r in page(runs=[both, planless]).runs] == ["r1"]
    only_dev = [e for e in inventory().all() if e.cluster.ref == DEV]
    assert page(runs=[both], visible=only_dev).runs == ()


def test_snapshot_rows_redact_errors_and_round_trip() -> None:
    state = FluxConfigState(
        cluster=PROD,
        spec=None,
        source_kind="GitRepository",
        provisioning_state="Succeeded",
        compliance_state="Non-Compliant",
        error_message="fetch https://user:hunter2secret@example.com/repo failed",
    )
    snapshot = take_snapshot([state], NOW)
    assert "hunter2secret" not in snapshot.to_json()
    assert FleetSnapshot.from_json(snapshot.to_json()) == snapshot


def test_small_texts() -> None:
    assert [age_text(s) for s in (5, 125, 7300, 3 * DAY)] == ["5s", "2m", "2h", "3d"]
    assert short_revision(None) == "" and short_revision("main/abc") == "main/abc"
