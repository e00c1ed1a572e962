"""Markdown for pull-request comments (GitHub, Azure DevOps) and GitHub check runs.

A thin backend: the view's document (``bot.render.documents``) is walked once, each block becoming
Markdown (CommonMark plus GFM tables and task lists, which both hosts render) and each inline piece
going through the Markdown backend's one escaper (``bot.render.markdown_text``). Pure: one view in,
one Markdown string out.

A comment is capped at ``MAX_COMMENT_CHARS`` (GitHub takes 65,536; check-run summaries and texts
65,535) at a line boundary, closing an open code block and saying how much was cut.
"""

from __future__ import annotations

from bot.render import wording as w
from bot.render.document import (
    Block,
    Byline,
    Checklist,
    Code,
    CommitLink,
    Confirmation,
    Divider,
    Emph,
    Fields,
    Inline,
    Items,
    Line,
    Mark,
    Paragraph,
    Person,
    Problem,
    Quote,
    Rich,
    Status,
    Strong,
    Subheading,
    Table,
    Text,
    Url,
    strong,
)
from bot.render.documents import build
from bot.render.documents.push import needs_attention, push_byline, push_footer, push_rows
from bot.render.markdown_text import (
    cap,
    code,
    lines_of,
    one_line,
    paragraph,
    quote,
    rich,
    safe_url,
    slack_mentions,
    table,
    text,
)
from bot.views import Phase, PushView, StepState, TraceState, View

__all__ = ["MAX_COMMENT_CHARS", "cap", "check_run_text", "code", "render_markdown", "rich", "text"]

MAX_COMMENT_CHARS = 60_000

PHASE_EMOJI: dict[Phase, str] = {
    Phase.QUEUED: "📥",
    Phase.AWAITING_CONFIRMATION: "⚠️",
    Phase.WAITING: "🔒",
    Phase.RUNNING: "⚙️",
    Phase.WATCHING: "👀",
    Phase.SUCCEEDED: "✅",
    Phase.FAILED: "❌",
    Phase.TIMED_OUT: "⏰",
    Phase.CANCELED: "🚫",
}

STATE_EMOJI: dict[str, str] = {
    w.COMPLIANT: "✅",
    w.NON_COMPLIANT: "❌",
    w.PENDING: "⏳",
    w.SUSPENDED: "⏸️",
    "Installed": "✅",
    "Succeeded": "✅",
    "Failed": "❌",
    "Canceled": "🚫",
    "Creating": "⏳",
    "Updating": "⏳",
    "Deleting": "⏳",
}

TRACE_EMOJI: dict[TraceState, str] = {
    TraceState.PENDING: "⏳",
    TraceState.APPLIED: "✅",
    TraceState.FAILED: "❌",
    TraceState.ERROR: "⚠️",
}

_STEP_MARK = {StepState.RUNNING: "🔄", StepState.FAILED: "❌", StepState.SKIPPED: "⏭️"}
_SIGN_EMOJI = {"unknown": "❔", "warning": "⚠️", "failed": "❌", "focus": "👉", "note": "📝", "people": "👥"}
_RESULT_EMOJI = {"succeeded": "✅", "failed": "❌", "refused": "🚫"}


def render_markdown(view: View) -> str:
    """``view`` as one Markdown comment for GitHub or Azure DevOps, at most ``MAX_COMMENT_CHARS`` long."""
    doc = build(view)
    lines = [f"### {emoji(doc.mark)} {text(one_line(doc.title), 300)}", ""] if doc.mark is not None else []
    return cap(_blocks(lines, doc.blocks), MAX_COMMENT_CHARS)


def check_run_text(view: PushView) -> tuple[str, str, str]:
    """``(title, summary, text)`` of a GitHub check run showing the whole push.

    The title is plain text ("Flux applied on 6/9 clusters (1 failed, 2 pending)"); the summary
    (Markdown) names the push and the rows that need attention; the text (Markdown) is the whole
    matrix, ending with the headline. Summary and text are each capped at ``MAX_COMMENT_CHARS``.
    """
    title = f"Flux {view.headline}"
    if view.applied < len(view.rows):
        title += f" ({w.trace_tally(view.rows)})"
    summary: list[Block] = [Byline(push_byline(view))]
    subject = w.commit_subject(view.message)
    if subject:
        summary.append(Quote(Text(w.clip(subject, 500))))
    attention = needs_attention(view)
    if attention:
        summary.append(Items((strong("Needs attention"), f" · {len(attention)}"), tuple(attention), "rows"))
    footer = Status(push_footer(view))
    summary.append(footer)
    matrix = (push_rows(view), footer)
    return title, cap(_blocks([], summary), MAX_COMMENT_CHARS), cap(_blocks([], matrix), MAX_COMMENT_CHARS)


def _blocks(lines: list[str], blocks: tuple[Block, ...] | list[Block]) -> str:
    for block in blocks:
        lines += [*_block(block), ""]
    return "\n".join(lines).strip() + "\n"


