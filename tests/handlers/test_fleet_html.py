"""The status page's HTML: every outside value is escaped, the CSP allows only the page's own style."""

from __future__ import annotations

import base64
import hashlib
import re

from bot.fleet_snapshot import ConfigRow, FleetSnapshot
from bot.inventory import Inventory
from bot.models import Cluster, ClusterRef, ClusterType
from bot.status_page import build_page
from bot.views import AuditEntry
from handlers.fleet_html import CONTENT_SECURITY_POLICY, fleet_page, message_page

SUB = "00000000-0000-0000-0000-000000000001"
EVIL = '<script>alert("x")</script>'


def test_names_tags_errors_and_commands_are_text_not_markup() -> None:
    ref = ClusterRef(SUB, "rg", ClusterType.MANAGED, "c1")
    visible = Inventory([Cluster(ref, "weu", {"team": EVIL})]).all()
    snapshot = FleetSnapshot(
        taken_at=0, configurations=(ConfigRow(cluster_id=ref.arm_id, name=EVIL, compliance=EVIL, error=EVIL),)
    )
    entry = AuditEntry("1-0", "t", "slack:U1", "o", f"/flux config create {EVIL}", "c1", "j", "succeeded")
    built = build_page(
        viewer=EVIL,
        visible=visible,
        selector=(("team", EVIL),),
        snapshot=snapshot,
        claims={ref.arm_id.lower(): EVIL},
        runs=(),
        keys=(),
        audit=[entry],
        now=10,
    )
    html = fleet_page(built, problem=EVIL)
    assert "<script" not in html
    assert "&lt;script&gt;alert(&quot;x&quot;)&lt;/script&gt;" in html
    assert html.count("&lt;script&gt;") >= 8  # viewer, tag, claim, name, compliance, error, command, selector


def test_message_pages_escape_too() -> None:
    assert "<script" not in message_page(EVIL, [EVIL])


def test_the_csp_allows_exactly_the_inline_style_of_the_page() -> None:
    html = message_page("t", [])
    style = re.search(r"<style>(.*?)</style>", html, re.S)
    assert style is not None
    digest = base64.b64encode(hashlib.sha256(style.group(1).encode()).digest()).decode()
    assert f"style-src 'sha256-{digest}'" in CONTENT_SECURITY_POLICY
    assert "default-src 'none'" in CONTENT_SECURITY_POLICY and "script-src" not in CONTENT_SECURITY_POLICY
