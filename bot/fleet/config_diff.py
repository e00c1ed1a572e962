"""The diff of one Flux configuration: created, updated field by field (with the merge patch that does it) or
deleted; and its kustomizations. What Azure or fluxops cannot change in place is ``blocked``, with what to do."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from bot.commands import CredentialRefs
from bot.fleet.diff import Action, ConfigChange, FieldDiff, KustomizationDiff
from bot.models import FluxConfigPatch, FluxConfigSpec, FluxConfigState, GitSource, Kustomization, KustomizationChange

_RECREATE = (
    "give the configuration a new name (the plan then creates it and deletes '{name}'), or remove it in one "
    "pull request and add it back in the next"
)


def create_diff(spec: FluxConfigSpec, refs: CredentialRefs) -> ConfigChange:
    source = spec.source
    fields = [FieldDiff("namespace", None, spec.namespace), FieldDiff("scope", None, spec.scope)]
    if spec.suspend:
        fields.append(FieldDiff("suspend", None, True))
    if isinstance(source, GitSource):
        fields += [
            FieldDiff("source.url", None, source.url),
            FieldDiff("source.ref", None, source.ref),
            FieldDiff("source.interval", None, source.sync_interval_seconds),
            FieldDiff("source.timeout", None, source.timeout_seconds),
        ]
        optional = (
            ("source.provider", source.provider),
            ("source.httpsUser", source.https_user),
            ("source.httpsKeyRef", refs.https_key),
            ("source.sshPrivateKeyRef", refs.ssh_private_key),
            ("source.knownHostsRef", refs.known_hosts),
            ("source.localAuthRef", source.local_auth_ref),
        )
        fields += [FieldDiff(path, None, value) for path, value in optional if value]
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
    if have is None or not isinstance(have.source, GitSource) or not isinstance(spec.source, GitSource):
        kind = have.source.kind if have is not None else state.source_kind
        return ConfigChange(
            Action.UPDATE,
            name,
            (FieldDiff("source.kind", kind, GitSource.kind),),
            blocked=(
                f"'{name}' on the cluster follows a {kind} source, and fleet files declare git "
                f"sources only: {_RECREATE.format(name=name)}",
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
                + _RECREATE.format(name=name)
            )
    if have.suspend != spec.suspend:
        fields.append(FieldDiff("suspend", have.suspend, spec.suspend))
        patch = replace(patch, suspend=spec.suspend)

    old_src, new_src = have.source, spec.source
    if old_src.url != new_src.url:
        fields.append(FieldDiff("source.url", old_src.url, new_src.url))
        patch = replace(patch, url=new_src.url)
    if old_src.ref != new_src.ref:
        fields.append(FieldDiff("source.ref", old_src.ref, new_src.ref))
        patch = replace(patch, ref=new_src.ref)
    if old_src.sync_interval_seconds != new_src.sync_interval_seconds:
        fields.append(FieldDiff("source.interval", old_src.sync_interval_seconds, new_src.sync_interval_seconds))
        patch = replace(patch, sync_interval_seconds=new_src.sync_interval_seconds)
    if old_src.timeout_seconds != new_src.timeout_seconds:
        fields.append(FieldDiff("source.timeout", old_src.timeout_seconds, new_src.timeout_seconds))
        patch = replace(patch, timeout_seconds=new_src.timeout_seconds)
    if (old_src.https_user or None) != (new_src.https_user or None):
        fields.append(FieldDiff("source.httpsUser", old_src.https_user or None, new_src.https_user))
        if new_src.https_user:
            patch = replace(patch, https_user=new_src.https_user)
        else:
            blocked.append("'source.httpsUser' cannot be removed in place: " + _RECREATE.format(name=name))
    if _provider(old_src.provider) != _provider(new_src.provider):
        fields.append(FieldDiff("source.provider", old_src.provider or "Generic", new_src.provider or "Generic"))
        blocked.append("fluxops cannot change 'source.provider' in place: " + _RECREATE.format(name=name))
    if (old_src.local_auth_ref or None) != (new_src.local_auth_ref or None):
        fields.append(FieldDiff("source.localAuthRef", old_src.local_auth_ref or None, new_src.local_auth_ref))
        blocked.append("fluxops cannot change 'source.localAuthRef' in place: " + _RECREATE.format(name=name))

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
                    "configuration is created: " + _RECREATE.format(name="the configuration"),
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


def _provider(value: str | None) -> str:
    """The source provider as compared: Azure's default is Generic, and the case does not matter."""
    return (value or "Generic").lower()
