"""Deploy keys fluxops provisions: `config create ... --deploy-key generate`, and `/flux key status`.

A generated key is an Ed25519 pair made in the worker. Its public half becomes a read-only deploy key on
the GitHub repository; its private half goes to Azure only in ``configurationProtectedSettings`` and is
otherwise held sealed by the key registry (to give the same key to the next configuration reading that
repository, and to roll a rotation back). Every step is recorded before the next begins, so a job that
dies midway finds the key it made instead of making another.
"""

from __future__ import annotations

import base64
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, replace
from functools import partial

from bot import errors
from bot.commands import CredentialRefs, KeyStatus, Role
from bot.git_capabilities import deploy_keys
from bot.gitevents import GITHUB, RepoRef
from bot.key_records import ACTIVE, PENDING, CredentialUse, DeployKeyRecord, KeyUser, key_id_for
from bot.models import FluxConfigSpec, GitSource, ProtectedSettings, Secret
from bot.ports import DeployKeys, KeyMaker, KeyRegistry
from bot.repo_urls import parse_repo_url, repo_key
from bot.usecases.context import Job, KeyPorts, ResolvedCluster
from bot.usecases.scope_checks import PUBLIC_ROLES, given_refs
from bot.views import Phase

#: the longest title GitHub shows in full in a repository's deploy key list
_TITLE_MAX = 80
_DAY = 86_400


@dataclass(frozen=True)
class KeyRepository:
    """The repository a key is registered on, as the Git host and the configurations name it."""

    url: str  # as the configuration's source names it
    host: str  # "github.com"
    full_name: str  # "org/repo", case as typed
    port: int | None = None

    @property
    def ref(self) -> RepoRef:
        return RepoRef(provider=GITHUB, full_name=self.full_name, url=f"https://{self.host}/{self.full_name}")

    def matches(self, record: DeployKeyRecord) -> bool:
        return repo_key(record.host, record.full_name) == repo_key(self.host, self.full_name)


def key_repository(url: str) -> KeyRepository:
    """The GitHub repository an SSH source URL names; InvalidRequest for anything fluxops cannot key."""
    parsed = parse_repo_url(url)
    if parsed is None or parsed[0] != "ssh":
        raise errors.InvalidRequest(
            f"'{url}' is not an SSH repository URL, so it takes no deploy key",
            recommendation="use ssh://git@github.com/ORG/REPO with `--deploy-key generate`",
        )
    _, host, path = parsed
    if repo_key(host, path)[0] == "dev.azure.com":
        raise errors.InvalidRequest(
            "Azure DevOps has no per-repository deploy keys and no API to add SSH keys",
            recommendation="use HTTPS with a credential fluxops holds (`--https-user USER --https-key-ref REF`, "
            "rotated with `/flux key rotate --https-key-ref REF`) or `--provider azure` (workload identity)",
        )
    bare_host, _, port = host.partition(":")
    if not _github_host(bare_host):
        raise errors.InvalidRequest(
            f"fluxops registers deploy keys on GitHub, and {bare_host} is not GitHub",
            recommendation="give a key fluxops holds with `--ssh-private-key-ref REF` (registered on that host "
            "by you), or use HTTPS with `--https-user USER --https-key-ref REF`",
        )
    return KeyRepository(url=url, host=bare_host, full_name=path, port=int(port) if port.isdigit() else None)


def _github_host(host: str) -> bool:
    """github.com, or a GitHub Enterprise host (``github.example.com``, ``example.ghe.com``)."""
    name = host.lower()
    return name == "github.com" or name.endswith(".ghe.com") or name.split(".")[0] == "github"


def github_keys(job: Job, repo: KeyRepository) -> DeployKeys:
    """GitHub's deploy keys, where fluxops registers the keys it makes for ``repo``."""
    return deploy_keys(job.ports.git.host(GITHUB), f"managing the deploy keys of {repo.full_name}")


def registry(job: Job) -> tuple[KeyRegistry, KeyMaker]:
    keys, maker = job.ports.keys.registry, job.ports.keys.maker
    if keys is None or maker is None:
        raise errors.ConfigurationError(
            "fluxops cannot hold deploy keys: FLUXOPS_KEY_ENCRYPTION_KEY is not set in the worker",
            recommendation="set it to a Fernet key (see the README, 'Deploy keys'), restart the workers, and try again",
        )
    return keys, maker


