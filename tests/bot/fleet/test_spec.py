"""The fleet format: the example loads, every mistake is named by file:line and key, the schema is committed."""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from bot.commands import CredentialRefs
from bot.errors import ConfigurationError
from bot.fleet import DesiredExtension, FleetError, fleet_files, load_fleet
from bot.fleet.schema_json import REGENERATE, SCHEMA_FILE, json_schema, schema_text
from bot.models import FluxConfigSpec, GitSource, Kustomization, RepositoryRef

ROOT = Path(__file__).resolve().parents[3]
EXAMPLE = ROOT / "deploy" / "fleet.example.yaml"
TUTORIAL_URL = "https://github.com/Azure/gitops-flux2-kustomize-helm-mt"

TUTORIAL_SPEC = FluxConfigSpec(
    name="cluster-config",
    source=GitSource(url=TUTORIAL_URL, ref=RepositoryRef(branch="main")),
    namespace="cluster-config",
    scope="cluster",
    kustomizations=(
        Kustomization(name="infra", path="./infrastructure", prune=True),
        Kustomization(name="apps", path="./apps/staging", prune=True, depends_on=("infra",)),
    ),
)

HEAD = """\
apiVersion: fluxops.io/v1
kind: Fleet
clusters:
"""


def test_the_example_file_is_the_tutorial():
    fleet = load_fleet({"deploy/fleet.example.yaml": EXAMPLE.read_text()})
    assert list(fleet) == ["demo-arc"]
    cluster = fleet["demo-arc"]
    assert cluster.configurations == (TUTORIAL_SPEC,)
    assert cluster.extension == DesiredExtension(
        auto_upgrade_minor_version=True, release_train="Stable", settings=(("helm-controller.detectDrift", "true"),)
    )
    assert cluster.origin == "deploy/fleet.example.yaml:12"


def test_the_readme_example_loads():
    readme = (ROOT / "README.md").read_text()
    section = readme.split("## Config-as-code (fleet repositories)", 1)[1]
    block = re.search(r"```yaml\n(.*?)```", section, re.S)
    assert block is not None
    fleet = load_fleet({"clusters/demo.yaml": block.group(1)})
    assert fleet["demo-arc"].configurations[0].kustomizations == TUTORIAL_SPEC.kustomizations


def test_several_documents_and_files_with_credentials_and_options():
    first = (
        HEAD
        + """\
  demo-arc:
    configurations:
      apps:
        source:
          url: https://dev.azure.com/org/project/_git/fleet
          tag: v1.2.0
          interval: 1h30m
          timeout: 2m
          httpsUser: git
          httpsKeyRef: ado-token
        kustomizations:
          web:
            path: ./web
            force: true
            wait: false
            interval: 5m
            retryInterval: 1m
            timeout: 3m
            substitute: {cluster_env: prod, replicas: 3}
---
"""
        + HEAD
        + """\
  /subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/rg/providers/Microsoft.ContainerService/managedClusters/aks1:
    extension:
      version: 1.13.1
      releaseTrain: preview
      settings:
        source-controller.concurrent: 6
        image-automation-controller.enabled: null
---
"""
    )
    second = HEAD + "  prod-weu: {}\n"
    fleet = load_fleet({"a.yaml": first, "b/c.yml": second})
    assert [key[:14] for key in fleet] == ["/subscriptions", "demo-arc", "prod-weu"]
    apps = fleet["demo-arc"].configurations[0]
    assert isinstance(apps.source, GitSource)
    assert apps.source.ref == RepositoryRef(tag="v1.2.0")
    assert (apps.source.sync_interval_seconds, apps.source.timeout_seconds, apps.source.https_user) == (
        5400,
        120,
        "git",
    )
    assert apps.kustomizations == (
        Kustomization(
            name="web",
            path="./web",
            force=True,
            wait=False,
            sync_interval_seconds=300,
            retry_interval_seconds=60,
            timeout_seconds=180,
            substitute=(("cluster_env", "prod"), ("replicas", "3")),
        ),
    )
    assert fleet["demo-arc"].credentials_for("apps") == CredentialRefs(https_key="ado-token")
    aks = next(iter(fleet.values()))
    assert aks.extension == DesiredExtension(
        auto_upgrade_minor_version=False,  # a pinned version turns auto-upgrade off, as az does
        release_train="Preview",
        version="1.13.1",
        settings=(("image-automation-controller.enabled", None), ("source-controller.concurrent", "6")),
    )
    assert aks.extension.install_spec().settings == (("source-controller.concurrent", "6"),)
    assert fleet["prod-weu"].configurations == ()


