"""The status page's HTML: the view model (bot.status_page) as one server-rendered document.

Every value from outside (names, tags, revisions, error messages, audit commands, the selector) goes through
``html.escape`` with quotes, so a configuration called ``<script>`` is text. No script at all: the page reloads
itself with ``<meta http-equiv=refresh>``, and its only style is one inline block allowed by its hash in the
Content-Security-Policy, so nothing else (injected or not) can run or load.
"""

from __future__ import annotations

import base64
import hashlib
from html import escape
from urllib.parse import urlencode

from bot.status_page import ClusterView, ConfigView, FleetPage, RunInfo, age_text

#: seconds between reloads of the page
REFRESH_SECONDS = 30

STYLE = """
body{font:14px/1.4 system-ui,sans-serif;margin:1.5em;color:#1b1f24;background:#fff}
h1{font-size:1.4em;margin:0 0 .3em}h2{font-size:1.1em;margin:1.2em 0 .4em}
table{border-collapse:collapse;width:100%;margin-bottom:1em}
th,td{border:1px solid #d0d7de;padding:.3em .5em;text-align:left;vertical-align:top}
th{background:#f6f8fa}.meta{color:#57606a}.tag{background:#eef;border-radius:3px;padding:0 .3em;margin-right:.2em}
.ok{color:#1a7f37;font-weight:600}.bad{color:#cf222e;font-weight:600}.pending{color:#9a6700}
.suspended{color:#6e7781}.unknown{color:#6e7781}.err{color:#cf222e;font-size:.9em}
.problem{background:#fff8c5;border:1px solid #d4a72c;padding:.5em}form{margin:.5em 0}
"""


def _style_hash(style: str) -> str:
    return "sha256-" + base64.b64encode(hashlib.sha256(style.encode()).digest()).decode()


#: the page allows nothing but its own inline style, forms to itself, and no framing
CONTENT_SECURITY_POLICY = (
    f"default-src 'none'; style-src '{_style_hash(STYLE)}'; img-src 'none'; form-action 'self'; "
    "frame-ancestors 'none'; base-uri 'none'"
)
SECURITY_HEADERS = {
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cache-Control": "no-store",
}


def e(value: object) -> str:
    """``value`` as HTML text or attribute value."""
    return escape(str(value), quote=True)


def document(title: str, body: str, *, refresh_url: str | None = None) -> str:
    refresh = f'<meta http-equiv="refresh" content="{REFRESH_SECONDS}; url={e(refresh_url)}">' if refresh_url else ""
    return (
        "<!DOCTYPE html>\n"
        f'<html lang="en"><head><meta charset="utf-8"><title>{e(title)}</title>{refresh}'
        f"<style>{STYLE}</style></head><body>{body}</body></html>\n"
    )


def _cluster_cell(cluster: ClusterView, span: int) -> str:
    tags = "".join(f'<span class="tag">{e(k)}={e(v)}</span>' for k, v in cluster.tags)
    claim = f"<br>claimed by {e(cluster.claimed_by)}" if cluster.claimed_by else ""
    where = f"{e(cluster.resource_group)}/{e(cluster.name)} · {e(cluster.kind)} · {e(cluster.location)}"
    return (
        f'<td rowspan="{span}" data-cluster="{e(cluster.label)}"><strong>{e(cluster.label)}</strong>'
        f'<br><span class="meta">{where}</span><br>{tags}{claim}</td>'
    )


def _config_cells(config: ConfigView) -> str:
    change = config.last_change
    changed = (
        f'{e(change.when)} by {e(change.who)}<br><span class="meta">{e(change.command)} — {e(change.result)}</span>'
        if change
        else '<span class="meta">—</span>'
    )
    key = f"{e(config.key.key_id)}: {config.key.age_days:.0f} d" if config.key else '<span class="meta">—</span>'
    error = f'<br><span class="err">{e(config.error)}</span>' if config.error else ""
    revision = f'<code>{e(config.revision)}</code><br><span class="meta">{e(config.source_updated_at)}</span>'
    return (
        f'<td data-config="{e(config.name)}">{e(config.name)}</td>'
        f'<td class="{e(config.css)}" data-compliance="{e(config.compliance)}">{e(config.compliance)}'
        f'<br><span class="meta">{e(config.provisioning)}</span>{error}</td>'
        f"<td>{revision}</td><td>{changed}</td><td>{key}</td>"
    )


def _cluster_rows(cluster: ClusterView) -> str:
    if not cluster.configurations:
        return f'<tr>{_cluster_cell(cluster, 1)}<td colspan="5" class="meta">no flux configurations</td></tr>'
    span = len(cluster.configurations)
    return "".join(
        "<tr>" + (_cluster_cell(cluster, span) if i == 0 else "") + _config_cells(c) + "</tr>"
        for i, c in enumerate(cluster.configurations)
    )


def _runs(runs: tuple[RunInfo, ...]) -> str:
    if not runs:
        return '<p class="meta">No fleet runs in flight.</p>'
    rows = "".join(
        f"<tr><td><code>{e(r.run_id)}</code></td><td>{e(r.title)}</td><td>{e(r.phase)}</td>"
        f"<td>{r.done}/{r.total}</td><td>{e(r.actor)}</td></tr>"
        for r in runs
    )
    return f'<table id="runs"><tr><th>run</th><th>what</th><th>phase</th><th>done</th><th>by</th></tr>{rows}</table>'


def fleet_page(page: FleetPage, *, problem: str = "") -> str:
    """The whole page."""
    query = f"/fleet?{urlencode({'selector': page.selector})}" if page.selector else "/fleet"
    if page.snapshot_age is None:
        age = "configurations not read yet (a worker publishes them shortly after it starts)"
    else:
        age = f"configurations as of {age_text(page.snapshot_age)} ago"
    counts = ", ".join(f"{n} {e(state)}" for state, n in page.compliance_counts().items()) or "no configurations"
    warning = f'<p class="problem" id="problem">{e(problem)}</p>' if problem else ""
    clusters = "".join(_cluster_rows(c) for c in page.clusters)
    if not page.clusters:
        none = f"No cluster matches (of {page.visible_total} you may see)."
        clusters = f'<tr><td colspan="6" class="meta">{none}</td></tr>'
    body = (
        "<h1>fluxops fleet</h1>"
        f'<p class="meta">Signed in as <span id="viewer">{e(page.viewer)}</span> · '
        f'<span id="snapshot-age">{e(age)}</span> · {len(page.clusters)} of {page.visible_total} clusters · {counts}'
        f" · reloads every {REFRESH_SECONDS} s</p>"
        '<form method="get" action="/fleet"><label>Selector (as <code>/flux clusters --selector</code>): '
        f'<input name="selector" value="{e(page.selector)}" placeholder="env=prod,region=weu" size="40"></label> '
        '<button type="submit">Filter</button></form>'
        f"{warning}"
        '<table id="fleet"><tr><th>cluster</th><th>configuration</th><th>compliance</th><th>source revision</th>'
        f"<th>last change</th><th>deploy key age</th></tr>{clusters}</table>"
        f"<h2>Fleet runs in flight</h2>{_runs(page.runs)}"
    )
    return document("fluxops fleet", body, refresh_url=query)


def message_page(title: str, paragraphs: list[str]) -> str:
    """A page that only says something (401, 403, a used link): each paragraph is escaped."""
    body = f"<h1>{e(title)}</h1>" + "".join(f"<p>{e(p)}</p>" for p in paragraphs)
    return document(title, body)
