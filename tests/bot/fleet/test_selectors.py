"""Selector documents: one document, every cluster of the inventory it matches, with per-cluster variables."""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path

import pytest

from bot.commands import ClusterTarget
from bot.config_access import ClusterAlias
from bot.errors import FluxopsError
from bot.fleet import ActualCluster, FleetError, FleetSpec, Plan, expand_fleet, load_fleet, make_plan, plan_keys
from bot.fleet.diff import Action
from bot.fleet.operations import digest
from bot.inventory import Inventory
from bot.models import Cluster, ClusterRef, ClusterType
from bot.render.plan_markdown import render_plan
from tests.golden_files import assert_golden

from .fixtures import HEAD, SUB, running

WEU = ClusterRef(SUB, "rg-prod", ClusterType.MANAGED, "aks-prod-weu")
NEU = ClusterRef(SUB, "rg-prod", ClusterType.CONNECTED, "arc-prod-neu")
STAGING = ClusterRef(SUB, "rg-staging", ClusterType.MANAGED, "aks-staging")
NEW = ClusterRef(SUB, "rg-prod", ClusterType.MANAGED, "aks-prod-eus")

SELECTED = """\
apiVersion: fluxops.io/v1
kind: Fleet
selector:
  env: prod
configurations:
  apps:
    namespace: apps
    source:
      url: https://github.com/org/apps
      branch: main
    kustomizations:
      apps:
        path: ./clusters/${cluster.tags.region}/${cluster.name}
        substitute:
          cluster_name: ${cluster.name}
          group: ${cluster.resourceGroup}
          literal: $${kept}
"""


def named(cluster: str, text: str = SELECTED) -> str:
    """A selector document's configurations declared for one cluster by name instead."""
    body = text[text.index("configurations:") :]
    return HEAD + f"  {cluster}:\n" + "".join(f"    {line}\n" for line in body.splitlines())


def inventory(*extra: Cluster) -> Inventory:
    clusters = [
        Cluster(WEU, "westeurope", {"env": "prod", "region": "weu"}),
        Cluster(NEU, "northeurope", {"Env": "prod", "Region": "neu"}),
        Cluster(STAGING, "westeurope", {"env": "staging", "region": "weu"}),
        *extra,
    ]
    return Inventory(clusters, aliases={"prod-weu": ClusterAlias(id=WEU.arm_id)})


def expand(spec: FleetSpec, inv: Inventory | None = None) -> FleetSpec:
    """``expand_fleet`` over an inventory, matching as `/flux clusters --selector` does."""
    inv = inv or inventory()

    def select(selector: Sequence[tuple[str, str]]) -> list[tuple[Cluster, str | None]]:
        return [(r.cluster, r.alias) for r in inv.select(selector)]

    def arm_id_of(key: str) -> str | None:
        try:
            return inv.resolve(ClusterTarget(key)).ref.arm_id
        except FluxopsError:
            return None

    return expand_fleet(spec, select, arm_id_of)


def plan_of(
    desired: FleetSpec, inv: Inventory, *running_apps: ClusterRef, managed: Sequence[tuple[str, str]] = ()
) -> Plan:
    """The plan against clusters that run nothing, except ``running_apps`` that run what the selector gives them."""
    actual = {}
    for key in plan_keys(desired, managed):
        found = inv.resolve(ClusterTarget(key))
        cluster = desired.get(key)
        specs = cluster.configurations if cluster is not None and found.ref in running_apps else ()
        actual[key] = running(found.alias or found.ref.name, found.ref, *specs)
    return make_plan(desired, actual, managed=managed)


# ---------------------------------------------------------------------------------------------
# Loading
# ---------------------------------------------------------------------------------------------


def test_a_selector_document_loads_as_a_selection_not_as_clusters():
    spec = load_fleet({"fleet/prod.yaml": SELECTED})
    assert len(spec) == 0
    (selection,) = spec.selections
    assert (selection.origin, selection.selector) == ("fleet/prod.yaml:3", (("env", "prod"),))
    (config,) = selection.template.configurations
    assert config.kustomizations[0].path == "./clusters/${cluster.tags.region}/${cluster.name}"
    assert selection.line_of("configurations.apps.kustomizations.apps.path") == 13
    with pytest.raises(ValueError, match="expanded first"):
        make_plan(spec, {})


