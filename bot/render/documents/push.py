"""The document of a pushed commit traced over clusters (``PushView``), and the parts of its GitHub check run."""

from __future__ import annotations

from bot.render import wording as w
from bot.render.document import (
    Block,
    Byline,
    Code,
    Column,
    CommitLink,
    Document,
    Line,
    Mark,
    Quote,
    Status,
    Table,
    Text,
    row_line,
    strong,
)
from bot.render.documents.parts import byline, name, phase_mark, row_message
from bot.views import PushView, TraceRow, TraceState

TRACE_COLUMNS = (
    Column("", joiner=""),
    Column("Cluster", joiner=" ", key=True),
    Column("Configuration"),
    Column("State"),
    Column("Revision"),
    Column("Detail", joiner=" — "),
)


def push_document(view: PushView) -> Document:
    """The push, its commit, one row per (cluster, configuration), and the headline last."""
    blocks: list[Block] = [Byline(push_byline(view))]
    subject = w.commit_subject(view.message)
    if subject:
        blocks.append(Quote(Text(w.clip(subject, 500))))
    blocks += [push_rows(view), Status(push_footer(view))]
    return Document(
        mark=phase_mark(view.phase),
        title=f"push to {name(view.repo)} · {name(view.branch)}",
        blocks=tuple(blocks),
        summary=f"{w.push_summary(view)}: {w.PHASE_WORDS[view.phase].lower()}",
        job_id=view.job_id,
        ending=f" — {view.headline}",
        metadata=(view.job_id, view.phase.value, view.phase.terminal),
    )


def push_byline(view: PushView) -> Line:
    """``*Reconciling* · `4f1bdad4d0a5` pushed by alice · job `j-1``` (the heading names repository and branch)."""
    commit = CommitLink(w.short_revision(view.sha)[:12], w.commit_url(view.commit_url, view.sha))
    line = byline(view.phase, " · ", commit)
    if view.pusher:
        line += (" pushed by ", Text(name(view.pusher)))
    return (*line, " · job ", Code(view.job_id))


def push_rows(view: PushView) -> Block:
    """The matrix: one row per (cluster, configuration), worst first; a sentence when nothing tracks the branch."""
    if not view.rows:
        unknown = Mark("sign", "unknown")
        return Status((unknown, " No Flux configuration follows ", Code(name(view.branch)), " of this repository."))
    title = (strong("Clusters"), f" · {len(view.rows)}: {w.trace_tally(view.rows)}")
    rows = tuple(trace_row(row) for row in w.trace_order(view.rows))
    return Table(title, TRACE_COLUMNS, rows, "configurations")


def push_footer(view: PushView) -> Line:
    """The last line: the phase and the headline, which always ends the text."""
    return (phase_mark(view.phase), " ", strong(w.PHASE_WORDS[view.phase]), " · ", Text(view.headline))


def trace_row(row: TraceRow) -> tuple[Line, ...]:
    return (
        (Mark("trace", row.state.value),),
        (Text(name(row.cluster)),),
        (Code(name(row.config)),),
        (w.TRACE_WORDS[row.state],),
        (Code(w.short_revision(name(row.revision))),) if row.revision else (),
        _detail(row),
    )


def _detail(row: TraceRow) -> Line:
    """What went wrong: the newest Warning event Flux's controller recorded (a failed row, with cluster access),
    which names the object, the reason and the message; else what ARM reports."""
    if row.why:
        return (Mark("sign", "warning"), " ", Text(row_message(row.why)))
    return (Text(row_message(row.detail)),) if row.detail else ()


def needs_attention(view: PushView) -> list[Line]:
    """The rows that failed or could not tell, each as one line (a check run's summary)."""
    failing = (TraceState.FAILED, TraceState.ERROR)
    return [row_line(TRACE_COLUMNS, trace_row(row)) for row in w.trace_order(view.rows) if row.state in failing]
