"""Flux configuration use-cases: create, update, delete, suspend, resume, and kustomizations."""

from __future__ import annotations

import base64
from contextlib import ExitStack
from dataclasses import replace

from bot import errors, flux_patch
from bot.commands import (
    ConfigCreate,
    ConfigDelete,
    ConfigUpdate,
    CredentialRefs,
    KustomizationCreate,
    KustomizationDelete,
    KustomizationUpdate,
    Resume,
    Suspend,
)
from bot.key_records import KeyUser
from bot.models import (
    ClusterRef,
    Compliance,
    ExtensionSpec,
    FluxConfigPatch,
    FluxConfigSpec,
    FluxConfigState,
    GitSource,
    KustomizationChange,
    ProtectedSettings,
    Provisioning,
)
from bot.ports import Credentials
from bot.repo_urls import parse_repo_url
from bot.scopes import scope_url
from bot.usecases import key_provisioning, no_wait, scope_checks
from bot.usecases.context import Job, ResolvedCluster
from bot.usecases.reconciliation import watch_reconciliation
from bot.views import ConfirmView, Phase, mention

#: CredentialRefs field -> the ProtectedSettings field its secret fills (known_hosts goes into the spec)
_SECRET_OF_REF = {
    "https_key": "https_key",
    "ssh_private_key": "ssh_private_key",
    "secret_key": "bucket_secret_key",
    "account_key": "account_key",
    "sas_token": "sas_token",
    "sp_client_secret": "sp_client_secret",
    "sp_client_cert": "sp_client_certificate",
    "sp_client_cert_password": "sp_client_certificate_password",
    "https_ca_cert": "https_ca_cert",
    "tls_client_cert": "tls_client_certificate",
    "tls_private_key": "tls_private_key",
    "tls_ca_cert": "tls_ca_certificate",
}
#: ARM sourceKind -> the ``--kind`` that names it
_KIND_WORDS = {"GitRepository": "git", "Bucket": "bucket", "AzureBlob": "azblob", "OCIRepository": "oci"}


def no_kustomization(config: str, name: str, label: str) -> errors.NotFound:
    return errors.NotFound(
        f"flux configuration '{config}' has no kustomization '{name}'",
        recommendation=f"`/flux kustomization list --config {config} -c {label}` shows them",
    )


def lock_key(cluster: ClusterRef, name: str) -> str:
    return f"{cluster.arm_id.lower()}/{name.lower()}"


def protected_settings(credentials: Credentials, refs: CredentialRefs) -> ProtectedSettings | None:
    """Secrets come from the credentials fluxops holds, by name; never from the command text."""
    secrets = {field: credentials.get(ref) for name, field in _SECRET_OF_REF.items() if (ref := getattr(refs, name))}
    settings = ProtectedSettings(**secrets)
    return None if settings.is_empty() else settings


def for_source_kind(job: Job, where: ResolvedCluster, name: str, patch: FluxConfigPatch) -> FluxConfigPatch:
    """``patch`` aimed at the source block of the configuration's own kind (read from ARM), refused when it
    changes a field that kind does not have (``--bucket-name`` for a git configuration)."""
    if replace(patch, kustomizations=(), suspend=None) == FluxConfigPatch():
        return patch
    state = job.ports.flux.get(where.cluster.ref, name)
    wrong = flux_patch.misfits(patch, state.source_kind)
    if wrong:
        kind = _KIND_WORDS.get(state.source_kind, state.source_kind)
        raise errors.InvalidRequest(
            f"flux configuration '{name}' on cluster '{where.label}' reads a `{kind}` source, which has no "
            + ", ".join(f"`{flag}`" for flag in wrong),
            recommendation=f"change only what a `{kind}` source takes (`/flux help config update`); to change the "
            "kind, delete the configuration and create it again",
        )
    return replace(patch, source_kind=state.source_kind)


def with_known_hosts(spec: FluxConfigSpec, credentials: Credentials, refs: CredentialRefs) -> FluxConfigSpec:
    if not refs.known_hosts or not isinstance(spec.source, GitSource):
        return spec
    known_hosts = credentials.get(refs.known_hosts).reveal()
    encoded = base64.b64encode(known_hosts.encode()).decode()
    source = GitSource(**{**spec.source.__dict__, "ssh_known_hosts": encoded})
    return FluxConfigSpec(**{**spec.__dict__, "source": source})


