"""Markdown for pull-request comments (GitHub, Azure DevOps) and GitHub check runs.

A thin backend: the view's document (``bot.render.documents``) is walked once, each block becoming
Markdown (CommonMark plus GFM tables and task lists, which both hosts render) and each inline piece
going through the Markdown backend's one escaper (``bot.render.markdown_text``). Pure: one view in,
one Markdown string out.

A comment is capped at ``MAX_COMMENT_CHARS`` (GitHub takes 65,536; check-run summaries and texts
65,535) at a line boundary, closing an open code block and saying how much was cut.
"""

from __future__ import annotations

from bot.models import Compliance, Provisioning
from bot.render import document as d
from bot.render import wording as w
from bot.render.documents import build
from bot.render.documents.push import needs_attention, push_byline, push_footer, push_rows
from bot.render.markdown_text import (
    cap,
    code,
    lines_of,
    paragraph,
    quote,
    rich,
    safe_url,
    slack_mentions,
    table,
    text,
)
from bot.render.marks import Emoji
from bot.render.wording import one_line
from bot.views import Phase, PushView, StepState, TraceState, View

__all__ = ["MAX_COMMENT_CHARS", "cap", "check_run_text", "code", "render_document", "render_markdown", "rich", "text"]

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
    Phase.HALTED: "🛑",
}

STATE_EMOJI: dict[str, str] = {
    Compliance.COMPLIANT: "✅",
    Compliance.NON_COMPLIANT: "❌",
    Compliance.PENDING: "⏳",
    Compliance.SUSPENDED: "⏸️",
    "Installed": "✅",
    Provisioning.SUCCEEDED: "✅",
    Provisioning.FAILED: "❌",
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
EMOJI = Emoji(PHASE_EMOJI, STATE_EMOJI, TRACE_EMOJI, _RESULT_EMOJI, "", _SIGN_EMOJI)


def render_markdown(view: View) -> str:
    """``view`` as one Markdown comment for GitHub or Azure DevOps, at most ``MAX_COMMENT_CHARS`` long."""
    return render_document(build(view))


def render_document(doc: d.Document) -> str:
    """A neutral document as one Markdown comment, at most ``MAX_COMMENT_CHARS`` long."""
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
    summary: list[d.Block] = [d.Byline(push_byline(view))]
    subject = w.commit_subject(view.message)
    if subject:
        summary.append(d.Quote(d.Text(w.clip(subject, 500))))
    attention = needs_attention(view)
    if attention:
        summary.append(d.Items((d.strong("Needs attention"), f" · {len(attention)}"), tuple(attention), "rows"))
    footer = d.Status(push_footer(view))
    summary.append(footer)
    matrix = (push_rows(view), footer)
    return title, cap(_blocks([], summary), MAX_COMMENT_CHARS), cap(_blocks([], matrix), MAX_COMMENT_CHARS)


def _blocks(lines: list[str], blocks: tuple[d.Block, ...] | list[d.Block]) -> str:
    for block in blocks:
        lines += [*_block(block), ""]
    return "\n".join(lines).strip() + "\n"


def _block(block: d.Block) -> list[str]:
    if isinstance(block, d.Byline | d.Status):
        return [line(block.line)]
    if isinstance(block, d.Quote):
        return [f"> {text(block.text.value)}"]
    if isinstance(block, d.Paragraph):
        return paragraph(_body_lines(block.body), first=line(block.lead))
    if isinstance(block, d.Subheading):
        return [f"#### {block.label} {line(block.rest)}"]
    if isinstance(block, d.Fields):
        return [f"- **{label}:** {line(value)}" for label, value in block.fields]
    if isinstance(block, d.Items):
        title = [line(block.title)] if block.title is not None else []
        return [*title, *(f"- {line(item)}" for item in block.items)]
    if isinstance(block, d.Table):
        header = [column.header for column in block.columns]
        rows = [[line(cell, in_table=True) for cell in row] for row in block.rows]
        return [line(block.title), "", *table(header, rows)]
    if isinstance(block, d.Problem):
        return _problem(block)
    if isinstance(block, d.Checklist):
        return [_step(step.state, step.text) for step in block.steps]
    if isinstance(block, d.Confirmation):
        return _confirmation(block)
    assert isinstance(block, d.Divider)
    return ["---"]


def _body_lines(body: d.Text | d.Rich) -> list[str]:
    if isinstance(body, d.Text):
        return lines_of(body.value)
    value = slack_mentions(body.value) if body.mentions else body.value
    return rich(value, slack_bold=body.bold).splitlines()


def _problem(problem: d.Problem) -> list[str]:
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


def _confirmation(confirm: d.Confirmation) -> list[str]:
    go = code(w.confirm_command(confirm.job_id, confirm.digest))
    cancel = code(w.cancel_command(confirm.job_id))
    out = []
    if confirm.approvals_required:
        approve = code(w.approve_command(confirm.job_id, confirm.digest))
        needed = text(w.approvals_needed(confirm.approvals_required, confirm.approval_ttl))
        out += [f"{needed}: they reply {approve}.", ""]
    out += [f"{text(w.who_confirms(confirm.approver))}; {w.NOTHING_CHANGES}.", ""]
    return [*out, f"Reply {go} to go ahead or {cancel} to drop the job."]


def line(pieces: d.Line, *, in_table: bool = False) -> str:
    """Inline pieces as Markdown; ``in_table`` for a GFM table cell (every ``|`` escaped, one line)."""
    return "".join(_inline(piece, in_table) for piece in pieces)


def _inline(piece: d.Inline, in_table: bool) -> str:
    if isinstance(piece, str):
        return piece
    if isinstance(piece, d.Text):
        return text(piece.value)
    if isinstance(piece, d.Code):
        return code(piece.value, table=in_table)
    if isinstance(piece, d.Strong):
        return f"**{line(piece.parts, in_table=in_table)}**"
    if isinstance(piece, d.Mark):
        return emoji(piece)
    if isinstance(piece, d.Person):
        return code(piece.actor or "someone", table=in_table)
    if isinstance(piece, d.Url):
        return code(piece.value, table=in_table)
    if isinstance(piece, d.CommitLink):
        url = safe_url(piece.url)
        return f"[{code(piece.sha)}]({url})" if url else code(piece.sha, table=in_table)
    value = slack_mentions(piece.value) if piece.mentions else piece.value
    return rich(value, slack_bold=piece.bold)


def emoji(mark: d.Mark | None) -> str:
    """The Unicode emoji of a state or sign ("" for none)."""
    return EMOJI.of(mark) if mark is not None else ""
