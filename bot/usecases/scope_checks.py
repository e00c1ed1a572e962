"""Credentials and deploy keys go only where the policy scopes them, checked in the job before any write.

The rules (``bot.scopes``, ``credentials:`` and ``deploy_keys:`` of FLUXOPS_CONFIG):

- a credential (``--https-key-ref`` / ``--ssh-private-key-ref``, a fleet file's ``httpsKeyRef``, and the
  bucket, Azure Blob and OCI secrets) is handed to a configuration only when the policy lists it and its
  ``repositories`` and ``clusters`` cover the configuration's source and cluster, and never over a non-TLS
  (``http://``) URL; a bucket's or a blob container's source is ``ENDPOINT/BUCKET`` (``scope_url``);
- a CA certificate or known_hosts reference is checked the same way, and must also be a credential the policy
  marks ``public: true``: ARM returns those fields on a GET, so any other credential named there would leak;
- ``--deploy-key generate`` only for repositories under ``deploy_keys.repositories``;
- changing the URL of a configuration that holds a credential or a deploy key needs the credential stated
  again (``--https-key-ref REF`` or ``--deploy-key generate``), which then passes the same checks: ARM keeps
  protected settings across a PATCH, so without this a token would follow the URL wherever it points.

Every refusal is written to the audit log (``audit_refusal``) before it is raised as ``Forbidden``.
"""

from __future__ import annotations

from bot import errors
from bot.commands import ClusterTarget, ConfigUpdate, CredentialRefs
from bot.fleet import CreateConfig, ScopeCheck, UpdateConfig
from bot.fleet.source_diff import CREDENTIAL_KEYS
from bot.flux_patch import patched_source
from bot.key_records import HTTPS_KEY, KeyUser
from bot.models import (
    AzureBlobSource,
    BucketSource,
    Cluster,
    ClusterRef,
    FluxConfigPatch,
    FluxConfigState,
    GitSource,
)
from bot.policy import Policy
from bot.scopes import carries_secrets_in_clear, moves_source, repository_name, scope_url
from bot.usecases.context import Job, JobPorts, ResolvedCluster
from bot.usecases.refusals import audit_refusal

_ASK = "ask a fluxops admin"


def refuse(job: Job, where: ResolvedCluster | str, message: str, recommendation: str) -> errors.Forbidden:
    """Audit the refusal of this job and return the error to raise."""
    label = where if isinstance(where, str) else where.label
    audit_refusal(job.ports.audit, job.record, message, cluster=label)
    return errors.Forbidden(message, recommendation=recommendation)


def _shown(url: str) -> str:
    return repository_name(url) or url


#: ``CredentialRefs`` fields whose material ARM returns on a GET (``sshKnownHosts``, ``httpsCACert``,
#: ``tlsConfig.caCertificate``), with the flag that names each: only a credential the policy marks
#: ``public: true`` fills them
PUBLIC_ROLES = {
    "known_hosts": "--known-hosts-ref",
    "https_ca_cert": "--https-ca-cert",
    "tls_ca_cert": "--tls-ca-cert-ref",
}


def given_refs(refs: CredentialRefs) -> list[tuple[str, str]]:
    """Every credential a command names, as (``CredentialRefs`` field, reference): each one is scope-checked."""
    return [(name, ref) for name, ref in refs.__dict__.items() if ref]


def secret_refs(refs: CredentialRefs) -> list[str]:
    """The credentials a command hands to Azure as secrets (not known_hosts or a CA certificate): what restates
    a secret when a source moves, and what fluxops records as held (``record_credential_uses``)."""
    return [ref for name, ref in given_refs(refs) if name not in PUBLIC_ROLES]