def test_selector_all_is_every_cluster_and_said_explicitly():
    spec = load_fleet({"all.yaml": SELECTED.replace("selector:\n  env: prod", "selector: all")})
    assert spec.selections[0].selector == ()
    expanded = expand(spec)
    assert [label for label, _ in expanded.matches[0].clusters] == ["aks-staging", "arc-prod-neu", "prod-weu"]


#: SELECTED without variables, to declare on a named cluster
_PLAIN = SELECTED.replace("${cluster.tags.region}/${cluster.name}", "weu").replace("${cluster.", "${x.")
_SOURCE = "    source: {url: 'https://github.com/org/apps', branch: main}\n"


@pytest.mark.parametrize(
    ("text", "says"),
    [
        (
            "selector: {}\nconfigurations:\n  apps:\n" + _SOURCE,
            "a.yaml:1: an empty selector would match every cluster of the inventory: write 'selector: all'",
        ),
        (
            "selector: everything\nconfigurations: {}\n",
            "a.yaml:3: selector: a selector is tags to match (env: prod, ...) or 'all', not 'everything'",
        ),
        (
            "selector: {env: prod}\nclusters: {}\n",
            "a.yaml:1: a document names clusters (clusters:) or selects them (selector:), not both",
        ),
        ("selector: {env: prod}\n", "a.yaml:1: a selector document declares configurations or an extension"),
        (
            "clusters: {}\nconfigurations: {}\n",
            "a.yaml:1: extension and configurations go under a cluster of clusters:, or beside a selector:",
        ),
        (
            "selector: {env: prod}\nconfigurations:\n  apps:\n" + _SOURCE + "    kustomizations:\n"
            "      k: {path: './${cluster.nmae}'}\n",
            "a.yaml:8: configurations.apps.kustomizations.k.path: unknown variable '${cluster.nmae}' — "
            "did you mean '${cluster.name}'?",
        ),
        (
            "selector: {env: prod}\nconfigurations:\n  apps:\n" + _SOURCE + "    kustomizations:\n"
            "      k: {substitute: {a: '${cluster.tags.region'}}\n",
            "a.yaml:8: configurations.apps.kustomizations.k.substitute.a: '${' is not closed",
        ),
        (
            "selector: {env: prod}\nconfigurations:\n  apps:\n"
            "    source: {url: 'https://github.com/org/apps', branch: 'r-${cluster.name}'}\n",
            "a.yaml:6: configurations.apps.source.branch: variables (${cluster.…}) are filled only in "
            "kustomization paths and substitute values",
        ),
        (
            "clusters:\n  prod-weu:\n    configurations:\n      apps:\n"
            "        source: {url: 'https://github.com/org/apps', branch: main}\n"
            "        kustomizations: {k: {path: './${cluster.name}'}}\n",
            "a.yaml:8: clusters.prod-weu.configurations.apps.kustomizations.k.path: variables (${cluster.…}) are "
            "filled only in documents with a selector",
        ),
    ],
)
def test_selector_documents_are_checked_at_load(text: str, says: str):
    with pytest.raises(FleetError) as caught:
        load_fleet({"a.yaml": HEAD.replace("clusters:\n", "") + text})
    assert any(str(p).startswith(says) for p in caught.value.problems), caught.value.message


# ---------------------------------------------------------------------------------------------
# Expanding
# ---------------------------------------------------------------------------------------------


