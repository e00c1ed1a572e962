"""The Markdown renderer (PR comments on GitHub and Azure DevOps, GitHub check runs) against goldens and hostile input.

Goldens live in tests/golden/markdown/<case>.md, exactly as posted. Regenerate after an intended change
and review the diff:

    UPDATE_GOLDEN=1 PYTHONPATH=. .venv/bin/pytest tests/bot/render
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import replace

import pytest

from bot.models import Cluster, ExtensionState
from bot.render import markdown as md
from bot.render.markdown import MAX_COMMENT_CHARS, check_run_text, code, render_markdown, text
from bot.views import (
    AuditEntry,
    ClusterRow,
    ConfirmView,
    JobView,
    Phase,
    PushView,
    Step,
    StepState,
    TextView,
    TraceState,
    View,
    mention,
)
from tests.bot.render import azure_read_views, doctor_views, event_views, fleet_views, source_views
from tests.bot.render import test_slack_push as push
from tests.bot.render import tutorial_views as tv
from tests.golden_files import assert_exact, assert_no_stale

ZWJ = "\u200d"


def running() -> JobView:
    view = tv.tutorial_pending()
    return replace(view, phase=Phase.RUNNING, steps=(*view.steps[:1], Step(view.steps[1].text, StepState.RUNNING)))


def hostile_confirm() -> ConfirmView:
    return ConfirmView(
        job_id="j-`x`|<b>",
        actor="github:@everyone",
        title="config delete <script>alert(1)</script> on @everyone",
        summary=f"Delete flux configuration a|b from c`d (Arc).\n# not a heading\n{push.FAKE_TOKEN}",
        consequences=("kustomization `x` (prune: true) removes HelmRelease <img src=x onerror=alert(1)>",),
        approver="@octo-org/admins",
    )


def hostile_usage_error() -> TextView:
    """A usage error quotes what the person typed: their backticks, pings and HTML must stay inert."""
    typed = f"/flux confg @everyone <script> `x` {push.FAKE_TOKEN}"
    return TextView(
        text=f"unknown command `confg` in `{typed}`\n1. did you mean @here? [x](https://e.example)", error=True
    )


def extension_failed() -> JobView:
    ext = ExtensionState(tv.ARC, "flux", "microsoft.flux", "Failed", "1.8.2", None, False, None, error="too old & <b>")
    return JobView(job_id="j-e", actor="github:octocat", title="extension show", phase=Phase.FAILED, extension=ext)


def _check_run(view: Callable[[], PushView]) -> Callable[[], str]:
    def render() -> str:
        title, summary, matrix = check_run_text(view())
        return f"<!-- title -->\n{title}\n<!-- summary -->\n{summary}<!-- text -->\n{matrix}"

    return render


VIEWS: dict[str, Callable[[], View]] = {
    "job_queued": tv.queued,
    "job_waiting_for_lock": tv.waiting_for_lock,
    "job_running": running,
    "job_watching": tv.tutorial_pending,
    "job_succeeded": tv.tutorial_compliant,
    "job_failed_with_error": tv.failed_with_error,
    "job_non_compliant": tv.tutorial_non_compliant,
    "job_suspended": tv.tutorial_suspended,
    "kustomization_show_focus": tv.kustomization_show,
    "config_list": tv.config_list,
    "clusters_list": tv.clusters_list,
    "audit_list": tv.audit_list,
    "extension_show": tv.extension_show,
    "extension_failed": extension_failed,
    "confirm_delete": tv.confirm_delete,
    "help": tv.help_text,
    "usage_error": tv.usage_error,
    "hostile_job": tv.hostile_names,
    "hostile_confirm": hostile_confirm,
    "hostile_usage_error": hostile_usage_error,
    **push.CASES,
    **fleet_views.CASES,
    **doctor_views.CASES,
    **event_views.CASES,
    **source_views.CASES,
    **azure_read_views.CASES,
}
CHECK_RUNS: dict[str, Callable[[], str]] = {
    "check_run_failed": _check_run(push.push_failed),
    "check_run_failed_with_event": _check_run(push.push_failed_with_event),
    "check_run_partly_applied": _check_run(push.push_partly_applied),
    "check_run_all_applied": _check_run(push.push_all_applied),
    "check_run_hostile": _check_run(push.push_hostile),
}


# ---------------------------------------------------------------------------------------------
# What every comment must be: inert outside code, tables whole, secrets masked
# ---------------------------------------------------------------------------------------------

_FENCE = re.compile(r"^ {0,3}(`{3,}|~{3,})")
_CODE_SPAN = re.compile(r"(?<![`\\])(`+)(?!`)(.*?)(?<!`)\1(?!`)")
_UNESCAPED_PIPE = re.compile(r"(?<!\\)\|")
#: what the renderer writes at a line's start on purpose: block quotes and task-list items
_OUR_MARKUP = re.compile(r"^(?:>(?: |$))*(?:- \[[ x]\] )?")


def prose_of(markdown: str) -> list[str]:
    """The lines of ``markdown`` outside fenced code blocks, with their code spans removed."""
    lines: list[str] = []
    fence = ""
    for line in markdown.splitlines():
        match = _FENCE.match(line)
        if fence:
            if match and match.group(1).startswith(fence):
                fence = ""
            continue
        if match:
            fence = match.group(1)
            continue
        lines.append(_CODE_SPAN.sub("", line))
    assert not fence, "a code block is left open"
    return lines


def check_inert(markdown: str) -> None:
    """No raw HTML, no live mention, no link but ours, every table row with its header's cells."""
    for line in prose_of(markdown):
        line = _OUR_MARKUP.sub("", line)
        unescaped = re.sub(r"\\.", "", line)
        assert "<" not in unescaped and ">" not in unescaped, f"raw < or > in {line!r}"
        assert "&" not in re.sub(r"&(amp|lt|gt);", "", unescaped), f"raw & in {line!r}"
        assert not re.search(r"(?<![A-Za-z0-9])@[A-Za-z0-9]", line), f"a mention that pings in {line!r}"
        assert not re.search(r"(?<![\\])#[0-9]", line), f"an issue reference in {line!r}"
        links = re.findall(r"(?<!\\)\[", line)
        assert not links or re.fullmatch(r".*\]\(https?://[^\s()]+\).*", line), f"a link in {line!r}"
    table: int | None = None
    for line in markdown.splitlines():
        if not line.startswith("|"):
            table = None
            continue
        cells = len(_UNESCAPED_PIPE.findall(line))
        table = cells if table is None else table
        assert cells == table, f"a row with {cells - 1} cells in a table of {table - 1}: {line!r}"


