"""The plan of a fleet pull request as one Markdown comment (GitHub and Azure DevOps), updated on every push.

The comment starts with ``bot.git_host.PLAN_MARKER`` so fluxops finds it again, and carries the plan's
digest in a hidden line (``<!-- fluxops:plan-digest sha256:... -->``) so `/flux apply` can check that
it applies the plan people saw. Layout: a summary line, what blocks the plan, one section per cluster
that changes (a table of field changes per configuration), the unchanged clusters in one line, and
how to apply.

Everything a person wrote or Azure reported is escaped by the Markdown backend's one escaper
(``bot.render.markdown_text``): in table cells as code spans (pipes escaped, fenced past backticks),
elsewhere with Markdown and HTML special characters escaped and ``@`` and ``#12`` defused, so a name
can neither inject HTML, ping anyone, reference an issue, nor break a table. Secrets are masked (``bot.redact``). The
comment stays under ``MAX_CHARS``; what does not fit is named as left out.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from types import MappingProxyType

from bot.errors import FluxopsError
from bot.fleet import Action, ClusterPlan, ConfigChange, ExtensionChange, FieldDiff, FleetError, Plan
from bot.fleet.diff import Value
from bot.git_host import PLAN_MARKER
from bot.models import RepositoryRef
from bot.render import markdown_text as md
from bot.render import wording as w

#: GitHub refuses comments over 65,536 characters (Azure DevOps: 150,000); room is kept for the footer
MAX_CHARS = 60_000
#: a value longer than this is clipped in its table cell
MAX_CELL = 300
#: at most this many cluster names are listed as left out or unchanged
MAX_NAMES = 100
DIGEST_PREFIX = "<!-- fluxops:plan-digest "

_NO_LOCKS: Mapping[str, str] = MappingProxyType({})

_STATUS = {"error": "❌", "blocked": "⛔", "change": "✏️", "unchanged": "✅"}
_ACTION = {
    Action.CREATE: "\N{HEAVY PLUS SIGN} create",
    Action.INSTALL: "\N{HEAVY PLUS SIGN} install",
    Action.UPDATE: "✏️ update",
    Action.DELETE: "🗑️ delete",
    Action.UNCHANGED: "✅ unchanged",
}


# ---------------------------------------------------------------------------------------------
# Escaping
# ---------------------------------------------------------------------------------------------


def text(value: str) -> str:
    """Untrusted text for Markdown prose, on one line: the Markdown backend's escaper (``markdown_text.text``)."""
    return md.text(w.one_line(w.redact(value)))


def code(value: str | None, limit: int = MAX_CELL) -> str:
    """Untrusted text as an inline code span that fits in a table cell (``markdown_text.code``), clipped.

    Backticks become ``'`` so every span keeps a single-backtick fence, which keeps table rows simple to read.
    """
    if value is None:
        return "—"
    shown = w.clip(w.one_line(w.redact(value)), limit)
    if not shown:
        return "(empty)"
    return md.code(shown.replace("`", "'"), table=True)


def _holder(value: str) -> str:
    """Who holds a lock: a link when it is a URL, else text (``owner/repo#12`` is not a live reference)."""
    value = value.strip()
    return md.link(value, value) or text(value)


# ---------------------------------------------------------------------------------------------
# The comment
# ---------------------------------------------------------------------------------------------


