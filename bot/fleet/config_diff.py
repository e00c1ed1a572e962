"""The diff of one Flux configuration: created, updated field by field (with the merge patch that does it) or
deleted; and its kustomizations. What Azure or fluxops cannot change in place is ``blocked``, with what to do."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from bot.commands import CredentialRefs
from bot.fleet.diff import Action, ConfigChange, FieldDiff, KustomizationDiff
from bot.fleet.source_diff import KIND_WORDS, RECREATE, create_fields, update
from bot.models import FluxConfigPatch, FluxConfigSpec, FluxConfigState, Kustomization, KustomizationChange


def create_diff(spec: FluxConfigSpec, refs: CredentialRefs) -> ConfigChange:
    fields = [FieldDiff("namespace", None, spec.namespace), FieldDiff("scope", None, spec.scope)]
    if spec.suspend:
        fields.append(FieldDiff("suspend", None, True))
    fields += create_fields(spec.source, refs)
    kustomizations = tuple(
        KustomizationDiff(Action.CREATE, k.name, tuple(_kustomization_fields(k))) for k in spec.kustomizations
    )
    return ConfigChange(
        Action.CREATE,
        spec.name,
        tuple(fields),
        kustomizations,
        spec=spec,
        credentials=refs,
    )


def _kustomization_fields(k: Kustomization) -> list[FieldDiff]:
    """A new kustomization's fields: path and prune always, the others when they differ from the default."""
    fields = [FieldDiff("path", None, k.path)]
    if k.depends_on:
        fields.append(FieldDiff("dependsOn", None, k.depends_on))
    fields.append(FieldDiff("prune", None, k.prune))
    if k.force:
        fields.append(FieldDiff("force", None, True))
    if not k.wait:
        fields.append(FieldDiff("wait", None, False))
    if k.sync_interval_seconds != 600:
        fields.append(FieldDiff("interval", None, k.sync_interval_seconds))
    if k.retry_interval_seconds is not None:
        fields.append(FieldDiff("retryInterval", None, k.retry_interval_seconds))
    if k.timeout_seconds != 600:
        fields.append(FieldDiff("timeout", None, k.timeout_seconds))
    if k.substitute:
        fields.append(FieldDiff("substitute", None, k.substitute))
    return fields


def delete_diff(state: FluxConfigState) -> ConfigChange:
    kustomizations = state.spec.kustomizations if state.spec is not None else ()
    pruned = [k.name for k in kustomizations if k.prune]
    warnings = (
        (f"deleting it removes from the cluster what {_listing(pruned)} applied (prune: true)",) if pruned else ()
    )
    return ConfigChange(
        Action.DELETE,
        state.name,
        kustomizations=tuple(KustomizationDiff(Action.DELETE, k.name) for k in kustomizations),
        warnings=warnings,
    )


def _listing(names: Sequence[str]) -> str:
    quoted = [f"'{n}'" for n in names]
    noun = "kustomization" if len(quoted) == 1 else "kustomizations"
    return f"{noun} {', '.join(quoted)}"


def update_diff(spec: FluxConfigSpec, state: FluxConfigState) -> ConfigChange:
    name = spec.name
    have = state.spec
    if have is None:
        kind = KIND_WORDS.get(state.source_kind, state.source_kind)
        return ConfigChange(
            Action.UPDATE,
            name,
            (FieldDiff("source.kind", kind, KIND_WORDS[spec.source.kind]),),
            blocked=(
                f"fluxops cannot read '{name}' on the cluster (its source is {kind}), so it cannot compare it "
                f"with the file: {RECREATE.format(name=name)}",
            ),
        )
    fields: list[FieldDiff] = []
    blocked: list[str] = []
    patch = FluxConfigPatch()

    for attribute in ("namespace", "scope"):
        old, new = getattr(have, attribute), getattr(spec, attribute)
        if old != new:
            fields.append(FieldDiff(attribute, old, new))
            blocked.append(
                f"'{attribute}' is set when a configuration is created and Azure cannot change it: "
                + RECREATE.format(name=name)
            )
    if have.suspend != spec.suspend:
        fields.append(FieldDiff("suspend", have.suspend, spec.suspend))
        patch = replace(patch, suspend=spec.suspend)

    source = update(name, have.source, spec.source, patch)
    fields += source.fields
    blocked += source.blocked
    patch = source.patch

    kustomizations, k_changes = _kustomizations(have.kustomizations, spec.kustomizations)
    warnings = tuple(warning for k in kustomizations for warning in k.warnings)
    changed = bool(fields) or any(k.action is not Action.UNCHANGED for k in kustomizations)
    if not changed:
        return ConfigChange(Action.UNCHANGED, name)
    flux_patch = replace(patch, kustomizations=k_changes)
    return ConfigChange(
        Action.UPDATE,
        name,
        tuple(fields),
        tuple(k for k in kustomizations if k.action is not Action.UNCHANGED),
        blocked=tuple(blocked),
        warnings=warnings,
        patch=flux_patch,
    )


