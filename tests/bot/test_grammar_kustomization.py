"""kustomization create|update|delete|show|list, and the `--kustomization key=value` groups of config create."""

from __future__ import annotations

import pytest

from bot.commands import (
    ClusterTarget,
    ConfigCreate,
    KustomizationCreate,
    KustomizationDelete,
    KustomizationList,
    KustomizationShow,
    KustomizationUpdate,
)
from bot.models import Kustomization, KustomizationChange
from tests.bot.grammar_helpers import error, run

C = ClusterTarget("c")
CREATE = "config create x -c c -u https://github.com/org/repo --branch main"


def kustomizations(groups: str) -> tuple[Kustomization, ...]:
    command = run(f"{CREATE} {groups}")
    assert isinstance(command, ConfigCreate)
    return command.spec.kustomizations


@pytest.mark.parametrize(
    ("group", "expected"),
    [
        ("name=apps", Kustomization(name="apps")),
        ("name=apps path=./apps/staging", Kustomization(name="apps", path="./apps/staging")),
        ("name=apps prune=TRUE force=yes wait=no", Kustomization(name="apps", prune=True, force=True, wait=False)),
        (
            "name=apps interval=5m retry_interval=1m timeout=2m30s",
            Kustomization(name="apps", sync_interval_seconds=300, retry_interval_seconds=60, timeout_seconds=150),
        ),
        ("name=apps sync-interval=1h", Kustomization(name="apps", sync_interval_seconds=3600)),
        (
            "name=apps syncInterval=1h retryInterval=30s",
            Kustomization(name="apps", sync_interval_seconds=3600, retry_interval_seconds=30),
        ),
        (
            "name=apps substitute=region:weu,cluster_env:prod",
            Kustomization(name="apps", substitute=(("cluster_env", "prod"), ("region", "weu"))),
        ),
        ("name=apps substitute=url:https://x.y/z", Kustomization(name="apps", substitute=(("url", "https://x.y/z"),))),
        ("NAME=apps PATH=./x", Kustomization(name="apps", path="./x")),
    ],
)
def test_one_group(group: str, expected: Kustomization) -> None:
    assert kustomizations(f"--kustomization {group}") == (expected,)


@pytest.mark.parametrize(
    "depends",
    ["depends_on=a,b", "dependsOn=a,b", "depends-on=a,b", 'dependsOn=\\["a","b"\\]', "dependsOn='[a, b]'"],
)
def test_depends_on_spellings(depends: str) -> None:
    found = kustomizations(f"--kustomization name=a --kustomization name=b --kustomizations name=c {depends}")
    assert found[2].depends_on == ("a", "b")


def test_groups_keep_their_order_and_flags_may_follow() -> None:
    found = kustomizations(
        "--kustomization name=infra path=./infra --kustomization name=apps depends_on=infra --suspend"
    )
    assert [k.name for k in found] == ["infra", "apps"]


def test_a_diamond_is_not_a_cycle() -> None:
    found = kustomizations(
        "--kustomization name=base --kustomization name=left depends_on=base "
        "--kustomization name=right depends_on=base --kustomization name=top depends_on=left,right"
    )
    assert found[-1].depends_on == ("left", "right")