def test_no_files_and_empty_documents_declare_nothing():
    assert len(load_fleet({})) == 0
    assert len(load_fleet({"a.yaml": "", "b.yaml": "---\n---\n"})) == 0


GOOD_CONFIG = """\
  demo-arc:
    configurations:
      cluster-config:
        source:
          url: https://github.com/Azure/gitops-flux2-kustomize-helm-mt
          branch: main
"""

# (case id, file text with the offending line marked "# <-", the key path the message names, words it says)
ERRORS = [
    (
        "unknown-key",
        GOOD_CONFIG + "        scopee: cluster  # <-\n",
        "clusters.demo-arc.configurations.cluster-config.scopee",
        "unknown key 'scopee' — did you mean 'scope'?",
    ),
    (
        "snake-case-key",
        GOOD_CONFIG + "        kustomizations:\n          apps:\n            depends_on: [infra]  # <-\n",
        "kustomizations.apps.depends_on",
        "did you mean 'dependsOn'? (fleet files spell keys in camelCase)",
    ),
    (
        "duration-without-unit",
        GOOD_CONFIG.replace("branch: main", "branch: main\n          interval: 600  # <-"),
        "cluster-config.source.interval",
        "'interval' takes a duration, not '600' — add a unit: '600s' or '10m'",
    ),
    (
        "config-name-not-dns",
        GOOD_CONFIG.replace("      cluster-config:", "      Cluster_Config:  # <-"),
        "configurations.Cluster_Config (a key)",
        "must be a lowercase DNS name",
    ),
    (
        "source-missing",
        "  demo-arc:\n    configurations:\n      apps:  # <-\n        namespace: apps\n",
        "configurations.apps.source",
        "is required",
    ),
    (
        "two-refs",
        GOOD_CONFIG.replace("        source:", "        source:  # <-").replace(
            "branch: main", "branch: main\n          tag: v1"
        ),
        "cluster-config.source",
        "give one of branch, tag, semver or commit, not branch and tag",
    ),
    (
        "no-ref",
        GOOD_CONFIG.replace("        source:", "        source:  # <-").replace("          branch: main\n", ""),
        "cluster-config.source",
        "which version of the repository?",
    ),
    (
        "https-user-on-ssh-url",
        GOOD_CONFIG.replace("        source:", "        source:  # <-")
        .replace("https://github.com/Azure/gitops-flux2-kustomize-helm-mt", "git@github.com:org/fleet.git")
        .replace("branch: main", "branch: main\n          httpsUser: git\n          httpsKeyRef: token"),
        "cluster-config.source",
        "'httpsUser' only works with 'https://' or 'http://' URLs",
    ),
    (
        "https-user-without-key",
        GOOD_CONFIG.replace("        source:", "        source:  # <-").replace(
            "branch: main", "branch: main\n          httpsUser: git"
        ),
        "cluster-config.source",
        "go together",
    ),
    (
        "password-in-url",
        GOOD_CONFIG.replace(
            "url: https://github.com/Azure/gitops-flux2-kustomize-helm-mt",
            "url: https://me:hunter2@github.com/org/fleet  # <-",
        ),
        "cluster-config.source.url",
        "'url' carries a password",
    ),
    (
        "secret-instead-of-ref",
        GOOD_CONFIG.replace(
            "branch: main",
            "branch: main\n          httpsUser: git\n"
            "          httpsKeyRef: 3f9a8b7c6d5e4f3a2b1c0d9e8f7a6b5c4d3e2f1a  # <-",
        ),
        "cluster-config.source.httpsKeyRef",
        "looks like a secret, not the name of one",
    ),
    (
        "short-commit",
        GOOD_CONFIG.replace("branch: main", "commit: 4f1bdad  # <-"),
        "cluster-config.source.commit",
        "'commit' takes a full commit SHA",
    ),
    (
        "unknown-setting",
        "  demo-arc:\n    extension:\n      settings:\n        helm-controler.detectDrift: true  # <-\n",
        "extension.settings.helm-controler.detectDrift (a key)",
        "is not a microsoft.flux setting fluxops knows — did you mean 'helm-controller.detectDrift'?",
    ),
    (
        "setting-spelled-differently",
        "  demo-arc:\n    extension:\n      settings:\n        multitenancy.enforce: false  # <-\n",
        "extension.settings.multitenancy.enforce (a key)",
        "write 'multiTenancy.enforce'",
    ),
    (
        "setting-out-of-range",
        "  demo-arc:\n    extension:\n      settings:\n        kustomize-controller.concurrent: 600  # <-\n",
        "extension.settings.kustomize-controller.concurrent",
        "must be from 1 to 100, not 600",
    ),
    (
        "setting-not-a-value",
        "  demo-arc:\n    extension:\n      settings:\n        source-controller.enabled: [true]  # <-\n",
        "extension.settings.source-controller.enabled",
        "a setting takes one value",
    ),
    (
        "pinned-version-with-auto-upgrade",
        "  demo-arc:\n    extension:  # <-\n      version: 1.13.1\n      autoUpgradeMinorVersion: true\n",
        "clusters.demo-arc.extension",
        "version 1.13.1 can only be pinned with autoUpgradeMinorVersion: false",
    ),
    (
        "bad-release-train",
        "  demo-arc:\n    extension:\n      releaseTrain: nightly  # <-\n",
        "clusters.demo-arc.extension.releaseTrain",
        "got 'nightly'",
    ),
    (
        "duplicate-configuration",
        GOOD_CONFIG + "      cluster-config:  # <-\n        source: {url: https://github.com/org/x, branch: main}\n",
        "",
        "key 'cluster-config' appears twice (first on line 6)",
    ),
    (
        "depends-on-unknown",
        GOOD_CONFIG
        + "        kustomizations:\n          infra: {path: ./infra}\n          apps:\n"
        + "            dependsOn: [infrra]  # <-\n",
        "cluster-config.kustomizations.apps.dependsOn",
        "'infrra' is not a kustomization of configuration 'cluster-config' — did you mean 'infra'?",
    ),
    (
        "depends-on-itself",
        GOOD_CONFIG + "        kustomizations:\n          apps:\n            dependsOn: [apps]  # <-\n",
        "cluster-config.kustomizations.apps.dependsOn",
        "kustomization 'apps' cannot depend on itself",
    ),
    (
        "dependency-cycle",
        GOOD_CONFIG
        + "        kustomizations:  # <-\n          a: {dependsOn: [b]}\n          b: {dependsOn: [c]}\n"
        + "          c: {dependsOn: [a]}\n",
        "cluster-config.kustomizations",
        "depend on each other in a circle: 'a' → 'b' → 'c' → 'a'",
    ),
    (
        "prune-as-text",
        GOOD_CONFIG + "        kustomizations:\n          apps:\n            prune: 'yes'  # <-\n",
        "kustomizations.apps.prune",
        "Input should be a valid boolean, got 'yes'",
    ),
    (
        "path-climbs-out",
        GOOD_CONFIG + "        kustomizations:\n          apps:\n            path: ../other  # <-\n",
        "kustomizations.apps.path",
        "must stay inside the repository",
    ),
    (
        "substitute-boolean",
        GOOD_CONFIG + "        kustomizations:\n          apps:\n            substitute: {debug: true}  # <-\n",
        "kustomizations.apps.substitute.debug",
        "(quote it in YAML)",
    ),
    (
        "bad-cluster-key",
        "  demo arc:  # <-\n    configurations: {}\n",
        "clusters.demo arc (a key)",
        "takes a cluster name, alias or ARM id",
    ),
    (
        "namespace-scope-word",
        GOOD_CONFIG.replace("        source:", "        scope: tenant  # <-\n        source:"),
        "cluster-config.scope",
        "got 'tenant'",
    ),
]