def ensure_extension(job: Job, cluster: ClusterRef, label: str) -> None:
    """Install microsoft.flux when the cluster has none, as `az k8s-configuration flux create` does."""
    if job.done("extension"):
        return
    extensions = job.ports.extensions
    started = job.ports.jobs.get(job.job_id, "token:extension") is not None
    existing = None if started else extensions.find_flux(cluster)
    if existing is not None:
        if existing.provisioning_state in ("Creating", "Updating"):
            raise errors.StillRunning(
                f"the microsoft.flux extension on cluster '{label}' is {existing.provisioning_state}",
                recommendation="fluxops carries on when it is ready",
                retry_after=15,
            )
        if existing.provisioning_state != Provisioning.SUCCEEDED:
            raise errors.OperationFailed(
                f"the microsoft.flux extension on cluster '{label}' is {existing.provisioning_state}",
                recommendation=f"see `/flux extension show -c {label}`; fix or reinstall it, then add configurations",
            )
        job.mark_done("extension")
        return
    text = "install the microsoft.flux extension"
    job.step(text)
    job.operation("extension", lambda: extensions.begin_create(cluster, ExtensionSpec()), extensions.resume)
    installed = extensions.find_flux(cluster)
    version = (installed.current_version or installed.version) if installed else None
    job.finish_step(text, f"installed microsoft.flux {version or ''}".strip())


def preflight(job: Job, command: ConfigCreate, where: ResolvedCluster) -> ProtectedSettings | None:
    """Refuse what `config create` may not do, before anything changes in Azure (the extension install included):
    credentials outside their scope, a deploy key for a repository fluxops cannot or may not key, no key registry,
    secret flags fluxops cannot pass. Returns the protected settings the command's credentials make."""
    url = command.spec.source.url
    scope_checks.check_credentials(job, command.credentials, scope_url(command.spec.source), where)
    if command.generate_deploy_key:
        key_provisioning.key_repository(url)
        scope_checks.check_deploy_key_repository(job, url, where)
        key_provisioning.registry(job)
    return protected_settings(job.ports.keys.credentials, command.credentials)


def config_create(job: Job, command: ConfigCreate, where: ResolvedCluster) -> None:
    cluster, label, name = where.cluster.ref, where.label, command.spec.name
    ports = job.ports
    no_wait.refuse_unfollowed(job, where, name, generating=command.generate_deploy_key)
    url = getattr(command.spec.source, "url", "")
    protected = preflight(job, command, where)
    spec = with_known_hosts(command.spec, ports.keys.credentials, command.credentials)
    prepared: key_provisioning.PreparedKey | None = None
    with ExitStack() as held:
        held.enter_context(ports.locks.hold(lock_key(cluster, name), job.job_id))
        job.show(phase=Phase.RUNNING, note="")
        if ports.jobs.get(job.job_id, "checked:absent") is None:
            try:
                ports.flux.get(cluster, name)
            except errors.NotFound:
                ports.jobs.put(job.job_id, "checked:absent", "1")
            else:
                raise errors.InvalidRequest(
                    f"flux configuration '{name}' already exists on cluster '{label}'",
                    recommendation=f"change it with `/flux config update {name} -c {label} ...`",
                )
        if command.install_extension:
            ensure_extension(job, cluster, label)
        if command.generate_deploy_key:
            # held until the key is adopted, so a rotation of that key waits for this configuration
            key_id = held.enter_context(key_provisioning.holding_key(job, where, url))
            prepared = key_provisioning.prepare_for_create(job, where, spec, key_id)
            assert prepared.spec is not None
            spec, protected = prepared.spec, prepared.protected
        text = f"create flux configuration {name}"
        job.step(text)
        try:
            job.operation(
                "write", lambda: ports.flux.begin_create_or_update(cluster, spec, protected), ports.flux.resume
            )
        except errors.FluxopsError as error:
            if prepared is not None and not error.retryable:
                key_provisioning.abandon(job, prepared)
            raise
        if prepared is not None:
            key_provisioning.adopt(job, prepared.record, where, name)
        user = KeyUser(cluster.arm_id, name, label)
        key_provisioning.record_credential_uses(ports.keys, command.credentials, user, scope_url(spec.source))
        job.finish_step(text, _submitted(job, "create") or f"created flux configuration {name} in Azure")
    expect = Compliance.SUSPENDED if spec.suspend else Compliance.COMPLIANT
    watch_reconciliation(job, cluster, name, label, expect=expect)


def _submitted(job: Job, what: str) -> str | None:
    """What a step says it did under ``--no-wait``: Azure took the write, not that it finished (else None)."""
    return f"{what} submitted to Azure (--no-wait)" if job.no_wait is not None else None


def _patch(
    job: Job,
    where: ResolvedCluster,
    name: str,
    patch: FluxConfigPatch,
    text: str,
    *,
    expect: Compliance = Compliance.COMPLIANT,
) -> None:
    cluster, label = where.cluster.ref, where.label
    ports = job.ports
    with ports.locks.hold(lock_key(cluster, name), job.job_id):
        job.show(phase=Phase.RUNNING, note="")
        if patch.suspend is None and expect != Compliance.SUSPENDED and _is_suspended(job, cluster, name):
            expect = Compliance.SUSPENDED  # a suspended configuration stays Suspended whatever else changes
        job.step(text)
        job.operation("write", lambda: ports.flux.begin_update(cluster, name, patch), ports.flux.resume)
        job.finish_step(text)
    watch_reconciliation(job, cluster, name, label, expect=expect)


