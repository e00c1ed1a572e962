"""The documents of a job (``JobView``), a confirmation (``ConfirmView``) and a plain text (``TextView``)."""

from __future__ import annotations

from bot.render import wording as w
from bot.render.document import (
    Block,
    Byline,
    Checklist,
    Code,
    Confirmation,
    Divider,
    Document,
    Items,
    Line,
    Mark,
    Paragraph,
    Person,
    Problem,
    Rich,
    Text,
    strong,
)
from bot.render.documents.configs import config_blocks, config_list_blocks
from bot.render.documents.deployed_objects import deployed_object_blocks
from bot.render.documents.doctor import doctor_blocks, v1_blocks
from bot.render.documents.events import event_list_blocks, failure_event_blocks
from bot.render.documents.extensions import extension_blocks, extension_list_blocks
from bot.render.documents.freezes import freeze_blocks
from bot.render.documents.inventory import audit_blocks, cluster_blocks
from bot.render.documents.parts import ROW_MESSAGE_CHARS, byline, phase_mark
from bot.render.wording import one_line
from bot.views import ConfirmView, JobView, Phase, TextView


def job_document(view: JobView) -> Document:
    """A job's one message: its phase, who asked, what went wrong, its steps and what it shows."""
    blocks: list[Block] = [Byline(_asked(view.phase, view.actor, view.job_id))]
    if view.error is not None:
        error = view.error
        mark = Mark("sign", "failed" if view.phase is Phase.FAILED else "warning")
        blocks.append(Problem(mark, error.doing, error.message, error.recommendation, error.code))
    if view.failure_events is not None:
        blocks += failure_event_blocks(view.failure_events)
    if view.steps:
        blocks.append(Checklist(view.steps))
    if view.note:
        blocks.append(Paragraph(Rich(view.note, mentions=True), lead=(Mark("sign", "note"), " ")))
    parts: list[list[Block]] = []
    if view.extension is not None:
        parts.append(extension_blocks(view.extension))
    if view.config is not None:
        parts.append(config_blocks(view.config, view.focus))
    if view.configs is not None:
        parts.append(config_list_blocks(view.configs))
    if view.clusters is not None:
        parts.append(cluster_blocks(view.clusters))
    if view.audit is not None:
        parts.append(audit_blocks(view.audit))
    if view.doctor is not None:
        parts.append(doctor_blocks(view.doctor))
    if view.v1_configs is not None:
        parts.append(v1_blocks(view.v1_configs))
    if view.events is not None:
        parts.append(event_list_blocks(view.events))
    if view.extensions is not None:
        parts.append(extension_list_blocks(view.extensions))
    if view.deployed is not None:
        parts.append(deployed_object_blocks(view.deployed))
    if view.freezes is not None:
        parts.append(freeze_blocks(view.freezes))
    for part in parts:
        blocks += [Divider(), *part]
    return Document(
        mark=phase_mark(view.phase),
        title=view.title or f"fluxops job {view.job_id}",
        blocks=tuple(blocks),
        summary=_job_summary(view),
        job_id=view.job_id,
        metadata=(view.job_id, view.phase.value, view.phase.terminal),
    )


def confirm_document(view: ConfirmView) -> Document:
    """What a destructive command will do, and how to go ahead, approve or cancel."""
    blocks: list[Block] = [Byline(_asked(Phase.AWAITING_CONFIRMATION, view.actor, view.job_id))]
    if view.summary:
        blocks.append(Paragraph(Text(view.summary)))
    if view.consequences:
        items = tuple((Text(w.clip(one_line(x), ROW_MESSAGE_CHARS)),) for x in view.consequences)
        blocks.append(Items((strong(f"{w.WHAT_THIS_WILL_DO}:"),), items, "consequences"))
    label = view.confirm_label or "Confirm"
    blocks.append(
        Confirmation(view.job_id, view.digest, label, view.approver, view.approvals_required, view.approval_ttl)
    )
    phase = Phase.AWAITING_CONFIRMATION
    return Document(
        mark=phase_mark(phase),
        title=view.title or f"fluxops job {view.job_id}",
        blocks=tuple(blocks),
        summary=f"Confirm: {view.summary or view.title} (job {view.job_id})",
        job_id=view.job_id,
        metadata=(view.job_id, phase.value, False),
    )


def text_document(view: TextView) -> Document:
    """Help, a usage error or a refusal: the text as it is, a warning mark on an error."""
    lead: Line = (Mark("sign", "warning"), " ") if view.error else ()
    body = view.text if view.text.strip() else "(empty)"
    first = next((line.strip() for line in view.text.splitlines() if line.strip()), "(empty)")
    return Document(mark=None, title="", blocks=(Paragraph(Rich(body, bold=True), lead=lead),), summary=first)


def _asked(phase: Phase, actor: str, job_id: str) -> Line:
    return byline(phase, " · asked by ", Person(actor), " · job ", Code(job_id))


def _job_summary(view: JobView) -> str:
    phase = w.PHASE_WORDS[view.phase].lower()
    if view.config is not None:
        config = view.config
        return f"{config.name} on {config.cluster.name}: {w.config_state(config)} — {phase} (job {view.job_id})"
    if view.error is not None:
        return f"{view.title}: {phase} — {one_line(view.error.message)} (job {view.job_id})"
    return f"{view.title}: {phase} (job {view.job_id})"