@pytest.mark.parametrize(("text", "key", "says"), [case[1:] for case in ERRORS], ids=[case[0] for case in ERRORS])
def test_each_mistake_is_named_by_file_line_and_key(text, key, says):
    source = HEAD + text
    line = next(i for i, row in enumerate(source.splitlines(), 1) if "# <-" in row)
    with pytest.raises(FleetError) as caught:
        load_fleet({"clusters/demo.yaml": source})
    message = caught.value.message
    assert f"clusters/demo.yaml:{line}: " in message, message
    assert key in message, message
    assert says in message, message
    assert isinstance(caught.value, ConfigurationError)
    assert "fleet.example.yaml" in caught.value.recommendation


def test_a_cluster_declared_twice_names_both_places():
    one = HEAD + "  demo-arc: {}\n"
    two = HEAD + "  prod: {}\n  Demo-Arc: {}\n"
    with pytest.raises(FleetError) as caught:
        load_fleet({"a.yaml": one, "b.yaml": two})
    assert "b.yaml:5: clusters.Demo-Arc: cluster 'Demo-Arc' is declared twice (first in a.yaml:4)" in (
        caught.value.message
    )


@pytest.mark.parametrize(
    ("text", "says"),
    [
        ("apiVersion: kustomize.config.k8s.io/v1beta1\nkind: Kustomization\n", "a.yaml:1: apiVersion: every document"),
        ("apiVersion: fluxops.io/v1\nkind: Fleets\nclusters: {}\n", "a.yaml:2: kind: every document"),
        ("kind: Fleet\nclusters: {}\n", "a.yaml:1: every document under the fleet path"),
        ("- demo-arc\n", "a.yaml:1: a fleet document is a mapping"),
        ("apiVersion: fluxops.io/v1\nkind: Fleet\nclusters:\n  demo: [\n", "a.yaml:5: not valid YAML"),
        (
            "apiVersion: fluxops.io/v1\nkind: Fleet\n",
            "a.yaml:1: a fleet document names its clusters (clusters:) or selects them (selector:)",
        ),
    ],
)
def test_documents_that_are_not_fleets(text, says):
    with pytest.raises(FleetError) as caught:
        load_fleet({"a.yaml": text})
    assert says in caught.value.message