SECRETS = (push.FAKE_TOKEN, push.PEM_BODY, "BEGIN OPENSSH", "ghp_s3cr3tT0k3n", "hunter2", "abc123")


@pytest.mark.parametrize("case", sorted(VIEWS))
def test_golden(case: str) -> None:
    markdown = render_markdown(VIEWS[case]())
    check_inert(markdown)
    assert not any(secret in markdown for secret in SECRETS)
    assert_exact(f"markdown/{case}.md", markdown)


@pytest.mark.parametrize("case", sorted(CHECK_RUNS))
def test_golden_check_run(case: str) -> None:
    rendered = CHECK_RUNS[case]()
    check_inert(rendered.split("<!-- summary -->\n", 1)[1].replace("<!-- text -->", ""))
    assert not any(secret in rendered for secret in SECRETS)
    assert_exact(f"markdown/{case}.md", rendered)


def test_no_stale_goldens() -> None:
    assert_no_stale("markdown", (f"{case}.md" for case in (*VIEWS, *CHECK_RUNS)))


# ---------------------------------------------------------------------------------------------
# Escaping, piece by piece
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "escaped"),
    [
        ("<script>alert(1)</script>", "&lt;script&gt;alert(1)&lt;/script&gt;"),
        ("a & b &amp; c", "a &amp; b &amp;amp; c"),
        ("@everyone @octo-org/admins", f"@{ZWJ}everyone @{ZWJ}octo-org/admins"),
        ("mail me@example.com", "mail me@example.com"),  # never a mention
        ("fixes #12, see !7", f"fixes \\#{ZWJ}12, see !{ZWJ}7"),
        ("[click](https://evil.example)", "\\[click\\](`https://evil.example`)"),
        ("![img](x)", "!\\[img\\](x)"),
        ("a|b `c` *d* _e_ ~f~ \\g", "a\\|b \\`c\\` \\*d\\* \\_e\\_ \\~f\\~ \\\\g"),
        ("# heading", "\\# heading"),
        ("- item", "\\- item"),
        ("+ item", "\\+ item"),
        ("1. item", "1\\. item"),
        ("2) item", "2\\) item"),
        ("---", "\\---"),
        ("===", "\\==="),
        ("--force is a flag", "--force is a flag"),
        ("version 1.17.3", "version 1.17.3"),
        ("see https://x.example/a_b?c=1&d=2.", "see `https://x.example/a_b?c=1&d=2`."),
    ],
)
def test_text_escapes_markdown_html_and_pings(raw: str, escaped: str) -> None:
    assert text(raw) == escaped


