"""The fleet snapshot: every Flux configuration's state in one compact JSON document, with when it was taken.

A worker reads the configurations of every cluster in bulk (``FluxIndex.configurations``, one Resource Graph
query per page) on a beat schedule and publishes this snapshot; the web process's status page reads it, so a
page view never calls ARM. Only what the page shows is kept, and nothing secret: protected settings never come
back from ARM, and an error message is passed through the redactor (ARM's messages may quote a source URL).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Literal

from pydantic import BaseModel, ConfigDict

from bot.models import FluxConfigState
from bot.redact import redact

#: an error message longer than this is cut (the page shows a line, not a stack)
ERROR_CHARS = 300


class ConfigRow(BaseModel):
    """One configuration on one cluster, as the page shows it."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    cluster_id: str
    name: str
    compliance: str | None = None
    provisioning: str | None = None
    #: ``sourceSyncedCommitId`` as ARM reports it: ``branch/sha`` (or ``sha256:...`` for OCI)
    revision: str | None = None
    source_updated_at: str | None = None
    status_updated_at: str | None = None
    error: str | None = None


class FleetSnapshot(BaseModel):
    """Every configuration fluxops could read, taken at ``taken_at`` (epoch seconds)."""

    model_config = ConfigDict(extra="ignore", frozen=True)

    version: Literal[1] = 1
    taken_at: float
    configurations: tuple[ConfigRow, ...] = ()

    def to_json(self) -> str:
        return self.model_dump_json(exclude_defaults=False)

    @classmethod
    def from_json(cls, text: str | bytes) -> FleetSnapshot:
        """The snapshot ``to_json`` wrote; ValueError when ``text`` is not one."""
        return cls.model_validate_json(text)

    def of_cluster(self, cluster_id: str) -> list[ConfigRow]:
        """One cluster's rows (a scan: for many clusters, ``by_cluster`` once)."""
        return self.by_cluster().get(cluster_id.lower(), [])

    def by_cluster(self) -> dict[str, list[ConfigRow]]:
        """``{cluster id (lowercase): its rows, in snapshot order}``, in one pass over the rows."""
        grouped: dict[str, list[ConfigRow]] = {}
        for row in self.configurations:
            grouped.setdefault(row.cluster_id.lower(), []).append(row)
        return grouped


def row_of(state: FluxConfigState, name: str | None = None) -> ConfigRow:
    """The page's row of one configuration (``name`` when the spec is not one fluxops models)."""
    error = redact(state.error_message)[:ERROR_CHARS] if state.error_message else None
    return ConfigRow(
        cluster_id=state.cluster.arm_id,
        name=state.name or name or "",
        compliance=state.compliance_state,
        provisioning=state.provisioning_state,
        revision=state.source_synced_commit,
        source_updated_at=state.source_updated_at,
        status_updated_at=state.status_updated_at,
        error=error,
    )


def take_snapshot(states: Iterable[FluxConfigState], taken_at: float) -> FleetSnapshot:
    """The snapshot of ``states`` (sorted by cluster then name, so two snapshots of one fleet compare equal)."""
    rows = sorted((row_of(s) for s in states), key=lambda r: (r.cluster_id.casefold(), r.name.casefold()))
    return FleetSnapshot(taken_at=taken_at, configurations=tuple(rows))
