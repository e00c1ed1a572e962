"""Slack Block Kit blocks, and the composer that cuts a view's blocks into messages within Slack's limits.

A view that does not fit Slack's limits is split at line boundaries, first across section blocks and
then across messages; a table row is never cut, and nothing is left out without saying so.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from bot.render import wording as w
from bot.render.slack_text import code, esc, plain_clip
from bot.render.wording import one_line

# Slack's limits (Block Kit reference: message, header, section, context, text object, button).
MAX_BLOCKS = 50
MAX_SECTION_TEXT = 3000
MAX_FIELDS = 10
MAX_FIELD_TEXT = 2000
MAX_HEADER_TEXT = 150
MAX_CONTEXT_ELEMENTS = 10
MAX_BUTTON_TEXT = 75
MAX_FALLBACK_TEXT = 3000
#: Slack also refuses a message whose blocks hold too much text altogether (``msg_blocks_too_long``
#: at about 12,000 characters; undocumented, see slackapi/bolt-js#2509): each message stays below this.
MAX_MESSAGE_TEXT = 10_000

# Ours, so one field stays readable and a list ends; what is clipped says how much was left out.
FIELD_CHARS = 1000
MAX_ROWS = 500

#: Room kept in every message after the first for the "continued" context block at its top.
_CONTINUATION_CHARS = 250
#: A line longer than this is cut (at a space if it can) so it fits a section next to its table's title.
_LINE_ROOM = 2700
#: A section that starts or ends inside a ``` block gets the fence repeated: 4 characters each side.
_FENCE_ROOM = 8

Block = dict[str, Any]


@dataclass(frozen=True)
class SlackMessage:
    """One ``chat.postMessage`` / ``chat.update``: fallback text, blocks and message metadata."""

    #: what notifications and screen readers show; a summary, at most 3,000 characters, mrkdwn-escaped
    text: str
    blocks: tuple[dict[str, Any], ...]
    #: ``{"event_type": "fluxops_job", "event_payload": {"job_id", "phase", "terminal"}}`` for jobs and
    #: pushes (plus ``part`` / ``parts`` when the view took several messages), None for a TextView
    metadata: dict[str, Any] | None = None


class Composer:
    """Blocks in order, cut into messages that each fit Slack's limits.

    ``block`` adds one block; ``rows`` packs lines into as few sections as fit, carrying a table's
    title ("(continued)") into the next section or message when it must break.
    """

    def __init__(self, heading: str, job_id: str) -> None:
        self._heading = heading  # shown again atop continuation messages
        self._job_id = job_id
        self._messages: list[list[Block]] = [[]]
        self._used = 0  # text characters in the current message

    def _room(self) -> tuple[int, int]:
        """Blocks and text characters still free in the current message."""
        later = len(self._messages) > 1
        blocks = MAX_BLOCKS - (1 if later else 0) - len(self._messages[-1])
        chars = MAX_MESSAGE_TEXT - (_CONTINUATION_CHARS if later else 0) - self._used
        return blocks, chars

    def _fits(self, size: int) -> bool:
        blocks, chars = self._room()
        return blocks >= 1 and size <= chars

    def _next_message(self) -> None:
        if self._messages[-1]:
            self._messages.append([])
            self._used = 0

    def block(self, block: Block) -> None:
        size = _text_size(block)
        if not self._fits(size):
            self._next_message()
            if not self._fits(size):
                raise ValueError(f"a {block.get('type')} block of {size} characters cannot fit any Slack message")
        self._messages[-1].append(block)
        self._used += size

    def rows(self, lines: Sequence[str], title: str | None = None) -> None:
        """Pack ``lines`` into sections (a line is cut only when it alone exceeds a section)."""
        pieces = [piece for line in lines for piece in _cut(line, _LINE_ROOM)]
        emitted = False  # some section of these lines is out already: a title now says "(continued)"
        fence_open = False  # the previous section ended inside a ``` block

        def heading() -> list[str]:
            if title is None:
                return []
            return [f"{title} _(continued)_" if emitted else title]

        def size_of(candidate: list[str]) -> int:
            return len("\n".join(candidate)) + _FENCE_ROOM

        def emit(section: list[str]) -> None:
            nonlocal emitted, fence_open
            text = "\n".join(section)
            starts_open = fence_open
            fence_open = (fence_open + text.count("```")) % 2 == 1
            text = ("```\n" if starts_open else "") + text + ("\n```" if fence_open else "")
            emitted = True
            if text.strip():
                self.block(section_block(text))

        section = heading()
        count = 0
        for piece in pieces:
            candidate = [*section, piece]
            if size_of(candidate) <= MAX_SECTION_TEXT and self._fits(size_of(candidate)):
                section, count = candidate, count + 1
                continue
            if count:
                # Within one message the next section just goes on; only a new message repeats the title.
                emit(section)
                section, count = [], 0
                candidate = [piece]
            if not self._fits(size_of(candidate)):
                self._next_message()
                section = heading()
                candidate = [*section, piece]
            section, count = candidate, 1
        if count or (section and not emitted):
            emit(section)

    def messages(self, summary: str, metadata: dict[str, Any] | None, *, ending: str = "") -> list[SlackMessage]:
        """The messages so far; every fallback text is ``summary``, its part number, then ``ending``."""
        parts = [blocks for blocks in self._messages if blocks] or [[section_block("(empty)")]]
        total = len(parts)
        out = []
        ending = esc(ending)
        summary = _clip_escaped(esc(summary), MAX_FALLBACK_TEXT - 30 - len(ending))
        for number, blocks in enumerate(parts, start=1):
            text = summary if total == 1 else f"{summary} (part {number} of {total})"
            text += ending
            if number > 1:
                where = f"{self._heading} — continued" if self._heading else "Continued"
                job = f" · job `{code(self._job_id)}`" if self._job_id else ""
                note = f"{esc(where)}, part {number} of {total}{job}"
                blocks = [context(note), *blocks]
            meta = None
            if metadata is not None:
                payload = dict(metadata["event_payload"])
                if total > 1:
                    payload |= {"part": number, "parts": total}
                meta = {"event_type": metadata["event_type"], "event_payload": payload}
            out.append(SlackMessage(text=text, blocks=tuple(blocks), metadata=meta))
        return out


def _cut(line: str, room: int) -> list[str]:
    """``line`` in pieces of at most ``room`` characters, at spaces when it can; marked with "…"."""
    pieces: list[str] = []
    rest = line
    while len(rest) > room:
        limit = room - 2
        cut = rest.rfind(" ", limit // 2, limit)
        if cut <= 0:
            cut = _safe_cut(rest, limit)
            if cut < limit // 2:  # a link longer than a section: cutting it beats never ending
                cut = limit
        pieces.append(rest[:cut].rstrip() + " …")
        rest = "… " + rest[cut:].lstrip()
    pieces.append(rest)
    return pieces


def _safe_cut(text: str, limit: int) -> int:
    """A cut at or before ``limit`` that does not split an ``&amp;`` entity or a ``<...>`` link."""
    cut = limit
    amp = text.rfind("&", max(cut - 5, 0), cut)
    if amp > 0 and text.find(";", amp, amp + 6) >= cut:
        cut = amp
    bracket = text.rfind("<", 0, cut)
    if bracket > 0 and text.find(">", bracket, cut) == -1:
        cut = bracket
    return cut


def _clip_escaped(text: str, limit: int = MAX_FALLBACK_TEXT) -> str:
    """Escaped ``text`` shortened to ``limit`` characters without breaking an entity, saying so."""
    if len(text) <= limit:
        return text
    cut = _safe_cut(text, limit - 40)
    return f"{text[:cut].rstrip()} … ({len(text) - cut} more characters)"


def capped(lines: list[str], noun: str) -> list[str]:
    if len(lines) <= MAX_ROWS:
        return lines
    return [*lines[:MAX_ROWS], f"_… and {len(lines) - MAX_ROWS} more {noun}, not shown here_"]


def _text_size(value: Any) -> int:
    """Characters of text in a block, the way Slack counts them against a message (every ``text``)."""
    if isinstance(value, dict):
        return sum(len(v) if k == "text" and isinstance(v, str) else _text_size(v) for k, v in value.items())
    if isinstance(value, list):
        return sum(_text_size(v) for v in value)
    return 0


# ---------------------------------------------------------------------------------------------
# Blocks and text
# ---------------------------------------------------------------------------------------------


def mrkdwn(text: str) -> dict[str, Any]:
    return {"type": "mrkdwn", "text": text, "verbatim": True}


def section_block(text: str) -> Block:
    return {"type": "section", "text": mrkdwn(text)}


def fields(texts: Sequence[str]) -> Block:
    assert len(texts) <= MAX_FIELDS
    clipped = [mrkdwn(_clip_escaped(f, min(FIELD_CHARS, MAX_FIELD_TEXT))) for f in texts]
    return {"type": "section", "fields": clipped}


def context(text: str) -> Block:
    return {"type": "context", "elements": [mrkdwn(text)]}


def divider() -> Block:
    return {"type": "divider"}


def header(text: str) -> Block:
    return {"type": "header", "text": {"type": "plain_text", "text": text, "emoji": True}}


def heading(c: Composer, emoji: str, title: str) -> None:
    """A header block; a title too long for one is shortened there and given whole just below."""
    text = f"{emoji} {w.redact(one_line(title))}"
    c.block(header(plain_clip(text, MAX_HEADER_TEXT)))
    if len(text) > MAX_HEADER_TEXT:
        c.rows([f"*{esc(title)}*"])


def button(text: str, action_id: str, value: str, *, style: str | None = None) -> Block:
    made: Block = {"type": "button", "text": {"type": "plain_text", "text": text, "emoji": True}}
    made |= {"action_id": action_id, "value": value}
    if style is not None:
        made["style"] = style
    return made