def key_title(users: tuple[KeyUser, ...] | list[KeyUser]) -> str:
    """ "fluxops: cluster-config on flux-demo-arc" (+ how many more when several configurations share it)."""
    first = users[0].shown() if users else "unused"
    more = f" (+{len(users) - 1} more)" if len(users) > 1 else ""
    title = f"fluxops: {first}{more}"
    return title if len(title) <= _TITLE_MAX else title[: _TITLE_MAX - 1] + "…"


def known_hosts(host: DeployKeys, repo: KeyRepository) -> str:
    """base64 of the known_hosts lines for the repository's SSH host, as ARM's sshKnownHosts takes it."""
    keys = host.ssh_host_keys()
    if not keys:
        raise errors.OperationFailed(
            f"{repo.host} published no SSH host keys, so fluxops cannot pin the host for Flux",
            recommendation="try again later, or pass `--known-hosts-ref REF` with a known_hosts file fluxops holds",
        )
    name = repo.host if repo.port in (None, 22) else f"[{repo.host}]:{repo.port}"
    text = "".join(f"{name} {key.strip()}\n" for key in keys)
    return base64.b64encode(text.encode()).decode()


def make_key(job: Job, repo: KeyRepository, key_id: str, users: tuple[KeyUser, ...]) -> DeployKeyRecord:
    """Generate (once) and register (once) key ``key_id`` on ``repo``: a pending record with its GitHub id.

    Resumable: the pending record (public half) is saved before the private half is sealed, and the
    GitHub registration is idempotent, so a job that died anywhere in here carries on with the same key.
    """
    keys, maker = registry(job)
    host = github_keys(job, repo)
    record = keys.get(key_id)
    if record is None or (record.github_key_id is None and keys.unseal(key_id) is None):
        generated = maker.generate()
        record = DeployKeyRecord(
            key_id=key_id,
            repository=repo.url,
            host=repo.host,
            full_name=repo.full_name,
            fingerprint=generated.fingerprint,
            public_key=generated.public_key,
            created_at=job.ports.pace.wall_clock(),
            state=PENDING,
        )
        keys.save(record)
        keys.seal(key_id, generated.private_key)
    if record.github_key_id is None:
        github_id = host.add_deploy_key(repo.ref, key_title(users), record.public_key)
        registered = replace(record, github_key_id=github_id)
        # atomically: users another job recorded on the key meanwhile are kept
        record = keys.update(key_id, lambda current: replace(current, github_key_id=github_id), default=registered)
        assert record is not None  # a default was given
    return record


def private_half(job: Job, record: DeployKeyRecord) -> Secret:
    keys, _ = registry(job)
    secret = keys.unseal(record.key_id)
    if secret is None:
        raise errors.OperationFailed(
            f"the private half of deploy key {record.key_id} is no longer held by fluxops",
            recommendation=f"rotate it: `/flux key rotate --key {record.key_id}` makes a new one",
        )
    return secret


@dataclass(frozen=True)
class PreparedKey:
    spec: FluxConfigSpec | None  # a create's spec with the host pinned; None for an update
    protected: ProtectedSettings
    record: DeployKeyRecord
    reused: bool


def _may_serve(record: DeployKeyRecord, cluster_id: str, shared: bool) -> bool:
    """Whether key ``record`` may be given to a configuration on ``cluster_id``: one key per (repository,
    cluster) unless the policy lets the repository's key be shared."""
    return shared or all(u.cluster_id.lower() == cluster_id.lower() for u in record.users)


def _choose_key(job: Job, where: ResolvedCluster, repo: KeyRepository) -> str:
    keys, _ = registry(job)
    shared = job.ports.keys.policy.may_share(repo.url)
    cluster_id = where.cluster.ref.arm_id
    reusable = [
        r
        for r in keys.for_repository(repo.host, repo.full_name)
        if r.state == ACTIVE and _may_serve(r, cluster_id, shared) and keys.unseal(r.key_id)
    ]
    return reusable[-1].key_id if reusable else key_id_for(job.job_id, "create")


