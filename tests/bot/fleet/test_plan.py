"""make_plan: desired vs actual per cluster, the minimal operations, and a stable digest."""

from __future__ import annotations

import subprocess
import sys
from dataclasses import replace
from pathlib import Path

from bot.commands import CredentialRefs
from bot.config_access import ClusterAlias
from bot.fleet import (
    Action,
    ActualCluster,
    CreateConfig,
    DeleteConfig,
    ExtensionChange,
    FieldDiff,
    InstallExtension,
    Plan,
    UpdateConfig,
    UpdateExtension,
    make_plan,
    plan_keys,
    resolve_clusters,
)
from bot.inventory import Inventory
from bot.models import (
    BucketSource,
    Cluster,
    ExtensionPatch,
    ExtensionSpec,
    FluxConfigPatch,
    KustomizationChange,
    RepositoryRef,
)

from .fixtures import AKS, ARC, PROD, TUTORIAL, extension, fleet, running, tutorial, tutorial_spec

ROOT = Path(__file__).resolve().parents[3]


def test_create_on_an_empty_cluster_installs_the_extension_first():
    desired = fleet(TUTORIAL)
    plan = make_plan(desired, {"demo-arc": ActualCluster("demo-arc", ARC)})
    (cluster,) = plan.clusters
    assert (cluster.status, cluster.label, cluster.cluster) == ("change", "demo-arc", ARC)
    (change,) = cluster.configs
    assert change.action is Action.CREATE
    assert change.spec == tutorial_spec()
    assert FieldDiff("namespace", None, "cluster-config") in change.fields
    assert FieldDiff("source.ref", None, RepositoryRef(branch="main")) in change.fields
    assert [(k.action, k.name) for k in change.kustomizations] == [(Action.CREATE, "infra"), (Action.CREATE, "apps")]
    assert FieldDiff("dependsOn", None, ("infra",)) in change.kustomizations[1].fields
    assert cluster.extension is not None and cluster.extension.implicit
    assert plan.operations() == [
        InstallExtension("demo-arc", "demo-arc", ARC, spec=ExtensionSpec()),
        CreateConfig("demo-arc", "demo-arc", ARC, spec=tutorial_spec(), credentials=CredentialRefs()),
    ]
    assert plan.can_apply and not plan.is_empty and not plan.problems()


def test_credentials_go_with_a_create_by_name():
    text = tutorial(**{"branch: main": "branch: main\n          httpsUser: git\n          httpsKeyRef: gh-token"})
    plan = make_plan(fleet(text), {"demo-arc": running("demo-arc", ARC)})
    (operation,) = plan.operations()
    assert isinstance(operation, CreateConfig)
    assert operation.credentials == CredentialRefs(https_key="gh-token")
    assert FieldDiff("source.httpsKeyRef", None, "gh-token") in plan.clusters[0].configs[0].fields


def test_unchanged_is_an_empty_plan():
    plan = make_plan(fleet(TUTORIAL), {"demo-arc": running("demo-arc", ARC, tutorial_spec())})
    assert plan.is_empty and not plan.can_apply
    assert plan.operations() == []
    assert plan.clusters[0].status == "unchanged"
    assert plan.clusters[0].configs[0].action is Action.UNCHANGED


def test_one_kustomization_path_is_patched_alone():
    desired = fleet(tutorial(**{"./apps/staging": "./apps/production"}))
    plan = make_plan(desired, {"demo-arc": running("demo-arc", ARC, tutorial_spec())})
    (change,) = plan.clusters[0].configs
    assert change.action is Action.UPDATE
    assert change.fields == ()
    (apps,) = change.kustomizations
    assert (apps.action, apps.name, apps.fields) == (
        Action.UPDATE,
        "apps",
        (FieldDiff("path", "./apps/staging", "./apps/production"),),
    )
    assert plan.operations() == [
        UpdateConfig(
            "demo-arc",
            "demo-arc",
            ARC,
            name="cluster-config",
            patch=FluxConfigPatch(kustomizations=(KustomizationChange(name="apps", path="./apps/production"),)),
        )
    ]


def test_source_fields_are_patched_alone():
    desired = fleet(tutorial(**{"branch: main": "tag: v2.0.0\n          interval: 5m"}))
    plan = make_plan(desired, {"demo-arc": running("demo-arc", ARC, tutorial_spec())})
    (operation,) = plan.operations()
    assert isinstance(operation, UpdateConfig)
    assert operation.patch == FluxConfigPatch(
        ref=RepositoryRef(tag="v2.0.0"), sync_interval_seconds=300, source_kind="GitRepository"
    )
    assert plan.clusters[0].configs[0].fields == (
        FieldDiff("source.ref", RepositoryRef(branch="main"), RepositoryRef(tag="v2.0.0")),
        FieldDiff("source.interval", 600, 300),
    )