def credential_problem(
    policy: Policy, ref: str, url: str, cluster: Cluster, alias: str | None, role: str = HTTPS_KEY
) -> tuple[str, str] | None:
    """(what is wrong, what to do) when credential ``ref`` may not go to ``url`` on ``cluster`` as ``role``
    (the ``CredentialRefs`` field it fills); else None."""
    label = alias or cluster.ref.name
    if carries_secrets_in_clear(url):
        return (
            f"credential '{ref}' would be sent to {url} without TLS: a credential never goes over http://",
            f"use the repository's https:// URL (`-u https://{url.split('://', 1)[-1]}`)",
        )
    entry = policy.credential(ref)
    if entry is None:
        return (
            f"fluxops holds no credential named '{ref}' (the policy's `credentials:` does not declare it)",
            f"{_ASK} to declare it under `credentials:` in FLUXOPS_CONFIG with its repositories and clusters",
        )
    flag = PUBLIC_ROLES.get(role)
    if flag is not None and not entry.public:
        return (
            f"credential '{ref}' is not declared public, and {flag} puts it where anyone who may read the "
            "configuration in Azure sees it: only a CA certificate or known_hosts the policy marks `public: true` "
            "goes there",
            f"name the certificate's own credential, or {_ASK} to declare it with `public: true` if it is one",
        )
    name = _shown(url)
    if not entry.serves_repository(url):
        scoped = ", ".join(entry.repositories or ())
        return (
            f"credential '{ref}' may not be used for {name}: the policy scopes it to {scoped}",
            f"use a credential scoped to {name}, or {_ASK} to add it to `credentials.{ref}.repositories`",
        )
    if not entry.serves_cluster(cluster, alias):
        return (
            f"credential '{ref}' may not be used on cluster '{label}': its `clusters` selector does not cover it",
            f"use a credential scoped to {label}, or {_ASK} to widen `credentials.{ref}.clusters`",
        )
    return None


def check_credentials(job: Job, refs: CredentialRefs, url: str, where: ResolvedCluster) -> None:
    """Refuse (audited) unless every credential in ``refs`` may serve ``url`` on ``where``, whatever field it
    fills (a CA certificate too: any credential named there would otherwise leave in a field Azure returns)."""
    for role, ref in given_refs(refs):
        problem = credential_problem(job.ports.policy, ref, url, where.cluster, where.alias, role)
        if problem is not None:
            raise refuse(job, where, *problem)


def check_deploy_key_repository(job: Job, url: str, where: ResolvedCluster) -> None:
    """Refuse (audited) `--deploy-key generate` for a repository ``deploy_keys.repositories`` does not list."""
    if job.ports.keys.policy.may_key(url):
        return
    name = _shown(url)
    raise refuse(
        job,
        where,
        f"fluxops may not register deploy keys on {name}: `deploy_keys.repositories` in the policy does not list it",
        f"{_ASK} to add it under `deploy_keys.repositories` in FLUXOPS_CONFIG",
    )


def recorded_secret(ports: JobPorts, where: ResolvedCluster, name: str) -> str | None:
    """The deploy key or credential fluxops recorded handing configuration ``name``, if any."""
    cluster_id = where.cluster.ref.arm_id
    keys = ports.keys.registry
    if keys is None:
        return None
    record = keys.for_config(cluster_id, name)
    if record is not None:
        return f"deploy key {record.key_id}"
    user = KeyUser(cluster_id, name)
    return next(
        (f"credential '{ref}'" for ref in ports.policy.credential_names() if keys.credential_use(ref).used_by(user)),
        None,
    )


def held_secret(ports: JobPorts, where: ResolvedCluster, name: str, state: FluxConfigState | None) -> str | None:
    """What secret configuration ``name`` holds, as far as fluxops can tell (ARM never returns protected
    settings): a deploy key or credential fluxops recorded handing it, or an HTTPS user (ARM requires a
    token with it). None when it holds none that fluxops knows of."""
    recorded = recorded_secret(ports, where, name)
    if recorded is not None:
        return recorded
    source = state.spec.source if state is not None and state.spec is not None else None
    if isinstance(source, GitSource) and source.https_user:
        return f"an HTTPS token (user '{source.https_user}')"
    # an access key ID or a service principal goes with its secret (ARM returns neither secret)
    if isinstance(source, BucketSource) and source.access_key and not source.local_auth_ref:
        return f"a secret key (access key ID '{source.access_key}')"
    if isinstance(source, AzureBlobSource) and source.sp_client_id and not source.local_auth_ref:
        return f"a service principal's secret or certificate (client ID '{source.sp_client_id}')"
    return None


def current_url(state: FluxConfigState | None) -> str | None:
    source = state.spec.source if state is not None and state.spec is not None else None
    return source.url if isinstance(source, GitSource) else None


def new_scope_url(patch: FluxConfigPatch, state: FluxConfigState | None) -> str | None:
    """What a credential given with ``patch`` is scoped against (``scope_url``) once ``state`` is patched."""
    source = state.spec.source if state is not None and state.spec is not None else None
    if source is None or isinstance(source, GitSource):
        return patch.url or current_url(state)
    return scope_url(patched_source(source, patch))