@contextmanager
def holding_key(job: Job, where: ResolvedCluster, url: str) -> Iterator[str]:
    """Choose the key a configuration of ``url`` on ``where`` gets, and hold its ``deploy-key/<id>`` lock (the
    one a rotation of that key holds) until the block ends: a configuration cannot adopt a key a rotation is
    replacing, and a rotation cannot start while a configuration is being given the key. Busy while a
    rotation runs; the job retries and chooses again (the key it would have had may be gone by then)."""
    repo = key_repository(url)
    keys, _ = registry(job)
    chosen = job.ports.jobs.get(job.job_id, "dk:key")
    for _ in range(3):
        key_id = chosen or _choose_key(job, where, repo)
        with job.ports.locks.hold(f"deploy-key/{key_id}", job.job_id):
            record = keys.get(key_id)
            own = key_id == key_id_for(job.job_id, "create")
            if chosen is None and not own and (record is None or record.state != ACTIVE):
                continue  # rotated away between the choice and the lock: choose again
            job.ports.jobs.put(job.job_id, "dk:key", key_id)
            yield key_id
            return
    raise errors.Busy(
        f"the deploy keys of {repo.full_name} keep changing (a rotation is running)",
        holder="a deploy key rotation",
        recommendation="fluxops tries again shortly",
        retry_after=10,
    )


def _key_for(job: Job, repo: KeyRepository, key_id: str, user: KeyUser) -> tuple[DeployKeyRecord, bool]:
    """The record of ``key_id``, made and registered now unless it is an active key already: (record, reused)."""
    keys, _ = registry(job)
    existing = keys.get(key_id)
    # the key this job made is not "reused" once it is in use: a resumed job says it made it, as before
    reused = key_id != key_id_for(job.job_id, "create") and existing is not None and existing.state == ACTIVE
    text = f"make a deploy key for {repo.full_name}"
    if reused and existing is not None:
        job.finish_step(text, f"use deploy key {existing.key_id} ({existing.fingerprint}), already on {repo.full_name}")
        return existing, True
    job.step(text)
    record = make_key(job, repo, key_id, (user,))
    job.finish_step(
        text,
        f"registered read-only deploy key {record.key_id} ({record.fingerprint}) on {repo.full_name}",
    )
    return record, False


def prepare_for_create(job: Job, where: ResolvedCluster, spec: FluxConfigSpec, key_id: str) -> PreparedKey:
    """The key ``key_id`` (from ``holding_key``) for a new configuration, its source pinned to the host's keys."""
    source = spec.source
    assert isinstance(source, GitSource)
    repo = key_repository(source.url)
    user = KeyUser(where.cluster.ref.arm_id, spec.name, where.label)
    # the host keys first: a host that publishes none is refused before a key is registered
    pinned = GitSource(**{**source.__dict__, "ssh_known_hosts": known_hosts(github_keys(job, repo), repo)})
    record, reused = _key_for(job, repo, key_id, user)
    return PreparedKey(
        spec=replace(spec, source=pinned),
        protected=ProtectedSettings(ssh_private_key=private_half(job, record)),
        record=record,
        reused=reused,
    )


def prepare_for_update(job: Job, where: ResolvedCluster, name: str, url: str, key_id: str) -> PreparedKey:
    """The key ``key_id`` for configuration ``name`` moving to ``url`` (`config update -u URL --deploy-key
    generate`); ``spec`` of the result is None (the update patches only the URL and the key)."""
    repo = key_repository(url)
    record, reused = _key_for(job, repo, key_id, KeyUser(where.cluster.ref.arm_id, name, where.label))
    return PreparedKey(
        spec=None,
        protected=ProtectedSettings(ssh_private_key=private_half(job, record)),
        record=record,
        reused=reused,
    )


def adopt(job: Job, record: DeployKeyRecord, where: ResolvedCluster, name: str) -> None:
    """Configuration ``name`` was written with key ``record``: record it as a user (the key becomes active),
    and take it off the key it used before, if fluxops gave it another."""
    keys, _ = registry(job)
    user = KeyUser(where.cluster.ref.arm_id, name, where.label)
    before = keys.for_config(user.cluster_id, user.config)
    keys.update(record.key_id, lambda current: replace(current.with_user(user), state=ACTIVE), default=record)
    if before is not None and before.key_id != record.key_id:
        keys.update(before.key_id, lambda current: current.without_user(user))


def abandon(job: Job, prepared: PreparedKey) -> None:
    """The create failed for good: a key made for it (and used by nothing) is revoked and forgotten."""
    keys, _ = registry(job)
    record = keys.get(prepared.record.key_id)
    if record is None or record.users or prepared.reused:
        return
    if record.github_key_id is not None:
        repo = key_repository(record.repository)
        github_keys(job, repo).remove_deploy_key(repo.ref, record.github_key_id)
    keys.delete(record.key_id)


