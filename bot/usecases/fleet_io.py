"""How a fleet run touches Azure: each operation written (accepted, not followed), and the state of many
operations read at once — one bulk read per configuration name (Resource Graph) when the index is there, else
one read per cluster (small fleets, in-memory fakes)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from bot import errors
from bot.commands import CredentialRefs
from bot.fleet import CreateConfig, DeleteConfig, InstallExtension, Operation, UpdateConfig, UpdateExtension
from bot.key_records import KeyUser
from bot.models import ExtensionState, FluxConfigState
from bot.rollout.goals import Observed
from bot.rollout.plan import operation_key
from bot.scopes import scope_url
from bot.usecases.configs import protected_settings, with_known_hosts
from bot.usecases.context import JobPorts
from bot.usecases.key_provisioning import record_credential_uses

#: with fewer operations to look at than this, one read per cluster costs less than a bulk query
BULK_FROM = 4
#: a bulk read names the clusters it asks about when there are at most this many (they are part of the query;
#: past it, every configuration of the name comes back, as many rows as the fleet)
NAMED_UP_TO = 100


def write(ports: JobPorts, op: Operation, *, credentials: CredentialRefs | None = None) -> None:
    """Send ``op`` to ARM; returns once ARM accepted it. ``credentials`` are the secrets an update hands over,
    read only now (never while planning, never saved)."""
    if isinstance(op, InstallExtension):
        if ports.extensions.find_flux(op.cluster) is not None:  # installed since the plan: never reset it
            return
        ports.extensions.submit_create(op.cluster, op.spec)
    elif isinstance(op, UpdateExtension):
        ports.extensions.submit_update(op.cluster, op.name, op.patch)
    elif isinstance(op, CreateConfig):
        protected = protected_settings(ports.keys.credentials, op.credentials)
        spec = with_known_hosts(op.spec, ports.keys.credentials, op.credentials)
        ports.flux.submit_create_or_update(op.cluster, spec, protected)
        user = KeyUser(op.cluster.arm_id, op.spec.name, op.label)
        record_credential_uses(ports.keys, op.credentials, user, scope_url(op.spec.source))
    elif isinstance(op, UpdateConfig):
        patch = op.patch
        if credentials is not None and not credentials.is_empty():
            patch = replace(patch, protected=protected_settings(ports.keys.credentials, credentials))
        ports.flux.submit_update(op.cluster, op.name, patch)
    else:
        ports.flux.submit_delete(op.cluster, op.name)


def config_name(op: CreateConfig | UpdateConfig | DeleteConfig) -> str:
    return op.spec.name if isinstance(op, CreateConfig) else op.name


def observe(ports: JobPorts, ops: Sequence[Operation], *, bulk: bool = True) -> dict[str, Observed]:
    """What ARM reports for each operation's resource, by operation key (None: the resource is not there).
    ``bulk=False`` reads each cluster exactly (what a crash left half-written: the bulk index may lag)."""
    configs = [op for op in ops if isinstance(op, CreateConfig | UpdateConfig | DeleteConfig)]
    extensions = [op for op in ops if isinstance(op, InstallExtension | UpdateExtension)]
    found: dict[str, Observed] = {}
    index = ports.fleet.index
    if bulk and index is not None and len(ops) >= BULK_FROM:
        by_config: dict[tuple[str, str], FluxConfigState] = {}
        for name in sorted({config_name(op).lower() for op in configs}):
            on = [op.cluster for op in configs if config_name(op).lower() == name]
            for state in index.configurations(name=name, clusters=on if len(on) <= NAMED_UP_TO else ()):
                by_config[(state.cluster.arm_id.lower(), state.name.lower())] = state
        for op in configs:
            found[operation_key(op)] = by_config.get((op.cluster.arm_id.lower(), config_name(op).lower()))
        if extensions:
            by_cluster: dict[str, ExtensionState] = {e.cluster.arm_id.lower(): e for e in index.extensions()}
            for ext in extensions:
                found[operation_key(ext)] = by_cluster.get(ext.cluster.arm_id.lower())
        return found
    for op in configs:
        try:
            found[operation_key(op)] = ports.flux.get(op.cluster, config_name(op))
        except errors.NotFound:
            found[operation_key(op)] = None
    for ext in extensions:
        found[operation_key(ext)] = ports.extensions.find_flux(ext.cluster)
    return found