def _refuse_moving_secret(job: Job, where: ResolvedCluster, name: str, state: FluxConfigState, url: str) -> None:
    held = held_secret(job.ports, where, name, state)
    if held is not None:
        raise refuse(
            job,
            where,
            f"flux configuration '{name}' holds {held}, which would follow the new source to {_shown(url)}",
            "state the credential for the new source in the same command (a credential scoped to it): "
            + _RESTATE.get(state.source_kind, _RESTATE["GitRepository"]),
        )


#: how each kind's secret is stated again, by ARM sourceKind
_RESTATE = {
    "GitRepository": "`--https-user USER --https-key-ref REF` or, for SSH, `--deploy-key generate`",
    "Bucket": "`--secret-key-ref REF`",
    "AzureBlob": "`--sp-client-secret-ref REF` or `--sp-client-cert-ref REF`",
}


def check_update(job: Job, command: ConfigUpdate, where: ResolvedCluster) -> FluxConfigState | None:
    """`config update`: credentials given go only where scoped (to the new URL, or the current one), and a new
    URL for a configuration holding a secret needs that secret stated again. Returns the state it read."""
    refs = command.credentials
    url = command.patch.url
    if not moves_source(command.patch) and not given_refs(refs):
        return None
    state = job.ports.flux.get(where.cluster.ref, command.name)
    source = state.spec.source if state.spec is not None else None
    if source is not None and not isinstance(source, GitSource):
        url = scope_url(patched_source(source, command.patch))
        if url != scope_url(source) and not secret_refs(refs):
            _refuse_moving_secret(job, where, command.name, state, url)
    elif url is None:
        url = current_url(state)
        if url is None:
            raise refuse(
                job,
                where,
                f"flux configuration '{command.name}' has no git URL fluxops can check a credential against",
                "give the URL with `-u URL` along with the credential",
            )
    elif url != current_url(state) and not secret_refs(refs) and not command.generate_deploy_key:
        _refuse_moving_secret(job, where, command.name, state, url)
    check_credentials(job, refs, url, where)
    if command.generate_deploy_key:
        check_deploy_key_repository(job, url, where)
    return state


# -- fleet files (httpsKeyRef) ----------------------------------------------------------------------

_FLEET_MOVE = (
    "a fleet file cannot hand a credential over again when the URL changes: remove the configuration from the "
    "file (it is deleted), then declare it anew with a credential scoped to the new repository"
)


def fleet_scope(ports: JobPorts) -> ScopeCheck:
    """The plan-time check of a fleet file's credentials (``make_plan(scope=...)``): (key, problem) or None."""

    def check(cluster: ClusterRef, name: str, url: str, refs: CredentialRefs, moving: bool) -> tuple[str, str] | None:
        where = ports.clusters.resolve(ClusterTarget(cluster.arm_id))
        if moving:
            # an update never carries protected settings: whatever the configuration holds follows the URL
            held = held_secret(ports, where, name, ports.flux.get(cluster, name))
            return (
                None if held is None else ("url", f"'{name}' holds {held}, which would follow the URL — {_FLEET_MOVE}")
            )
        for key, attr in CREDENTIAL_KEYS:
            ref = getattr(refs, attr)
            if not ref:
                continue
            problem = credential_problem(ports.policy, ref, url, where.cluster, where.alias, attr)
            if problem is not None:
                return key, f"{problem[0]} — {problem[1]}"
        return None

    return check


def check_fleet_operation(job: Job, op: object, where: ResolvedCluster | None) -> None:
    """Apply time: the same rules again for one operation of a plan (refused and audited), for every source kind:
    a create's credentials against its source (``ENDPOINT/BUCKET`` for a bucket or blob container), and an
    update that moves the source (a new URL, bucket or container) only when the configuration holds no secret."""
    if where is None:
        return
    if isinstance(op, CreateConfig):
        check_credentials(job, op.credentials, scope_url(op.spec.source), where)
    elif isinstance(op, UpdateConfig):
        if not moves_source(op.patch):
            return
        state = job.ports.flux.get(where.cluster.ref, op.name)
        if state.spec is None:
            return
        before, after = scope_url(state.spec.source), scope_url(patched_source(state.spec.source, op.patch))
        held = held_secret(job.ports, where, op.name, state)
        if held is not None and after != before:
            raise refuse(
                job,
                where,
                f"flux configuration '{op.name}' holds {held}, which would follow the source to {_shown(after)}",
                _FLEET_MOVE,
            )