def test_kustomization_added_and_removed():
    text = tutorial(
        **{"          apps:\n": "          web:\n            path: ./web\n            wait: false\n          apps:\n"}
    ).replace("            prune: true\n            dependsOn: [infra]\n", "            dependsOn: [infra]\n")
    text = text.replace("          infra:\n            path: ./infrastructure\n            prune: true\n", "")
    text = text.replace("dependsOn: [infra]", "dependsOn: [web]")
    actual = running("demo-arc", ARC, tutorial_spec())
    plan = make_plan(fleet(text), {"demo-arc": actual})
    (change,) = plan.clusters[0].configs
    assert [(k.action, k.name) for k in change.kustomizations] == [
        (Action.CREATE, "web"),
        (Action.UPDATE, "apps"),
        (Action.DELETE, "infra"),
    ]
    assert change.patch is not None
    assert change.patch.kustomizations == (
        KustomizationChange(
            name="web",
            path="./web",
            depends_on=(),
            prune=False,
            force=False,
            wait=False,
            sync_interval_seconds=600,
            retry_interval_seconds=None,
            timeout_seconds=600,
        ),
        KustomizationChange(name="apps", depends_on=("web",), prune=False),
        KustomizationChange(name="infra", remove=True),
    )
    assert change.warnings == ("removing kustomization 'infra' removes from the cluster what it applied (prune: true)",)
    assert plan.can_apply


def test_a_managed_configuration_removed_from_the_files_is_deleted_last():
    old = replace(tutorial_spec(), name="old-config")
    actual = {
        "demo-arc": running("demo-arc", ARC, tutorial_spec(), old),
        "demo-aks": running("demo-aks", AKS),
    }
    desired = fleet(TUTORIAL, tutorial().replace("demo-arc", "demo-aks"))
    plan = make_plan(desired, actual, managed=[("demo-arc", "cluster-config"), ("demo-arc", "old-config")])
    arc = next(c for c in plan.clusters if c.key == "demo-arc")
    (delete,) = arc.changes
    assert (delete.action, delete.name) == (Action.DELETE, "old-config")
    assert delete.warnings == (
        "deleting it removes from the cluster what kustomizations 'infra', 'apps' applied (prune: true)",
    )
    assert [type(op) for op in plan.operations()] == [CreateConfig, DeleteConfig]
    assert plan.operations()[-1] == DeleteConfig("demo-arc", "demo-arc", ARC, name="old-config")


def test_a_configuration_the_repository_never_declared_is_left_alone():
    manual = replace(tutorial_spec(), name="hand-made")
    plan = make_plan(fleet(TUTORIAL), {"demo-arc": running("demo-arc", ARC, tutorial_spec(), manual)})
    assert plan.clusters[0].unmanaged == ("hand-made",)
    assert plan.is_empty


def test_a_cluster_removed_from_the_files_loses_its_managed_configurations_only():
    manual = replace(tutorial_spec(), name="hand-made")
    actual = {"demo-arc": running("demo-arc", ARC, tutorial_spec(), manual)}
    plan = make_plan(fleet(), actual, managed=[("demo-arc", "cluster-config")])
    assert plan_keys(fleet(), [("demo-arc", "cluster-config")]) == ["demo-arc"]
    (cluster,) = plan.clusters
    assert [(c.action, c.name) for c in cluster.changes] == [(Action.DELETE, "cluster-config")]
    assert cluster.unmanaged == ("hand-made",)
    assert cluster.extension is None  # never deleted


def test_the_same_cluster_under_another_name_is_not_deleted():
    arm_id = ARC.arm_id
    desired = fleet(TUTORIAL.replace("demo-arc", arm_id))
    actual = {arm_id: running("demo-arc", ARC, tutorial_spec()), "demo-arc": running("demo-arc", ARC, tutorial_spec())}
    plan = make_plan(desired, actual, managed=[("demo-arc", "cluster-config")])
    assert plan.is_empty
    assert [c.key for c in plan.clusters] == [arm_id]


def test_two_keys_for_one_cluster_is_an_error():
    desired = fleet(TUTORIAL, TUTORIAL.replace("demo-arc", "flux-demo-arc"))
    same = running("demo-arc", ARC, tutorial_spec())
    plan = make_plan(desired, {"demo-arc": same, "flux-demo-arc": same})
    error = next(c for c in plan.clusters if c.key == "flux-demo-arc").error
    assert error is not None and "'flux-demo-arc' and 'demo-arc' are the same cluster" in error
    assert not plan.can_apply