def test_every_problem_of_every_file_is_listed_in_order():
    bad = HEAD + GOOD_CONFIG.replace("branch: main", "branch: main\n          interval: 5")
    with pytest.raises(FleetError) as caught:
        load_fleet({"b.yaml": bad, "a.yaml": "kind: Fleet\n"})
    problems = caught.value.problems
    assert [(p.file, p.line) for p in problems] == [("a.yaml", 1), ("b.yaml", 10)]
    assert caught.value.message.startswith("the fleet files have 2 problems:\n- a.yaml:1: ")


def test_fleet_files_under_a_path():
    paths = ["clusters/a.yaml", "clusters/sub/b.yml", "clusters/readme.md", "clustersx/c.yaml", "other/d.yaml"]
    assert fleet_files(paths, "clusters") == ["clusters/a.yaml", "clusters/sub/b.yml"]
    assert fleet_files(paths, "/clusters/") == ["clusters/a.yaml", "clusters/sub/b.yml"]
    assert fleet_files(["fleet.yaml", "x.yaml"], "fleet.yaml") == ["fleet.yaml"]


def test_the_committed_schema_is_the_generated_one():
    committed = ROOT / SCHEMA_FILE
    assert committed.exists(), f"{SCHEMA_FILE} is missing; write it with:\n{REGENERATE}"
    assert committed.read_text() == schema_text(), f"{SCHEMA_FILE} is out of date; regenerate it with:\n{REGENERATE}"


def test_the_schema_is_draft_2020_12_and_refuses_unknown_keys():
    schema = json_schema()
    assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert schema["required"] == ["apiVersion", "kind"]
    assert [form["required"] for form in schema["oneOf"]] == [["clusters"], ["selector"]]  # one or the other
    assert schema["properties"]["selector"]["anyOf"][0]["minProperties"] == 1  # `selector: all`, never `{}`
    defs = schema["$defs"]
    assert all(d.get("additionalProperties") is False for d in defs.values())
    kustomizations = defs["ConfigurationDocument"]["properties"]["kustomizations"]
    assert kustomizations["propertyNames"]["pattern"] == "^[a-z0-9]([-a-z0-9]*[a-z0-9])?$"
    assert "helm-controller.detectDrift" in defs["ExtensionDocument"]["properties"]["settings"]["propertyNames"]["enum"]
    json.dumps(schema)  # plain JSON