def render_plan(
    plan: Plan,
    *,
    repo: str,
    number: int,
    head_sha: str,
    locks: Mapping[str, str] = _NO_LOCKS,
    approved: bool | None = None,
    note: str = "",
    frozen: Sequence[str] = (),
) -> str:
    """The plan comment for pull request ``repo#number`` planned at ``head_sha``.

    ``locks`` maps a cluster label (or key) to the pull request that holds it (``owner/repo#12`` or a
    URL); ``approved`` is whether the pull request is approved (None: not known); ``note`` is shown
    under the summary (e.g. "applies automatically on merge"); ``frozen`` says which clusters a change freeze
    closes now ("prod-weu is frozen until …: reason"): applying pauses before them.
    """
    head = _header(plan, repo, number, head_sha, note)
    foot = _footer(plan, head_sha, locks, approved, frozen)
    changed = [c for c in plan.clusters if c.status != "unchanged"]
    unchanged = [c for c in plan.clusters if c.status == "unchanged"]
    tail = f"✅ **Unchanged** ({len(unchanged)}): {_names(c.label for c in unchanged)}" if unchanged else ""
    sections = [_cluster_section(cluster, locks) for cluster in changed]
    whole = _join(head, *sections, tail, foot)
    if len(whole) <= MAX_CHARS:
        return whole

    # Too long: keep whole sections while they fit, clip the first that does not, name the rest.
    budget = MAX_CHARS - len(_join(head, tail, foot)) - len(_left_out(changed)) - 10
    body: list[str] = []
    used = 0
    for index, section in enumerate(sections):
        size = len(section) + 2  # the blank line between parts
        if used + size <= budget:
            body.append(section)
            used += size
            continue
        clipped = _clip_section(section, budget - used - 2)
        if clipped:
            body.append(clipped)
            index += 1
        if changed[index:]:
            body.append(_left_out(changed[index:]))
        break
    return _join(head, *body, tail, foot)


def _join(*parts: str) -> str:
    return "\n\n".join(part for part in parts if part) + "\n"


def render_fleet_error(error: FluxopsError, *, repo: str, number: int, head_sha: str) -> str:
    """The plan comment when the fleet files cannot be read: every problem, and how to fix it."""
    lines = [
        PLAN_MARKER,
        "## fluxops plan",
        f"❌ **The fleet files of {text(repo)}#{number} cannot be read**, so there is no plan to apply.",
    ]
    if isinstance(error, FleetError):
        shown: list[str] = []
        used = 0
        for problem in error.problems:
            where = f"{problem.file}:{problem.line}" if problem.line else problem.file
            key = f" {code(problem.key, 200)}" if problem.key else ""
            line = f"- {code(where, 200)}{key}: {text(w.clip(problem.text, 500))}"
            if used + len(line) > MAX_CHARS - 2000:
                shown.append(f"- … and {len(error.problems) - len(shown)} more problems left out")
                break
            shown.append(line)
            used += len(line) + 1
        lines.append("\n".join(shown))
    else:
        lines.append(text(error.message))
    if error.recommendation:
        lines.append(f"💡 {text(error.recommendation)}")
    lines.append(f"<sub>Planned at {code(head_sha[:12])} · made again on every push</sub>")
    return "\n\n".join(lines) + "\n"


def _header(plan: Plan, repo: str, number: int, head_sha: str, note: str) -> str:
    lines = [PLAN_MARKER, f"{DIGEST_PREFIX}{plan.digest} -->", "## fluxops plan", ""]
    lines.append(f"**{_summary(plan)}**{_configs_summary(plan)}")
    lines.append(f"Pull request {text(repo)}#{number} at {code(head_sha[:12])}")
    if note:
        lines += ["", f"> {text(note)}"]
    if plan.selections:
        lines += ["", "**Selectors**", *_selections(plan)]
    problems = plan.problems()
    if problems:
        count = w.plural(len(problems), "problem")
        lines += ["", f"⛔ **This plan cannot be applied**: {count}, marked ❌ and ⛔ below."]
    return "\n".join(lines)


def _selections(plan: Plan) -> list[str]:
    """One line per selector document: the clusters it selected, or that it selects none."""
    lines = []
    for match in plan.selections:
        head = f"- {code(match.origin, 200)} selects {code(match.text, 200)}: "
        if not match.clusters:
            lines.append(head + "⚠️ **no cluster** of the inventory matches")
        else:
            labels = [label for label, _ in match.clusters]
            lines.append(head + f"{w.plural(len(labels), 'cluster')}, {_names(labels)}")
    return lines


