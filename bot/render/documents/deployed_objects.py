"""The documents of ``deployed-object list|show``: the Flux objects a configuration deployed, as Azure reports
them (its ``statuses``): a table of every object, or one object in full with its conditions and HelmRelease."""

from __future__ import annotations

from bot.models import HelmReleaseInfo, ObjectStatus
from bot.render import wording as w
from bot.render.document import Block, Code, Column, Fields, Line, Mark, Status, Subheading, Table, Text, strong
from bot.render.documents.parts import name, row_message, state, where
from bot.views import DeployedObjects

LIST_COLUMNS = (
    Column("", joiner=""),
    Column("Kind", joiner=" ", key=True),
    Column("Name", joiner=" "),
    Column("Namespace", joiner=" in "),
    Column("Compliance"),
    Column("Applied by", joiner=" · applied by "),
)
CONDITION_COLUMNS = (
    Column("Type", joiner="• ", key=True),
    Column("Status", joiner=" "),
    Column("Reason", joiner=" · "),
    Column("Since", joiner=" · since "),
    Column("Message", joiner=" — "),
)


def deployed_object_blocks(deployed: DeployedObjects) -> list[Block]:
    """Every object of the configuration (``list``), or the one asked for in full (``show``)."""
    heading = Subheading("Deployed objects", (Code(name(deployed.config)), " on ", *where(deployed.cluster)))
    if deployed.detail and deployed.objects:
        return [heading, *_object_in_full(deployed.objects[0])]
    if not deployed.objects:
        return [heading, Status((strong("Objects"), " · none reported yet"))]
    tally = w.tally(w.object_state(obj) for obj in deployed.objects)
    title = (strong("Objects"), f" · {len(deployed.objects)}: {tally}")
    return [heading, Table(title, LIST_COLUMNS, tuple(_row(obj) for obj in deployed.objects), "objects")]


def _mark(obj: ObjectStatus) -> Mark:
    return Mark("sign", "failed") if w.is_failing(obj) else Mark("state", w.object_state(obj))


def _row(obj: ObjectStatus) -> tuple[Line, ...]:
    return (
        (_mark(obj),),
        (Text(obj.kind or "?"),),
        (Code(name(obj.name)),),
        (Code(name(obj.namespace)),) if obj.namespace else ("no namespace",),
        (Text(w.object_state(obj)),),
        (Code(name(obj.applied_by)),) if obj.applied_by else ("not reported",),
    )


def _object_in_full(obj: ObjectStatus) -> list[Block]:
    fields: list[tuple[str, Line]] = [
        ("Kind", (Text(obj.kind or "?"),)),
        ("Name", (Code(name(obj.name)),)),
        ("Namespace", (Code(name(obj.namespace)),) if obj.namespace else ("no namespace",)),
        ("Compliance", state(w.object_state(obj))),
        ("Applied by", (Code(name(obj.applied_by)),) if obj.applied_by else ("not reported",)),
    ]
    if obj.helm_release is not None:
        fields += _helm_fields(obj.helm_release)
    blocks: list[Block] = [Fields(tuple(fields))]
    if not obj.conditions:
        return [*blocks, Status((strong("Conditions"), " · none reported"))]
    rows = tuple(
        (
            (Text(c.type),),
            (Text(c.status),),
            (Text(c.reason),) if c.reason else (),
            (Text(w.timestamp(c.last_transition_time) or ""),) if c.last_transition_time else (),
            (Text(row_message(c.message)),) if c.message else (),
        )
        for c in obj.conditions
    )
    return [*blocks, Table((strong("Conditions"), f" · {len(obj.conditions)}"), CONDITION_COLUMNS, rows, "conditions")]


def _helm_fields(helm: HelmReleaseInfo) -> list[tuple[str, Line]]:
    chart: Line = (Code(name(helm.chart_name)),) if helm.chart_name else ("not reported",)
    if helm.chart_name and helm.chart_namespace:
        chart += (" from namespace ", Code(name(helm.chart_namespace)))
    revision = helm.last_revision_applied
    failures = helm.failure_count or 0
    return [
        ("Helm chart", chart),
        ("Revision applied", (str(revision),) if revision is not None else ("none yet",)),
        ("Failures", (w.plural(failures, "failure"),)),
    ]
