"""extension create|update|delete|show and the known microsoft.flux settings."""

from __future__ import annotations

import pytest

from bot.commands import ClusterTarget, ExtensionCreate, ExtensionDelete, ExtensionShow, ExtensionUpdate
from bot.flux_settings import SETTINGS
from bot.models import ClusterType, ExtensionPatch, ExtensionSpec
from tests.bot.grammar_helpers import error, run

C = ClusterTarget("c")


def settings_of(text: str) -> tuple[tuple[str, str], ...]:
    command = run(f"extension create -c c --config {text}")
    assert isinstance(command, ExtensionCreate)
    return command.spec.settings


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("extension create -c c", ExtensionCreate(target=C, spec=ExtensionSpec())),
        (
            "extension create -c c --version 1.13.1",
            ExtensionCreate(target=C, spec=ExtensionSpec(version="1.13.1", auto_upgrade_minor_version=False)),
        ),
        (
            "extension create -c c --version 1.13.1 --auto-upgrade false --release-train Preview",
            ExtensionCreate(
                target=C,
                spec=ExtensionSpec(version="1.13.1", auto_upgrade_minor_version=False, release_train="Preview"),
            ),
        ),
        (
            "extension create -c c --auto-upgrade-minor-version false --name flux2",
            ExtensionCreate(target=C, spec=ExtensionSpec(name="flux2", auto_upgrade_minor_version=False)),
        ),
        (
            "az k8s-extension create -g rg -c c -t managedClusters --name flux --extension-type microsoft.flux "
            "--config image-automation-controller.enabled=true image-reflector-controller.enabled=true",
            ExtensionCreate(
                target=ClusterTarget("c", "rg", ClusterType.MANAGED),
                spec=ExtensionSpec(
                    settings=(
                        ("image-automation-controller.enabled", "true"),
                        ("image-reflector-controller.enabled", "true"),
                    )
                ),
            ),
        ),
        (
            "extension create -c c --configuration-settings multiTenancy.enforce=false --config useKubeletIdentity=yes",
            ExtensionCreate(
                target=C,
                spec=ExtensionSpec(settings=(("multiTenancy.enforce", "false"), ("useKubeletIdentity", "true"))),
            ),
        ),
        (
            "extension update -c c --config source-controller.resources.limits.memory=2Gi "
            "source-controller.resources.requests.memory=300Mi",
            ExtensionUpdate(
                target=C,
                patch=ExtensionPatch(
                    settings=(
                        ("source-controller.resources.limits.memory", "2Gi"),
                        ("source-controller.resources.requests.memory", "300Mi"),
                    )
                ),
            ),
        ),
        (
            "extension update -c c --config helm-controller.detectDrift= --auto-upgrade",
            ExtensionUpdate(
                target=C,
                patch=ExtensionPatch(
                    auto_upgrade_minor_version=True, settings=(("helm-controller.detectDrift", None),)
                ),
            ),
        ),
        (
            "extension update -c c --version 1.14.0",
            ExtensionUpdate(target=C, patch=ExtensionPatch(version="1.14.0", auto_upgrade_minor_version=False)),
        ),
        (
            "extension update -c c --release-train stable",
            ExtensionUpdate(target=C, patch=ExtensionPatch(release_train="Stable")),
        ),
        ("extension delete -c c", ExtensionDelete(target=C)),
        ("extension delete -c c --force --yes", ExtensionDelete(target=C, force=True)),
        ("ext show -c c", ExtensionShow(target=C)),
        ("extension show flux -c c", ExtensionShow(target=C, name="flux")),
    ],
)
def test_extension_commands(text: str, expected: object) -> None:
    assert run(text) == expected