def test_create_only_fields_are_blocked_with_what_to_do():
    desired = fleet(tutorial(**{"namespace: cluster-config": "namespace: flux-system"}))
    plan = make_plan(desired, {"demo-arc": running("demo-arc", ARC, tutorial_spec())})
    (change,) = plan.clusters[0].configs
    assert FieldDiff("namespace", "cluster-config", "flux-system") in change.fields
    (reason,) = change.blocked
    assert "'namespace' is set when a configuration is created and Azure cannot change it" in reason
    assert "give the configuration a new name" in reason
    assert plan.clusters[0].status == "blocked"
    assert plan.operations() == []
    assert not plan.can_apply and not plan.is_empty
    assert plan.problems() == [f"demo-arc, configuration 'cluster-config': {reason}"]


def test_changes_fluxops_cannot_patch_are_blocked():
    spec = tutorial_spec()
    with_subst = replace(
        spec, kustomizations=(spec.kustomizations[0], replace(spec.kustomizations[1], substitute=(("env", "dev"),)))
    )
    plan = make_plan(fleet(TUTORIAL), {"demo-arc": running("demo-arc", ARC, with_subst)})
    (change,) = plan.clusters[0].configs
    assert change.all_blocked and "'substitute' of kustomization 'apps'" in change.all_blocked[0]
    assert plan.operations() == []


def test_a_change_of_source_kind_is_blocked():
    bucket = replace(tutorial_spec(), source=BucketSource(url="https://minio.example", bucket_name="fleet"))
    plan = make_plan(fleet(TUTORIAL), {"demo-arc": running("demo-arc", ARC, bucket)})
    (change,) = plan.clusters[0].configs
    assert change.fields == (FieldDiff("source.kind", "bucket", "git"),)
    assert "cannot change the kind of a configuration's source in place" in change.blocked[0]
    assert plan.operations() == []


def test_extension_settings_change_and_the_rest_is_not_managed():
    text = "  demo-arc:\n    extension:\n      settings:\n        helm-controller.detectDrift: true\n"
    text += "        image-automation-controller.enabled: null\n"
    actual = running(
        "demo-arc",
        ARC,
        ext=extension(
            ARC,
            ("helm-controller.detectDrift", "False"),
            ("image-automation-controller.enabled", "true"),
            ("multiTenancy.enforce", "false"),
        ),
    )
    plan = make_plan(fleet(text), {"demo-arc": actual})
    ext = plan.clusters[0].extension
    assert ext is not None and ext.action is Action.UPDATE
    assert ext.fields == (
        FieldDiff("settings.helm-controller.detectDrift", "false", "true"),
        FieldDiff("settings.image-automation-controller.enabled", "true", None),
    )
    assert ext.unmanaged_settings == ("multiTenancy.enforce",)
    assert plan.operations() == [
        UpdateExtension(
            "demo-arc",
            "demo-arc",
            ARC,
            name="flux",
            patch=ExtensionPatch(
                settings=(("helm-controller.detectDrift", "true"), ("image-automation-controller.enabled", None))
            ),
        )
    ]


def test_extension_version_pin_and_release_train():
    text = "  demo-arc:\n    extension:\n      version: 1.12.0\n      releaseTrain: preview\n"
    plan = make_plan(fleet(text), {"demo-arc": running("demo-arc", ARC)})
    ext = plan.clusters[0].extension
    assert ext is not None and ext.patch == ExtensionPatch(
        auto_upgrade_minor_version=False, release_train="Preview", version="1.12.0"
    )
    assert FieldDiff("version", "1.13.1", "1.12.0") in ext.fields


def test_extension_install_when_declared():
    text = "  demo-arc:\n    extension:\n      settings:\n        useKubeletIdentity: true\n"
    plan = make_plan(fleet(text), {"demo-arc": ActualCluster("demo-arc", AKS)})
    ext = plan.clusters[0].extension
    spec = ExtensionSpec(settings=(("useKubeletIdentity", "true"),))
    assert ext == ExtensionChange(
        Action.INSTALL,
        "flux",
        (
            FieldDiff("version", None, None),
            FieldDiff("autoUpgradeMinorVersion", None, True),
            FieldDiff("releaseTrain", None, "Stable"),
            FieldDiff("settings.useKubeletIdentity", None, "true"),
        ),
        spec=spec,
    )
    assert plan.operations() == [InstallExtension("demo-arc", "demo-arc", AKS, spec=spec)]


def test_extension_unchanged_and_no_extension_needed():
    text = "  demo-arc:\n    extension:\n      settings:\n        helm-controller.detectDrift: true\n"
    actual = running("demo-arc", ARC, ext=extension(ARC, ("helm-controller.detectDrift", "true")))
    assert make_plan(fleet(text), {"demo-arc": actual}).is_empty
    assert make_plan(fleet("  demo-arc: {}\n"), {"demo-arc": ActualCluster("demo-arc", ARC)}).is_empty


