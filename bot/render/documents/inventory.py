"""The documents of the cluster inventory (``/flux clusters``) and the audit log (``/flux audit``)."""

from __future__ import annotations

from collections.abc import Sequence

from bot.render import wording as w
from bot.render.document import Block, Code, Column, Inline, Line, Mark, Person, Status, Table, Text, strong
from bot.render.documents.parts import ROW_MESSAGE_CHARS, name
from bot.render.wording import one_line
from bot.views import AuditEntry, ClusterRow

CLUSTER_COLUMNS = (
    Column("Cluster", joiner="", key=True),
    Column("Name"),
    Column("Kind"),
    Column("Resource group", joiner=" · resource group "),
    Column("Location"),
    Column("Flux", joiner=" · flux "),
    Column("Tags"),
)

AUDIT_COLUMNS = (
    Column("Time", joiner=""),
    Column("Who"),
    Column("Command"),
    Column("Cluster"),
    Column("Result"),
    Column("Job", joiner=" · job "),
)


def cluster_blocks(rows: Sequence[ClusterRow]) -> list[Block]:
    """The clusters a person may see: alias (or name), full name, kind, resource group, location, flux, tags."""
    if not rows:
        return [Status((strong("Clusters"), " · none match"))]
    table = tuple(_cluster_row(row) for row in rows)
    return [Table((strong("Clusters"), f" · {len(rows)}"), CLUSTER_COLUMNS, table, "clusters")]


def _cluster_row(row: ClusterRow) -> tuple[Line, ...]:
    ref = row.cluster.ref
    aliased = bool(row.alias) and row.alias != ref.name
    tags: list[Inline] = []
    for index, (key, value) in enumerate(sorted(row.cluster.tags.items())):
        tags += [", ", Text(f"{key}={value}")] if index else [Text(f"{key}={value}")]
    return (
        (Text(name(row.alias if aliased else ref.name)),),
        (Code(name(ref.name)),) if aliased else (),
        (w.cluster_kind(ref),),
        (Code(name(ref.resource_group)),),
        (Text(name(row.cluster.location)),),
        (Text(name(row.flux_version)),) if row.flux_version else (),
        tuple(tags),
    )


def audit_blocks(entries: Sequence[AuditEntry]) -> list[Block]:
    """Who did what, where, with what result, newest last."""
    if not entries:
        return [Status((strong("Audit log"), " · nothing in this period"))]
    count = "1 entry" if len(entries) == 1 else f"{len(entries)} entries"
    table = tuple(_audit_row(entry) for entry in entries)
    return [Table((strong("Audit log"), f" · {count}"), AUDIT_COLUMNS, table, "entries")]


def _audit_row(entry: AuditEntry) -> tuple[Line, ...]:
    result = entry.result.split(":", 1)[0].strip().lower()
    return (
        (Code(w.timestamp(entry.time) or entry.time),),
        (Person(entry.actor),),
        (Code(w.clip(one_line(entry.command), ROW_MESSAGE_CHARS)),),
        (Text(name(entry.cluster)),),
        (Mark("result", result), " ", Text(w.clip(one_line(entry.result), ROW_MESSAGE_CHARS))),
        (Code(name(entry.job_id)),),
    )