def _is_suspended(job: Job, cluster: ClusterRef, name: str) -> bool:
    key = "was_suspended"
    saved = job.ports.jobs.get(job.job_id, key)
    if saved is None:
        current = job.ports.flux.get(cluster, name)
        saved = "1" if (current.spec is not None and current.spec.suspend) else "0"
        job.ports.jobs.put(job.job_id, key, saved)
    return saved == "1"


def config_update(job: Job, command: ConfigUpdate, where: ResolvedCluster) -> None:
    no_wait.refuse_unfollowed(job, where, command.name, generating=command.generate_deploy_key)
    state = scope_checks.check_update(job, command, where)
    protected = protected_settings(job.ports.keys.credentials, command.credentials)
    patch = command.patch if protected is None else replace(command.patch, protected=protected)
    patch = for_source_kind(job, where, command.name, patch)
    user = KeyUser(where.cluster.ref.arm_id, command.name, where.label)
    text = f"update flux configuration {command.name}"
    if not command.generate_deploy_key:
        url = scope_checks.new_scope_url(command.patch, state)
        key_provisioning.record_credential_uses(job.ports.keys, command.credentials, user, url)
        _patch(job, where, command.name, patch, text)
        return
    _update_with_new_key(job, command, where, patch, state, text)


def _update_with_new_key(
    job: Job,
    command: ConfigUpdate,
    where: ResolvedCluster,
    patch: FluxConfigPatch,
    state: FluxConfigState | None,
    text: str,
) -> None:
    """`config update NAME -u SSH_URL --deploy-key generate`: the new repository's key, not the old one."""
    cluster, name, url = where.cluster.ref, command.name, command.patch.url
    assert url is not None
    new_repo = key_provisioning.key_repository(url)
    key_provisioning.registry(job)
    old_url = scope_checks.current_url(state)
    old = parse_repo_url(old_url) if old_url else None
    if old is None or old[0] != "ssh" or old[1].split(":")[0] != new_repo.host:
        raise errors.InvalidRequest(
            f"flux configuration '{name}' does not read an SSH repository on {new_repo.host} now, so the host "
            "key pinned for it would not fit",
            recommendation=f"delete it and create it again with `-u {url} --deploy-key generate`",
        )
    ports = job.ports
    with ExitStack() as held:
        held.enter_context(ports.locks.hold(lock_key(cluster, name), job.job_id))
        job.show(phase=Phase.RUNNING, note="")
        key_id = held.enter_context(key_provisioning.holding_key(job, where, url))
        prepared = key_provisioning.prepare_for_update(job, where, name, url, key_id)
        keyed = replace(patch, protected=prepared.protected)
        job.step(text)
        try:
            job.operation("write", lambda: ports.flux.begin_update(cluster, name, keyed), ports.flux.resume)
        except errors.FluxopsError as error:
            if not error.retryable:
                key_provisioning.abandon(job, prepared)
            raise
        key_provisioning.adopt(job, prepared.record, where, name)
        job.finish_step(text)
    watch_reconciliation(job, cluster, name, where.label)


def suspend(job: Job, command: Suspend, where: ResolvedCluster) -> None:
    patch = FluxConfigPatch(suspend=True)
    _patch(job, where, command.name, patch, f"suspend flux configuration {command.name}", expect=Compliance.SUSPENDED)


def resume(job: Job, command: Resume, where: ResolvedCluster) -> None:
    patch = FluxConfigPatch(suspend=False)
    _patch(job, where, command.name, patch, f"resume flux configuration {command.name}")


def kustomization_create(job: Job, command: KustomizationCreate, where: ResolvedCluster) -> None:
    k = command.kustomization
    current = job.ports.flux.get(where.cluster.ref, command.config)
    exists = current.spec is not None and any(x.name == k.name for x in current.spec.kustomizations)
    # A job whose write has begun (a recovered one) finds its own kustomization: not a refusal.
    started = job.done("write") or job.ports.jobs.get(job.job_id, "token:write") is not None
    if exists and not started:
        raise errors.InvalidRequest(
            f"kustomization '{k.name}' already exists in flux configuration '{command.config}'",
            recommendation=f"change it with `/flux kustomization update --config {command.config} -k {k.name} ...`",
        )
    change = KustomizationChange(
        name=k.name,
        path=k.path,
        depends_on=k.depends_on,
        prune=k.prune,
        force=k.force,
        wait=k.wait,
        sync_interval_seconds=k.sync_interval_seconds,
        retry_interval_seconds=k.retry_interval_seconds,
        timeout_seconds=k.timeout_seconds,
        substitute=k.substitute or None,
        substitute_from=k.substitute_from or None,
    )
    patch = FluxConfigPatch(kustomizations=(change,))
    _patch(
        job,
        where,
        command.config,
        patch,
        f"add kustomization {k.name} to {command.config}",
    )