def test_an_unknown_cluster_is_an_error_for_that_cluster_only():
    desired = fleet(TUTORIAL, TUTORIAL.replace("demo-arc", "demo-arx"))
    inventory = Inventory([Cluster(ARC, "westeurope")], aliases={"demo-arc": ClusterAlias(id=ARC.arm_id)})
    found, failed = resolve_clusters(plan_keys(desired), inventory)
    assert set(found) == {"demo-arc"} and set(failed) == {"demo-arx"}
    actual = {key: running(r.alias or r.ref.name, r.ref, tutorial_spec()) for key, r in found.items()}
    plan = make_plan(desired, actual, unresolved=failed)
    bad = next(c for c in plan.clusters if c.key == "demo-arx")
    assert bad.status == "error"
    assert bad.error is not None and "no cluster 'demo-arx' in the inventory; did you mean 'demo-arc'" in bad.error
    assert plan.operations() == []
    assert plan.problems()[0].startswith("demo-arx: no cluster 'demo-arx'")
    assert not plan.is_empty and not plan.can_apply


def test_a_managed_cluster_that_vanished_is_an_error_not_a_delete():
    plan = make_plan(fleet(), {}, managed=[("gone", "cluster-config")])
    (cluster,) = plan.clusters
    assert cluster.error is not None and "the base branch declares configurations 'cluster-config'" in cluster.error


def test_operations_are_ordered_extension_then_writes_then_deletes():
    old = replace(tutorial_spec(), name="old")
    prod_text = TUTORIAL.replace("demo-arc", "prod").replace("./apps/staging", "./apps/production")
    desired = fleet(TUTORIAL, prod_text)
    actual = {
        "demo-arc": running("demo-arc", ARC, old, ext=None),
        "prod": running("prod", PROD, tutorial_spec()),
    }
    actual["demo-arc"] = replace(actual["demo-arc"], extension=None)
    operations = make_plan(desired, actual, managed=[("demo-arc", "old")]).operations()
    assert [type(op).__name__ for op in operations] == [
        "InstallExtension",
        "CreateConfig",
        "UpdateConfig",
        "DeleteConfig",
    ]
    assert [op.lock_name for op in operations] == ["extension", "cluster-config", "cluster-config", "old"]
    assert operations[0].describe() == "install the flux extension on demo-arc"


def _tutorial_plan() -> Plan:
    desired = fleet(tutorial(**{"./apps/staging": "./apps/production"}), TUTORIAL.replace("demo-arc", "demo-aks"))
    actual = {"demo-arc": running("demo-arc", ARC, tutorial_spec()), "demo-aks": ActualCluster("demo-aks", AKS)}
    return make_plan(desired, actual, managed={("demo-arc", "cluster-config")})


def test_the_digest_is_stable_and_follows_the_content():
    first, second = _tutorial_plan(), _tutorial_plan()
    assert first.digest == second.digest
    assert first.digest.startswith("sha256:") and len(first.digest) == 71
    changed = make_plan(
        fleet(tutorial(**{"./apps/staging": "./apps/prod"})), {"demo-arc": running("demo-arc", ARC, tutorial_spec())}
    )
    assert changed.digest != first.digest
    relabeled = Plan(tuple(replace(c, label=c.label + "x") for c in first.clusters))
    assert relabeled.digest != first.digest


def test_the_digest_is_the_same_in_another_process():
    script = "from tests.bot.fleet.test_plan import _tutorial_plan; print(_tutorial_plan().digest)"
    digests = {
        subprocess.run(
            [sys.executable, "-c", script],
            cwd=ROOT,
            env={"PYTHONPATH": str(ROOT), "PYTHONHASHSEED": seed},
            capture_output=True,
            text=True,
            check=True,
        ).stdout.strip()
        for seed in ("1", "2")
    }
    assert digests == {_tutorial_plan().digest}


def test_a_new_kustomization_shows_path_prune_and_what_differs_from_the_defaults():
    text = tutorial(**{"./infrastructure": "./infrastructure\n            retryInterval: 1m\n            force: true"})
    spec = tutorial_spec()
    plan = make_plan(
        fleet(text), {"demo-arc": running("demo-arc", ARC, replace(spec, kustomizations=spec.kustomizations[1:]))}
    )
    (infra,) = plan.clusters[0].configs[0].kustomizations
    assert infra.fields == (
        FieldDiff("path", None, "./infrastructure"),
        FieldDiff("prune", None, True),
        FieldDiff("force", None, True),
        FieldDiff("retryInterval", None, 60),
    )