def test_text_masks_secrets_and_clips() -> None:
    assert text(f"token {push.FAKE_TOKEN} and key\n{push.FAKE_PEM}") == "token \\*\\*\\* and key\n\\*\\*\\*"
    assert text(f"main/{tv.SHA}") == "main/4f1bdad4d0a5"
    clipped = text("x" * 5000, 100)
    assert len(clipped) <= 100 and clipped.endswith("more characters)")


@pytest.mark.parametrize(
    ("raw", "span"),
    [
        ("cluster-config", "`cluster-config`"),
        ("a`b", "``a`b``"),
        ("a``b`", "``` a``b` ```"),
        ("`x`", "`` `x` ``"),
        ("<script>@everyone", "`<script>@everyone`"),
        ("two\nlines", "`two lines`"),
        ("", "` `"),
        (push.FAKE_TOKEN, "`***`"),
    ],
)
def test_code_spans_outlast_the_backticks_inside(raw: str, span: str) -> None:
    assert code(raw) == span


def test_code_spans_in_table_cells_escape_pipes() -> None:
    assert code("a|b") == "`a|b`"
    assert code("a|b", table=True) == "`a\\|b`"
    assert code("a\\|b", table=True) == "`a\\\\|b`"  # GFM drops the backslash before the pipe only


def test_rich_text_keeps_the_bot_s_code_and_escapes_the_rest() -> None:
    assert md.rich("run `/flux x -c <c>` now <b>") == "run `/flux x -c <c>` now &lt;b&gt;"
    assert md.rich("*Commands* and *more*", slack_bold=True) == "**Commands** and **more**"
    assert md.rich("2*3*4 stays", slack_bold=True) == "2\\*3\\*4 stays"
    block = md.rich("see:\n```\nkubectl get ks -A <all>\n```\ndone")
    assert block == "see:\n```\nkubectl get ks -A <all>\n```\ndone"
    nested = md.rich("```\na ``` b\n```")
    assert nested == "````\na ``` b\n````"
    assert md.rich("unbalanced ` tick @here") == f"unbalanced \\` tick @{ZWJ}here"
    assert md.rich(f"key:\n```\n{push.FAKE_PEM}\n```") == "key:\n```\n***\n```"


