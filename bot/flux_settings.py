"""The ``configurationSettings`` of the microsoft.flux extension that ``--config KEY=VALUE`` may set.

From the Flux v2 tutorial and concepts (see ``seeds/``): which controllers run, their log levels and
resources, multi-tenancy, Helm drift detection and OOM watch, workload identity, kubelet identity, the
Kubernetes service host FQDN, SSH host key algorithms, strict substitution, concurrency.
Each setting has a type; values are checked and normalized (booleans become ``true``/``false``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from bot.usage import UsageError, closest, code, shown
from bot.values import boolean, cpu, go_duration, guid, integer, memory


@dataclass(frozen=True)
class Setting:
    key: str
    kind: str  # what the help and errors call the type: "true|false", "memory", ...
    description: str
    example: str
    check: Callable[[str, str], str]


def _bool(value: str, what: str) -> str:
    return "true" if boolean(value, what) else "false"


def _levels(*levels: str) -> Callable[[str, str], str]:
    def check(value: str, what: str) -> str:
        if value.lower() not in levels:
            raise UsageError(f"{what} takes {' | '.join(levels)}, not {shown(value)}.")
        return value.lower()

    return check


def _int(low: int, high: int) -> Callable[[str, str], str]:
    def check(value: str, what: str) -> str:
        return str(integer(value, what, low=low, high=high))

    return check


def _text(value: str, what: str) -> str:
    if not value.strip() or any(c in value for c in "\n\r\0"):
        raise UsageError(f"{what} takes one line of text.")
    return value


CONTROLLERS = (
    "source-controller",
    "helm-controller",
    "kustomize-controller",
    "notification-controller",
    "image-automation-controller",
    "image-reflector-controller",
)
_DEFAULT_ON = ("source-controller", "helm-controller", "kustomize-controller", "notification-controller")


def _table() -> dict[str, Setting]:
    settings: list[Setting] = []
    for controller in CONTROLLERS:
        default = "true" if controller in _DEFAULT_ON else "false"
        settings.append(
            Setting(f"{controller}.enabled", "true|false", f"run the {controller} (default {default})", "true", _bool)
        )
        settings.append(
            Setting(
                f"{controller}.log-level",
                "info|error|debug",
                "log level (default info)",
                "error",
                _levels("info", "error", "debug"),
            )
        )
        for bound in ("limits", "requests"):
            settings.append(
                Setting(f"{controller}.resources.{bound}.memory", "memory", f"memory {bound}", "2Gi", memory)
            )
            settings.append(Setting(f"{controller}.resources.{bound}.cpu", "cpu", f"CPU {bound}", "2000m", cpu))
    for agent in ("fluxconfig-agent", "fluxconfig-controller"):
        settings.append(
            Setting(f"{agent}.log-level", "info|error", "log level (default info)", "error", _levels("info", "error"))
        )
    for controller in ("source-controller", "kustomize-controller", "helm-controller"):
        settings.append(
            Setting(f"{controller}.concurrent", "integer 1-100", "objects reconciled at once", "6", _int(1, 100))
        )
    settings += [
        Setting("multiTenancy.enforce", "true|false", "enforce multi-tenancy lockdown (default true)", "false", _bool),
        Setting("helm-controller.detectDrift", "true|false", "Helm drift detection", "true", _bool),
        Setting(
            "helm-controller.outOfMemoryWatch.enabled",
            "true|false",
            "watch for OOM and stop Helm in time",
            "true",
            _bool,
        ),
        Setting(
            "helm-controller.outOfMemoryWatch.memoryThreshold",
            "integer 1-100",
            "memory use in percent that counts as OOM (default 95)",
            "70",
            _int(1, 100),
        ),
        Setting(
            "helm-controller.outOfMemoryWatch.interval",
            "duration",
            "how often memory is checked (default 500ms)",
            "700ms",
            go_duration,
        ),
        Setting("useKubeletIdentity", "true|false", "authenticate with the AKS kubelet identity", "true", _bool),
        Setting(
            "setKubeServiceHostFqdn", "true|false", "set KUBERNETES_SERVICE_HOST to the API server FQDN", "true", _bool
        ),
        Setting("workloadIdentity.enable", "true|false", "use AKS workload identity", "true", _bool),
        Setting(
            "workloadIdentity.azureClientId",
            "GUID",
            "client id of the user-assigned identity",
            "7d3a4e4b-1f0c-4b8e-9d3e-2a6f5c1b0e9a",
            guid,
        ),
        Setting(
            "source-controller.ssh-host-key-args",
            "text",
            "SSH host key arguments",
            "--ssh-hostkey-algos=rsa-sha2-512,rsa-sha2-256",
            _text,
        ),
        Setting(
            "image-automation-controller.ssh-host-key-args",
            "text",
            "SSH host key arguments",
            "--ssh-hostkey-algos=rsa-sha2-512,rsa-sha2-256",
            _text,
        ),
        Setting(
            "kustomize-controller.strict-substitution-mode",
            "true|false",
            "fail on unset substitution variables",
            "true",
            _bool,
        ),
        Setting(
            "kustomize-controller.requeue-dependency", "duration", "retry interval for dependencies", "50s", go_duration
        ),
        Setting(
            "kustomize-controller.enable-in-memory-build", "true|false", "build kustomizations in memory", "true", _bool
        ),
    ]
    return {s.key: s for s in settings}


SETTINGS: dict[str, Setting] = _table()
_BY_LOWER = {key.lower(): setting for key, setting in SETTINGS.items()}


def find_setting(key: str) -> Setting:
    """The known setting ``key`` names (case-insensitively), or a UsageError suggesting the closest one."""
    found = _BY_LOWER.get(key.lower())
    if found is not None:
        return found
    near = closest(key, SETTINGS, cutoff=0.5)
    hint = f"Did you mean {code(near)}?" if near else "`/flux help extension settings` lists them."
    raise UsageError(f"{shown(key)} is not a microsoft.flux setting fluxops knows.", hint=hint)


def check_setting(key: str, value: str) -> tuple[str, str]:
    """(canonical key, normalized value) of one ``KEY=VALUE``."""
    setting = find_setting(key)
    what = code(setting.key)
    try:
        return setting.key, setting.check(value, what)
    except UsageError as err:
        example = f"For example {code(f'{setting.key}={setting.example}')}."
        raise UsageError(
            f"{err.message.rstrip('.')} ({setting.kind}).", hint=f"{err.hint} {example}" if err.hint else example
        ) from None