def _summary(plan: Plan) -> str:
    """``3 clusters: 2 to change, 1 unchanged``."""
    counts = plan.counts()
    total = len(plan.clusters)
    if not total:
        return "The fleet files declare no clusters"
    words = [
        (counts.get("change", 0), "to change"),
        (counts.get("blocked", 0), "blocked"),
        (counts.get("error", 0), "with errors"),
        (counts.get("unchanged", 0), "unchanged"),
    ]
    return f"{w.plural(total, 'cluster')}: " + ", ".join(f"{n} {word}" for n, word in words if n)


def _configs_summary(plan: Plan) -> str:
    counts = plan.counts()
    words = [(counts.get(a.value, 0), a.value) for a in (Action.CREATE, Action.UPDATE, Action.DELETE)]
    listed = [f"{n} to {word}" for n, word in words if n]
    if not listed:
        return ""
    noun = "configuration" if sum(n for n, _ in words) == 1 else "configurations"
    return f" — {noun}: " + ", ".join(listed)


def _footer(
    plan: Plan, head_sha: str, locks: Mapping[str, str], approved: bool | None, frozen: Sequence[str] = ()
) -> str:
    lines: list[str] = []
    if plan.problems():
        lines.append("⛔ Fix what is marked above and push: the plan is made again on every push.")
    elif plan.is_empty:
        lines.append("✅ Nothing to apply: the clusters already run what the fleet files declare.")
    else:
        how = "**To apply**, comment `/flux apply` once the pull request is approved"
        if approved is True:
            how += " (it is approved)"
        elif approved is False:
            how += " (it is not approved yet)"
        lines.append(how + ".")
        held = [c.label for c in plan.clusters if _lock(c, locks) is not None and c.status != "unchanged"]
        if held:
            lines.append(
                f"🔒 {_names(held)} {'is' if len(held) == 1 else 'are'} locked by another pull request: "
                "this one cannot apply there until that one is merged or closed."
            )
    if frozen:
        more = f"; and {len(frozen) - 5} more" if len(frozen) > 5 else ""
        shown = "; ".join(text(line) for line in frozen[:5]) + more
        lines.append(f"🧊 **Change freeze**: {shown}. An apply pauses before these clusters until it ends.")
    lines.append(f"<sub>Planned at {code(head_sha[:12])} · plan {code(plan.digest[:19])} · updated on every push</sub>")
    return "\n\n".join(lines)


def _lock(cluster: ClusterPlan, locks: Mapping[str, str]) -> str | None:
    return locks.get(cluster.label) or locks.get(cluster.key)


def _names(labels: Iterable[str]) -> str:
    names = list(labels)
    shown = ", ".join(code(str(n), 80) for n in names[:MAX_NAMES])
    return shown + (f" and {len(names) - MAX_NAMES} more" if len(names) > MAX_NAMES else "")


def _left_out(clusters: Sequence[ClusterPlan]) -> str:
    return (
        f"… **{w.plural(len(clusters), 'more cluster')} left out** to keep this comment under "
        f"{MAX_CHARS:,} characters: {_names([c.label for c in clusters])}"
    )


def _clip_section(section: str, room: int) -> str:
    """The start of ``section`` that fits in ``room``, cut at a line and saying how much is left out."""
    if room < 500:
        return ""
    lines = section.split("\n")
    kept: list[str] = []
    size = 0
    for line in lines:
        if size + len(line) + 1 > room - 120:
            break
        kept.append(line)
        size += len(line) + 1
    dropped = len(lines) - len(kept)
    # a blank line first: a line right after table rows would become a row
    return "\n".join([*kept, "", f"… {w.plural(dropped, 'more line')} of this cluster left out (too long)."])


# ---------------------------------------------------------------------------------------------
# One cluster
# ---------------------------------------------------------------------------------------------


