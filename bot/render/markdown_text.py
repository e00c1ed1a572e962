"""The Markdown backend's one escaper, and the pieces of Markdown it writes (paragraphs, quotes, tables, the cap).

Everything a person typed or a Git host, Azure or Flux reported is inert when rendered: ``&``, ``<``
and ``>`` become entities (no raw HTML), Markdown punctuation is backslash-escaped (no links, images,
emphasis or headings smuggled in a name), ``@`` and ``#`` before a name or number get a zero-width
joiner (no mention pings, no issue cross-references such as ``#12``), ``|`` is escaped in table
cells, and code spans are fenced with more backticks than they hold. Secrets are masked
(``bot.redact``), full commit ids shortened to 12 characters. The bot's own markup in help and
recommendations (`code`, ```blocks```, Slack-style *bold*) is kept. Used for pull-request comments,
check runs and the fleet plan (``bot.render.plan_markdown``).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

from bot.render import wording as w
from bot.render.wording import one_line
from bot.views import MENTION_MARK

#: Ours, so one value stays readable; what is clipped says how much was left out.
TEXT_CHARS = 10_000
#: Room kept under the cap for the note that says what was cut.
_CUT_NOTE_ROOM = 400


# ---------------------------------------------------------------------------------------------
# Escaping
# ---------------------------------------------------------------------------------------------

_ZWJ = "\u200d"
#: characters with a Markdown meaning anywhere in a line (``#`` only matters at a heading's end)
_PUNCTUATION = re.compile(r"([\\`*_\[\]|~#])")
#: a mention (GitHub @user, @org/team; not a@b, which never pings), an issue or work item (#12), an
#: Azure DevOps pull request (!12)
_PINGS = re.compile(r"((?<![A-Za-z0-9])@(?=[A-Za-z0-9])|[#!](?=[0-9]))")
#: a list marker (``-``, ``+``, ``1.``, ``1)``) or a thematic break / setext underline at a line's start
_ORDERED = re.compile(r"^(\s*\d{1,9})([.)])(?=\s|$)")
_BULLET = re.compile(r"^(\s*)([-+=](?=\s|$)|[-+=][-+= ]*$)")
_FENCE_LINE = re.compile(r"^\s{0,3}(`{3,}|~{3,})")
_SLACK_MENTION = re.compile(MENTION_MARK + r"([UW][A-Z0-9]{2,})" + MENTION_MARK)
_SLACK_BOLD = re.compile(r"(?<![\w*])\*(?=[^\s*])([^*\n]*?[^\s*])\*(?![\w*])")
_CODE = re.compile(
    r"(?P<block>(?<![^\n])```[^\n]*\n.*?\n```(?=\n|$))|(?P<span>`+)(?P<inner>[^`\n]+?)(?P=span)(?!`)", re.S
)
#: what GFM would autolink; ``|`` and backticks end it, so it can be a code span even in a table cell
_BARE_URL = re.compile(r"(?i)\b(?:https?://|www\.)[^\s<>|`]+")
_URL_TRAILER = ".,;:!?)'\"*_~"
_INFO = re.compile(r"[A-Za-z0-9_+-]{1,20}")
_URL = re.compile(r"https?://[A-Za-z0-9\-._~:/?#@!$&'*+,;=%]+")


def _escape_plain(value: str) -> str:
    out = value.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    out = _PUNCTUATION.sub(r"\\\1", out)
    return _PINGS.sub(lambda m: m.group(1) + _ZWJ, out)


def _escape(value: str, *, line_start: bool = True) -> str:
    """Escape text that is already masked (no clipping, no redaction): see ``text``.

    A bare URL becomes a code span: GFM autolinks it from the raw text, backslashes and entities
    included, so escaping it would break the link. With ``line_start`` each line's first characters
    are escaped too when they would start a list or a thematic break; pass False for a piece that
    goes in the middle of a line.
    """
    pieces = []
    last = 0
    for match in _BARE_URL.finditer(value):
        url = match.group().rstrip(_URL_TRAILER)
        pieces += [_escape_plain(value[last : match.start()]), f"`{url}`"]
        last = match.start() + len(url)
    out = "".join([*pieces, _escape_plain(value[last:])])
    if not line_start:
        return out
    lines = [_BULLET.sub(r"\1\\\2", _ORDERED.sub(r"\1\\\2", line)) for line in out.split("\n")]
    return "\n".join(lines)


def text(value: str | None, limit: int = TEXT_CHARS) -> str:
    """Untrusted text for inline Markdown: secrets masked, clipped to ``limit``, nothing active left.

    Safe in paragraphs, list items, headings and table cells (``|`` is escaped everywhere); newlines
    are kept, so pass one line where one line is meant.
    """
    return _escape(w.clip(w.redact(value or ""), limit))


def code(value: str, *, table: bool = False) -> str:
    """``value`` as one inline code span: secrets masked, on one line, fenced past any backticks in it.

    In a table cell (``table=True``) every ``|`` is escaped: GFM and markdown-it split cells before
    they parse code spans, and drop the backslash again.
    """
    content = one_line(w.redact(value)) or " "
    if table:
        content = content.replace("|", "\\|")
    fence = "`" * (max((len(run) for run in re.findall(r"`+", content)), default=0) + 1)
    spaced = content.startswith(" ") and content.endswith(" ") and content.strip()
    if content.startswith("`") or content.endswith("`") or spaced:
        content = f" {content} "
    return f"{fence}{content}{fence}"


def rich(value: str, *, slack_bold: bool = False) -> str:
    """Text the bot wrote that may quote a person (help, usage errors, recommendations, notes).

    Its `code spans` and ```code blocks``` are kept (re-fenced), everything else is escaped like
    ``text``; with ``slack_bold`` Slack's ``*bold*`` becomes Markdown's ``**bold**``. Secrets are
    masked over the whole text first, so a key pasted across lines is masked too.
    """
    masked = w.redact(value)
    out: list[str] = []
    last = 0
    for match in _CODE.finditer(masked):
        out.append(_prose(masked[last : match.start()], slack_bold, last == 0 or masked[last - 1] == "\n"))
        if match.group("block"):
            out.append(_code_block(match.group("block")))
        else:
            out.append(code(match.group("inner")))
        last = match.end()
    out.append(_prose(masked[last:], slack_bold, last == 0 or masked[last - 1] == "\n"))
    return "".join(out)


def _prose(value: str, slack_bold: bool, line_start: bool) -> str:
    """Escaped prose between code; ``line_start`` when it begins a line (not right after a code span)."""
    lines = []
    for number, line in enumerate(value.split("\n")):
        at_start = line_start or number > 0
        if not slack_bold:
            lines.append(_escape(line, line_start=at_start))
            continue
        parts = _SLACK_BOLD.split(line)  # text, bold, text, bold, ..., text
        pieces = [
            f"**{_escape(part, line_start=False)}**" if i % 2 else _escape(part, line_start=at_start and i == 0)
            for i, part in enumerate(parts)
        ]
        lines.append("".join(pieces))
    return "\n".join(lines)


def _code_block(block: str) -> str:
    """A Slack ```block``` as a fenced code block on its own lines, its fence longer than any inside it."""
    info, _, body = block[3:-3].partition("\n")
    body = body.removesuffix("\n")
    if info.strip() and not _INFO.fullmatch(info.strip()):
        body, info = f"{info}\n{body}", ""
    longest = max((len(run) for run in re.findall(r"`{3,}", body)), default=2)
    fence = "`" * (longest + 1)
    return f"{fence}{info.strip()}\n{body}\n{fence}"


def safe_url(url: str) -> str:
    """``url`` (secrets already masked) when it can be a link destination as it is, else ""."""
    return url if _URL.fullmatch(url) else ""


def link(label: str, url: str) -> str:
    """``[label](url)`` when ``url`` (secrets masked) is a plain web URL, else "": the label escaped, not re-linked."""
    safe = safe_url(w.redact(url))
    return f"[{_escape_plain(one_line(w.redact(label)))}]({safe})" if safe else ""


def slack_mentions(value: str) -> str:
    """A Slack user the bot named (bot.views.mention) is ``@U…`` in a comment (escaped later so it cannot ping);
    a stray mention mark from outside text is dropped."""
    return _SLACK_MENTION.sub(r"@\1", value).replace(MENTION_MARK, "")


# ---------------------------------------------------------------------------------------------
# Paragraphs, quotes and tables
# ---------------------------------------------------------------------------------------------


def table(header: Sequence[str], rows: Iterable[Sequence[str]]) -> list[str]:
    """A GFM table; cells must already be escaped (``text``, ``code(..., table=True)``): one line each."""
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    return lines + ["| " + " | ".join(cell.replace("\n", " ") for cell in row) + " |" for row in rows]


def paragraph(lines: Sequence[str], first: str = "") -> list[str]:
    """Rendered lines kept as lines, ``first`` before the first one.

    A hard break (``\\``) ends each prose line followed by another (not code, not blank): GitHub
    comments would keep the line break anyway, CommonMark elsewhere would not.
    """
    out = list(lines) or [""]
    if first and _FENCE_LINE.match(out[0]):  # a code block must start its own line
        out = [first.rstrip(), "", *out]
    else:
        out[0] = first + out[0]
    kinds = _fence_kinds(out)
    for index in range(len(out) - 1):
        prose = kinds[index] and kinds[index + 1]
        if prose and out[index].strip() and out[index + 1].strip():
            out[index] += "\\"
    return out


def _fence_kinds(lines: Sequence[str]) -> list[bool]:
    """For each line: True when it is prose, False when it is a code fence or inside a code block."""
    kinds = []
    fence = ""
    for line in lines:
        match = _FENCE_LINE.match(line)
        if fence:
            kinds.append(False)
            if match and match.group(1).startswith(fence) and not line.strip()[len(match.group(1)) :]:
                fence = ""
        elif match:
            kinds.append(False)
            fence = match.group(1)
        else:
            kinds.append(True)
    return kinds


def quote(lines: Sequence[str]) -> list[str]:
    return [f"> {line}" if line else ">" for line in lines]


def lines_of(value: str, limit: int = TEXT_CHARS) -> list[str]:
    """Untrusted multi-line text, secrets masked as a whole first, then each line escaped."""
    masked = w.clip(w.redact(value), limit)
    return [_escape(line) for line in masked.splitlines()]


# ---------------------------------------------------------------------------------------------
# The length cap
# ---------------------------------------------------------------------------------------------


def cap(markdown: str, limit: int) -> str:
    """``markdown`` if it fits in ``limit`` characters, else whole lines of it and a note on what was cut.

    An open code block is closed before the note; the note counts the lines, characters and table
    rows left out.
    """
    if len(markdown) <= limit:
        return markdown
    room = limit - _CUT_NOTE_ROOM
    lines = markdown.split("\n")
    kept: list[str] = []
    size = 0
    cut_line = False
    for line in lines:
        if size + len(line) + 1 > room:
            if not kept:  # one enormous first line: keep what fits of it
                kept.append(_cut_line(line, room))
                size = len(kept[0]) + 1
                cut_line = True
            break
        kept.append(line)
        size += len(line) + 1
    rest = lines[len(kept) :]
    fence = ""
    for line in kept:
        match = _FENCE_LINE.match(line)
        if match and (not fence or match.group(1).startswith(fence)):
            fence = "" if fence else match.group(1)
    if fence:
        kept.append(fence)
    lines_left = len([line for line in rest if line.strip()])
    rows = sum(1 for line in rest if line.startswith("| "))
    parts = ["the rest of a long line"] if cut_line else []
    parts += [f"the last {w.plural(lines_left, 'line')}"] if lines_left else []
    left = f"{' and '.join(parts)} ({len(markdown) - size:,} characters"
    left += f", {w.plural(rows, 'table row')})" if rows else ")"
    note = f"✂️ **Cut to fit:** left out {left}; the whole text is {len(markdown):,} characters, "
    note += f"over the {limit:,} this place takes."
    return "\n".join([*kept, "", note]) + "\n"


def _cut_line(line: str, room: int) -> str:
    """The start of an over-long rendered line, cut where no escape or entity is split."""
    cut = line.rfind(" ", room // 2, room)
    cut = cut if cut > 0 else room
    amp = line.rfind("&", max(cut - 6, 0), cut)
    if amp >= 0 and line.find(";", amp, amp + 6) < 0:
        cut = amp
    piece = line[:cut]
    while piece.endswith("\\") and (len(piece) - len(piece.rstrip("\\"))) % 2:
        piece = piece[:-1]
    return piece + " …"