def forget_user(job: Job, where: ResolvedCluster, name: str) -> None:
    """The configuration was deleted: the key and the credentials fluxops gave it no longer count it as a user
    (a configuration created later under the same name holds none of them)."""
    keys = job.ports.keys.registry
    if keys is None:
        return
    user = KeyUser(where.cluster.ref.arm_id, name)
    record = keys.for_config(user.cluster_id, name)
    if record is not None:
        keys.update(record.key_id, lambda current: current.without_user(user))
    for ref in job.ports.policy.credential_names():
        if any(u.key == user.key for u in keys.credential_use(ref).users):
            keys.update_credential_use(ref, lambda use: use.without_user(user))


# -- /flux key status -----------------------------------------------------------------------------


def age_text(seconds: float) -> str:
    if seconds < 3600:
        return f"{max(int(seconds // 60), 0)} min"
    if seconds < 2 * _DAY:
        return f"{int(seconds // 3600)} h"
    return f"{int(seconds // _DAY)} d"


def next_rotation(job: Job, record: DeployKeyRecord) -> str:
    max_age = job.ports.keys.policy.max_age_seconds
    if max_age is None:
        return "no scheduled rotation (set `deploy_keys.max_age` in the policy file)"
    due = record.created_at + max_age - job.ports.pace.wall_clock()
    return "rotation due now" if due <= 0 else f"next rotation in {age_text(due)}"


def key_status(job: Job, command: KeyStatus, where: ResolvedCluster | None) -> None:
    keys, _ = registry(job)
    # only keys used on clusters the person asking may see, and only those uses
    identity = job.identity
    admin = identity is None or job.ports.policy.role_anywhere(identity) is Role.ADMIN
    records = []
    for record in keys.all():
        seen = tuple(u for u in record.users if job.may_see_named(u.cluster_id))
        if seen or (not record.users and admin):  # a key no configuration uses yet: admins see it
            records.append(replace(record, users=seen))
    scope = ""
    if where is not None:
        cluster_id = where.cluster.ref.arm_id.lower()
        wanted = command.name.lower() if command.name else None

        def used_here(user: KeyUser) -> bool:
            return user.cluster_id.lower() == cluster_id and wanted in (None, user.config.lower())

        records = [r for r in records if any(used_here(u) for u in r.users)]
        scope = f" {command.name} on {where.label}" if command.name else f" on {where.label}"
    if not records:
        job.show(phase=Phase.SUCCEEDED, note=f"fluxops made no deploy key used{scope or ' anywhere'}.")
        return
    now = job.ports.pace.wall_clock()
    lines = []
    for record in records:
        users = ", ".join(u.shown() for u in record.users) or "no configuration"
        state = "" if record.state == ACTIVE else f" ({record.state})"
        lines.append(
            f"• `{record.key_id}`{state} {record.host}/{record.full_name} · {record.fingerprint} · "
            f"{age_text(now - record.created_at)} old · used by {users} · {next_rotation(job, record)}"
        )
    job.show(phase=Phase.SUCCEEDED, note="\n".join(lines))


# -- HTTPS credentials handed out (what `/flux key rotate --https-key-ref REF` re-hands) ------------


def record_credential_uses(keys: KeyPorts, refs: CredentialRefs, user: KeyUser, url: str | None) -> None:
    """A configuration was given the secret credentials of ``refs`` for ``url`` (its ``scope_url``): remember each
    and what it was given as (ARM never says: this is how fluxops knows the configuration holds a secret, and
    how a rotation finds it), and seal the value handed out so a later rotation can tell whether it changed and
    roll a failed one back. CA certificates and known_hosts are public: not held secrets, not recorded."""
    registry = keys.registry
    if registry is None:
        return
    roles: dict[str, str] = {}
    for role, ref in given_refs(refs):
        if role not in PUBLIC_ROLES:
            roles.setdefault(ref, role)
    for ref, role in roles.items():
        registry.update_credential_use(ref, partial(_used_as, user=user, url=url, role=role))
        if registry.unseal(f"cred:{ref}") is None:
            registry.seal(f"cred:{ref}", keys.credentials.get(ref))


def _used_as(use: CredentialUse, *, user: KeyUser, url: str | None, role: str) -> CredentialUse:
    return use.with_user(user, url, role)