# ---------------------------------------------------------------------------------------------
# What the goldens show, asserted so a careless UPDATE_GOLDEN cannot lose it
# ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("phase", "emoji", "word"),
    [
        (Phase.QUEUED, "📥", "Queued"),
        (Phase.WAITING, "🔒", "Waiting"),
        (Phase.RUNNING, "⚙️", "Running"),
        (Phase.WATCHING, "👀", "Reconciling"),
        (Phase.SUCCEEDED, "✅", "Succeeded"),
        (Phase.FAILED, "❌", "Failed"),
        (Phase.TIMED_OUT, "⏰", "Timed out"),
        (Phase.CANCELED, "🚫", "Canceled"),
    ],
)
def test_every_phase_has_its_emoji_and_word(phase: Phase, emoji: str, word: str) -> None:
    lines = render_markdown(replace(tv.queued(), phase=phase)).splitlines()
    assert lines[0] == f"### {emoji} config create cluster-config on flux-demo-arc"
    assert lines[2] == f"**{word}** · asked by `U024BE7LH` · job `j-20220406-7f3a9c`"


def test_steps_are_a_checklist() -> None:
    steps = (
        Step("installed microsoft.flux", StepState.DONE),
        Step("creating flux configuration cluster-config", StepState.RUNNING),
        Step("verify the source", StepState.FAILED),
        Step("revoke the old key", StepState.SKIPPED),
        Step(f"confirmed by {mention('U0G9QF9C6')}", StepState.DONE),
    )
    markdown = render_markdown(replace(tv.queued(), steps=steps))
    assert (
        "- [x] installed microsoft.flux\n"
        "- [ ] 🔄 creating flux configuration cluster-config\n"
        "- [ ] ❌ verify the source\n"
        "- [ ] ⏭️ revoke the old key _(skipped)_\n"
        f"- [x] confirmed by @{ZWJ}U0G9QF9C6\n"
    ) in markdown


def test_error_says_what_was_happening_what_went_wrong_and_what_to_do() -> None:
    markdown = render_markdown(tv.failed_with_error())
    assert (
        "> ❌ **What was happening:** updating flux configuration 'apps' on cluster 'prod-weu'\\\n"
        "> the cluster has no flux extension\n"
        ">\n"
        "> **What to do:** run `/flux extension create -c prod-weu`\\\n"
        "> _code_ `ExtensionNotFound`\n"
    ) in markdown
    assert "job `j-20220407-0a11ce`" in markdown


def test_statuses_table_lists_the_failing_object_first() -> None:
    markdown = render_markdown(tv.tutorial_non_compliant())
    rows = markdown[markdown.index("| Kind |") - 3 :].splitlines()
    assert rows[0] == "|  | Kind | Name | State | Message |"
    assert rows[2] == (
        "| ❌ | Kustomization | `cluster-config/cluster-config-apps` | Non-Compliant "
        "| kustomization path not found: ./apps/nope |"
    )
    assert all(row.startswith("| ✅ |") for row in rows[3:7])
    assert "- **Source revision:** `main/4f1bdad4d0a5`" in markdown
    assert tv.SHA not in markdown


def test_confirm_says_how_to_confirm_from_a_pull_request() -> None:
    markdown = render_markdown(tv.confirm_delete())
    assert "**What this will do:**\n- kustomization infra (prune: true) removes HelmRelease nginx" in markdown
    assert "Only an admin of flux-demo-arc can confirm; nothing changes until then." in markdown
    assert markdown.rstrip().endswith(
        "Reply `/flux confirm j-20220408-de1e7e` to go ahead or `/flux cancel j-20220408-de1e7e` to drop the job."
    )


def test_help_keeps_its_code_and_usage_errors_are_marked() -> None:
    markdown = render_markdown(tv.help_text())
    assert markdown.startswith("**fluxops** runs Flux v2")
    assert "• `/flux clusters [--selector env=prod,region=weu]` — the clusters fluxops knows\\\n" in markdown
    assert "```\n/flux config create cluster-config -c flux-demo-arc -g flux-demo-rg" in markdown
    error = render_markdown(tv.usage_error())
    assert error.startswith("⚠️ unknown command `confg` in `/flux confg show cluster-config -c flux-demo-arc`\\\n")
    assert not markdown.startswith("⚠️")


