"""The FLUXOPS_CONFIG file: schema, the example file, and error messages that say where and what."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.cluster_ids import parse_cluster_id, parse_cluster_type
from bot.commands import Role
from bot.config_access import ClusterSelector
from bot.config_file import FluxopsConfig, load_config
from bot.errors import ConfigurationError
from bot.models import Cluster, ClusterRef, ClusterType

EXAMPLE = Path(__file__).resolve().parents[2] / "deploy" / "fluxops.example.yaml"
ARC_ID = (
    "/subscriptions/sub-1/resourceGroups/flux-demo-rg/providers/Microsoft.Kubernetes/connectedClusters/flux-demo-arc"
)

BRIEF = f"""
clusters:
  demo-arc:
    id: {ARC_ID}
    tags: {{env: dev}}
  prod-weu:
    name: aks-prod-weu
    resource_group: rg-prod
    type: managedClusters
roles:
  - role: admin
    slack_users: [U0SANDBOX]
    slack_groups: [S0PLATFORM]
    github_users: []
    ado_users: []
    clusters:
      names: ["*"]
      resource_groups: []
      tags: {{env: prod}}
  - role: viewer
    slack_users: ["*"]
approvals:
  - clusters: {{tags: {{env: prod}}}}
    required: 2
    for: [delete]
