"""Cluster resolution: aliases, names, ids, -g/-t, errors that say what to type instead, selectors, snapshots."""

from __future__ import annotations

import pytest

from bot.commands import ClusterTarget
from bot.config_access import ClusterAlias
from bot.config_file import load_config
from bot.errors import ConfigurationError, InvalidRequest, NotFound
from bot.inventory import UNKNOWN_LOCATION, Inventory
from bot.models import Cluster, ClusterRef, ClusterType

SUB = "sub-1"
AKS, ARC = ClusterType.MANAGED, ClusterType.CONNECTED


def cluster(name: str, rg: str, ctype: ClusterType = AKS, sub: str = SUB, **tags: str) -> Cluster:
    return Cluster(ClusterRef(sub, rg, ctype, name), "westeurope", dict(tags))


DEMO_ARC = cluster("flux-demo-arc", "flux-demo-rg", ARC, env="demo", region="weu")
DEMO_AKS = cluster("flux-demo-aks", "flux-demo-rg", AKS, env="demo", region="weu")
WEB_A = cluster("web", "rg-a", AKS)
WEB_B = cluster("web", "rg-b", ARC)
PROD = cluster("aks-prod-weu", "rg-prod", AKS, env="prod", region="weu")
DISCOVERED = [DEMO_ARC, DEMO_AKS, WEB_A, WEB_B, PROD]
LEGACY_ID = f"/subscriptions/{SUB}/resourceGroups/rg-old/providers/Microsoft.Kubernetes/connectedClusters/legacy-arc"

CONFIG = load_config(
    f"""
clusters:
  demo-arc:
    id: {DEMO_ARC.ref.arm_id.upper()}
    tags: {{env: dev}}
  prod-weu: {{name: AKS-PROD-WEU, resource_group: rg-prod}}
  weu-prod: {{name: aks-prod-weu, resource_group: rg-prod, type: aks}}
  legacy: {{id: {LEGACY_ID}, tags: {{env: legacy}}}}
  fresh: {{name: new-arc, resource_group: rg-new, type: arc}}
  ghost: {{name: ghost, resource_group: rg-x}}
"""
)


def make(clusters=DISCOVERED, aliases=CONFIG.clusters) -> Inventory:
    return Inventory(clusters, aliases=aliases)


@pytest.mark.parametrize(
    ("target", "name", "alias"),
    [
        (ClusterTarget("demo-arc"), "flux-demo-arc", "demo-arc"),
        (ClusterTarget("DEMO-ARC"), "flux-demo-arc", "demo-arc"),
        (ClusterTarget("flux-demo-arc"), "flux-demo-arc", "demo-arc"),
        (ClusterTarget("Flux-Demo-Arc"), "flux-demo-arc", "demo-arc"),
        (ClusterTarget(DEMO_ARC.ref.arm_id), "flux-demo-arc", "demo-arc"),
        (ClusterTarget(DEMO_ARC.ref.arm_id.lower()), "flux-demo-arc", "demo-arc"),
        (ClusterTarget("flux-demo-aks"), "flux-demo-aks", None),
        (ClusterTarget("flux-demo-aks", resource_group="FLUX-DEMO-RG", cluster_type=AKS), "flux-demo-aks", None),
        (ClusterTarget("prod-weu"), "aks-prod-weu", "prod-weu"),
        (ClusterTarget("aks-prod-weu"), "aks-prod-weu", "prod-weu"),
        (ClusterTarget("web", resource_group="rg-a"), "web", None),
        (ClusterTarget("web", cluster_type=ARC), "web", None),
        (ClusterTarget("legacy"), "legacy-arc", "legacy"),
        (ClusterTarget("legacy-arc"), "legacy-arc", "legacy"),
        (ClusterTarget("fresh"), "new-arc", "fresh"),
    ],
)
def test_resolve(target, name, alias):
    resolved = make().resolve(target)
    assert (resolved.cluster.ref.name, resolved.alias) == (name, alias)


def test_narrowing_picks_the_one_it_names():
    inv = make()
    assert inv.resolve(ClusterTarget("web", resource_group="rg-a")).cluster == WEB_A
    assert inv.resolve(ClusterTarget("web", cluster_type=ARC)).cluster == WEB_B


def test_config_tags_are_merged_over_discovered_tags():
    arc = make().resolve(ClusterTarget("demo-arc")).cluster
    assert arc.tags == {"env": "dev", "region": "weu"}
    assert arc.location == "westeurope"
    assert DEMO_ARC.tags["env"] == "demo"  # the discovered cluster is not changed