def test_hostile_usage_error_keeps_its_code_spans_inert() -> None:
    markdown = render_markdown(hostile_usage_error())
    assert "`/flux confg @everyone <script> `x` ***`" not in markdown  # the typed backticks cannot close the span
    assert f"did you mean @{ZWJ}here?" in markdown
    assert "1\\. did you mean" in markdown


def test_hostile_names_are_inert_in_headings_tables_and_code() -> None:
    markdown = render_markdown(tv.hostile_names())
    assert markdown.startswith(f"### ❌ config show &lt;!channel&gt; &amp; &lt;@{ZWJ}U999EVIL&gt;\n")
    assert "asked by `<!everyone>`" in markdown
    assert "| `cluster-config/<@U999EVIL>` |" in markdown
    assert "`https://deploy:***@github.com/a&b/<repo>`" in markdown
    confirm = render_markdown(hostile_confirm())
    assert "### ⚠️ config delete &lt;script&gt;alert(1)&lt;/script&gt; on @\u200deveryone" in confirm
    assert "\\# not a heading" in confirm
    assert "Reply ``/flux confirm j-`x`|<b>`` to go ahead" in confirm


def test_push_table_with_the_headline_last() -> None:
    markdown = render_markdown(push.push_failed())
    lines = markdown.rstrip().splitlines()
    assert lines[-1] == "❌ **Failed** · applied on 2/4 configurations"
    header = lines.index("|  | Cluster | Configuration | State | Revision | Detail |")
    assert lines[header + 2] == (
        f"| ❌ | flux-demo-arc | `cluster-config` | failed | `main/9b2c6f1e0d3a` | {push.APPS_MISSING} |"
    )
    assert lines[header + 3].startswith("| ⚠️ | prod-weu | `cluster-config` | error |")
    assert "### ❌ push to contoso/fleet-config · main" in markdown
    assert f"[`9b2c6f1e0d3a`]({push.COMMIT_URL}) pushed by octocat" in markdown
    assert "> apps: podinfo 6.1.0\n" in markdown
    for case in push.CASES.values():
        view = case()
        assert render_markdown(view).rstrip().endswith(view.headline)


def test_push_commit_link_only_for_http_urls() -> None:
    markdown = render_markdown(push.push_hostile())
    assert "javascript" not in markdown and "[`9b2c6f1e0d3a`]" not in markdown
    assert "pushed by U024BE7LH @\u200deveryone" in markdown
    assert "| `a\\|b`c``d` |" not in markdown  # the backticks inside are outlasted
    assert "| ```a\\|b`c``d``` |" in markdown


def test_check_run_text() -> None:
    title, summary, matrix = check_run_text(push.push_failed())
    assert title == "Flux applied on 2/4 configurations (1 failed, 1 error, 2 applied)"
    assert summary.startswith(f"**Failed** · [`9b2c6f1e0d3a`]({push.COMMIT_URL}) pushed by octocat")
    assert "**Needs attention** · 2\n" in summary
    failed = f"- ❌ **flux-demo-arc** · `cluster-config` · failed · `main/9b2c6f1e0d3a` — {push.APPS_MISSING}\n"
    assert failed in summary
    assert "- ⚠️ **prod-weu** · `cluster-config` · error · `main/9b2c6f1e0d3a` — flux configuration" in summary
    assert summary.rstrip().endswith("applied on 2/4 configurations")
    assert matrix.startswith("**Clusters** · 4: 1 failed, 1 error, 2 applied\n\n|  | Cluster |")
    assert matrix.rstrip().endswith("❌ **Failed** · applied on 2/4 configurations")
    title, summary, _ = check_run_text(push.push_all_applied())
    assert title == "Flux applied on 9/9 clusters"
    assert "Needs attention" not in summary


# ---------------------------------------------------------------------------------------------
# The length cap
# ---------------------------------------------------------------------------------------------


