"""Slack Block Kit for the neutral views of ``bot.views``: one view in, one or more messages out.

A thin backend: the view's document (``bot.render.documents``) is walked once, each block becoming
Block Kit and each inline piece mrkdwn through Slack's one escaper (``bot.render.slack_text``).
Pure: no I/O and no slack_sdk; a message is plain dicts ready for ``chat.postMessage``. Splitting to
Slack's limits is ``bot.render.slack_blocks.Composer``.
"""

from __future__ import annotations

from bot.models import Compliance, Provisioning
from bot.render import document as d
from bot.render import wording as w
from bot.render.documents import build
from bot.render.marks import Emoji
from bot.render.slack_blocks import (
    MAX_BUTTON_TEXT,
    MAX_MESSAGE_TEXT,
    MAX_ROWS,
    Block,
    Composer,
    SlackMessage,
    button,
    capped,
    context,
    divider,
    fields,
    heading,
)
from bot.render.slack_text import code, commit_link, esc, esc_mentions, person, plain_clip, url
from bot.render.wording import one_line
from bot.views import Phase, StepState, TraceState, View

__all__ = ["MAX_MESSAGE_TEXT", "MAX_ROWS", "SlackMessage", "render"]

EVENT_TYPE = "fluxops_job"

PHASE_EMOJI: dict[Phase, str] = {
    Phase.QUEUED: ":inbox_tray:",
    Phase.AWAITING_CONFIRMATION: ":warning:",
    Phase.WAITING: ":lock:",
    Phase.RUNNING: ":gear:",
    Phase.WATCHING: ":eyes:",
    Phase.SUCCEEDED: ":white_check_mark:",
    Phase.FAILED: ":x:",
    Phase.TIMED_OUT: ":alarm_clock:",
    Phase.CANCELED: ":no_entry_sign:",
    Phase.HALTED: ":octagonal_sign:",
}

STATE_EMOJI: dict[str, str] = {
    Compliance.COMPLIANT: ":white_check_mark:",
    Compliance.NON_COMPLIANT: ":x:",
    Compliance.PENDING: ":hourglass_flowing_sand:",
    Compliance.SUSPENDED: ":double_vertical_bar:",
    "Installed": ":white_check_mark:",
    Provisioning.SUCCEEDED: ":white_check_mark:",
    Provisioning.FAILED: ":x:",
    "Canceled": ":no_entry_sign:",
    "Creating": ":hourglass_flowing_sand:",
    "Updating": ":hourglass_flowing_sand:",
    "Deleting": ":hourglass_flowing_sand:",
}

TRACE_EMOJI: dict[TraceState, str] = {
    TraceState.PENDING: ":hourglass_flowing_sand:",
    TraceState.APPLIED: ":white_check_mark:",
    TraceState.FAILED: ":x:",
    TraceState.ERROR: ":warning:",
}

STEP_EMOJI: dict[StepState, str] = {
    StepState.RUNNING: ":arrows_counterclockwise:",
    StepState.DONE: ":white_check_mark:",
    StepState.FAILED: ":x:",
    StepState.SKIPPED: ":heavy_minus_sign:",
}

_SIGN_EMOJI = {
    "unknown": ":grey_question:",
    "warning": ":warning:",
    "failed": ":x:",
    "focus": ":point_right:",
    "note": ":information_source:",
    "people": ":busts_in_silhouette:",
}
_RESULT_EMOJI = {"succeeded": ":white_check_mark:", "failed": ":x:", "refused": ":no_entry_sign:"}
EMOJI = Emoji(PHASE_EMOJI, STATE_EMOJI, TRACE_EMOJI, _RESULT_EMOJI, ":heavy_minus_sign:", _SIGN_EMOJI)


def render(view: View) -> list[SlackMessage]:
    """The Slack messages that show ``view``: usually one, more when it exceeds Slack's limits.

    When a view takes several messages, every one after the first starts with a "continued" context
    line, fallback texts say "part i of n", and job metadata carries ``part`` and ``parts`` so a
    reader knows when it has seen the whole view. A push's fallback texts, and the last line of its
    last message, end with its headline ("applied on 7/9 clusters").
    """
    return render_document(build(view))


def render_document(doc: d.Document) -> list[SlackMessage]:
    """The Slack messages of a neutral document."""
    if doc.mark is None:
        composer = Composer("", "")
    else:
        composer = Composer(f"{emoji(doc.mark)} {plain_clip(doc.title, 100)}", doc.job_id)
        heading(composer, emoji(doc.mark), doc.title)
    for block in doc.blocks:
        _block(composer, block)
    metadata = None
    if doc.metadata is not None:
        job_id, phase, terminal = doc.metadata
        metadata = {"event_type": EVENT_TYPE, "event_payload": {"job_id": job_id, "phase": phase, "terminal": terminal}}
    return composer.messages(doc.summary, metadata, ending=doc.ending)