def test_clusters_declared_only_in_config_resolve_with_their_alias_tags():
    inv = make()
    legacy = inv.resolve(ClusterTarget("legacy")).cluster
    assert legacy.ref.arm_id == LEGACY_ID
    assert legacy.location == UNKNOWN_LOCATION
    assert legacy.tags == {"env": "legacy"}
    fresh = inv.resolve(ClusterTarget("fresh")).cluster
    # no subscription in the alias: the one subscription fluxops discovered clusters in
    assert fresh.ref == ClusterRef(SUB, "rg-new", ARC, "new-arc")
    assert fresh.tags == {}
    assert {r.cluster.ref.name for r in inv.all()} >= {"legacy-arc", "new-arc"}


def test_ambiguous_name_lists_the_candidates_and_says_to_add_g_or_t():
    with pytest.raises(InvalidRequest) as caught:
        make().resolve(ClusterTarget("web"))
    assert caught.value.message == "'web' names 2 clusters: rg-a/web (AKS), rg-b/web (Arc)"
    assert "-g RESOURCE_GROUP" in caught.value.recommendation
    assert "-t managedClusters|connectedClusters" in caught.value.recommendation


def test_same_name_rg_and_type_in_two_subscriptions_needs_the_full_id():
    twins = [cluster("twin", "rg", AKS, sub="sub-1"), cluster("twin", "rg", AKS, sub="sub-2")]
    inv = Inventory(twins)
    with pytest.raises(InvalidRequest) as caught:
        inv.resolve(ClusterTarget("twin", resource_group="rg"))
    assert "give the full id" in caught.value.recommendation
    assert twins[1].ref.arm_id in caught.value.recommendation
    assert inv.resolve(ClusterTarget(twins[1].ref.arm_id)).cluster == twins[1]


@pytest.mark.parametrize(
    ("typed", "suggested"),
    [
        ("flux-demo-arcc", "'flux-demo-arc'"),
        ("prod-wue", "'prod-weu'"),
        ("flux-dmeo-aks", "'flux-demo-aks'"),
    ],
)
def test_not_found_suggests_close_names_and_aliases(typed, suggested):
    with pytest.raises(NotFound) as caught:
        make().resolve(ClusterTarget(typed))
    assert caught.value.message.startswith(f"no cluster '{typed}' in the inventory; did you mean ")
    assert suggested in caught.value.message
    assert caught.value.recommendation == "`/flux clusters` lists them"


def test_not_found_without_anything_close():
    with pytest.raises(NotFound) as caught:
        make().resolve(ClusterTarget("zzzzzz"))
    assert caught.value.message == "no cluster 'zzzzzz' in the inventory"


@pytest.mark.parametrize(
    ("target", "phrase"),
    [
        (ClusterTarget("flux-demo-arc", resource_group="rg-a"), "in resource group 'rg-a'"),
        (ClusterTarget("demo-arc", cluster_type=AKS), "of type managedClusters"),
        (ClusterTarget("web", resource_group="rg-c"), "rg-a/web (AKS), rg-b/web (Arc)"),
    ],
)
def test_narrowing_that_excludes_the_cluster_says_where_it_is(target, phrase):
    with pytest.raises(NotFound) as caught:
        make().resolve(target)
    assert phrase in caught.value.message
    assert "-g/-t" in caught.value.recommendation


def test_full_id_contradicted_by_g():
    with pytest.raises(InvalidRequest, match="flux-demo-rg/flux-demo-arc"):
        make().resolve(ClusterTarget(DEMO_ARC.ref.arm_id, resource_group="rg-a"))


def test_malformed_and_unknown_ids():
    with pytest.raises(InvalidRequest, match="not a cluster resource id"):
        make().resolve(ClusterTarget("/subscriptions/sub-1/resourceGroups/rg"))
    unknown = cluster("nope", "rg", AKS).ref.arm_id
    with pytest.raises(NotFound) as caught:
        make().resolve(ClusterTarget(unknown))
    assert "`/flux clusters` lists them" in caught.value.recommendation


def test_an_alias_that_cannot_be_bound_is_a_config_problem_raised_when_used():
    inv = make()
    assert sorted(p.message for p in inv.problems()) == [
        "alias 'ghost' in FLUXOPS_CONFIG names cluster 'ghost' in resource group 'rg-x', which fluxops has not "
        "discovered, and gives no type to address it",
        f"aliases 'prod-weu' and 'weu-prod' in FLUXOPS_CONFIG name the same cluster {PROD.ref.arm_id}",
    ]
    with pytest.raises(ConfigurationError, match="alias 'ghost'"):
        inv.resolve(ClusterTarget("ghost"))
    with pytest.raises(ConfigurationError, match="name the same cluster"):
        inv.resolve(ClusterTarget("weu-prod"))
    assert len(inv.all()) == len(DISCOVERED) + 2  # legacy and fresh, not ghost