def _block(block: Block) -> list[str]:
    if isinstance(block, Byline | Status):
        return [line(block.line)]
    if isinstance(block, Quote):
        return [f"> {text(block.text.value)}"]
    if isinstance(block, Paragraph):
        return paragraph(_body_lines(block.body), first=line(block.lead))
    if isinstance(block, Subheading):
        return [f"#### {block.label} {line(block.rest)}"]
    if isinstance(block, Fields):
        return [f"- **{label}:** {line(value)}" for label, value in block.fields]
    if isinstance(block, Items):
        title = [line(block.title)] if block.title is not None else []
        return [*title, *(f"- {line(item)}" for item in block.items)]
    if isinstance(block, Table):
        header = [column.header for column in block.columns]
        rows = [[line(cell, in_table=True) for cell in row] for row in block.rows]
        return [line(block.title), "", *table(header, rows)]
    if isinstance(block, Problem):
        return _problem(block)
    if isinstance(block, Checklist):
        return [_step(step.state, step.text) for step in block.steps]
    if isinstance(block, Confirmation):
        return _confirmation(block)
    assert isinstance(block, Divider)
    return ["---"]


def _body_lines(body: Text | Rich) -> list[str]:
    if isinstance(body, Text):
        return lines_of(body.value)
    value = slack_mentions(body.value) if body.mentions else body.value
    return rich(value, slack_bold=body.bold).splitlines()


def _problem(problem: Problem) -> list[str]:
    mark = emoji(problem.mark)
    message = lines_of(problem.message) or [""]
    if problem.doing:
        body = [f"{mark} **{w.WHAT_WAS_HAPPENING}:** {text(problem.doing)}", *message]
    else:
        body = [f"{mark} {message[0]}", *message[1:]]
    out = quote(paragraph(body))
    tail = []
    if problem.recommendation:
        recommendation = rich(problem.recommendation).splitlines() or [""]
        tail += [f"**{w.WHAT_TO_DO}:** {recommendation[0]}", *recommendation[1:]]
    if problem.code:
        tail.append(f"_code_ {code(problem.code)}")
    if tail:
        out += [">", *quote(paragraph(tail))]
    return out


def _step(state: StepState, value: str) -> str:
    body = one_line(rich(slack_mentions(value)))
    if state is StepState.DONE:
        return f"- [x] {body}"
    suffix = " _(skipped)_" if state is StepState.SKIPPED else ""
    return f"- [ ] {_STEP_MARK[state]} {body}{suffix}"


def _confirmation(confirm: Confirmation) -> list[str]:
    go = code(w.confirm_command(confirm.job_id, confirm.digest))
    cancel = code(w.cancel_command(confirm.job_id))
    out = []
    if confirm.approvals_required:
        approve = code(w.approve_command(confirm.job_id, confirm.digest))
        needed = text(w.approvals_needed(confirm.approvals_required, confirm.approval_ttl))
        out += [f"{needed}: they reply {approve}.", ""]
    out += [f"{text(w.who_confirms(confirm.approver))}; {w.NOTHING_CHANGES}.", ""]
    return [*out, f"Reply {go} to go ahead or {cancel} to drop the job."]


def line(pieces: Line, *, in_table: bool = False) -> str:
    """Inline pieces as Markdown; ``in_table`` for a GFM table cell (every ``|`` escaped, one line)."""
    return "".join(_inline(piece, in_table) for piece in pieces)


def _inline(piece: Inline, in_table: bool) -> str:
    if isinstance(piece, str):
        return piece
    if isinstance(piece, Text):
        return text(piece.value)
    if isinstance(piece, Code):
        return code(piece.value, table=in_table)
    if isinstance(piece, Strong):
        return f"**{line(piece.parts, in_table=in_table)}**"
    if isinstance(piece, Emph):
        return f"_{text(piece.value)}_"
    if isinstance(piece, Mark):
        return emoji(piece)
    if isinstance(piece, Person):
        return code(piece.actor or "someone", table=in_table)
    if isinstance(piece, Url):
        return code(piece.value, table=in_table)
    if isinstance(piece, CommitLink):
        url = safe_url(piece.url)
        return f"[{code(piece.sha)}]({url})" if url else code(piece.sha, table=in_table)
    value = slack_mentions(piece.value) if piece.mentions else piece.value
    return rich(value, slack_bold=piece.bold)


def emoji(mark: Mark | None) -> str:
    """The Unicode emoji of a state or sign."""
    if mark is None:
        return ""
    if mark.family == "phase":
        return PHASE_EMOJI[Phase(mark.key)]
    if mark.family == "state":
        return STATE_EMOJI.get(mark.key, _SIGN_EMOJI["unknown"])
    if mark.family == "trace":
        return TRACE_EMOJI[TraceState(mark.key)]
    if mark.family == "result":
        return _RESULT_EMOJI.get(mark.key, "")
    return _SIGN_EMOJI[mark.key]