def _block(c: Composer, block: object) -> None:
    if isinstance(block, d.Byline):
        c.block(context(line(block.line)))
    elif isinstance(block, d.Status):
        c.rows([line(block.line)])
    elif isinstance(block, d.Quote):
        c.rows([f":memo: {esc(block.text.value)}"])
    elif isinstance(block, d.Paragraph):
        lead = line(block.lead)
        lines = _body_lines(block.body) or [""]
        c.rows([lead + lines[0], *lines[1:]])
    elif isinstance(block, d.Subheading):
        c.rows([f"*{block.label}* {line(block.rest)}"])
    elif isinstance(block, d.Fields):
        c.block(fields([f"*{label}*\n{line(value)}" for label, value in block.fields]))
    elif isinstance(block, d.Items):
        title = line(block.title) if block.title is not None else None
        c.rows(capped([f"• {line(item)}" for item in block.items], block.noun), title=title)
    elif isinstance(block, d.Table):
        rows = [line(d.row_line(block.columns, row)) for row in block.rows]
        c.rows(capped(rows, block.noun), title=line(block.title))
    elif isinstance(block, d.Problem):
        c.rows(_problem(block))
    elif isinstance(block, d.Checklist):
        c.rows([_step(step.state, step.text) for step in block.steps])
    elif isinstance(block, d.Confirmation):
        _confirmation(c, block)
    elif isinstance(block, d.Divider):
        c.block(divider())


def _body_lines(body: d.Text | d.Rich) -> list[str]:
    lines = body.value.splitlines()
    if isinstance(body, d.Rich) and body.mentions:
        return [esc_mentions(x) for x in lines]
    return [esc(x) for x in lines]


def _problem(problem: d.Problem) -> list[str]:
    mark = emoji(problem.mark)
    lines: list[str] = []
    message = problem.message.splitlines() or [""]
    if problem.doing:
        lines.append(f"{mark} *{w.WHAT_WAS_HAPPENING}:* {esc(problem.doing)}")
        lines.extend(esc(x) for x in message)
    else:
        lines.append(f"{mark} {esc(message[0])}")
        lines.extend(esc(x) for x in message[1:])
    if problem.recommendation:
        recommendation = problem.recommendation.splitlines()
        lines.append(f"*{w.WHAT_TO_DO}:* {esc(recommendation[0])}")
        lines.extend(esc(x) for x in recommendation[1:])
    if problem.code:
        lines.append(f"_code_ `{code(problem.code)}`")
    return lines


def _step(state: StepState, text: str) -> str:
    step = f"{STEP_EMOJI[state]} {esc_mentions(one_line(text))}"
    return f"{step} _(skipped)_" if state is StepState.SKIPPED else step


def _confirmation(c: Composer, confirm: d.Confirmation) -> None:
    who = esc(w.who_confirms(confirm.approver))
    label = plain_clip(confirm.label, MAX_BUTTON_TEXT)
    value = f"{confirm.job_id} {confirm.digest}".strip()
    buttons: list[Block] = [button(label, "fluxops_confirm", value, style="danger")]
    if confirm.approvals_required:
        needed = esc(w.approvals_needed(confirm.approvals_required, confirm.approval_ttl))
        c.block(context(f"{_SIGN_EMOJI['people']} {needed}: they press *Approve*."))
        buttons.append(button("Approve", "fluxops_approve", value))
    c.block(context(f"{who} with *{esc(label)}*; {w.NOTHING_CHANGES}. *Cancel* drops the job."))
    c.block({"type": "actions", "elements": [*buttons, button("Cancel", "fluxops_cancel", confirm.job_id)]})


def line(pieces: d.Line) -> str:
    """Inline pieces as mrkdwn."""
    return "".join(_inline(piece) for piece in pieces)


def _inline(piece: d.Inline) -> str:
    if isinstance(piece, str):
        return piece
    if isinstance(piece, d.Text):
        return esc(piece.value)
    if isinstance(piece, d.Code):
        return f"`{code(piece.value)}`"
    if isinstance(piece, d.Strong):
        return f"*{line(piece.parts)}*"
    if isinstance(piece, d.Mark):
        return emoji(piece)
    if isinstance(piece, d.Person):
        return person(piece.actor)
    if isinstance(piece, d.Url):
        return url(piece.value)
    if isinstance(piece, d.CommitLink):
        return commit_link(piece.sha, piece.url)
    return esc_mentions(piece.value) if piece.mentions else esc(piece.value)


def emoji(mark: d.Mark) -> str:
    """The Slack emoji code of a state or sign."""
    return EMOJI.of(mark)