def _kustomizations(
    have: Sequence[Kustomization], want: Sequence[Kustomization]
) -> tuple[list[KustomizationDiff], tuple[KustomizationChange, ...]]:
    old = {k.name: k for k in have}
    new = {k.name: k for k in want}
    diffs: list[KustomizationDiff] = []
    changes: list[KustomizationChange] = []
    for name in [*new, *(n for n in old if n not in new)]:
        before, after = old.get(name), new.get(name)
        if before is None and after is not None:
            blocked = (
                (
                    f"kustomization '{name}' has 'substitute', which fluxops can only set when the whole "
                    "configuration is created: " + RECREATE.format(name="the configuration"),
                )
                if after.substitute
                else ()
            )
            diffs.append(KustomizationDiff(Action.CREATE, name, tuple(_kustomization_fields(after)), blocked))
            changes.append(
                KustomizationChange(
                    name=name,
                    path=after.path,
                    depends_on=after.depends_on,
                    prune=after.prune,
                    force=after.force,
                    wait=after.wait,
                    sync_interval_seconds=after.sync_interval_seconds,
                    retry_interval_seconds=after.retry_interval_seconds,
                    timeout_seconds=after.timeout_seconds,
                )
            )
        elif after is None and before is not None:
            warnings = (
                (f"removing kustomization '{name}' removes from the cluster what it applied (prune: true)",)
                if before.prune
                else ()
            )
            diffs.append(KustomizationDiff(Action.DELETE, name, warnings=warnings))
            changes.append(KustomizationChange(name=name, remove=True))
        elif before is not None and after is not None:
            diff, change = _kustomization_update(before, after)
            diffs.append(diff)
            if change is not None:
                changes.append(change)
    return diffs, tuple(changes)


def _kustomization_update(
    before: Kustomization, after: Kustomization
) -> tuple[KustomizationDiff, KustomizationChange | None]:
    name = after.name
    fields: list[FieldDiff] = []
    blocked: list[str] = []
    change = KustomizationChange(name=name)
    if before.path != after.path:
        fields.append(FieldDiff("path", before.path, after.path))
        change = replace(change, path=after.path)
    if set(before.depends_on) != set(after.depends_on):
        fields.append(FieldDiff("dependsOn", before.depends_on, after.depends_on))
        change = replace(change, depends_on=after.depends_on)
    for attribute in ("prune", "force", "wait"):
        old, new = getattr(before, attribute), getattr(after, attribute)
        if old != new:
            fields.append(FieldDiff(attribute, old, new))
            change = replace(change, **{attribute: new})
    for attribute, path in (("sync_interval_seconds", "interval"), ("timeout_seconds", "timeout")):
        old, new = getattr(before, attribute), getattr(after, attribute)
        if old != new:
            fields.append(FieldDiff(path, old, new))
            change = replace(change, **{attribute: new})
    # retryInterval left out of the file is not managed (Azure then retries at the sync interval)
    if after.retry_interval_seconds is not None and before.retry_interval_seconds != after.retry_interval_seconds:
        fields.append(FieldDiff("retryInterval", before.retry_interval_seconds, after.retry_interval_seconds))
        change = replace(change, retry_interval_seconds=after.retry_interval_seconds)
    if before.substitute != after.substitute:
        fields.append(FieldDiff("substitute", before.substitute, after.substitute))
        blocked.append(
            f"'substitute' of kustomization '{name}' can only be set when it is created: rename the kustomization "
            "(the plan then adds the new one and removes the old)"
        )
    if not fields:
        return KustomizationDiff(Action.UNCHANGED, name), None
    touched = change if change != KustomizationChange(name=name) else None
    return KustomizationDiff(Action.UPDATE, name, tuple(fields), tuple(blocked)), touched
