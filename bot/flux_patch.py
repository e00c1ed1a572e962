"""What a merge patch does to what it patches, as ARM applies one: a configuration after a ``FluxConfigPatch``,
an extension after an ``ExtensionPatch``; and whether a patch would change anything (``changes_*``), which is
how a fleet run tells a cluster already as asked (no write) and a write that landed before a crash (none again).

Protected settings are never read back from ARM: a patch that carries them always counts as a change.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from bot.models import (
    ExtensionPatch,
    ExtensionState,
    FluxConfigPatch,
    FluxConfigSpec,
    GitSource,
    Kustomization,
)

_CHANGE_FIELDS = (
    "path",
    "depends_on",
    "prune",
    "force",
    "wait",
    "sync_interval_seconds",
    "retry_interval_seconds",
    "timeout_seconds",
)


def patched(spec: FluxConfigSpec, patch: FluxConfigPatch) -> FluxConfigSpec:
    """``spec`` after a JSON merge patch, as ARM applies one."""
    source = spec.source
    if isinstance(source, GitSource):
        source = replace(
            source,
            url=patch.url or source.url,
            ref=patch.ref or source.ref,
            https_user=patch.https_user if patch.https_user is not None else source.https_user,
            sync_interval_seconds=patch.sync_interval_seconds or source.sync_interval_seconds,
            timeout_seconds=patch.timeout_seconds or source.timeout_seconds,
        )
    kustomizations = list(spec.kustomizations)
    for change in patch.kustomizations:
        index = next((i for i, k in enumerate(kustomizations) if k.name == change.name), None)
        if change.remove:
            if index is not None:
                del kustomizations[index]
            continue
        fields: dict[str, Any] = {f: getattr(change, f) for f in _CHANGE_FIELDS if getattr(change, f) is not None}
        if index is None:
            kustomizations.append(replace(Kustomization(name=change.name), **fields))
        else:
            kustomizations[index] = replace(kustomizations[index], **fields)
    suspend = spec.suspend if patch.suspend is None else patch.suspend
    return replace(spec, source=source, kustomizations=tuple(kustomizations), suspend=suspend)


def changes_config(spec: FluxConfigSpec, patch: FluxConfigPatch) -> bool:
    """Whether writing ``patch`` would change the configuration ``spec`` (always, when it carries secrets)."""
    return patch.protected is not None or patched(spec, patch) != spec


def patched_settings(
    settings: tuple[tuple[str, str], ...], changes: tuple[tuple[str, str | None], ...]
) -> tuple[tuple[str, str], ...]:
    """Extension settings after a patch's changes (None removes a setting), sorted by key."""
    merged = dict(settings)
    for key, value in changes:
        if value is None:
            merged.pop(key, None)
        else:
            merged[key] = value
    return tuple(sorted(merged.items()))


def changes_extension(state: ExtensionState, patch: ExtensionPatch) -> bool:
    """Whether writing ``patch`` would change the extension as ARM reports it."""
    if patch.version is not None and patch.version != state.version:
        return True
    if patch.release_train is not None and patch.release_train.lower() != (state.release_train or "").lower():
        return True
    if patch.auto_upgrade_minor_version is not None and patch.auto_upgrade_minor_version != (
        state.auto_upgrade_minor_version
    ):
        return True
    return patched_settings(state.settings, patch.settings) != tuple(sorted(state.settings))
