"""A neutral document: what a view says, built once (``bot.render.documents``), before any platform's markup.

A document is a heading and a sequence of blocks (fields, items, tables, paragraphs, status lines…);
a block's text is made of ``Line``\\ s of inline pieces. A plain ``str`` piece is the bot's own words
and punctuation, emitted as it is; everything else says what it is (untrusted ``Text``, a ``Code``
span, a ``Person``, a state ``Mark``…) and each backend (``bot.render.slack``,
``bot.render.markdown``) renders it with its one escaper. Nothing here knows a platform's markup.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from bot.views import Step

# ---------------------------------------------------------------------------------------------
# Inline pieces
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Text:
    """Text a person typed or a Git host, Azure or Flux reported: escaped, secrets masked. May hold newlines."""

    value: str


@dataclass(frozen=True)
class Code:
    """An inline code span (names, paths, revisions, commands), on one line."""

    value: str


@dataclass(frozen=True)
class Strong:
    """Emphasized pieces: a label ("Flux objects") or the key cell of a row."""

    parts: Line


@dataclass(frozen=True)
class Mark:
    """A state or sign shown as an emoji: ``Mark("phase", "succeeded")``, ``Mark("sign", "warning")``.

    Families: ``phase`` (a ``Phase`` value), ``state`` (a compliance or provisioning state), ``trace``
    (a ``TraceState`` value), ``result`` (an audit result word), ``sign`` (``unknown``, ``warning``,
    ``failed``, ``focus``, ``note``, ``people``).
    """

    family: str
    key: str


@dataclass(frozen=True)
class Person:
    """Who asked or acted (``U123``, ``slack:U123``, ``github:octocat``): a mention where the platform has them."""

    actor: str


@dataclass(frozen=True)
class Url:
    """A URL from a configuration (secrets masked): a link where the platform allows it, else code."""

    value: str


@dataclass(frozen=True)
class CommitLink:
    """A short commit id shown as code, linked to ``url`` when that is a safe web link."""

    sha: str
    url: str


@dataclass(frozen=True)
class Rich:
    """Text the bot wrote that may quote a person (help, notes, steps, recommendations).

    Its `code` spans are kept; ``bold``: its Slack-style ``*bold*`` is bold everywhere; ``mentions``:
    people the bot named itself (``bot.views.mention``) are mentioned.
    """

    value: str
    bold: bool = False
    mentions: bool = False


Inline = str | Text | Code | Strong | Mark | Person | Url | CommitLink | Rich
Line = tuple[Inline, ...]


def strong(label: str) -> Strong:
    """The bot's own ``label`` emphasized."""
    return Strong((label,))


# ---------------------------------------------------------------------------------------------
# Blocks
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Byline:
    """The status line under a heading: phase, who asked, the job."""

    line: Line


@dataclass(frozen=True)
class Status:
    """One line on its own: a state, a count, "none reported yet"."""

    line: Line


@dataclass(frozen=True)
class Quote:
    """A quoted line from outside, such as a commit subject."""

    text: Text


@dataclass(frozen=True)
class Paragraph:
    """A multi-line ``body``, ``lead`` before its first line ("⚠️ Azure reports: …")."""

    body: Text | Rich
    lead: Line = ()


@dataclass(frozen=True)
class Subheading:
    """The title of a section: ``label`` emphasized, then ``rest`` ("Flux configuration `apps` on …")."""

    label: str
    rest: Line


@dataclass(frozen=True)
class Fields:
    """Labelled values, in order: ("Compliance", ✅ Compliant), ("Source revision", none yet)."""

    fields: tuple[tuple[str, Line], ...]


@dataclass(frozen=True)
class Items:
    """A list under an optional ``title``; ``noun`` names its items when a platform must leave some out."""

    title: Line | None
    items: tuple[Line, ...]
    noun: str


@dataclass(frozen=True)
class Column:
    """A table column; ``joiner`` is what comes before its cell when a row reads as one line."""

    header: str
    joiner: str = " · "
    #: the row's key: emphasized when a row reads as one line
    key: bool = False
    #: False when the cell is not worth repeating in a one-line row (the same on every row)
    in_line: bool = True


@dataclass(frozen=True)
class Table:
    """Rows of cells under ``title``; a platform without tables shows each row as one line (``row_line``)."""

    title: Line
    columns: tuple[Column, ...]
    rows: tuple[tuple[Line, ...], ...]
    noun: str


@dataclass(frozen=True)
class Problem:
    """An error as a person reads it: what was happening, what went wrong, what to do, its code."""

    mark: Mark
    doing: str
    message: str
    recommendation: str = ""
    code: str = ""


@dataclass(frozen=True)
class Checklist:
    """What a job did, step by step."""

    steps: tuple[Step, ...]


@dataclass(frozen=True)
class Confirmation:
    """The choice a staged destructive job waits for: confirm (``label``), approve, or cancel."""

    job_id: str
    digest: str
    label: str
    approver: str
    approvals_required: int
    approval_ttl: int


@dataclass(frozen=True)
class Divider:
    """The start of a new part of the view."""


Block = (
    Byline
    | Status
    | Quote
    | Paragraph
    | Subheading
    | Fields
    | Items
    | Table
    | Problem
    | Checklist
    | Confirmation
    | Divider
)


@dataclass(frozen=True)
class Document:
    """One view, neutral: its heading (none for a plain text), its blocks, and a one-line summary.

    ``summary`` is plain text for notifications; ``ending`` (a push's headline) closes every summary.
    ``metadata`` is ``(job_id, phase, terminal)`` for a job or push, None for a plain text.
    """

    mark: Mark | None
    title: str
    blocks: tuple[Block, ...]
    summary: str
    job_id: str = ""
    ending: str = ""
    metadata: tuple[str, str, bool] | None = field(default=None)


def row_line(columns: Sequence[Column], row: Sequence[Line]) -> Line:
    """A table row as one line: each non-empty cell after its column's joiner, the key cell emphasized."""
    out: list[Inline | Line] = []
    for column, cell in zip(columns, row, strict=True):
        if not cell or not column.in_line:
            continue
        if out or column.joiner.strip():
            out.append(column.joiner)
        out.append(Strong(cell) if column.key else cell)
    return tuple(_flatten(out))


def _flatten(pieces: Sequence[Inline | Line]) -> list[Inline]:
    flat: list[Inline] = []
    for piece in pieces:
        if isinstance(piece, tuple):
            flat.extend(piece)
        else:
            flat.append(piece)
    return flat