credentials:
  gitlab-token:
    file: /run/secrets/gitlab-token
    repositories: [gitlab.example.com/platform/*]
    clusters: {{tags: {{env: dev}}}}
"""


def test_the_schema_of_the_brief_parses():
    config = load_config(BRIEF)
    assert config.clusters["demo-arc"].ref == ClusterRef(
        "sub-1", "flux-demo-rg", ClusterType.CONNECTED, "flux-demo-arc"
    )
    assert config.clusters["demo-arc"].tags == {"env": "dev"}
    prod = config.clusters["prod-weu"]
    assert (prod.name, prod.resource_group, prod.type) == ("aks-prod-weu", "rg-prod", ClusterType.MANAGED)
    assert prod.ref is None  # no subscription: bound to a discovered cluster by the inventory
    assert [r.role for r in config.roles] == [Role.ADMIN, Role.VIEWER]
    assert config.roles[0].clusters.tags == {"env": "prod"}
    assert config.roles[1].clusters == ClusterSelector()
    assert (config.approvals[0].required, config.approvals[0].for_) == (2, ["delete"])
    assert config.credential_files() == {"gitlab-token": Path("/run/secrets/gitlab-token")}


def test_the_example_file_parses():
    config = load_config(EXAMPLE.read_text(), source=str(EXAMPLE))
    assert {"demo-arc", "demo-aks", "prod-weu"} <= set(config.clusters)
    assert config.roles
    assert config.credentials


@pytest.mark.parametrize("text", ["", "   \n", "# only a comment\n", "---\n"])
def test_an_empty_file_is_an_empty_config(text):
    assert load_config(text) == FluxopsConfig()


@pytest.mark.parametrize("text", ["type: aks", "type: ARC", "type: ManagedClusters", "type: connectedClusters"])
def test_cluster_type_words(text):
    config = load_config(f"clusters:\n  a:\n    name: n\n    resource_group: g\n    {text}\n")
    assert config.clusters["a"].type in (ClusterType.MANAGED, ClusterType.CONNECTED)


# (yaml, phrases the message must contain)
BAD = [
    pytest.param("roles: [\n", ["not valid YAML", "line 2"], id="yaml-syntax"),
    pytest.param("- a\n- b\n", ["must be a mapping", "list"], id="top-level-list"),
    pytest.param("rolez: []\n", ["line 1", "unknown key 'rolez'", "did you mean 'roles'"], id="unknown-top-key"),
    pytest.param(
        "roles:\n  - role: admin\n    slack_users: [U1]\n    clusters:\n      resource_group: [rg]\n",
        ["line 5", "roles[0].clusters.resource_group", "did you mean 'resource_groups'", "allowed here: names"],
        id="unknown-selector-key",
    ),
    pytest.param(
        "roles:\n  - role: superuser\n    slack_users: [U1]\n",
        ["line 2", "roles[0].role", "'viewer', 'operator' or 'admin'", "'superuser'"],
        id="bad-role",
    ),
    pytest.param("roles:\n  - slack_users: [U1]\n", ["line 2", "roles[0].role", "is required"], id="missing-role"),
    pytest.param(
        "roles:\n  - role: admin\n    clusters: {names: ['*']}\n",
        ["line 2", "roles[0]", "gives admin to nobody"],
        id="rule-for-nobody",
    ),
    pytest.param(
        "roles:\n  - role: admin\n    slack_groups: ['*']\n",
        ['"*" is not a group', "slack_users"],
        id="star-group",
    ),
    pytest.param(
        "roles:\n  - role: admin\n    slack_users: U1\n", ["roles[0].slack_users", "valid list"], id="not-a-list"
    ),
    pytest.param(
        "clusters:\n  a:\n    name: n\n    resource_group: g\n    tags: {tier: 1}\n",
        ["line 5", "clusters.a.tags.tier", "valid string", "quote it"],
        id="unquoted-tag",
    ),
    pytest.param("clusters:\n  a:\n    name: n\n", ["clusters.a", "resource_group is required"], id="name-without-rg"),
    pytest.param("clusters:\n  a:\n    tags: {env: x}\n", ["clusters.a", "give id, or name"], id="neither-id-nor-name"),
    pytest.param(
        f"clusters:\n  a:\n    id: {ARC_ID}\n    name: flux-demo-arc\n",
        ["either id or name", "drop name"],
        id="id-and-name",
    ),
    pytest.param(
        "clusters:\n  a:\n    id: /subscriptions/s/resourceGroups/g\n",
        ["line 3", "clusters.a.id", "cluster id"],
        id="bad-id",
    ),
    pytest.param(
        "clusters:\n  a:\n    name: n\n    resource_group: g\n    type: vm\n",
        ["line 5", "clusters.a.type", "managedClusters or connectedClusters"],
        id="bad-type",
    ),
    pytest.param("clusters:\n  'has space': {name: n, resource_group: g}\n", ["not a usable name"], id="bad-alias"),
    pytest.param(
        "clusters:\n  Prod: {name: n, resource_group: g}\n  prod: {name: m, resource_group: g}\n",
        ["differ only in case"],
        id="alias-case-clash",
    ),
    pytest.param(
        "clusters:\n  a: {name: n, resource_group: g}\n  a: {name: m, resource_group: g}\n",
        ["line 3", "key 'a' appears twice (first on line 2)"],
        id="duplicate-key",
    ),
    pytest.param(
        "credentials:\n  tok: {file: secrets/tok, repositories: [github.com/a/*], clusters: {names: [x]}}\n",
        ["line 2", "credentials.tok.file", "relative"],
        id="relative-file",
    ),
    pytest.param(
        "credentials:\n  tok: {value: hunter2}\n", ["unknown key 'value'", "allowed here: file"], id="inline-secret"
    ),
    pytest.param(
        "credentials:\n  tok:\n    file: /run/tok\n",
        ["line 3", "credentials.tok", "has no repositories and no clusters", "it serves nothing else"],
        id="credential-without-scope",
    ),
    pytest.param(
        "credentials:\n  tok:\n    file: /run/tok\n    repositories: [github.com/a/*]\n",
        ["credentials.tok", "has no clusters", "clusters: {names"],
        id="credential-without-clusters",
    ),
    pytest.param(
        "credentials:\n  tok:\n    file: /run/tok\n    repositories: []\n    clusters: {names: [a]}\n",
        ["line 4", "credentials.tok.repositories", "lists no repository"],
        id="credential-no-repositories",
    ),
    pytest.param(
        "credentials:\n  tok:\n    file: /run/tok\n    repositories: [github.com/a/*]\n    clusters: {}\n",
        ["line 5", "credentials.tok.clusters", "names: ['*']"],
        id="credential-every-cluster-implicitly",
    ),
    pytest.param(
        "credentials:\n  tok:\n    file: /run/tok\n    repositories: [https://github.com/a/*]\n"
        "    clusters: {names: ['*']}\n",
        ["line 4", "credentials.tok.repositories", "without the scheme"],
        id="credential-url-not-glob",
    ),
    pytest.param(
        "deploy_keys:\n  repositories: ['*/acme/*']\n",
        ["line 2", "deploy_keys.repositories", "pattern in its host"],
        id="deploy-key-host-glob",
    ),
    pytest.param(
        "deploy_keys:\n  shared: [github]\n",
        ["line 2", "deploy_keys.shared", "names no repository"],
        id="deploy-key-shared-not-a-glob",
    ),
    pytest.param(
        "approvals:\n  - clusters: {tags: {env: prod}}\n    required: 0\n",
        ["line 3", "approvals[0].required", "greater than or equal to 1"],
        id="zero-approvers",
    ),
    pytest.param(
        "approvals:\n  - clusters: {tags: {env: prod}}\n    approvers: 2\n",
        ["`approvers` is now `required`", "required: 1"],
        id="the-old-approvers-key",
    ),
    pytest.param(
        "approvals:\n  - for: [config create]\n",
        ["does not wait for approvals"],
        id="approvals-for-a-command-that-does-not-wait",
    ),
    pytest.param(
        "roles:\n  - role: admin\n    github_teams: [acme/platform]\n",
        ["`github_teams` is not enforced", "github_users"],
        id="github-teams-refused-not-ignored",
    ),
]


@pytest.mark.parametrize(("text", "phrases"), BAD)
def test_bad_config_says_where_and_what(text, phrases):
    with pytest.raises(ConfigurationError) as caught:
        load_config(text, source="/etc/fluxops.yaml")
    message = caught.value.message
    assert message.startswith("/etc/fluxops.yaml")
    for phrase in phrases:
        assert phrase in message
    assert "fluxops.example.yaml" in caught.value.recommendation


def test_every_problem_is_reported_in_line_order():
    text = "roles:\n  - role: boss\n    slack_users: [U1]\n  - role: admin\n    slak_users: [U1]\n"
    message = _message(text)
    assert message.index("line 2") < message.index("line 5")


def _message(text: str) -> str:
    with pytest.raises(ConfigurationError) as caught:
        load_config(text)
    return caught.value.message


def test_a_credential_value_in_the_yaml_is_never_echoed():
    message = _message("credentials:\n  tok: {file: /run/x, value: hunter2}\n")
    assert "hunter2" not in message


@pytest.mark.parametrize(
    ("arm_id", "ref"),
    [
        (ARC_ID, ClusterRef("sub-1", "flux-demo-rg", ClusterType.CONNECTED, "flux-demo-arc")),
        (
            "/subscriptions/s/resourcegroups/g/providers/microsoft.containerservice/managedclusters/aks1",
            ClusterRef("s", "g", ClusterType.MANAGED, "aks1"),
        ),
    ],
)
def test_parse_cluster_id(arm_id, ref):
    assert parse_cluster_id(arm_id) == ref


@pytest.mark.parametrize(
    "arm_id",
    [
        "/subscriptions/s/resourceGroups/g",
        "/subscriptions/s/resourceGroups/g/providers/Microsoft.Compute/virtualMachines/vm",
        "/subscriptions/s/resourceGroups/g/providers/Microsoft.ContainerService/connectedClusters/x",
        "/subscriptions/s/resourceGroups/g/nope/Microsoft.Kubernetes/connectedClusters/x",
    ],
)
def test_parse_cluster_id_refuses_other_ids(arm_id):
    with pytest.raises(ValueError, match=r"."):
        parse_cluster_id(arm_id)


def test_parse_cluster_type_refuses_other_words():
    with pytest.raises(ValueError, match="managedClusters or connectedClusters"):
        parse_cluster_type("vm")


CLUSTER = Cluster(ClusterRef("s", "rg-prod", ClusterType.MANAGED, "aks-prod-weu"), "westeurope", {"Env": "prod"})


@pytest.mark.parametrize(
    ("selector", "alias", "matches"),
    [
        (ClusterSelector(), None, True),
        (ClusterSelector(names=["aks-prod-*"]), None, True),
        (ClusterSelector(names=["AKS-PROD-WEU"]), None, True),
        (ClusterSelector(names=["prod-weu"]), "prod-weu", True),
        (ClusterSelector(names=["prod-*"]), None, False),
        (ClusterSelector(resource_groups=["rg-*"]), None, True),
        (ClusterSelector(resource_groups=["rg-dev"]), None, False),
        (ClusterSelector(tags={"env": "prod"}), None, True),  # tag names are case-insensitive
        (ClusterSelector(tags={"env": "Prod"}), None, False),  # values are not
        (ClusterSelector(tags={"env": "p*"}), None, True),
        (ClusterSelector(tags={"region": "*"}), None, False),  # a missing tag never matches
        (ClusterSelector(names=["*"], resource_groups=["rg-prod"], tags={"env": "dev"}), None, False),
    ],
)
def test_selector(selector, alias, matches):
    assert selector.matches(CLUSTER, alias) is matches


SCOPED = f"""
clusters:
  demo-arc: {{id: {ARC_ID}, tags: {{env: dev}}}}
credentials:
  ado-pat:
    file: /run/secrets/ado-pat
    repositories: [dev.azure.com/org/project/_git/*]
    clusters: {{tags: {{env: dev}}}}
deploy_keys:
  repositories: [github.com/acme/*]
  shared: [github.com/acme/monorepo]
"""

DEV = Cluster(ClusterRef("sub-1", "flux-demo-rg", ClusterType.CONNECTED, "flux-demo-arc"), "weu", {"env": "dev"})
PROD = Cluster(ClusterRef("sub-1", "rg-prod", ClusterType.MANAGED, "aks-prod"), "weu", {"env": "prod"})


@pytest.mark.parametrize(
    ("url", "served"),
    [
        ("https://dev.azure.com/org/project/_git/apps", True),
        ("https://org@dev.azure.com/org/project/_git/apps", True),
        ("https://org.visualstudio.com/project/_git/apps", True),
        ("git@ssh.dev.azure.com:v3/org/project/apps", True),
        ("https://dev.azure.com/org/other/_git/apps", False),
        ("https://dev.azure.com.evil.example/org/project/_git/apps", False),
        ("https://github.com/org/project", False),
        ("not a url", False),
    ],
)
def test_a_credential_serves_the_repositories_its_globs_name_in_any_spelling(url, served):
    entry = load_config(SCOPED).credentials["ado-pat"]
    assert entry.serves_repository(url) is served


def test_a_credential_serves_the_clusters_its_selector_names():
    entry = load_config(SCOPED).credentials["ado-pat"]
    assert entry.serves_cluster(DEV) and not entry.serves_cluster(PROD)


def test_deploy_keys_name_the_repositories_they_may_key_and_which_may_share_a_key():
    policy = load_config(SCOPED).deploy_keys
    assert policy.may_key("git@github.com:acme/apps.git") and policy.may_key("ssh://git@github.com/ACME/Apps")
    assert not policy.may_key("ssh://git@github.com/evil/apps")
    assert policy.may_share("ssh://git@github.com/acme/monorepo") and not policy.may_share("git@github.com:acme/apps")
    assert not load_config("{}").deploy_keys.may_key("git@github.com:acme/apps")
    assert load_config("deploy_keys: {shared: true}").deploy_keys.may_share("git@github.com:acme/apps")
