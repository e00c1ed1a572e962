"""Markdown for pull-request comments (GitHub, Azure DevOps) and GitHub check runs.

Pure: one neutral view of ``bot.views`` in, one Markdown string out, for either host (CommonMark plus
GFM tables and task lists, which both render).

Everything a person typed or a Git host, Azure or Flux reported is inert when rendered: ``&``, ``<``
and ``>`` become entities (no raw HTML), Markdown punctuation is backslash-escaped (no links, images,
emphasis or headings smuggled in a name), ``@`` and ``#`` before a name or number get a zero-width
joiner (no mention pings, no issue cross-references), ``|`` is escaped in table cells, and code spans
are fenced with more backticks than they hold. Secrets are masked (``bot.redact``), full commit ids
shortened to 12 characters. The bot's own markup in help and recommendations (`code`, ```blocks```,
Slack-style *bold*) is kept.

A comment is capped at ``MAX_COMMENT_CHARS`` (GitHub takes 65,536; check-run summaries and texts
65,535) at a line boundary, closing an open code block and saying how much was cut.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence

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

MAX_COMMENT_CHARS = 60_000
#: Ours, so one table cell or value stays readable; what is clipped says how much was left out.
ROW_MESSAGE_CHARS = 500
NAME_CHARS = 200
TEXT_CHARS = 10_000
#: Room kept under the cap for the note that says what was cut.
_CUT_NOTE_ROOM = 400

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
_UNKNOWN_EMOJI = "❔"

TRACE_EMOJI: dict[TraceState, str] = {
    TraceState.PENDING: "⏳",
    TraceState.APPLIED: "✅",
    TraceState.FAILED: "❌",
    TraceState.ERROR: "⚠️",
}


def render_markdown(view: View) -> str:
    """``view`` as one Markdown comment for GitHub or Azure DevOps, at most ``MAX_COMMENT_CHARS`` long."""
    if isinstance(view, JobView):
        lines = _job(view)
    elif isinstance(view, ConfirmView):
        lines = _confirm(view)
    elif isinstance(view, PushView):
        lines = _push(view)
    else:
        lines = _text_view(view)
    return cap("\n".join(lines).strip() + "\n", MAX_COMMENT_CHARS)


def check_run_text(view: PushView) -> tuple[str, str, str]:
    """``(title, summary, text)`` of a GitHub check run showing the whole push.

    The title is plain text ("Flux applied on 6/9 clusters (1 failed, 2 pending)"); the summary
    (Markdown) names the push and the rows that need attention; the text (Markdown) is the whole
    matrix, ending with the headline. Summary and text are each capped at ``MAX_COMMENT_CHARS``.
    """
    title = f"Flux {view.headline}"
    if view.applied < len(view.rows):
        title += f" ({w.trace_tally(view.rows)})"
    summary = [_push_byline(view), ""]
    subject = w.commit_subject(view.message)
    if subject:
        summary += [f"> {text(subject, ROW_MESSAGE_CHARS)}", ""]
    attention = [row for row in w.trace_order(view.rows) if row.state in (TraceState.FAILED, TraceState.ERROR)]
    if attention:
        summary.append(f"**Needs attention** · {len(attention)}")
        summary += [f"- {_trace_item(row)}" for row in attention]
        summary.append("")
    summary.append(_push_footer(view))
    matrix = [*_push_rows(view), "", _push_footer(view)]
    return title, cap("\n".join(summary) + "\n", MAX_COMMENT_CHARS), cap("\n".join(matrix) + "\n", MAX_COMMENT_CHARS)


# ---------------------------------------------------------------------------------------------
# The views
# ---------------------------------------------------------------------------------------------


def _job(view: JobView) -> list[str]:
    out = _heading(PHASE_EMOJI[view.phase], view.title or f"fluxops job {view.job_id}")
    out += [f"**{w.PHASE_WORDS[view.phase]}** · asked by {_person(view.actor)} · job {code(view.job_id)}", ""]
    if view.error is not None:
        out += [*_error(view.error, view.phase), ""]
    if view.steps:
        out += [*(_step(step) for step in view.steps), ""]
    if view.note:
        out += [*_paragraph(rich(_slack_mentions(view.note)).splitlines(), first="📝 "), ""]
    if view.extension is not None:
        out += ["---", "", *_extension(view.extension)]
    if view.config is not None:
        out += ["---", "", *_config(view.config, view.focus)]
    if view.configs is not None:
        out += ["---", "", *_config_list(view.configs)]
    if view.clusters is not None:
        out += ["---", "", *_cluster_list(view.clusters)]
    if view.audit is not None:
        out += ["---", "", *_audit_list(view.audit)]
    return out


def _confirm(view: ConfirmView) -> list[str]:
    out = _heading(PHASE_EMOJI[Phase.AWAITING_CONFIRMATION], view.title or f"fluxops job {view.job_id}")
    phase = w.PHASE_WORDS[Phase.AWAITING_CONFIRMATION]
    out += [f"**{phase}** · asked by {_person(view.actor)} · job {code(view.job_id)}", ""]
    if view.summary:
        out += [*_paragraph(_lines(view.summary)), ""]
    if view.consequences:
        out += [f"**{w.WHAT_THIS_WILL_DO}:**", *(f"- {text(x, ROW_MESSAGE_CHARS)}" for x in view.consequences), ""]
    confirm, cancel = code(w.confirm_command(view.job_id, view.digest)), code(w.cancel_command(view.job_id))
    if view.approvals_required:
        approve = code(w.approve_command(view.job_id, view.digest))
        out += [f"{text(w.approvals_needed(view.approvals_required, view.approval_ttl))}: they reply {approve}.", ""]
    out += [f"{text(w.who_confirms(view.approver))}; {w.NOTHING_CHANGES}.", ""]
    return [*out, f"Reply {confirm} to go ahead or {cancel} to drop the job."]


def _text_view(view: TextView) -> list[str]:
    body = rich(view.text, slack_bold=True).splitlines() or ["(empty)"]
    return _paragraph(body, first="⚠️ " if view.error else "")


def _push(view: PushView) -> list[str]:
    out = _heading(PHASE_EMOJI[view.phase], f"push to {_name(view.repo)} · {_name(view.branch)}")
    out += [_push_byline(view), ""]
    subject = w.commit_subject(view.message)
    if subject:
        out += [f"> {text(subject, ROW_MESSAGE_CHARS)}", ""]
    out += [*_push_rows(view), "", _push_footer(view)]
    return out


# ---------------------------------------------------------------------------------------------
# Parts of a push
# ---------------------------------------------------------------------------------------------


def _push_byline(view: PushView) -> str:
    commit = code(w.short_revision(view.sha)[:12])
    url = _safe_url(w.commit_url(view.commit_url, view.sha))
    if url:
        commit = f"[{commit}]({url})"
    line = f"**{w.PHASE_WORDS[view.phase]}** · {commit} to {code(_name(view.repo))} ({code(_name(view.branch))})"
    if view.pusher:
        line += f" pushed by {text(_name(view.pusher))}"
    return line + f" · job {code(view.job_id)}"


def _push_rows(view: PushView) -> list[str]:
    if not view.rows:
        return [f"{_UNKNOWN_EMOJI} No Flux configuration follows {code(_name(view.branch))} of this repository."]
    out = [f"**Clusters** · {len(view.rows)}: {w.trace_tally(view.rows)}", ""]
    rows = [
        [
            text(_name(row.cluster)),
            code(_name(row.config), table=True),
            f"{TRACE_EMOJI[row.state]} {w.TRACE_WORDS[row.state]}",
            code(w.short_revision(_name(row.revision)), table=True) if row.revision else "",
            _detail(row),
        ]
        for row in w.trace_order(view.rows)
    ]
    return out + _table(["Cluster", "Configuration", "State", "Revision", "Detail"], rows)


def _push_footer(view: PushView) -> str:
    """The last line: the phase and the headline, which always ends the text."""
    return f"{PHASE_EMOJI[view.phase]} **{w.PHASE_WORDS[view.phase]}** · {view.headline}"


def _trace_item(row: TraceRow) -> str:
    line = f"{TRACE_EMOJI[row.state]} **{text(_name(row.cluster))}** {code(_name(row.config))}"
    line += f" {w.TRACE_WORDS[row.state]}"
    return line + (f": {_detail(row)}" if row.detail else "")


def _detail(row: TraceRow) -> str:
    return text(_one_line(w.short_revision(row.detail)), ROW_MESSAGE_CHARS) if row.detail else ""


# ---------------------------------------------------------------------------------------------
# Parts of a job
# ---------------------------------------------------------------------------------------------


def _error(error: ErrorInfo, phase: Phase) -> list[str]:
    emoji = "❌" if phase is Phase.FAILED else "⚠️"
    message = _lines(error.message) or [""]
    if error.doing:
        body = [f"{emoji} **{w.WHAT_WAS_HAPPENING}:** {text(error.doing)}", *message]
    else:
        body = [f"{emoji} {message[0]}", *message[1:]]
    out = _quote(_paragraph(body))
    tail = []
    if error.recommendation:
        recommendation = rich(error.recommendation).splitlines() or [""]
        tail += [f"**{w.WHAT_TO_DO}:** {recommendation[0]}", *recommendation[1:]]
    if error.code:
        tail.append(f"code {code(error.code)}")
    if tail:
        out += [">", *_quote(_paragraph(tail))]
    return out


def _step(step: Step) -> str:
    body = _one_line(rich(_slack_mentions(step.text)))
    if step.state is StepState.DONE:
        return f"- [x] {body}"
    mark = {StepState.RUNNING: "🔄", StepState.FAILED: "❌", StepState.SKIPPED: "⏭️"}[step.state]
    suffix = " _(skipped)_" if step.state is StepState.SKIPPED else ""
    return f"- [ ] {mark} {body}{suffix}"


def _where(ref: ClusterRef) -> str:
    return f"**{text(ref.name)}** ({w.cluster_kind(ref)} · resource group {code(ref.resource_group)})"


def _config(config: FluxConfigState, focus: str | None) -> list[str]:
    spec = config.spec
    head = f"#### Flux configuration {code(config.name or '?')} on {_where(config.cluster)}"
    if spec is not None:
        head += f" · namespace {code(spec.namespace)} · scope {text(spec.scope)}"
    out = [head, ""]

    compliance = config.compliance_state or w.UNKNOWN
    fields = [
        f"**Compliance:** {_state(compliance)}",
        f"**Provisioning:** {_state(config.provisioning_state or w.UNKNOWN)}",
    ]
    if spec is not None:
        source = spec.source
        fields.append(f"**Source:** {text(config.source_kind)} {code(source.url)}")
        fields.append(f"**Reference:** {_reference(w.selector(source))}")
    else:
        fields.append(f"**Source:** {text(config.source_kind)} (not shown: fluxops does not model this kind yet)")
    revision = config.source_synced_commit
    fields.append(
        f"**Source revision:** {code(w.short_revision(revision))}" if revision else "**Source revision:** none"
    )
    updated = w.timestamp(config.status_updated_at) or w.timestamp(config.source_updated_at)
    fields.append(f"**Last update:** {text(updated)}" if updated else "**Last update:** not reported")
    if spec is not None:
        every = (
            f"every {w.interval(spec.source.sync_interval_seconds)}, timeout {w.interval(spec.source.timeout_seconds)}"
        )
        fields.append(f"**Sync:** {every}" + (" · **suspended**" if spec.suspend else ""))
    out += [f"- {field}" for field in fields] + [""]

    if config.error_message and compliance != w.COMPLIANT:
        out += [*_paragraph(_lines(config.error_message), first="⚠️ **Azure reports:** "), ""]

    kustomizations = spec.kustomizations if spec is not None else ()
    focused = next((k for k in kustomizations if focus is not None and k.name == focus), None)
    if focus is not None and focused is None:
        out += [f"{_UNKNOWN_EMOJI} This configuration has no kustomization {code(focus)}.", ""]
    if focused is not None:
        out += [*_focus(config, focused), ""]
    elif kustomizations:
        out += [f"**Kustomizations** · {len(kustomizations)}", *(_kustomization(k) for k in kustomizations), ""]

    if not config.statuses:
        return [*out, "**Flux objects** · none reported yet", ""]
    focus_names = {f"{config.name}-{focused.name}", focused.name} if focused is not None else set()
    tally = w.tally(w.object_state(obj) for obj in config.statuses)
    out += [f"**Flux objects** · {len(config.statuses)}: {tally}", ""]
    rows = [
        _object_row(obj, obj.kind == "Kustomization" and obj.name in focus_names)
        for obj in w.failing_first(config.statuses)
    ]
    return [*out, *_table(["", "Kind", "Name", "State", "Message"], rows), ""]


def _kustomization(k: Kustomization) -> str:
    line = f"- {code(k.name)} → {code(k.path or './')}"
    if k.depends_on:
        line += " · after " + ", ".join(code(d) for d in k.depends_on)
    flags = [name for name, on in (("prune", k.prune), ("force", k.force)) if on]
    return line + (" · " + ", ".join(flags) if flags else "")


def _focus(config: FluxConfigState, k: Kustomization) -> list[str]:
    flux_name = f"{config.name}-{k.name}"
    depends = ", ".join(code(d) for d in k.depends_on) or "nothing"
    timing = f"every {w.interval(k.sync_interval_seconds)}"
    if k.retry_interval_seconds is not None:
        timing += f", retry every {w.interval(k.retry_interval_seconds)}"
    timing += f", timeout {w.interval(k.timeout_seconds)}"
    out = [
        f"👉 **Kustomization** {code(k.name)} (Flux object {code(flux_name)})",
        "",
        f"- path {code(k.path or './')} · depends on {depends}",
        f"- prune {_yes(k.prune)} · force {_yes(k.force)} · wait {_yes(k.wait)}",
        f"- {timing}",
    ]
    if k.substitute:
        out.append("- substitute " + ", ".join(code(f"{key}={value}") for key, value in k.substitute))
    return out


def _object_row(obj: ObjectStatus, focused: bool) -> list[str]:
    state = w.object_state(obj)
    emoji = "❌" if w.is_failing(obj) else STATE_EMOJI.get(state, _UNKNOWN_EMOJI)
    name = f"{obj.namespace}/{obj.name}" if obj.namespace else obj.name
    message = text(_one_line(w.short_revision(w.status_message(obj))), ROW_MESSAGE_CHARS)
    helm = obj.helm_release
    if helm is not None:
        if helm.chart_name:
            message += f" · chart {code(helm.chart_name, table=True)}"
        if helm.last_revision_applied is not None:
            message += f" revision {helm.last_revision_applied}"
        if helm.failure_count:
            message += f" · {w.plural(helm.failure_count, 'failure')}"
    mark = f"👉 {emoji}" if focused else emoji
    return [mark, text(obj.kind or "?"), code(_name(name), table=True), text(state), message]


def _extension(ext: ExtensionState) -> list[str]:
    auto = {True: "on", False: "off", None: "not set"}[ext.auto_upgrade_minor_version]
    out = [f"#### Flux extension {code(ext.name)} on {_where(ext.cluster)}", ""]
    out += [
        f"- **Type:** {code(ext.extension_type)}",
        f"- **Provisioning:** {_state(ext.provisioning_state or w.UNKNOWN)}",
        f"- **Version:** {text(ext.version)}" if ext.version else "- **Version:** latest (auto-upgrade)",
        f"- **Current version:** {text(ext.current_version)}"
        if ext.current_version
        else "- **Current version:** not reported",
        f"- **Auto-upgrade:** {auto}",
        f"- **Release train:** {text(ext.release_train or 'not set')}",
        "",
    ]
    if ext.error:
        out += [*_paragraph(_lines(ext.error), first="⚠️ **Azure reports:** "), ""]
    if not ext.settings:
        return [*out, "**Settings** · none (the extension's defaults)", ""]
    rows = [[code(key, table=True), code(value, table=True)] for key, value in ext.settings]
    return [*out, f"**Settings** · {len(ext.settings)}", "", *_table(["Setting", "Value"], rows), ""]


def _config_list(configs: Sequence[FluxConfigState]) -> list[str]:
    if not configs:
        return ["**Flux configurations** · none", ""]
    tally = w.tally(w.config_state(cfg) for cfg in configs)
    rows = [_config_row(cfg) for cfg in configs]
    header = ["", "Configuration", "Cluster", "Compliance", "Provisioning", "Revision", "Kustomizations", "Message"]
    return [f"**Flux configurations** · {len(configs)}: {tally}", "", *_table(header, rows), ""]


def _config_row(config: FluxConfigState) -> list[str]:
    compliance = config.compliance_state or w.UNKNOWN
    emoji = "❌" if config.provisioning_state == "Failed" else STATE_EMOJI.get(compliance, _UNKNOWN_EMOJI)
    revision = config.source_synced_commit
    if config.spec is not None:
        count = len(config.spec.kustomizations)
    else:
        count = sum(1 for obj in config.statuses if obj.kind == "Kustomization")
    message = ""
    if config.error_message and compliance != w.COMPLIANT:
        message = text(_one_line(config.error_message), ROW_MESSAGE_CHARS)
    return [
        emoji,
        code(_name(config.name or "?"), table=True),
        text(_name(config.cluster.name)),
        text(compliance),
        text(config.provisioning_state or w.UNKNOWN),
        code(w.short_revision(_name(revision)), table=True) if revision else "none",
        str(count),
        message,
    ]


def _cluster_list(rows: Sequence[ClusterRow]) -> list[str]:
    if not rows:
        return ["**Clusters** · none match", ""]
    table = [
        [
            text(_name(row.cluster.ref.name)),
            text(_name(row.alias)) if row.alias and row.alias != row.cluster.ref.name else "",
            w.cluster_kind(row.cluster.ref),
            code(_name(row.cluster.ref.resource_group), table=True),
            text(_name(row.cluster.location)),
            text(_name(row.flux_version)) if row.flux_version else "",
            ", ".join(code(_name(f"{k}={v}"), table=True) for k, v in sorted(row.cluster.tags.items())),
        ]
        for row in rows
    ]
    header = ["Cluster", "Alias", "Kind", "Resource group", "Location", "Flux", "Tags"]
    return [f"**Clusters** · {len(rows)}", "", *_table(header, table), ""]


_RESULT_EMOJI = {"succeeded": "✅", "failed": "❌", "refused": "🚫"}


def _audit_list(entries: Sequence[AuditEntry]) -> list[str]:
    if not entries:
        return ["**Audit log** · nothing in this period", ""]
    rows = [
        [
            text(w.timestamp(entry.time) or entry.time),
            code(_name(entry.actor), table=True),
            code(w.clip(_one_line(entry.command), ROW_MESSAGE_CHARS), table=True),
            text(_name(entry.cluster)),
            _RESULT_EMOJI.get(entry.result.split(":", 1)[0].strip().lower(), "")
            + " "
            + text(_one_line(entry.result), ROW_MESSAGE_CHARS),
            code(_name(entry.job_id), table=True),
        ]
        for entry in entries
    ]
    count = "1 entry" if len(entries) == 1 else f"{len(entries)} entries"
    header = ["Time", "Who", "Command", "Cluster", "Result", "Job"]
    return [f"**Audit log** · {count}", "", *_table(header, rows), ""]


# ---------------------------------------------------------------------------------------------
# Blocks
# ---------------------------------------------------------------------------------------------


def _heading(emoji: str, title: str) -> list[str]:
    return [f"### {emoji} {text(_one_line(title), 300)}", ""]


def _table(header: Sequence[str], rows: Iterable[Sequence[str]]) -> list[str]:
    """A GFM table; cells must already be escaped (``text``, ``code(..., table=True)``): one line each."""
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    return lines + ["| " + " | ".join(cell.replace("\n", " ") for cell in row) + " |" for row in rows]


def _paragraph(lines: Sequence[str], first: str = "") -> list[str]:
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


def _quote(lines: Sequence[str]) -> list[str]:
    return [f"> {line}" if line else ">" for line in lines]


def _lines(value: str, limit: int = TEXT_CHARS) -> list[str]:
    """Untrusted multi-line text, secrets masked as a whole first, then each line escaped."""
    masked = w.clip(w.redact(value), limit)
    return [_escape(line) for line in masked.splitlines()]


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
    content = _one_line(w.redact(value)) or " "
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


def _safe_url(url: str) -> str:
    """``url`` (secrets already masked) when it can be a link destination as it is, else ""."""
    return url if _URL.fullmatch(url) else ""


def _slack_mentions(value: str) -> str:
    """A Slack user the bot named (bot.views.mention) is ``@U…`` in a comment (escaped later so it cannot ping);
    a stray mention mark from outside text is dropped."""
    return _SLACK_MENTION.sub(r"@\1", value).replace(MENTION_MARK, "")


def _person(actor: str) -> str:
    return code(actor or "someone")


def _reference(value: str) -> str:
    kind, _, rest = value.partition(" ")
    return f"{text(kind)} {code(rest)}" if rest else text(value)


def _state(state: str) -> str:
    return f"{STATE_EMOJI.get(state, _UNKNOWN_EMOJI)} {text(state)}"


def _yes(flag: bool) -> str:
    return "true" if flag else "false"


def _one_line(value: str) -> str:
    return " ".join(value.split())


def _name(value: str | None) -> str:
    """A name from a Git host or Azure on one line and at most ``NAME_CHARS`` long (not escaped)."""
    return w.clip(_one_line(value or ""), NAME_CHARS)


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