def test_every_matching_cluster_gets_the_configurations_with_its_own_values():
    expanded = expand(load_fleet({"fleet/prod.yaml": SELECTED}))
    assert sorted(expanded) == sorted([NEU.arm_id, WEU.arm_id])  # staging is env=staging
    weu = expanded[WEU.arm_id].configurations[0].kustomizations[0]
    assert weu.path == "./clusters/weu/aks-prod-weu"
    assert dict(weu.substitute) == {"cluster_name": "aks-prod-weu", "group": "rg-prod", "literal": "${kept}"}
    neu = expanded[NEU.arm_id].configurations[0].kustomizations[0]
    assert neu.path == "./clusters/neu/arc-prod-neu"  # tag names match case-insensitively, as in Azure
    assert expanded[WEU.arm_id].selected_by == ("fleet/prod.yaml:3",)
    (match,) = expanded.matches
    assert match.clusters == (("arc-prod-neu", NEU.arm_id), ("prod-weu", WEU.arm_id))
    assert not expanded.selections


def test_a_named_cluster_also_selected_gets_both_under_the_name_it_is_declared_by():
    debug = named("prod-weu", _PLAIN.replace("apps", "debug"))
    expanded = expand(load_fleet({"fleet/prod.yaml": SELECTED, "fleet/weu.yaml": debug}))
    assert sorted(expanded) == sorted([NEU.arm_id, "prod-weu"])
    weu = expanded["prod-weu"]
    assert [c.name for c in weu.configurations] == ["apps", "debug"]
    assert weu.origin_of("apps") == "fleet/prod.yaml:3" and weu.origin_of("debug") == "fleet/weu.yaml:4"
    plan = plan_of(expanded, inventory())
    assert {(c.label, ch.name, ch.action) for c in plan.clusters for ch in c.configs} == {
        ("prod-weu", "apps", Action.CREATE),
        ("prod-weu", "debug", Action.CREATE),
        ("arc-prod-neu", "apps", Action.CREATE),
    }


def test_the_same_configuration_from_a_selector_and_a_named_cluster_is_an_error_naming_both_files():
    with pytest.raises(FleetError) as caught:
        expand(load_fleet({"fleet/prod.yaml": SELECTED, "fleet/weu.yaml": named("prod-weu", _PLAIN)}))
    (problem,) = caught.value.problems
    assert str(problem) == (
        "fleet/prod.yaml:6: configurations.apps: cluster 'prod-weu': configuration 'apps' is declared here and in "
        "fleet/weu.yaml:4: declare it once"
    )


def test_two_selectors_giving_one_cluster_the_extension_is_an_error_listing_the_clusters():
    ext = "extension:\n  releaseTrain: {}\n"
    first = HEAD.replace("clusters:\n", "selector: {env: prod}\n") + ext.format("stable")
    second = HEAD.replace("clusters:\n", "selector: {region: weu}\n") + ext.format("preview")
    with pytest.raises(FleetError) as caught:
        expand(load_fleet({"a.yaml": first, "b.yaml": second}))
    (problem,) = caught.value.problems
    assert (
        str(problem)
        == "b.yaml:4: extension: cluster 'prod-weu': the extension is declared here and in a.yaml:3: declare it once"
    )


def test_a_selected_cluster_without_a_tag_a_variable_names_is_an_error():
    bare = Cluster(NEW, "eastus", {"env": "prod"})
    with pytest.raises(FleetError) as caught:
        expand(load_fleet({"fleet/prod.yaml": SELECTED}), inventory(bare))
    (problem,) = caught.value.problems
    assert str(problem) == (
        "fleet/prod.yaml:13: configurations.apps.kustomizations.apps.path: cluster 'aks-prod-eus': "
        "no tag 'region', which ${cluster.tags.region} needs"
    )


def test_a_tag_that_makes_the_path_climb_out_is_an_error():
    sneaky = Cluster(NEW, "eastus", {"env": "prod", "region": ".."})
    with pytest.raises(FleetError) as caught:
        expand(load_fleet({"fleet/prod.yaml": SELECTED}), inventory(sneaky))
    assert "climbs out with '..'" in caught.value.message
    assert "cluster 'aks-prod-eus'" in caught.value.message


