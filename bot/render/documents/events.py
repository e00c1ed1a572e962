"""The documents of Flux events: ``/flux events`` (a table like ``flux events``), and the few Warnings that say
why a Non-Compliant result failed."""

from __future__ import annotations

from datetime import datetime

from bot.cluster_objects import FluxEvent
from bot.models import arm_time
from bot.render import wording as w
from bot.render.document import Block, Code, Column, Inline, Items, Line, Mark, Status, Table, Text, strong
from bot.render.documents.parts import name, row_message
from bot.views import EventList

_WARNING = Mark("sign", "warning")

EVENT_COLUMNS = (
    Column("", joiner=""),
    Column("Last seen", joiner=" "),
    Column("Type", in_line=False),
    Column("Reason", key=True),
    Column("Object"),
    Column("Message", joiner=" — "),
)


def _moment(text: str) -> datetime | None:
    """An event time; one written without a zone is UTC (Kubernetes writes UTC)."""
    return arm_time(text)


def age(last_seen: str, as_of: str) -> str:
    """How long before ``as_of`` an event was last seen, as kubectl and flux write it: ``45s``, ``3m``,
    ``2h``, ``4d`` (the time itself when either cannot be read)."""
    seen, now = _moment(last_seen), _moment(as_of)
    if seen is None or now is None:
        return w.timestamp(last_seen) or "?"
    seconds = max(0, int((now - seen).total_seconds()))
    for unit, size in (("d", 86_400), ("h", 3600), ("m", 60)):
        if seconds >= size:
            return f"{seconds // size}{unit}"
    return f"{seconds}s"


def object_name(event: FluxEvent) -> str:
    """``Kustomization/cluster-config-apps``, as ``flux events`` names an object."""
    return name(f"{event.involved.kind}/{event.involved.name}")


def _message(event: FluxEvent) -> Line:
    message: list[Inline] = [Text(row_message(event.message))]
    if event.count > 1:
        message.append(f" ({event.count} times)")
    return tuple(message)


def _row(event: FluxEvent, as_of: str) -> tuple[Line, ...]:
    warning = event.type == "Warning"
    return (
        (_WARNING,) if warning else (),
        (age(event.last_seen, as_of),),
        (Text(event.type),),
        (Text(name(event.reason)),),
        (Code(object_name(event)),),
        _message(event),
    )


def event_list_blocks(listing: EventList) -> list[Block]:
    """``/flux events``: one row per event, oldest first (the newest last, as ``flux events`` prints them)."""
    if not listing.events:
        return [Status((strong("Flux events"), " · none"))]
    warnings = sum(1 for e in listing.events if e.type == "Warning")
    tally = f"{w.plural(warnings, 'warning')}" if warnings else "no warnings"
    title: Line = (strong("Flux events"), f" · {len(listing.events)}: {tally}")
    blocks: list[Block] = [Table(title, EVENT_COLUMNS, tuple(_row(e, listing.as_of) for e in listing.events), "events")]
    if listing.more:
        blocks.append(
            Status(
                (
                    Mark("sign", "note"),
                    f" {listing.more} more, older — narrow with ",
                    Code("--kind"),
                    " or ",
                    Code("--since"),
                )
            )
        )
    return blocks


def failure_event_blocks(listing: EventList) -> list[Block]:
    """Why it failed: the failing objects' Warnings (reason, message, count, when), or why they could not be read."""
    if listing.problem:
        return [Status((Mark("sign", "unknown"), " ", Text(listing.problem)))]
    if not listing.events:
        return [Status((strong("Flux events"), " · no warnings about the failing objects"))]
    items = tuple(
        (
            _WARNING,
            " ",
            Code(object_name(e)),
            " ",
            strong(name(e.reason)),
            f" · {w.plural(e.count, 'time')}, last {age(e.last_seen, listing.as_of)} ago — ",
            Text(row_message(e.message)),
        )
        for e in listing.events
    )
    return [Items((strong("Flux events"), f" · why it failed: {len(items)}"), items, "events")]
