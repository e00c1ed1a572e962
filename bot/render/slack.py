"""Slack Block Kit for the neutral views of ``bot.views``: one view in, one or more messages out.

Pure: no I/O and no slack_sdk; a message is plain dicts ready for ``chat.postMessage``.

Every string that a person typed or that Azure or Flux reported is escaped for mrkdwn (``&``, ``<``,
``>``) and sent ``verbatim``, so a name cannot ping, link or turn into a channel reference; the only
mentions are the people the view names (its actor, audit actors, and ``<@U…>`` in the bot's own notes
and steps). Secrets are masked (``bot.redact``) and full commit ids shortened to 12 characters.

A view that does not fit Slack's limits is split at line boundaries, first across section blocks and
then across messages; a table row is never cut, and nothing is left out without saying so.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from bot.models import ClusterRef, ExtensionState, FluxConfigState, Kustomization, ObjectStatus
from bot.render import wording as w
from bot.views import (
    MENTION_MARK,
    AuditEntry,
    ClusterRow,
    ConfirmView,
    ErrorInfo,
    JobView,
    Phase,
    PushView,
    Step,
    StepState,
    TextView,
    TraceRow,
    TraceState,
    View,
)

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

# Ours, so one row or field stays readable; what is clipped says how much was left out.
ROW_MESSAGE_CHARS = 500
NAME_CHARS = 200
FIELD_CHARS = 1000
MAX_ROWS = 500

#: Room kept in every message after the first for the "continued" context block at its top.
_CONTINUATION_CHARS = 250
#: A line longer than this is cut (at a space if it can) so it fits a section next to its table's title.
_LINE_ROOM = 2700
#: A section that starts or ends inside a ``` block gets the fence repeated: 4 characters each side.
_FENCE_ROOM = 8

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
}

STATE_EMOJI: dict[str, str] = {
    w.COMPLIANT: ":white_check_mark:",
    w.NON_COMPLIANT: ":x:",
    w.PENDING: ":hourglass_flowing_sand:",
    w.SUSPENDED: ":double_vertical_bar:",
    "Installed": ":white_check_mark:",
    "Succeeded": ":white_check_mark:",
    "Failed": ":x:",
    "Canceled": ":no_entry_sign:",
    "Creating": ":hourglass_flowing_sand:",
    "Updating": ":hourglass_flowing_sand:",
    "Deleting": ":hourglass_flowing_sand:",
}
_UNKNOWN_EMOJI = ":grey_question:"

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


def render(view: View) -> list[SlackMessage]:
    """The Slack messages that show ``view``: usually one, more when it exceeds Slack's limits.

    When a view takes several messages, every one after the first starts with a "continued" context
    line, fallback texts say "part i of n", and job metadata carries ``part`` and ``parts`` so a
    reader knows when it has seen the whole view. A push's fallback texts, and the last line of its
    last message, end with its headline ("applied on 7/9 clusters").
    """
    if isinstance(view, JobView):
        composer = _Composer(f"{PHASE_EMOJI[view.phase]} {_plain_clip(view.title, 100)}", view.job_id)
        _job(composer, view)
        return composer.messages(_job_summary(view), _metadata(view.job_id, view.phase.value, view.phase.terminal))
    if isinstance(view, ConfirmView):
        composer = _Composer(f"{PHASE_EMOJI[Phase.AWAITING_CONFIRMATION]} {_plain_clip(view.title, 100)}", view.job_id)
        _confirm(composer, view)
        summary = f"Confirm: {view.summary or view.title} (job {view.job_id})"
        return composer.messages(summary, _metadata(view.job_id, Phase.AWAITING_CONFIRMATION.value, False))
    if isinstance(view, PushView):
        composer = _Composer(f"{PHASE_EMOJI[view.phase]} {_plain_clip(_push_title(view), 100)}", view.job_id)
        _push(composer, view)
        summary = f"{w.push_summary(view)}: {w.PHASE_WORDS[view.phase].lower()}"
        metadata = _metadata(view.job_id, view.phase.value, view.phase.terminal)
        return composer.messages(summary, metadata, ending=f" — {view.headline}")
    composer = _Composer("", "")
    _text(composer, view)
    first = next((line.strip() for line in view.text.splitlines() if line.strip()), "(empty)")
    return composer.messages(first, None)


# ---------------------------------------------------------------------------------------------
# The views
# ---------------------------------------------------------------------------------------------


def _job(c: _Composer, view: JobView) -> None:
    _heading(c, PHASE_EMOJI[view.phase], view.title or f"fluxops job {view.job_id}")
    c.block(_context(f"*{w.PHASE_WORDS[view.phase]}* · asked by {_person(view.actor)} · job `{_code(view.job_id)}`"))
    if view.error is not None:
        c.rows(_error_lines(view.error, view.phase))
    if view.steps:
        c.rows([_step_line(step) for step in view.steps])
    if view.note:
        lines = view.note.splitlines()
        c.rows([f":information_source: {_esc_mentions(lines[0])}", *(_esc_mentions(x) for x in lines[1:])])
    if view.extension is not None:
        c.block(_divider())
        _extension(c, view.extension)
    if view.config is not None:
        c.block(_divider())
        _config(c, view.config, view.focus)
    if view.configs is not None:
        c.block(_divider())
        _config_list(c, view.configs)
    if view.clusters is not None:
        c.block(_divider())
        _cluster_list(c, view.clusters)
    if view.audit is not None:
        c.block(_divider())
        _audit_list(c, view.audit)


def _confirm(c: _Composer, view: ConfirmView) -> None:
    _heading(c, PHASE_EMOJI[Phase.AWAITING_CONFIRMATION], view.title or f"fluxops job {view.job_id}")
    c.block(_context(f"*Awaiting confirmation* · asked by {_person(view.actor)} · job `{_code(view.job_id)}`"))
    if view.summary:
        c.rows([esc(line) for line in view.summary.splitlines()])
    if view.consequences:
        lines = [f"• {esc(_one_line(x))}" for x in view.consequences]
        c.rows(_capped(lines, "consequences"), title=f"*{w.WHAT_THIS_WILL_DO}:*")
    who = esc(w.who_confirms(view.approver))
    label = _plain_clip(view.confirm_label or "Confirm", MAX_BUTTON_TEXT)
    value = f"{view.job_id} {view.digest}".strip()
    buttons = [_button(label, "fluxops_confirm", value, style="danger")]
    if view.approvals_required:
        needed = esc(w.approvals_needed(view.approvals_required, view.approval_ttl))
        c.block(_context(f":busts_in_silhouette: {needed}: they press *Approve*."))
        buttons.append(_button("Approve", "fluxops_approve", value))
    c.block(_context(f"{who} with *{esc(label)}*; {w.NOTHING_CHANGES}. *Cancel* drops the job."))
    c.block({"type": "actions", "elements": [*buttons, _button("Cancel", "fluxops_cancel", view.job_id)]})


def _push(c: _Composer, view: PushView) -> None:
    _heading(c, PHASE_EMOJI[view.phase], _push_title(view))
    sha = _code(w.short_revision(view.sha)[:12])
    url = w.commit_url(view.commit_url, view.sha)
    commit = f"<{url.replace('&', '&amp;')}|{sha}>" if _LINKABLE.fullmatch(url) else f"`{sha}`"
    pusher = f" pushed by {esc(_name(view.pusher))}" if view.pusher else ""
    c.block(_context(f"*{w.PHASE_WORDS[view.phase]}* · {commit}{pusher} · job `{_code(view.job_id)}`"))
    subject = w.commit_subject(view.message)
    if subject:
        c.rows([f":memo: {esc(w.clip(subject, ROW_MESSAGE_CHARS))}"])
    if view.rows:
        lines = [_trace_line(row) for row in w.trace_order(view.rows)]
        title = f"*Clusters* · {len(view.rows)}: {w.trace_tally(view.rows)}"
        c.rows(_capped(lines, "configurations"), title=title)
    else:
        c.rows([f"{_UNKNOWN_EMOJI} No Flux configuration follows `{_code(view.branch)}` of this repository."])
    c.rows([f"{PHASE_EMOJI[view.phase]} *{w.PHASE_WORDS[view.phase]}* · {esc(view.headline)}"])


def _push_title(view: PushView) -> str:
    return f"push to {_name(view.repo)} · {_name(view.branch)}"


def _trace_line(row: TraceRow) -> str:
    line = f"{TRACE_EMOJI[row.state]} *{esc(_name(row.cluster))}* · `{_code(_name(row.config))}`"
    line += f" · {w.TRACE_WORDS[row.state]}"
    if row.revision:
        line += f" · `{_code(w.short_revision(_name(row.revision)))}`"
    if row.detail:
        line += f" — {esc(w.clip(_one_line(w.short_revision(row.detail)), ROW_MESSAGE_CHARS))}"
    return line


def _text(c: _Composer, view: TextView) -> None:
    lines = [esc(line) for line in view.text.splitlines()] or ["(empty)"]
    if view.error:
        lines[0] = f":warning: {lines[0]}"
    c.rows(lines)


# ---------------------------------------------------------------------------------------------
# Parts of a job view
# ---------------------------------------------------------------------------------------------


def _error_lines(error: ErrorInfo, phase: Phase) -> list[str]:
    emoji = ":x:" if phase is Phase.FAILED else ":warning:"
    lines: list[str] = []
    message = error.message.splitlines() or [""]
    if error.doing:
        lines.append(f"{emoji} *{w.WHAT_WAS_HAPPENING}:* {esc(error.doing)}")
        lines.extend(esc(line) for line in message)
    else:
        lines.append(f"{emoji} {esc(message[0])}")
        lines.extend(esc(line) for line in message[1:])
    if error.recommendation:
        recommendation = error.recommendation.splitlines()
        lines.append(f"*{w.WHAT_TO_DO}:* {esc(recommendation[0])}")
        lines.extend(esc(line) for line in recommendation[1:])
    if error.code:
        lines.append(f"_code_ `{_code(error.code)}`")
    return lines


def _step_line(step: Step) -> str:
    line = f"{STEP_EMOJI[step.state]} {_esc_mentions(_one_line(step.text))}"
    return f"{line} _(skipped)_" if step.state is StepState.SKIPPED else line


def _where(ref: ClusterRef) -> str:
    return f"*{esc(ref.name)}* ({w.cluster_kind(ref)} · resource group `{_code(ref.resource_group)}`)"


def _config(c: _Composer, config: FluxConfigState, focus: str | None) -> None:
    spec = config.spec
    head = f"*Flux configuration* `{_code(config.name or '?')}` on {_where(config.cluster)}"
    if spec is not None:
        head += f" · namespace `{_code(spec.namespace)}` · scope {esc(spec.scope)}"
    c.rows([head])

    compliance = config.compliance_state or w.UNKNOWN
    fields = [
        f"*Compliance*\n{_state(compliance)}",
        f"*Provisioning*\n{_state(config.provisioning_state or w.UNKNOWN)}",
    ]
    if spec is not None:
        source = spec.source
        fields.append(f"*Source*\n{esc(config.source_kind)} {_url(source.url)}")
        fields.append(f"*Reference*\n{_reference(w.selector(source))}")
    else:
        fields.append(f"*Source*\n{esc(config.source_kind)} (not shown: fluxops does not model this kind yet)")
    revision = config.source_synced_commit
    fields.append(
        f"*Source revision*\n`{_code(w.short_revision(revision))}`" if revision else "*Source revision*\nnone yet"
    )
    updated = w.timestamp(config.status_updated_at) or w.timestamp(config.source_updated_at)
    fields.append(f"*Last update*\n{esc(updated)}" if updated else "*Last update*\nnot reported")
    if spec is not None:
        source = spec.source
        every = f"every {w.interval(source.sync_interval_seconds)}, timeout {w.interval(source.timeout_seconds)}"
        fields.append(f"*Sync*\n{every}" + (" · *suspended*" if spec.suspend else ""))
    c.block(_fields(fields))

    if config.error_message and compliance != w.COMPLIANT:
        lines = config.error_message.splitlines()
        c.rows([f":warning: *Azure reports:* {esc(lines[0])}", *(esc(x) for x in lines[1:])])

    kustomizations = spec.kustomizations if spec is not None else ()
    focused = next((k for k in kustomizations if focus is not None and k.name == focus), None)
    if focus is not None and focused is None:
        c.rows([f"{_UNKNOWN_EMOJI} This configuration has no kustomization `{_code(focus)}`."])
    if focused is not None:
        c.rows(_focus_lines(config, focused))
    elif kustomizations:
        lines = [_kustomization_line(k) for k in kustomizations]
        c.rows(_capped(lines, "kustomizations"), title=f"*Kustomizations* · {len(kustomizations)}")

    if not config.statuses:
        c.rows(["*Flux objects* · none reported yet"])
        return
    focus_names = {f"{config.name}-{focused.name}", focused.name} if focused is not None else set()
    rows = [
        _object_line(obj, obj.kind == "Kustomization" and obj.name in focus_names)
        for obj in w.failing_first(config.statuses)
    ]
    tally = w.tally(w.object_state(obj) for obj in config.statuses)
    c.rows(_capped(rows, "objects"), title=f"*Flux objects* · {len(config.statuses)}: {tally}")


def _kustomization_line(k: Kustomization) -> str:
    line = f"• `{_code(k.name)}` → `{_code(k.path or './')}`"
    if k.depends_on:
        line += " · after " + ", ".join(f"`{_code(d)}`" for d in k.depends_on)
    flags = [name for name, on in (("prune", k.prune), ("force", k.force)) if on]
    return line + (" · " + ", ".join(flags) if flags else "")


def _focus_lines(config: FluxConfigState, k: Kustomization) -> list[str]:
    flux_name = f"{config.name}-{k.name}"
    lines = [
        f":point_right: *Kustomization* `{_code(k.name)}` (Flux object `{_code(flux_name)}`)",
        f"path `{_code(k.path or './')}` · depends on "
        + (", ".join(f"`{_code(d)}`" for d in k.depends_on) or "nothing")
        + f" · prune {_yes(k.prune)} · force {_yes(k.force)} · wait {_yes(k.wait)}",
    ]
    timing = f"every {w.interval(k.sync_interval_seconds)}"
    if k.retry_interval_seconds is not None:
        timing += f", retry every {w.interval(k.retry_interval_seconds)}"
    timing += f", timeout {w.interval(k.timeout_seconds)}"
    lines.append(timing)
    if k.substitute:
        lines.append("substitute " + ", ".join(f"`{_code(key)}={_code(value)}`" for key, value in k.substitute))
    obj = next((o for o in config.statuses if o.kind == "Kustomization" and o.name in (flux_name, k.name)), None)
    lines.append(_object_line(obj, False) if obj is not None else f"{_UNKNOWN_EMOJI} no status reported yet")
    return lines


def _object_line(obj: ObjectStatus, focused: bool) -> str:
    state = w.object_state(obj)
    emoji = ":x:" if w.is_failing(obj) else STATE_EMOJI.get(state, _UNKNOWN_EMOJI)
    name = f"{obj.namespace}/{obj.name}" if obj.namespace else obj.name
    message = w.clip(_one_line(w.short_revision(w.status_message(obj))), ROW_MESSAGE_CHARS)
    line = f"{emoji} *{esc(obj.kind or '?')}* `{_code(name)}` · {esc(state)} — {esc(message)}"
    helm = obj.helm_release
    if helm is not None:
        if helm.chart_name:
            line += f" · chart `{_code(helm.chart_name)}`"
        if helm.last_revision_applied is not None:
            line += f" revision {helm.last_revision_applied}"
        if helm.failure_count:
            line += f" · {w.plural(helm.failure_count, 'failure')}"
    return f":point_right: {line}" if focused else line


def _extension(c: _Composer, ext: ExtensionState) -> None:
    c.rows([f"*Flux extension* `{_code(ext.name)}` on {_where(ext.cluster)}"])
    auto = {True: "on", False: "off", None: "not set"}[ext.auto_upgrade_minor_version]
    fields = [
        f"*Type*\n`{_code(ext.extension_type)}`",
        f"*Provisioning*\n{_state(ext.provisioning_state or w.UNKNOWN)}",
        f"*Version*\n{esc(ext.version)}" if ext.version else "*Version*\nlatest (auto-upgrade)",
        f"*Current version*\n{esc(ext.current_version)}" if ext.current_version else "*Current version*\nnot reported",
        f"*Auto-upgrade*\n{auto}",
        f"*Release train*\n{esc(ext.release_train or 'not set')}",
    ]
    c.block(_fields(fields))
    if ext.error:
        lines = ext.error.splitlines()
        c.rows([f":warning: *Azure reports:* {esc(lines[0])}", *(esc(x) for x in lines[1:])])
    if ext.settings:
        lines = [f"• `{_code(key)}` = `{_code(value)}`" for key, value in ext.settings]
        c.rows(_capped(lines, "settings"), title=f"*Settings* · {len(ext.settings)}")
    else:
        c.rows(["*Settings* · none (the extension's defaults)"])


def _config_list(c: _Composer, configs: Sequence[FluxConfigState]) -> None:
    clusters = {cfg.cluster.name for cfg in configs}
    where = f" on *{esc(next(iter(clusters)))}*" if len(clusters) == 1 else ""
    if not configs:
        c.rows(["*Flux configurations* · none"])
        return
    rows = [_config_line(cfg, show_cluster=len(clusters) > 1) for cfg in configs]
    tally = w.tally(w.config_state(cfg) for cfg in configs)
    c.rows(_capped(rows, "configurations"), title=f"*Flux configurations*{where} · {len(configs)}: {tally}")


def _config_line(config: FluxConfigState, *, show_cluster: bool) -> str:
    compliance = config.compliance_state or w.UNKNOWN
    emoji = STATE_EMOJI.get(compliance, _UNKNOWN_EMOJI)
    if config.provisioning_state == "Failed":
        emoji = ":x:"
    line = f"{emoji} *{esc(config.name or '?')}*"
    if show_cluster:
        line += f" on {esc(config.cluster.name)}"
    line += f" · {esc(compliance)} · provisioning {esc(config.provisioning_state or w.UNKNOWN)}"
    revision = config.source_synced_commit
    line += f" · `{_code(w.short_revision(revision))}`" if revision else " · no revision yet"
    if config.spec is not None:
        count = len(config.spec.kustomizations)
    else:
        count = sum(1 for obj in config.statuses if obj.kind == "Kustomization")
    line += f" · {w.plural(count, 'kustomization')}"
    if config.error_message and compliance != w.COMPLIANT:
        line += f" — {esc(w.clip(_one_line(config.error_message), ROW_MESSAGE_CHARS))}"
    return line


def _cluster_list(c: _Composer, rows: Sequence[ClusterRow]) -> None:
    if not rows:
        c.rows(["*Clusters* · none match"])
        return
    lines = [_cluster_line(row) for row in rows]
    c.rows(_capped(lines, "clusters"), title=f"*Clusters* · {len(rows)}")


def _cluster_line(row: ClusterRow) -> str:
    ref = row.cluster.ref
    line = f"*{esc(ref.name)}*"
    if row.alias and row.alias != ref.name:
        line = f"*{esc(row.alias)}* · `{_code(ref.name)}`"
    line += f" · {w.cluster_kind(ref)} · resource group `{_code(ref.resource_group)}` · {esc(row.cluster.location)}"
    if row.flux_version:
        line += f" · flux {esc(row.flux_version)}"
    if row.cluster.tags:
        line += " · " + ", ".join(esc(f"{k}={v}") for k, v in sorted(row.cluster.tags.items()))
    return line


_RESULT_EMOJI = {"succeeded": ":white_check_mark:", "failed": ":x:", "refused": ":no_entry_sign:"}


def _audit_list(c: _Composer, entries: Sequence[AuditEntry]) -> None:
    if not entries:
        c.rows(["*Audit log* · nothing in this period"])
        return
    lines = [_audit_line(entry) for entry in entries]
    count = "1 entry" if len(entries) == 1 else f"{len(entries)} entries"
    c.rows(_capped(lines, "entries"), title=f"*Audit log* · {count}")


def _audit_line(entry: AuditEntry) -> str:
    result = entry.result.split(":", 1)[0].strip().lower()
    emoji = _RESULT_EMOJI.get(result, ":heavy_minus_sign:")
    when = w.timestamp(entry.time) or entry.time
    return (
        f"`{_code(when)}` · {_person(entry.actor)} · `{_code(_one_line(entry.command))}` · {esc(entry.cluster)}"
        f" · {emoji} {esc(w.clip(_one_line(entry.result), ROW_MESSAGE_CHARS))} · job `{_code(entry.job_id)}`"
    )


# ---------------------------------------------------------------------------------------------
# Summaries and metadata
# ---------------------------------------------------------------------------------------------


def _job_summary(view: JobView) -> str:
    phase = w.PHASE_WORDS[view.phase].lower()
    if view.config is not None:
        config = view.config
        return f"{config.name} on {config.cluster.name}: {w.config_state(config)} — {phase} (job {view.job_id})"
    if view.error is not None:
        return f"{view.title}: {phase} — {_one_line(view.error.message)} (job {view.job_id})"
    return f"{view.title}: {phase} (job {view.job_id})"


def _metadata(job_id: str, phase: str, terminal: bool) -> dict[str, Any]:
    return {"event_type": EVENT_TYPE, "event_payload": {"job_id": job_id, "phase": phase, "terminal": terminal}}


# ---------------------------------------------------------------------------------------------
# Splitting to Slack's limits
# ---------------------------------------------------------------------------------------------


class _Composer:
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
                self.block(_section(text))

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
        parts = [blocks for blocks in self._messages if blocks] or [[_section("(empty)")]]
        total = len(parts)
        out = []
        ending = esc(ending)
        summary = _clip_escaped(esc(summary), MAX_FALLBACK_TEXT - 30 - len(ending))
        for number, blocks in enumerate(parts, start=1):
            text = summary if total == 1 else f"{summary} (part {number} of {total})"
            text += ending
            if number > 1:
                where = f"{self._heading} — continued" if self._heading else "Continued"
                job = f" · job `{_code(self._job_id)}`" if self._job_id else ""
                note = f"{esc(where)}, part {number} of {total}{job}"
                blocks = [_context(note), *blocks]
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


def _capped(lines: list[str], noun: str) -> list[str]:
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


def _mrkdwn(text: str) -> dict[str, Any]:
    return {"type": "mrkdwn", "text": text, "verbatim": True}


def _section(text: str) -> Block:
    return {"type": "section", "text": _mrkdwn(text)}


def _fields(fields: Sequence[str]) -> Block:
    assert len(fields) <= MAX_FIELDS
    return {"type": "section", "fields": [_mrkdwn(_clip_escaped(f, min(FIELD_CHARS, MAX_FIELD_TEXT))) for f in fields]}


def _context(text: str) -> Block:
    return {"type": "context", "elements": [_mrkdwn(text)]}


def _divider() -> Block:
    return {"type": "divider"}


def _header(text: str) -> Block:
    return {"type": "header", "text": {"type": "plain_text", "text": text, "emoji": True}}


def _heading(c: _Composer, emoji: str, title: str) -> None:
    """A header block; a title too long for one is shortened there and given whole just below."""
    text = f"{emoji} {w.redact(_one_line(title))}"
    c.block(_header(_plain_clip(text, MAX_HEADER_TEXT)))
    if len(text) > MAX_HEADER_TEXT:
        c.rows([f"*{esc(title)}*"])


def _button(text: str, action_id: str, value: str, *, style: str | None = None) -> Block:
    button: Block = {"type": "button", "text": {"type": "plain_text", "text": text, "emoji": True}}
    button |= {"action_id": action_id, "value": value}
    if style is not None:
        button["style"] = style
    return button


def esc(text: str) -> str:
    """``text`` safe inside mrkdwn: secrets in URLs masked, ``&``, ``<`` and ``>`` as entities (so no
    ``<@U…>``, ``<!channel>`` or link in it is live), no mention marks."""
    text = text.replace(MENTION_MARK, "")
    return w.redact(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


_MENTION = re.compile(MENTION_MARK + r"([UW][A-Z0-9]{2,})" + MENTION_MARK)
_SLACK_USER = re.compile(r"(?:slack:)?([UW][A-Z0-9]{2,})")
_LINKABLE = re.compile(r"https?://[^\s<>|`]+")


def _esc_mentions(text: str) -> str:
    """Like ``esc`` but a user the bot named itself (bot.views.mention) becomes a ``<@U…>`` mention."""
    parts = _MENTION.split(text)  # text, user id, text, user id, ..., text
    return "".join(f"<@{part}>" if i % 2 else esc(part) for i, part in enumerate(parts))


def _person(actor: str) -> str:
    """A Slack user id ("U123", "slack:U123") as a mention; anyone else (``github:octocat``) as text."""
    match = _SLACK_USER.fullmatch(actor)
    return f"<@{match.group(1)}>" if match else esc(actor or "someone")


def _code(text: str) -> str:
    """Escaped text for inside `...` (a backtick would end the span early)."""
    return esc(text).replace("`", "'")


def _url(url: str) -> str:
    safe = w.redact(url)
    if _LINKABLE.fullmatch(safe):
        return "<" + safe.replace("&", "&amp;") + ">"
    return f"`{_code(url)}`"


def _reference(text: str) -> str:
    kind, _, value = text.partition(" ")
    return f"{esc(kind)} `{_code(value)}`" if value else esc(text)


def _state(state: str) -> str:
    return f"{STATE_EMOJI.get(state, _UNKNOWN_EMOJI)} {esc(state)}"


def _yes(flag: bool) -> str:
    return "true" if flag else "false"


def _one_line(text: str) -> str:
    return " ".join(text.split())


def _name(text: str) -> str:
    """A name from a git host or Azure on one line and at most ``NAME_CHARS`` long (not escaped)."""
    return w.clip(_one_line(text), NAME_CHARS)


def _plain_clip(text: str, limit: int) -> str:
    text = _one_line(text)
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"
