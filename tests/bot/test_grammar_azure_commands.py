"""The az equivalents: ``extension list``, ``deployed-object list|show``, ``--no-wait`` on every Azure write, and
``extension create --scope/--release-namespace/--target-namespace``, typed as /flux words or pasted from az."""

from __future__ import annotations

import pytest

from bot.commands import (
    AzureWrite,
    ClusterTarget,
    DeployedObjectList,
    DeployedObjectShow,
    ExtensionCreate,
    ExtensionList,
)
from bot.grammar.registry import READERS
from tests.bot.grammar_helpers import error, reply, run

ARC = ClusterTarget("flux-demo-arc")
SHOW = "--object-name nginx --object-namespace nginx --object-kind HelmRelease"


@pytest.mark.parametrize(
    "text",
    [
        "extension list -c flux-demo-arc",
        "extensions ls -c flux-demo-arc",
        "az k8s-extension list -c flux-demo-arc",
        "az k8s-extension list --cluster-name flux-demo-arc",
    ],
)
def test_extension_list(text: str) -> None:
    assert run(text) == ExtensionList(target=ARC)


@pytest.mark.parametrize(
    "text",
    [
        "deployed-object list cluster-config -c flux-demo-arc",
        "deployed-objects list -n cluster-config -c flux-demo-arc",
        "az k8s-configuration flux deployed-object list --name cluster-config --cluster-name flux-demo-arc",
    ],
)
def test_deployed_object_list(text: str) -> None:
    assert run(text) == DeployedObjectList(target=ARC, name="cluster-config")


@pytest.mark.parametrize(
    ("text", "kind", "namespace"),
    [
        (f"deployed-object show cluster-config -c flux-demo-arc {SHOW}", "HelmRelease", "nginx"),
        (
            f"az k8s-configuration flux deployed-object show -n cluster-config -c flux-demo-arc {SHOW}",
            "HelmRelease",
            "nginx",
        ),
        (
            "deployed-object show cluster-config -c flux-demo-arc --object-name nginx --object-kind hr",
            "HelmRelease",
            None,
        ),
        (
            "deployed-object show cluster-config -c flux-demo-arc --object-name nginx --object-kind kustomizations",
            "Kustomization",
            None,
        ),
    ],
)
def test_deployed_object_show(text: str, kind: str, namespace: str | None) -> None:
    assert run(text) == DeployedObjectShow(
        target=ARC, name="cluster-config", object_name="nginx", object_kind=kind, object_namespace=namespace
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "deployed-object show cluster-config -c flux-demo-arc --object-name nginx",
            "Which object? `--object-kind` is missing. `/flux deployed-object list cluster-config -c flux-demo-arc` "
            "lists the objects with their kinds and namespaces.",
        ),
        (
            "deployed-object show cluster-config -c flux-demo-arc --object-name nginx --object-kind helmchartz",
            "`--object-kind` takes a Flux kind, not `helmchartz`. Did you mean `HelmChart`?",
        ),
        ("deployed-object list -c flux-demo-arc", "NAME is missing."),
        ("deployed-object lst cc -c flux-demo-arc", "Did you mean `deployed-object list`?"),
        ("extension list -c flux-demo-arc --name flux", "`--name` is not an option of `extension list`."),
    ],
)
def test_deployed_object_and_extension_list_errors(text: str, expected: str) -> None:
    assert expected in error(text)


WRITES = [
    "config create cc -c flux-demo-arc -u https://github.com/Azure/gitops-flux2-kustomize-helm-mt --branch main",
    "config update cc -c flux-demo-arc --interval 5m",
    "config delete cc -c flux-demo-arc",
    "kustomization create --config cc -k apps --path ./apps -c flux-demo-arc",
    "kustomization update --config cc -k apps --prune true -c flux-demo-arc",
    "kustomization delete --config cc -k apps -c flux-demo-arc",
    "extension create -c flux-demo-arc",
    "extension update -c flux-demo-arc --auto-upgrade true",
    "extension delete -c flux-demo-arc",
]


@pytest.mark.parametrize("text", WRITES)
def test_no_wait_on_every_azure_write(text: str) -> None:
    plain, no_wait = run(text), run(f"{text} --no-wait")
    assert isinstance(plain, AzureWrite) and isinstance(no_wait, AzureWrite)
    assert (plain.no_wait, no_wait.no_wait) == (False, True)
    assert type(plain) is type(no_wait)


def test_every_azure_write_has_no_wait_in_its_help() -> None:
    for path in READERS:
        words = path.split()
        if any(text.startswith(path) for text in WRITES):
            assert "--no-wait" in reply(f"help {' '.join(words)}"), path


@pytest.mark.parametrize(
    "text",
    ["status cc -c flux-demo-arc --no-wait", "suspend cc -c flux-demo-arc --no-wait", "extension list -c x --no-wait"],
)
def test_no_wait_only_where_az_has_it(text: str) -> None:
    assert "`--no-wait` is not an option of" in error(text)


@pytest.mark.parametrize(
    ("flags", "scope", "namespace"),
    [
        ("", "cluster", None),
        ("--release-namespace flux-ops", "cluster", "flux-ops"),
        ("--scope cluster --release-namespace flux-ops", "cluster", "flux-ops"),
        ("--scope namespace --target-namespace team-a", "namespace", "team-a"),
        ("--target-namespace team-a", "namespace", "team-a"),
        ("--scope Namespace", "namespace", None),
    ],
)
def test_extension_create_scope(flags: str, scope: str, namespace: str | None) -> None:
    command = run(f"extension create -c flux-demo-arc {flags}")
    assert isinstance(command, ExtensionCreate)
    assert (command.spec.scope, command.spec.namespace) == (scope, namespace)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "extension create -c x --scope namespace --release-namespace a",
            "`--release-namespace` does not go with `--scope namespace`. A namespace-scoped extension takes "
            "`--target-namespace`.",
        ),
        (
            "extension create -c x --release-namespace a --target-namespace b",
            "`--release-namespace` (cluster scope) and `--target-namespace` (namespace scope) cannot both be given.",
        ),
        ("extension create -c x --scope tenant", "`--scope` takes `cluster` or `namespace`, not `tenant`."),
        ("extension create -c x --release-namespace Flux_System", "Did you mean `flux-system`?"),
        ("extension update -c x --scope cluster", "`--scope` is not an option of `extension update`."),
    ],
)
def test_extension_scope_errors(text: str, expected: str) -> None:
    assert expected in error(text)