def test_a_huge_config_is_cut_at_a_row_saying_what_was_cut() -> None:
    statuses = tuple(
        tv.flux_object("HelmRelease", f"release-{i:04d}", tv.ready("False", "InstallFailed", "x " * 100))
        for i in range(1000)
    )
    view = replace(tv.tutorial_non_compliant(), config=replace(tv.NON_COMPLIANT, statuses=statuses))
    markdown = render_markdown(view)
    assert len(markdown) <= MAX_COMMENT_CHARS
    check_inert(markdown)
    last_row = max(i for i in range(1000) if f"`cluster-config/release-{i:04d}`" in markdown)
    assert 100 < last_row < 999
    note = markdown.rstrip().splitlines()[-1]
    assert note.startswith(f"✂️ **Cut to fit:** left out the last {999 - last_row} lines (")
    assert f" characters, {999 - last_row} table rows); the whole text is " in note
    assert note.endswith(" characters, over the 60,000 this place takes.")


def test_a_cut_inside_a_code_block_closes_it() -> None:
    body = "\n".join(f"line {i:05d} " + "y" * 60 for i in range(2000))
    markdown = render_markdown(TextView(text=f"output:\n```\n{body}\n```\nthe end"))
    assert len(markdown) <= MAX_COMMENT_CHARS
    prose_of(markdown)  # asserts every code block is closed
    assert "the end" not in markdown and "✂️ **Cut to fit:**" in markdown


def test_one_enormous_line_is_cut_too() -> None:
    markdown = render_markdown(TextView(text="word&word " * 20_000))
    assert len(markdown) <= MAX_COMMENT_CHARS
    check_inert(markdown)
    assert "word&amp;word …\n\n✂️ **Cut to fit:** left out the rest of a long line (" in markdown


def test_a_fleet_of_five_thousand_fits_a_check_run() -> None:
    rows = tuple(
        push._row(f"aks-fleet-{i:04d}", TraceState.FAILED if i % 1000 == 3 else TraceState.APPLIED, push.APPS_MISSING)
        for i in range(5000)
    )
    view = replace(push.push_pending(), rows=rows, phase=Phase.FAILED)
    title, summary, matrix = check_run_text(view)
    assert title == "Flux applied on 4995/5000 clusters (5 failed, 4995 applied)"
    assert len(summary) <= MAX_COMMENT_CHARS and len(matrix) <= MAX_COMMENT_CHARS
    assert "**Needs attention** · 5" in summary
    assert matrix.index("aks-fleet-0003") < matrix.index("aks-fleet-0000")  # failures first
    assert "✂️ **Cut to fit:**" in matrix
    markdown = render_markdown(view)
    assert len(markdown) <= MAX_COMMENT_CHARS and "✂️ **Cut to fit:**" in markdown


def test_lists_without_data() -> None:
    empty = JobView(
        job_id="j", actor="github:octocat", title="t", phase=Phase.SUCCEEDED, configs=(), clusters=(), audit=()
    )
    markdown = render_markdown(empty)
    assert "**Flux configurations** · none" in markdown
    assert "**Clusters** · none match" in markdown
    assert "**Audit log** · nothing in this period" in markdown
    row = ClusterRow(Cluster(tv.AKS, "westeurope", {"team": "a|b"}), alias="demo|aks")
    entry = AuditEntry("1-0", "2022-04-06T17:15:01Z", "github:x", "github:o/r#1", "/flux x | y", "c", "j", "failed: z")
    markdown = render_markdown(replace(empty, configs=None, clusters=(row,), audit=(entry,)))
    check_inert(markdown)
    assert "| demo\\|aks | `flux-demo-aks` | AKS | `flux-demo-rg` | westeurope |  | team=a\\|b |" in markdown
    assert "| `2022-04-06 17:15:01 UTC` | `github:x` | `/flux x \\| y` | c | ❌ failed: z | `j` |" in markdown