def test_a_selector_that_matches_nothing_is_in_the_plan_not_silently_empty():
    spec = load_fleet({"fleet/qa.yaml": SELECTED.replace("env: prod", "env: qa")})
    expanded = expand(spec)
    assert len(expanded) == 0
    plan = make_plan(expanded, {})
    (match,) = plan.selections
    assert (match.origin, match.text, match.clusters) == ("fleet/qa.yaml:3", "env=qa", ())
    body = render_plan(plan, repo="contoso/fleet", number=9, head_sha="0" * 40)
    assert "`fleet/qa.yaml:3` selects `env=qa`: ⚠️ **no cluster** of the inventory matches" in body


def test_a_new_matching_cluster_changes_the_digest_even_when_it_already_runs_the_configuration():
    spec = load_fleet({"fleet/prod.yaml": SELECTED})
    before_inv = inventory()
    before = plan_of(expand(spec, before_inv), before_inv, WEU, NEU)
    assert before.is_empty  # every prod cluster runs it
    newcomer = Cluster(NEW, "eastus", {"env": "prod", "region": "eus"})
    after_inv = inventory(newcomer)
    after = plan_of(expand(spec, after_inv), after_inv, WEU, NEU, NEW)
    assert after.is_empty and after.operations() == before.operations() == []
    assert after.digest != before.digest  # `/flux apply` of the plan shown before plans again
    assert [label for label, _ in after.selections[0].clusters] == ["aks-prod-eus", "arc-prod-neu", "prod-weu"]


def test_without_selectors_the_digest_is_what_it_was():
    desired = expand(load_fleet({"weu.yaml": named("prod-weu", _PLAIN)}))
    plan = plan_of(desired, inventory())
    assert plan.digest == digest(plan.operations())


def test_a_selector_document_removed_deletes_what_it_gave_the_clusters_it_matched():
    base = expand(load_fleet({"fleet/prod.yaml": SELECTED}))
    managed = [(c.key, spec.name) for c in base.values() for spec in c.configurations]
    inv = inventory()
    assert plan_of(FleetSpec(), inv, managed=managed).operations() == []  # nothing runs there yet
    actual = {key: running(label, ref, *base[key].configurations) for key, label, ref in _selected(base, inv)}
    plan = make_plan(FleetSpec(), actual, managed=managed)
    assert sorted((c.label, ch.action) for c in plan.clusters for ch in c.changes) == [
        ("arc-prod-neu", Action.DELETE),
        ("prod-weu", Action.DELETE),
    ]


def _selected(spec: FleetSpec, inv: Inventory) -> list[tuple[str, str, ClusterRef]]:
    found = [inv.resolve(ClusterTarget(key)) for key in spec]
    return [(key, r.alias or r.ref.name, r.ref) for key, r in zip(spec, found, strict=True)]


def test_golden_plan_of_a_selector_document():
    inv = inventory()
    debug = named("prod-weu", _PLAIN.replace("apps", "debug"))
    desired = expand(
        load_fleet(
            {
                "fleet/prod.yaml": SELECTED,
                "fleet/weu.yaml": debug,
                "fleet/qa.yaml": SELECTED.replace("env: prod", "env: qa").replace("apps", "qa"),
            }
        ),
        inv,
    )
    actual = {key: ActualCluster(label, ref) for key, label, ref in _selected(desired, inv)}
    plan = make_plan(desired, actual)
    body = render_plan(plan, repo="contoso/fleet", number=12, head_sha="1" * 40)
    assert "selected by `fleet/prod.yaml:3`" in body
    assert_golden("plan/selectors.md", body)


def test_the_readme_selector_example_loads_and_expands():
    readme = (Path(__file__).resolve().parents[3] / "README.md").read_text()
    section = readme.split("**Selecting clusters.**", 1)[1]
    block = re.search(r"```yaml\n(.*?)```", section, re.S)
    assert block is not None
    expanded = expand(load_fleet({"fleet/prod.yaml": block.group(1)}))
    assert [label for label, _ in expanded.matches[0].clusters] == ["prod-weu"]
    (config,) = expanded[WEU.arm_id].configurations
    assert config.kustomizations[0].path == "./clusters/weu/aks-prod-weu"