@pytest.mark.parametrize(
    ("words", "expected"),
    [
        ("source-controller.enabled=TRUE", ("source-controller.enabled", "true")),
        ("notification-controller.enabled=no", ("notification-controller.enabled", "false")),
        ("helm-controller.log-level=DEBUG", ("helm-controller.log-level", "debug")),
        ("fluxconfig-agent.log-level=error", ("fluxconfig-agent.log-level", "error")),
        ("fluxconfig-controller.log-level=info", ("fluxconfig-controller.log-level", "info")),
        ("kustomize-controller.resources.limits.cpu=2000m", ("kustomize-controller.resources.limits.cpu", "2000m")),
        ("kustomize-controller.resources.requests.cpu=1.5", ("kustomize-controller.resources.requests.cpu", "1.5")),
        ("kustomize-controller.resources.limits.memory=2Gi", ("kustomize-controller.resources.limits.memory", "2Gi")),
        ("multitenancy.ENFORCE=false", ("multiTenancy.enforce", "false")),
        ("helm-controller.outOfMemoryWatch.enabled=true", ("helm-controller.outOfMemoryWatch.enabled", "true")),
        (
            "helm-controller.outOfMemoryWatch.memoryThreshold=70",
            ("helm-controller.outOfMemoryWatch.memoryThreshold", "70"),
        ),
        ("helm-controller.outOfMemoryWatch.interval=700ms", ("helm-controller.outOfMemoryWatch.interval", "700ms")),
        ("setKubeServiceHostFqdn=true", ("setKubeServiceHostFqdn", "true")),
        ("workloadIdentity.enable=true", ("workloadIdentity.enable", "true")),
        (
            "workloadIdentity.azureClientId=7D3A4E4B-1F0C-4B8E-9D3E-2A6F5C1B0E9A",
            ("workloadIdentity.azureClientId", "7d3a4e4b-1f0c-4b8e-9d3e-2a6f5c1b0e9a"),
        ),
        (
            'source-controller.ssh-host-key-args="--ssh-hostkey-algos=rsa-sha2-512,rsa-sha2-256"',
            ("source-controller.ssh-host-key-args", "--ssh-hostkey-algos=rsa-sha2-512,rsa-sha2-256"),
        ),
        (
            "image-automation-controller.ssh-host-key-args=--ssh-hostkey-algos=rsa-sha2-512",
            ("image-automation-controller.ssh-host-key-args", "--ssh-hostkey-algos=rsa-sha2-512"),
        ),
        (
            "kustomize-controller.strict-substitution-mode=true",
            ("kustomize-controller.strict-substitution-mode", "true"),
        ),
        ("kustomize-controller.concurrent=6", ("kustomize-controller.concurrent", "6")),
        ("helm-controller.concurrent=10", ("helm-controller.concurrent", "10")),
        ("source-controller.concurrent=2", ("source-controller.concurrent", "2")),
        ("kustomize-controller.requeue-dependency=50s", ("kustomize-controller.requeue-dependency", "50s")),
        ("kustomize-controller.enable-in-memory-build=true", ("kustomize-controller.enable-in-memory-build", "true")),
    ],
)
def test_known_settings(words: str, expected: tuple[str, str]) -> None:
    assert settings_of(words) == (expected,)


def test_every_setting_accepts_its_own_example() -> None:
    for key, setting in SETTINGS.items():
        assert settings_of(f"'{key}={setting.example}'")[0][0] == key


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("--config multiTenancy.enforc=false", "Did you mean `multiTenancy.enforce`?"),
        ("--config source-controller.enable=true", "Did you mean `source-controller.enabled`?"),
        ("--config helm-controller.detectDrift=maybe", "takes `true` or `false`, not `maybe` (true|false)"),
        ("--config helm-controller.log-level=verbose", "info | error | debug"),
        ("--config fluxconfig-agent.log-level=debug", "takes info | error"),
        ("--config source-controller.resources.limits.memory=300m", "Did you mean `300Mi`?"),
        ("--config source-controller.resources.limits.memory=lots", "memory size such as `2Gi`"),
        ("--config source-controller.resources.limits.cpu=2Gi", "CPU cores"),
        ("--config helm-controller.outOfMemoryWatch.memoryThreshold=170", "from 1 to 100"),
        ("--config helm-controller.outOfMemoryWatch.interval=soon", "duration such as `500ms`"),
        ("--config workloadIdentity.azureClientId=me", "takes a GUID"),
        ("--config kustomize-controller.concurrent=many", "whole number"),
        ("--config helm-controller.detectDrift=", "has no value"),
        ("--config a=1 --config a=2", "not a microsoft.flux setting"),
        ("--config helm-controller.detectDrift=true helm-controller.detectdrift=false", "set twice"),
        ("--config", "needs KEY=VALUE words"),
        ("--config helm-controller.detectDrift", "needs KEY=VALUE words"),
        ("--version 1.13.1 --auto-upgrade true", "--version can only be set with --auto-upgrade false"),
        ("--version latest", "takes a version such as `1.13.1`"),
        ("--release-train nightly", "takes `stable` or `preview`"),
        ("--extension-type microsoft.dapr", "`microsoft.flux` extension only"),
        ("--name Flux", "Did you mean `flux`?"),
        ("--auto-upgrade maybe", "takes `true` or `false`, not `maybe`"),
        ("--auto-upgrade false flux2 extra", "Unexpected word `extra`"),
    ],
)
def test_extension_create_errors(text: str, expected: str) -> None:
    assert expected in error(f"extension create -c c {text}")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("extension update -c c", "Nothing to change"),
        ("extension update -c c --version 1.2.3 --auto-upgrade", "--version can only be set with --auto-upgrade false"),
        ("extension update -c c --config bogus=", "not a microsoft.flux setting"),
        ("extension delete -c c --config a=b", "not an option of `extension delete`"),
        ("extension show", "`-c CLUSTER` is required"),
        ("extension shw -c c", "Did you mean `extension show`?"),
        ("extension install -c c", "Did you mean `extension create`?"),
        ("extension frobnicate -c c", "`extension` has `create`, `update`, `delete`, `show` or `list`"),
    ],
)
def test_extension_other_errors(text: str, expected: str) -> None:
    assert expected in error(text)
