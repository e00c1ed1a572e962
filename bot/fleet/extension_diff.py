"""The diff of the microsoft.flux extension: installed (declared, or needed by a new configuration),
updated field by field (settings the fleet files do not mention are left alone), or unchanged."""

from __future__ import annotations

from bot.fleet.desired import DesiredExtension
from bot.fleet.diff import Action, ExtensionChange, FieldDiff
from bot.flux_settings import check_setting
from bot.models import ExtensionPatch, ExtensionSpec, ExtensionState
from bot.usage import UsageError


def extension_diff(
    desired: DesiredExtension | None, actual: ExtensionState | None, *, needed: bool
) -> ExtensionChange | None:
    if actual is None:
        if desired is not None:
            spec = desired.install_spec()
            return ExtensionChange(Action.INSTALL, spec.name, tuple(_install_fields(spec)), spec=spec)
        if needed:
            spec = ExtensionSpec()
            return ExtensionChange(Action.INSTALL, spec.name, tuple(_install_fields(spec)), implicit=True, spec=spec)
        return None
    if desired is None:
        return None
    fields: list[FieldDiff] = []
    auto = release = pinned = None
    if (
        desired.auto_upgrade_minor_version is not None
        and desired.auto_upgrade_minor_version != actual.auto_upgrade_minor_version
    ):
        fields.append(
            FieldDiff("autoUpgradeMinorVersion", actual.auto_upgrade_minor_version, desired.auto_upgrade_minor_version)
        )
        auto = desired.auto_upgrade_minor_version
    if desired.release_train is not None and desired.release_train.lower() != (actual.release_train or "").lower():
        fields.append(FieldDiff("releaseTrain", actual.release_train, desired.release_train))
        release = desired.release_train
    running = actual.version or actual.current_version
    if desired.version is not None and desired.version != running:
        fields.append(FieldDiff("version", running, desired.version))
        pinned = desired.version
    current = {key.casefold(): (key, _normalized(key, value)) for key, value in actual.settings}
    settings: list[tuple[str, str | None]] = []
    for key, value in desired.settings:
        old_value = current.get(key.casefold(), (key, None))[1]
        if old_value != value:
            fields.append(FieldDiff(f"settings.{key}", old_value, value))
            settings.append((key, value))
    declared = {key.casefold() for key, _ in desired.settings}
    unmanaged = tuple(sorted(key for key, _ in actual.settings if key.casefold() not in declared))
    if not fields:
        return ExtensionChange(Action.UNCHANGED, actual.name, unmanaged_settings=unmanaged)
    patch = ExtensionPatch(
        auto_upgrade_minor_version=auto, release_train=release, version=pinned, settings=tuple(settings)
    )
    return ExtensionChange(Action.UPDATE, actual.name, tuple(fields), patch=patch, unmanaged_settings=unmanaged)


def _install_fields(spec: ExtensionSpec) -> list[FieldDiff]:
    fields = [
        FieldDiff("version", None, spec.version),
        FieldDiff("autoUpgradeMinorVersion", None, spec.auto_upgrade_minor_version),
        FieldDiff("releaseTrain", None, spec.release_train),
    ]
    return fields + [FieldDiff(f"settings.{key}", None, value) for key, value in spec.settings]


def _normalized(key: str, value: str) -> str:
    """A setting as the fleet file would write it ("True" from ARM is "true"); unknown ones as they are."""
    try:
        return check_setting(key, value)[1]
    except UsageError:
        return value