def kustomization_update(job: Job, command: KustomizationUpdate, where: ResolvedCluster) -> None:
    name = command.change.name
    current = job.ports.flux.get(where.cluster.ref, command.config)
    if current.spec and not any(x.name == name for x in current.spec.kustomizations):
        raise no_kustomization(command.config, name, where.label)
    patch = FluxConfigPatch(kustomizations=(command.change,))
    _patch(
        job,
        where,
        command.config,
        patch,
        f"update kustomization {name} of {command.config}",
    )


def _consequences(job: Job, where: ResolvedCluster, config: str, only: str | None = None) -> tuple[str, ...]:
    state = job.ports.flux.get(where.cluster.ref, config)
    if state.spec is None:
        return _unread_consequences(state, config, only, where.label)
    lines: list[str] = []
    kustomizations = state.spec.kustomizations
    if only is not None:
        kustomizations = tuple(k for k in kustomizations if k.name == only)
        if not kustomizations:
            raise no_kustomization(config, only, where.label)
    for k in kustomizations:
        flux_name = f"{config}-{k.name}"
        applied = [f"{o.kind} {o.name}" for o in state.statuses if o.applied_by == flux_name]
        if k.prune:
            removed = ", ".join(applied) if applied else "everything it applied"
            lines.append(f"kustomization {k.name} (prune: true) removes {removed}")
        else:
            lines.append(f"kustomization {k.name} (prune: false) leaves what it applied on the cluster")
    return tuple(lines)


def _unread_consequences(state: FluxConfigState, config: str, only: str | None, label: str) -> tuple[str, ...]:
    """What a delete does to a configuration whose spec fluxops could not read: its kustomizations are known
    only as the agent reports their Flux objects (``<config>-<name>``), their prune setting not at all."""
    names = [obj.name.removeprefix(f"{config}-") for obj in state.statuses if obj.kind == "Kustomization"]
    if only is not None and only not in names:
        raise no_kustomization(config, only, label)
    return tuple(
        f"kustomization {name}: fluxops cannot read the settings of this {state.source_kind} configuration; "
        "if it prunes, it removes what it applied"
        for name in ([only] if only is not None else names)
    )


def _confirm(job: Job, where: ResolvedCluster, summary: str, consequences: tuple[str, ...], label: str) -> None:
    job.confirm(
        ConfirmView(
            job_id=job.job_id,
            actor=job.record.actor,
            title=job.view.title,
            summary=summary,
            consequences=consequences,
            confirm_label=label,
            approver=f"an admin of {where.label}",
        )
    )


def config_delete(job: Job, command: ConfigDelete, where: ResolvedCluster) -> None:
    cluster, label, name = where.cluster.ref, where.label, command.name
    ports = job.ports
    no_wait.refuse_unfollowed(job, where, name, generating=False, deleting=True)
    if not job.record.confirmed_by:
        consequences = _consequences(job, where, name)
        if command.force:
            consequences += ("--force: Azure removes the resource even if the agent cannot clean up",)
        kind = "AKS" if cluster.cluster_type.value == "managedClusters" else "Arc"
        _confirm(job, where, f"Delete flux configuration {name} from {label} ({kind}).", consequences, "Delete")
        return
    with ports.locks.hold(lock_key(cluster, name), job.job_id):
        job.show(phase=Phase.RUNNING, note=f"confirmed by {mention(job.record.confirmed_by)}")
        text = f"delete flux configuration {name}"
        job.step(text)
        job.operation("write", lambda: ports.flux.begin_delete(cluster, name, force=command.force), ports.flux.resume)
        key_provisioning.forget_user(job, where, name)
        job.finish_step(text, _submitted(job, "delete") or f"deleted flux configuration {name}")
    remaining = [c.name for c in ports.flux.list(cluster)]
    job.show(phase=Phase.SUCCEEDED, note=f"configurations left on {label}: {', '.join(remaining) or 'none'}")


def kustomization_delete(job: Job, command: KustomizationDelete, where: ResolvedCluster) -> None:
    if not job.record.confirmed_by:
        consequences = _consequences(job, where, command.config, only=command.name)
        summary = f"Remove kustomization {command.name} from flux configuration {command.config} on {where.label}."
        _confirm(job, where, summary, consequences, "Remove")
        return
    patch = FluxConfigPatch(kustomizations=(KustomizationChange(name=command.name, remove=True),))
    text = f"remove kustomization {command.name} from {command.config}"
    _patch(job, where, command.config, patch, text)
