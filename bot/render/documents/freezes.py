"""The document of `/flux freezes`: the change freezes and deployment windows on now or coming up."""

from __future__ import annotations

from collections.abc import Sequence

from bot.render import wording as w
from bot.render.document import Block, Code, Column, Line, Mark, Status, Table, Text, strong
from bot.render.documents.parts import ROW_MESSAGE_CHARS, name
from bot.render.wording import one_line
from bot.views import FreezeRow

FREEZE_COLUMNS = (
    Column("Kind", joiner="", key=True),
    Column("State"),
    Column("From", joiner=" · from "),
    Column("Until", joiner=" · until "),
    Column("Clusters", joiner=" · on "),
    Column("Why"),
)
#: clusters a row names before "and N more"
_NAMED = 5


def freeze_blocks(rows: Sequence[FreezeRow]) -> list[Block]:
    """Freezes (no changes while on) and windows (changes only while open), earliest first."""
    if not rows:
        return [Status((strong("Freezes and windows"), " · none on now or in the next 30 days"))]
    table = tuple(_row(row) for row in rows)
    return [Table((strong("Freezes and windows"), f" · {len(rows)}"), FREEZE_COLUMNS, table, "entries")]


def _row(row: FreezeRow) -> tuple[Line, ...]:
    if row.kind == "freeze":
        state = (
            Mark("result", "refused" if row.active else "upcoming"),
            " ",
            Text("on now" if row.active else "upcoming"),
        )
    else:
        state = Mark("result", "succeeded" if row.active else "upcoming"), " ", Text("open" if row.active else "next")
    named = ", ".join(name(c) for c in row.clusters[:_NAMED])
    more = f" and {len(row.clusters) - _NAMED} more" if len(row.clusters) > _NAMED else ""
    return (
        (Text(row.kind),),
        state,
        (Code(w.timestamp(row.start) or row.start),),
        (Code(w.timestamp(row.end) or row.end),),
        (Text(named + more),) if row.clusters else (),
        (Text(w.clip(one_line(row.reason), ROW_MESSAGE_CHARS)),),
    )