def test_an_alias_fitting_several_clusters_is_a_config_problem():
    aliases = {"w": ClusterAlias(name="web", resource_group="rg-a")}
    twins = [cluster("web", "rg-a", AKS, sub="sub-1"), cluster("web", "rg-a", AKS, sub="sub-2")]
    with pytest.raises(ConfigurationError, match="fits 2 clusters"):
        Inventory(twins, aliases=aliases).resolve(ClusterTarget("w"))


def test_without_a_single_subscription_a_config_only_alias_needs_one():
    aliases = {"n": ClusterAlias(name="new", resource_group="rg", type=AKS)}
    two_subs = [cluster("a", "rg", sub="sub-1"), cluster("b", "rg", sub="sub-2")]
    with pytest.raises(ConfigurationError, match="no subscription"):
        Inventory(two_subs, aliases=aliases).resolve(ClusterTarget("n"))
    aliases = {"n": ClusterAlias(name="new", resource_group="rg", type=AKS, subscription="sub-2")}
    assert Inventory(two_subs, aliases=aliases).resolve(ClusterTarget("n")).cluster.ref.subscription_id == "sub-2"


def test_alias_of():
    inv = make()
    assert inv.alias_of(DEMO_ARC) == "demo-arc"
    assert inv.alias_of(PROD) == "prod-weu"  # the first of its two aliases; the second is a problem
    assert inv.alias_of(DEMO_AKS) is None
    assert inv.alias_of(cluster("elsewhere", "rg")) is None


def names(resolved) -> list[str]:
    return [f"{r.cluster.ref.resource_group}/{r.cluster.ref.name}" for r in resolved]


@pytest.mark.parametrize(
    ("selector", "expected"),
    [
        (
            (),
            [
                "rg-prod/aks-prod-weu",
                "flux-demo-rg/flux-demo-aks",
                "flux-demo-rg/flux-demo-arc",
                "rg-old/legacy-arc",
                "rg-new/new-arc",
                "rg-a/web",
                "rg-b/web",
            ],
        ),
        ((("env", "dev"),), ["flux-demo-rg/flux-demo-arc"]),  # the config tag, not the discovered one
        ((("env", "demo"),), ["flux-demo-rg/flux-demo-aks"]),
        ((("ENV", "prod"),), ["rg-prod/aks-prod-weu"]),
        ((("env", "Prod"),), []),
        ((("region", "w*"), ("type", "aks")), ["rg-prod/aks-prod-weu", "flux-demo-rg/flux-demo-aks"]),
        ((("type", "connectedClusters"), ("rg", "rg-*")), ["rg-old/legacy-arc", "rg-new/new-arc", "rg-b/web"]),
        ((("resource_group", "FLUX-DEMO-RG"),), ["flux-demo-rg/flux-demo-aks", "flux-demo-rg/flux-demo-arc"]),
        ((("name", "prod-*"),), ["rg-prod/aks-prod-weu"]),  # aliases count as names
        ((("name", "web"), ("rg", "rg-b")), ["rg-b/web"]),
        ((("subscription", "sub-*"), ("name", "legacy")), ["rg-old/legacy-arc"]),
        ((("owner", "*"),), []),
    ],
)
def test_select(selector, expected):
    assert names(make().select(selector)) == expected


def test_json_round_trip():
    inv = make()
    again = Inventory.from_json(inv.to_json())
    assert again.all() == inv.all()
    assert [p.message for p in again.problems()] == [p.message for p in inv.problems()]
    for typed in ("demo-arc", "prod-weu", "legacy", "fresh", "flux-demo-aks", DEMO_ARC.ref.arm_id):
        assert again.resolve(ClusterTarget(typed)) == inv.resolve(ClusterTarget(typed))
    assert again.to_json() == inv.to_json()


@pytest.mark.parametrize(
    "text",
    ["", "[]", '{"clusters": [{"id": "/nope", "location": "x"}]}', '{"cluster": []}', '{"version": 2, "clusters": []}'],
)
def test_a_bad_snapshot_is_a_value_error(text):
    with pytest.raises(ValueError, match=r"."):
        Inventory.from_json(text)


def test_an_empty_inventory():
    inv = Inventory([])
    assert inv.all() == []
    assert len(inv) == 0
    with pytest.raises(NotFound, match="no cluster 'x' in the inventory"):
        inv.resolve(ClusterTarget("x"))


def test_an_alias_wins_over_a_cluster_of_the_same_name_unless_g_or_t_says_otherwise():
    inv = Inventory(DISCOVERED, aliases={"web": ClusterAlias(name="web", resource_group="rg-b")})
    assert inv.resolve(ClusterTarget("web")).cluster == WEB_B
    assert inv.resolve(ClusterTarget("web", resource_group="rg-a")).cluster == WEB_A