@pytest.mark.parametrize(
    ("groups", "expected"),
    [
        ("--kustomization path=./x", "needs `name=NAME`"),
        ("--kustomization name=a --kustomization name=a", "Two kustomizations are named `a`"),
        ("--kustomization name=a depends_on=b", "does not define"),
        ("--kustomization name=a depends_on=inf --kustomization name=infra", "Did you mean `infra`?"),
        ("--kustomization name=a depends_on=a", "cannot depend on itself"),
        (
            "--kustomization name=a depends_on=c --kustomization name=b depends_on=a "
            "--kustomization name=c depends_on=b",
            "in a circle: `a` → `c` → `b` → `a`",
        ),
        ("--kustomization name=a pth=./x", "Did you mean `path`?"),
        ("--kustomization name=a name=b", "gives `name` twice"),
        ("--kustomization name=a prune=maybe", "takes `true` or `false`"),
        ("--kustomization name=a interval=10", "Add a unit"),
        ("--kustomization name=a timeout=-1m", "takes a duration"),
        ("--kustomization name=a path=../secrets", "climbs out"),
        ("--kustomization name=Apps", "Did you mean `apps`?"),
        ("--kustomization name=a substitute=novalue", "`NAME:VALUE` pairs"),
        ("--kustomization name=a substitute=x:1,x:2", "sets `x` twice"),
        ("--kustomization", "needs name=NAME KEY=VALUE"),
        ("--kustomization name=a remove=true", "cannot remove a kustomization"),
    ],
)
def test_group_errors(groups: str, expected: str) -> None:
    assert expected in error(f"{CREATE} {groups}")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "kustomization create apps --config cluster-config -c c",
            KustomizationCreate(target=C, config="cluster-config", kustomization=Kustomization(name="apps")),
        ),
        (
            "kustomization create -k apps -n cluster-config -c c --path ./apps --depends-on infra,db --depends-on "
            "cache --prune --force false --wait false --interval 5m --retry-interval 1m --timeout 2m "
            "--substitute region:weu --substitute env:prod",
            KustomizationCreate(
                target=C,
                config="cluster-config",
                kustomization=Kustomization(
                    name="apps",
                    path="./apps",
                    depends_on=("infra", "db", "cache"),
                    prune=True,
                    force=False,
                    wait=False,
                    sync_interval_seconds=300,
                    retry_interval_seconds=60,
                    timeout_seconds=120,
                    substitute=(("env", "prod"), ("region", "weu")),
                ),
            ),
        ),
        (
            # az's spelling: --name is the configuration when -k names the kustomization
            "az k8s-configuration flux kustomization create --name cluster-config -k apps -c c --prune true",
            KustomizationCreate(
                target=C, config="cluster-config", kustomization=Kustomization(name="apps", prune=True)
            ),
        ),
        (
            "ks create --name apps --config cluster-config -c c",
            KustomizationCreate(target=C, config="cluster-config", kustomization=Kustomization(name="apps")),
        ),
        (
            "kustomization update apps --config cluster-config -c c --path ./apps/prod --prune false",
            KustomizationUpdate(
                target=C,
                config="cluster-config",
                change=KustomizationChange(name="apps", path="./apps/prod", prune=False),
            ),
        ),
        (
            "kustomization update apps --config cluster-config -c c --depends-on infra --wait --retry-interval 2m",
            KustomizationUpdate(
                target=C,
                config="cluster-config",
                change=KustomizationChange(name="apps", depends_on=("infra",), wait=True, retry_interval_seconds=120),
            ),
        ),
        (
            "kustomization delete apps --config cluster-config -c c --yes",
            KustomizationDelete(target=C, config="cluster-config", name="apps"),
        ),
        (
            "kustomization show apps --config cluster-config -c c",
            KustomizationShow(target=C, config="cluster-config", name="apps"),
        ),
        ("kustomizations list --config cluster-config -c c", KustomizationList(target=C, config="cluster-config")),
        ("kustomization list cluster-config -c c", KustomizationList(target=C, config="cluster-config")),
    ],
)
def test_kustomization_commands(text: str, expected: object) -> None:
    assert run(text) == expected


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("kustomization create apps -c c", "`--config CONFIG` is required"),
        ("kustomization create --config x -c c", "Its NAME is missing"),
        ("kustomization create apps --config x", "`-c CLUSTER` is required"),
        ("kustomization create apps -k other --config x -c c", "Two kustomization names"),
        ("kustomization create apps --config x -c c --depends-on apps", "cannot depend on itself"),
        ("kustomization update apps --config x -c c", "Nothing to change"),
        (
            "kustomization update apps --config x -c c --substitute-from Pod:x",
            "takes `ConfigMap:NAME` or `Secret:NAME`",
        ),
        ("kustomization create apps --config x -c c --substitute bad", "`NAME:VALUE` pairs"),
        ("kustomization delete apps --config x -c c --path ./x", "not an option of `kustomization delete`"),
        ("kustomization list --config x -c c -k apps", "takes no kustomization name"),
        ("kustomization create apps --config Bad_Name -c c", "lowercase DNS name"),
    ],
)
def test_kustomization_command_errors(text: str, expected: str) -> None:
    assert expected in error(text)