def _cluster_section(cluster: ClusterPlan, locks: Mapping[str, str]) -> str:
    status = cluster.status
    lines = [f"### {_STATUS[status]} {text(cluster.label)}"]
    where = []
    only_selected = cluster.selected_by and cluster.cluster is not None and cluster.key == cluster.cluster.arm_id
    if cluster.key != cluster.label and not only_selected:
        where.append(f"declared as {code(cluster.key, 200)}")
    if cluster.selected_by:
        where.append("selected by " + ", ".join(code(origin, 200) for origin in cluster.selected_by))
    if cluster.cluster is not None:
        ref = cluster.cluster
        where.append(f"{code(ref.resource_group + '/' + ref.name, 200)} ({w.cluster_kind(ref)})")
    if where:
        lines.append(" · ".join(where))
    holder = _lock(cluster, locks)
    if holder is not None:
        lines += [
            "",
            f"🔒 Locked by {_holder(holder)}: applying here waits until that pull request is merged or closed.",
        ]
    if cluster.error is not None:
        lines += ["", f"❌ **Cannot plan this cluster**: {text(cluster.error)}"]
        return "\n".join(lines)
    if cluster.extension is not None and cluster.extension.action is not Action.UNCHANGED:
        lines += ["", *_extension(cluster.extension)]
    for change in cluster.changes:
        lines += ["", *_config(change)]
    if cluster.unmanaged:
        lines += ["", f"Not managed here (left alone): {_names(cluster.unmanaged)}"]
    if (
        cluster.extension is not None
        and cluster.extension.unmanaged_settings
        and cluster.extension.action is not Action.INSTALL
    ):
        lines += ["", f"Extension settings not managed here: {_names(cluster.extension.unmanaged_settings)}"]
    return "\n".join(lines)


def _extension(change: ExtensionChange) -> list[str]:
    title = f"**{_ACTION[change.action]} the flux extension** ({code(change.name, 80)})"
    if change.implicit:
        title += ", first: the new configurations need it"
    return [title, "", *_table(change.fields)]


def _config(change: ConfigChange) -> list[str]:
    lines = [f"**{_ACTION[change.action]} configuration {code(change.name, 80)}**"]
    rows = list(change.fields)
    for k in change.kustomizations:
        prefix = f"kustomizations.{k.name}"
        if k.action is Action.DELETE:
            rows.append(FieldDiff(prefix, "present", None))
        elif k.action is Action.CREATE and change.action is Action.UPDATE:
            rows.append(FieldDiff(prefix, None, "added"))
            rows += [FieldDiff(f"{prefix}.{f.path}", f.old, f.new) for f in k.fields]
        else:
            rows += [FieldDiff(f"{prefix}.{f.path}", f.old, f.new) for f in k.fields]
    if rows:
        lines += ["", *_table(rows)]
    lines += [f"\n⛔ **Blocked**: {text(reason)}" for reason in change.all_blocked]
    warnings = change.warnings + tuple(warning for k in change.kustomizations for warning in k.warnings)
    lines += [f"\n⚠️ {text(warning)}" for warning in dict.fromkeys(warnings)]
    return lines


def _table(rows: Sequence[FieldDiff]) -> list[str]:
    if not rows:
        return []
    lines = ["| Field | Before | After |", "|---|---|---|"]
    for row in rows:
        old, new = _shown(row.path, row.old), _shown(row.path, row.new)
        if row.old is None and row.new in (None, ""):
            new = _UNSET_ON_CREATE.get(row.path.rpartition(".")[2], new)
        lines.append(f"| {code(row.path, 200)} | {code(old)} | {code(new)} |")
    return lines


#: a field a create leaves unset, and what that means (a kustomization at the source's root, the newest extension)
_UNSET_ON_CREATE = {"path": "(source root)", "version": "latest"}


def _shown(path: str, value: Value) -> str | None:
    """A diff's value as the fleet file would write it: ``true``, ``10m``, ``branch main``, ``[a, b]``, ``{k: v}``."""
    if value is None or isinstance(value, str):
        return value.lower() if value is not None and path.endswith(".provider") else value
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return w.interval(value)
    if isinstance(value, RepositoryRef):
        return w.reference(value)
    if path.rpartition(".")[2] == "substitute":
        return "{" + ", ".join(f"{pair[0]}: {pair[1]}" for pair in value if isinstance(pair, tuple)) + "}"
    return "[" + ", ".join(name for name in value if isinstance(name, str)) + "]"
