"""The documents of watch alerts (bot.alert_views): the alert message, and the replies in its thread.

The alert reads like an incident: what broke and where in the heading, since when and the last change in its
fields, then each failing object with Flux's message, then the newest Flux events (where fluxops reaches the
cluster). Resolved, the same message keeps the heading and says so (and why, when it is not that the
configuration is healthy again: it was deleted, or the channel stopped watching it); the thread gets a short reply.
"""

from __future__ import annotations

from datetime import UTC, datetime

from bot.alert_views import AlertReply, AlertView, Ending, ReplyKind
from bot.render import wording as w
from bot.render.document import (
    Block,
    Code,
    Document,
    Fields,
    Items,
    Line,
    Mark,
    Paragraph,
    Person,
    Status,
    Text,
    strong,
)
from bot.render.documents.parts import name, row_message, state

FIRING = Mark("sign", "failed")
RESOLVED = Mark("result", "succeeded")
REMINDER = Mark("sign", "warning")
#: failing objects and event lines shown; the rest are counted
SHOWN = 10
#: why a resolved alert ended, when it is not health: said in the alert and in its thread
WHY_ENDED = {
    Ending.HEALTHY: "",
    Ending.DELETED: "the configuration was deleted",
    Ending.UNWATCHED: "this channel no longer watches it",
}


def moment(epoch: float) -> str:
    """``2026-12-03 18:04 UTC``."""
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%d %H:%M UTC")


def duration(seconds: float) -> str:
    """``45s``, ``12m``, ``3h 20m``, ``2d 4h``."""
    seconds = max(0, int(seconds))
    days, rest = divmod(seconds, 86_400)
    hours, rest = divmod(rest, 3600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{days}d {hours}h" if hours else f"{days}d"
    if hours:
        return f"{hours}h {minutes}m" if minutes else f"{hours}h"
    return f"{minutes}m" if minutes else f"{secs}s"


def alert_title(view: AlertView) -> str:
    word = "Resolved" if view.resolved_at is not None else "Alert"
    return f"{word}: {name(view.config)} on {name(view.cluster)}"


def alert_document(view: AlertView) -> Document:
    resolved = view.resolved_at is not None
    blocks: list[Block] = []
    if resolved:
        assert view.resolved_at is not None
        lasted = duration(view.resolved_at - view.since)
        why = WHY_ENDED[view.ending]
        blocks.append(
            Status(
                (
                    RESOLVED,
                    " ",
                    strong("Resolved"),
                    f" after {lasted}{f': {why}' if why else ''} · was: ",
                    Text(view.headline),
                )
            )
        )
    else:
        blocks.append(Status((FIRING, " ", strong("Broken"), " · ", Text(view.headline))))
    fields: list[tuple[str, Line]] = [("Since", (f"{moment(view.since)} ({duration(view.as_of - view.since)} ago)",))]
    if view.compliance:
        fields.append(("Compliance", state(view.compliance)))
    if view.revision:
        fields.append(("Revision", (Code(w.short_revision(view.revision)),)))
    if view.change is not None:
        change = view.change
        fields.append(
            (
                "Last change",
                (Text(row_message(change.summary)), " by ", Person(change.actor), f" at {moment(change.at)}"),
            )
        )
    blocks.append(Fields(tuple(fields)))
    if not resolved:
        if view.detail:
            blocks.append(Paragraph(Text(w.clip(view.detail, 1500)), lead=(strong("Azure reports"), ": ")))
        if view.objects:
            items = tuple(
                (
                    strong(f"{o.kind} {name(o.namespace)}/{name(o.name)}"),
                    *((" ", Code(o.reason)) if o.reason else ()),
                    ": ",
                    Text(row_message(o.message)),
                )
                for o in view.objects[:SHOWN]
            )
            blocks.append(Items((strong("Failing objects"),), items + _more(len(view.objects), "objects"), "objects"))
        if view.events:
            lines = tuple((Text(row_message(line)),) for line in view.events[-SHOWN:])
            blocks.append(Items((strong("Flux events"),), lines + _more(len(view.events), "events"), "events"))
        elif view.events_problem:
            blocks.append(Status((Mark("sign", "unknown"), " ", Text(view.events_problem))))
    command = Code(f"/flux status {name(view.config)} -c {name(view.cluster)}")
    blocks.append(
        Status(
            (
                f"as of {moment(view.as_of)} · ",
                command,
                " shows more",
            )
        )
    )
    return Document(
        mark=RESOLVED if resolved else FIRING,
        title=alert_title(view),
        blocks=tuple(blocks),
        summary=f"{alert_title(view)}: {view.headline}",
    )


def _more(count: int, noun: str) -> tuple[Line, ...]:
    return ((f"… and {count - SHOWN} more {noun}",),) if count > SHOWN else ()


def reply_document(reply: AlertReply) -> Document:
    """A reply in the alert's thread: still broken (a reminder), or resolved."""
    if reply.kind is ReplyKind.RESOLVED:
        where = f"{name(reply.config)} on {name(reply.cluster)}"
        what = {
            Ending.HEALTHY: f"{where} is healthy again",
            Ending.DELETED: f"{where} was deleted",
            Ending.UNWATCHED: f"this channel no longer watches {where}",
        }[reply.ending]
        line: Line = (
            RESOLVED,
            " ",
            strong("Resolved"),
            f" after {duration(reply.at - reply.since)}: {what}.",
        )
    else:
        line = (
            REMINDER,
            " ",
            strong("Still broken"),
            f" for {duration(reply.at - reply.since)}: ",
            Text(reply.headline),
        )
    return Document(
        mark=None, title="", blocks=(Status(line),), summary=f"{reply.kind.value}: {reply.config} on {reply.cluster}"
    )
