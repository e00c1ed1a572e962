"""The Slack renderer against golden files, Slack's limits and hostile input.

Goldens live in tests/golden/slack/: ``<case>.txt`` is what a person reads (the terminal text of every
message, as ``fluxops chat`` prints it) and ``<case>.json`` is exactly what goes to Slack (text, blocks,
metadata). Regenerate after an intended change and review the diff:

    UPDATE_GOLDEN=1 PYTHONPATH=. .venv/bin/pytest tests/bot/render
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable
from dataclasses import replace
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from bot.models import Cluster, ExtensionState, FluxConfigState, Kustomization
from bot.render import slack
from bot.render.slack import SlackMessage, render
from bot.views import AuditEntry, ClusterRow, JobView, Phase, TextView, View
from cli.slack_text import blocks_to_text
from tests.bot.render import azure_read_views, doctor_views, event_views, fleet_views, source_views
from tests.bot.render import tutorial_views as tv
from tests.golden_files import assert_exact, assert_no_stale

CASES: dict[str, Callable[[], View]] = {
    "tutorial_compliant": tv.tutorial_compliant,
    "tutorial_pending_watching": tv.tutorial_pending,
    "tutorial_non_compliant": tv.tutorial_non_compliant,
    "tutorial_suspended": tv.tutorial_suspended,
    "kustomization_show_focus": tv.kustomization_show,
    "queued": tv.queued,
    "waiting_for_lock": tv.waiting_for_lock,
    "failed_with_error": tv.failed_with_error,
    "confirm_delete": tv.confirm_delete,
    "config_list": tv.config_list,
    "clusters_list": tv.clusters_list,
    "audit_list": tv.audit_list,
    "extension_show": tv.extension_show,
    "help": tv.help_text,
    "usage_error": tv.usage_error,
    "hostile_names": tv.hostile_names,
    "huge_config_200_objects": tv.huge_config,
    "huge_config_list_60": tv.huge_config_list,
    **fleet_views.CASES,
    **doctor_views.CASES,
    **event_views.CASES,
    **source_views.CASES,
    **azure_read_views.CASES,
}


# ---------------------------------------------------------------------------------------------
# Slack's limits, checked on every message any test renders
# ---------------------------------------------------------------------------------------------

# A ``<...>`` we write on purpose: a user mention, or a link to an http(s) URL. Anything else is escaped.
_ALLOWED_CONTROL = re.compile(r"<@[UW][A-Z0-9]{2,}>|<https?://[^\s<>|]+(?:\|[^<>]*)?>")
_ENTITY = re.compile(r"&(?:amp|lt|gt);")


def _texts(value: Any) -> Iterable[tuple[str, str]]:
    """(type, text) of every text object below ``value``."""
    if isinstance(value, dict):
        if value.get("type") in ("mrkdwn", "plain_text") and isinstance(value.get("text"), str):
            yield value["type"], value["text"]
        for child in value.values():
            yield from _texts(child)
    elif isinstance(value, list | tuple):
        for child in value:
            yield from _texts(child)


def _check_mrkdwn(text: str, where: str) -> None:
    rest = _ALLOWED_CONTROL.sub("", text)
    assert "<" not in rest and ">" not in rest, f"unescaped < or > in {where}: {text!r}"
    assert "&" not in _ENTITY.sub("", rest), f"unescaped & in {where}: {text!r}"


def check_limits(message: SlackMessage) -> None:
    """Every limit Slack enforces on a message (and the text budget we keep under msg_blocks_too_long)."""
    blocks = list(message.blocks)
    assert 1 <= len(blocks) <= 50, f"{len(blocks)} blocks"
    assert 1 <= len(message.text) <= 3000, f"fallback text of {len(message.text)} characters"
    _check_mrkdwn(message.text, "fallback text")
    total = 0
    for index, block in enumerate(blocks):
        kind = block["type"]
        where = f"block {index} ({kind})"
        if kind == "header":
            assert block["text"]["type"] == "plain_text"
            assert 1 <= len(block["text"]["text"]) <= 150, where
        elif kind == "section":
            assert "text" in block or "fields" in block, where
            if "text" in block:
                assert 1 <= len(block["text"]["text"]) <= 3000, f"{where}: {len(block['text']['text'])} characters"
                assert block["text"]["text"].strip(), where
            fields = block.get("fields", [])
            assert len(fields) <= 10, where
            assert all(1 <= len(f["text"]) <= 2000 for f in fields), where
        elif kind == "context":
            assert 1 <= len(block["elements"]) <= 10, where
            assert all(1 <= len(e["text"]) <= 3000 for e in block["elements"]), where
        elif kind == "actions":
            assert 1 <= len(block["elements"]) <= 25, where
            ids = [e["action_id"] for e in block["elements"]]
            assert len(ids) == len(set(ids)), where
            for button in block["elements"]:
                assert button["type"] == "button"
                assert 1 <= len(button["text"]["text"]) <= 75, where
                assert len(button["value"]) <= 2000 and len(button["action_id"]) <= 255, where
                assert button.get("style") in (None, "primary", "danger"), where
        else:
            assert kind == "divider", f"unexpected {where}"
        for text_type, text in _texts(block):
            total += len(text)
            if text_type == "mrkdwn":
                _check_mrkdwn(text, where)
    assert total <= slack.MAX_MESSAGE_TEXT, f"{total} characters of block text"
    json.dumps(message.metadata)  # metadata must be plain JSON
    if message.metadata is not None:
        assert message.metadata["event_type"] == "fluxops_job"
        assert set(message.metadata["event_payload"]) >= {"job_id", "phase", "terminal"}


def render_checked(view: View) -> list[SlackMessage]:
    messages = render(view)
    assert messages
    for message in messages:
        check_limits(message)
    return messages


def terminal(messages: list[SlackMessage]) -> str:
    return "\n".join(blocks_to_text(m.blocks, m.text) for m in messages)


def raw(messages: list[SlackMessage]) -> str:
    return json.dumps([m.blocks for m in messages], ensure_ascii=False)


# ---------------------------------------------------------------------------------------------
# Golden files
# ---------------------------------------------------------------------------------------------


def _snapshot(messages: list[SlackMessage]) -> tuple[str, str]:
    texts = []
    for number, message in enumerate(messages, start=1):
        texts.append(f"══ message {number} of {len(messages)} ══ notification: {message.text}")
        texts.append(blocks_to_text(message.blocks, message.text))
        texts.append("")
    data = [{"text": m.text, "blocks": list(m.blocks), "metadata": m.metadata} for m in messages]
    return "\n".join(texts), json.dumps(data, indent=2, ensure_ascii=False) + "\n"


@pytest.mark.parametrize("case", sorted(CASES))
def test_golden(case: str) -> None:
    messages = render_checked(CASES[case]())
    text, data = _snapshot(messages)
    assert_exact(f"slack/{case}.txt", text)
    assert_exact(f"slack/{case}.json", data)


def test_no_stale_goldens() -> None:
    assert_no_stale("slack", (f"{case}{suffix}" for case in CASES for suffix in (".txt", ".json")))


# ---------------------------------------------------------------------------------------------
# What the goldens show, asserted so a careless UPDATE_GOLDEN cannot lose it
# ---------------------------------------------------------------------------------------------


def test_tutorial_shows_every_object_with_its_status() -> None:
    messages = render_checked(tv.tutorial_compliant())
    assert len(messages) == 1
    text = terminal(messages)
    for line in (
        "GitRepository `cluster-config/cluster-config` · Compliant — Fetched revision: main/4f1bdad4d0a5",
        "Kustomization `cluster-config/cluster-config-infra` · Compliant — Applied revision: main/4f1bdad4d0a5",
        "Kustomization `cluster-config/cluster-config-apps` · Compliant — Applied revision: main/4f1bdad4d0a5",
        "HelmRelease `cluster-config/nginx` · Compliant — Release reconciliation succeeded · chart "
        "`cluster-config-nginx` revision 1",
        "Source revision: `main/4f1bdad4d0a5`",
        "Source: GitRepository https://github.com/Azure/gitops-flux2-kustomize-helm-mt",
    ):
        assert line in text
    assert tv.SHA not in raw(messages), "full commit ids are shortened to 12 characters"
    assert messages[0].text == "cluster-config on flux-demo-arc: Compliant — succeeded (job j-20220406-7f3a9c)"
    assert messages[0].metadata == {
        "event_type": "fluxops_job",
        "event_payload": {"job_id": "j-20220406-7f3a9c", "phase": "succeeded", "terminal": True},
    }


def test_non_compliant_lists_the_failing_object_first_and_marks_it() -> None:
    text = terminal(render_checked(tv.tutorial_non_compliant()))
    objects = text[text.index("Flux objects") :].splitlines()
    assert objects[1].startswith("❌ Kustomization `cluster-config/cluster-config-apps` · Non-Compliant")
    assert "kustomization path not found: ./apps/nope" in objects[1]
    assert all(line.startswith("✅") for line in objects[2:])
    assert "What was happening: reconciling flux configuration 'cluster-config'" in text
    assert "What to do: fix the repository" in text


def test_focus_marks_the_kustomization_and_shows_its_spec() -> None:
    text = terminal(render_checked(tv.kustomization_show()))
    assert "👉 Kustomization `apps` (Flux object `cluster-config-apps`)" in text
    assert "path `./apps/staging` · depends on `infra` · prune true" in text
    assert "👉 ✅ Kustomization `cluster-config/cluster-config-apps`" in text


def test_confirm_has_the_two_buttons_carrying_the_job_id() -> None:
    [message] = render_checked(tv.confirm_delete())
    actions = message.blocks[-1]
    assert actions["type"] == "actions"
    confirm, cancel = actions["elements"]
    assert confirm == {
        "type": "button",
        "text": {"type": "plain_text", "text": "Delete", "emoji": True},
        "action_id": "fluxops_confirm",
        "value": "j-20220408-de1e7e",
        "style": "danger",
    }
    assert cancel["action_id"] == "fluxops_cancel" and cancel["value"] == "j-20220408-de1e7e"
    assert cancel["text"]["text"] == "Cancel" and "style" not in cancel
    assert message.metadata == {
        "event_type": "fluxops_job",
        "event_payload": {"job_id": "j-20220408-de1e7e", "phase": "awaiting_confirmation", "terminal": False},
    }
    assert "[ Delete ]  [ Cancel ]" in blocks_to_text(message.blocks)


def test_text_views_have_no_metadata_and_errors_a_warning() -> None:
    [help_message] = render_checked(tv.help_text())
    [error] = render_checked(tv.usage_error())
    assert help_message.metadata is None and error.metadata is None
    assert error.blocks[0]["text"]["text"].startswith(":warning: unknown command")
    assert not help_message.blocks[0]["text"]["text"].startswith(":warning:")


@pytest.mark.parametrize(
    ("phase", "emoji", "word"),
    [
        (Phase.QUEUED, ":inbox_tray:", "Queued"),
        (Phase.WAITING, ":lock:", "Waiting"),
        (Phase.RUNNING, ":gear:", "Running"),
        (Phase.WATCHING, ":eyes:", "Reconciling"),
        (Phase.SUCCEEDED, ":white_check_mark:", "Succeeded"),
        (Phase.FAILED, ":x:", "Failed"),
        (Phase.TIMED_OUT, ":alarm_clock:", "Timed out"),
        (Phase.CANCELED, ":no_entry_sign:", "Canceled"),
    ],
)
def test_every_phase_has_its_emoji_word_and_metadata(phase: Phase, emoji: str, word: str) -> None:
    [message] = render_checked(replace(tv.queued(), phase=phase))
    assert message.blocks[0]["text"]["text"] == f"{emoji} config create cluster-config on flux-demo-arc"
    assert message.blocks[1]["elements"][0]["text"].startswith(f"*{word}* · asked by <@U024BE7LH>")
    assert message.metadata is not None
    assert message.metadata["event_payload"] == {"job_id": tv.JOB, "phase": phase.value, "terminal": phase.terminal}


def test_hostile_names_cannot_ping_link_or_leak() -> None:
    messages = render_checked(tv.hostile_names())
    sent = raw(messages) + "".join(m.text for m in messages)
    for secret in ("ghp_s3cr3tT0k3n", "hunter2", "abc123"):
        assert secret not in sent
    # In mrkdwn the only live control sequence is the mention the bot wrote itself into its note;
    # plain_text (the header) is never parsed.
    mrkdwn = [t for m in messages for kind, t in _text_objects(m.blocks) if kind == "mrkdwn"]
    assert re.findall(r"<[^<>]*>", "".join(t["text"] for t in mrkdwn)) == ["<@U0G9QF9C6>"]
    assert all(t["verbatim"] for t in mrkdwn)
    text = terminal(messages)
    assert "HelmRelease `cluster-config/<@U999EVIL>`" in text  # shown as it is, but inert in Slack


def _text_objects(blocks: Iterable[dict[str, Any]]) -> Iterable[tuple[str, dict[str, Any]]]:
    for block in blocks:
        stack: list[Any] = [block]
        while stack:
            value = stack.pop()
            if isinstance(value, dict):
                if value.get("type") in ("mrkdwn", "plain_text"):
                    yield value["type"], value
                stack.extend(value.values())
            elif isinstance(value, list):
                stack.extend(value)


def test_long_title_is_shortened_in_the_header_and_given_whole_below() -> None:
    title = "config create " + "-".join(["very-long-configuration-name"] * 8) + " on flux-demo-arc"
    [message] = render_checked(replace(tv.queued(), title=title))
    assert message.blocks[0]["text"]["text"].endswith("…")
    assert f"*{title}*" in raw([message])


def test_huge_config_splits_across_messages_with_every_object() -> None:
    view = tv.huge_config()
    assert view.config is not None
    messages = render_checked(view)
    assert len(messages) > 1
    payloads = [m.metadata["event_payload"] for m in messages if m.metadata]
    assert [(p["part"], p["parts"]) for p in payloads] == [(i, len(messages)) for i in range(1, len(messages) + 1)]
    assert all(m.text.endswith(f"(part {i} of {len(messages)})") for i, m in enumerate(messages, 1))
    for later in messages[1:]:
        assert "continued, part" in later.blocks[0]["elements"][0]["text"]
    sent = raw(messages)
    for obj in view.config.statuses:
        assert sent.count(f"/{obj.name}`") == 1, obj.name  # every row exactly once, never cut
    # the failing ones come first
    rows = [line for line in terminal(messages).splitlines() if re.match(r"(✅|❌) (Kustomization|HelmRelease) ", line)]
    failing = [i for i, line in enumerate(rows) if line.startswith("❌")]
    assert failing == list(range(len(failing))) and len(failing) == 3


def test_rows_beyond_the_cap_are_counted_not_dropped() -> None:
    rows = tuple(
        ClusterRow(Cluster(replace(tv.PROD, name=f"aks-fleet-{i:04d}"), "westeurope", {"env": "prod"}))
        for i in range(slack.MAX_ROWS + 37)
    )
    messages = render_checked(
        JobView(job_id="j-fleet", actor=tv.ALICE, title="clusters", phase=Phase.SUCCEEDED, clusters=rows)
    )
    text = terminal(messages)
    assert "aks-fleet-0499" in text and "aks-fleet-0500" not in text
    assert "… and 37 more clusters, not shown here" in text


def test_one_enormous_line_is_cut_at_spaces_and_kept_whole() -> None:
    words = [f"word{i}" for i in range(3000)]
    messages = render_checked(TextView(text=" ".join(words)))
    text = terminal(messages)
    assert all(word in text.split() or f"{word}" in text for word in words)
    assert " …" in raw(messages) and "… " in raw(messages)


def test_code_fences_are_closed_and_reopened_across_sections() -> None:
    lines = ["```", *(f"line {i:04d} " + "x" * 60 for i in range(200)), "```"]
    for message in render_checked(TextView(text="\n".join(lines))):
        for block in message.blocks:
            if block["type"] == "section":
                assert block["text"]["text"].count("```") % 2 == 0


def test_extension_and_lists_without_data() -> None:
    empty = JobView(
        job_id="j-e", actor="github:octocat", title="t", phase=Phase.SUCCEEDED, configs=(), clusters=(), audit=()
    )
    text = terminal(render_checked(empty))
    assert "asked by github:octocat" in text
    assert "Flux configurations · none" in text and "Clusters · none match" in text and "Audit log · nothing" in text
    ext = ExtensionState(
        tv.ARC, "flux", "microsoft.flux", "Failed", "1.8.2", None, False, None, error="too old & broken"
    )
    text = terminal(render_checked(replace(empty, configs=None, clusters=None, audit=None, extension=ext)))
    assert "Version: 1.8.2" in text and "Auto-upgrade: off" in text and "too old & broken" in text


def test_unmodelled_source_kind_and_missing_statuses() -> None:
    config = FluxConfigState(tv.ARC, None, "Bucket", "Creating", None)
    text = terminal(render_checked(JobView(job_id="j", actor=tv.ALICE, title="t", phase=Phase.RUNNING, config=config)))
    assert "Source: Bucket (not shown" in text and "Flux objects · none reported yet" in text


# ---------------------------------------------------------------------------------------------
# Property-ish: any size, every message within limits, every row name present
# ---------------------------------------------------------------------------------------------

_WORD = st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789-", min_size=1, max_size=12)
_PROSE = st.lists(
    st.sampled_from(["a", "&", "<b>", "deploy", "`x`", "*y*", "::", "path/to/it", "—"]), max_size=400
).map(" ".join)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    objects=st.integers(0, 450),
    message=_PROSE,
    kustomizations=st.integers(0, 60),
    title=st.text(max_size=300),
    url_length=st.integers(0, 6000),
)
def test_any_config_size_fits_slack(
    objects: int, message: str, kustomizations: int, title: str, url_length: int
) -> None:
    statuses = [
        tv.flux_object(
            "HelmRelease" if i % 3 else "Kustomization",
            f"obj-{i:04d}",
            tv.ready(["True", "False", "Unknown"][i % 3], "R", message),
        )
        for i in range(objects)
    ]
    spec = replace(
        tv.TUTORIAL_SPEC,
        source=replace(tv.TUTORIAL_SPEC.source, url="https://github.com/" + "r" * url_length),
        kustomizations=tuple(Kustomization(f"k-{i:03d}", path=f"./k/{i}") for i in range(kustomizations)),
    )
    view = replace(
        tv.tutorial_non_compliant(), title=title, config=replace(tv.NON_COMPLIANT, spec=spec, statuses=tuple(statuses))
    )
    messages = render_checked(view)
    sent = raw(messages)
    for i in range(objects):
        assert f"/obj-{i:04d}`" in sent
    for i in range(kustomizations):
        assert f"`k-{i:03d}`" in sent


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(count=st.integers(0, 300), suffix=_WORD, error=_PROSE)
def test_any_list_size_fits_slack(count: int, suffix: str, error: str) -> None:
    configs = tuple(
        replace(
            tv.COMPLIANT,
            spec=replace(tv.TUTORIAL_SPEC, name=f"cfg-{i:03d}-{suffix}"),
            error_message=error or None,
            compliance_state="Non-Compliant",
        )
        for i in range(count)
    )
    clusters = tuple(
        ClusterRow(Cluster(replace(tv.AKS, name=f"cl-{i:03d}-{suffix}"), "weu", {"k": error[:50]}))
        for i in range(count)
    )
    entry = AuditEntry("1-0", "2022-04-06T17:15:01Z", "slack:U1", "slack:C1", "", "flux-demo-arc", "", "succeeded")
    audit = tuple(replace(entry, command=f"/flux {error}", job_id=f"job-{i:03d}-{suffix}") for i in range(count))
    view = JobView(
        job_id="j", actor=tv.ALICE, title="t", phase=Phase.SUCCEEDED, configs=configs, clusters=clusters, audit=audit
    )
    sent = raw(render_checked(view))
    for i in range(count):
        assert f"*cfg-{i:03d}-{suffix}*" in sent
        assert f"cl-{i:03d}-{suffix}" in sent
        assert f"job-{i:03d}-{suffix}" in sent


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    lines=st.lists(st.integers(0, 5000), max_size=120),
    consequences=st.integers(0, 400),
    error=st.booleans(),
)
def test_any_text_or_confirmation_fits_slack(lines: list[int], consequences: int, error: bool) -> None:
    text = "\n".join(" ".join(f"t{n}w{j}" for j in range(length // 8)) for n, length in enumerate(lines))
    messages = render_checked(TextView(text=text, error=error))
    shown = terminal(messages).split()
    for word in text.split():
        assert word in shown
    confirm = replace(
        tv.confirm_delete(), consequences=tuple(f"removes HelmRelease rel-{i:04d} & more" for i in range(consequences))
    )
    messages = render_checked(confirm)
    sent = raw(messages)
    for i in range(consequences):
        assert f"rel-{i:04d}" in sent
    assert messages[-1].blocks[-1]["type"] == "actions"


def test_blocks_to_text_reads_any_block_kit() -> None:
    blocks: list[dict[str, Any]] = [
        {"type": "header", "text": {"type": "plain_text", "text": ":rocket: Deploy"}},
        {
            "type": "section",
            "text": {
                "type": "mrkdwn",
                "text": "Hi <@U123> and <@U456|bob>, see <https://x.example/a?b=1&amp;c=2|the docs> *now* "
                "in <#C1|ops> <!here>",
            },
            "accessory": {"type": "button", "text": {"type": "plain_text", "text": "Open"}, "action_id": "a"},
        },
        {
            "type": "section",
            "fields": [{"type": "mrkdwn", "text": "*Env*\nprod"}, {"type": "plain_text", "text": "5 < 6"}],
        },
        {
            "type": "context",
            "elements": [
                {"type": "image", "image_url": "u", "alt_text": "logo"},
                {"type": "mrkdwn", "text": "_by_ <!date^1649265348^{date}|2022-04-06>"},
            ],
        },
        {"type": "divider"},
        {
            "type": "rich_text",
            "elements": [
                {
                    "type": "rich_text_section",
                    "elements": [
                        {"type": "text", "text": "Steps: "},
                        {"type": "emoji", "name": "white_check_mark"},
                        {"type": "link", "url": "https://a.example", "text": "log"},
                    ],
                },
                {
                    "type": "rich_text_list",
                    "style": "ordered",
                    "elements": [
                        {"type": "rich_text_section", "elements": [{"type": "text", "text": "one"}]},
                        {"type": "rich_text_section", "elements": [{"type": "user", "user_id": "U9"}]},
                    ],
                },
                {"type": "rich_text_preformatted", "elements": [{"type": "text", "text": "kubectl get ks -A"}]},
                {"type": "rich_text_quote", "elements": [{"type": "text", "text": "quoted"}]},
            ],
        },
        {
            "type": "section",
            "text": {"type": "mrkdwn", "text": "```*not bold* &lt;kept&gt;```\nand `a*b*c` &amp; 2*3*4"},
        },
        {
            "type": "actions",
            "elements": [
                {"type": "button", "text": {"type": "plain_text", "text": "Delete"}, "style": "danger"},
                {"type": "button", "text": {"type": "plain_text", "text": "Cancel"}},
                {"type": "static_select", "placeholder": {"type": "plain_text", "text": "Pick"}},
            ],
        },
        {"type": "mystery"},
    ]
    assert blocks_to_text(blocks).splitlines() == [
        "🚀 Deploy",
        "Hi @U123 and @bob, see the docs (https://x.example/a?b=1&c=2) now in #ops @here",
        "[ Open ]",
        "",
        "Env: prod",
        "5 < 6",
        "",
        "[image: logo]  by 2022-04-06",
        "─" * 40,
        "Steps: ✅log (https://a.example)",
        "1. one",
        "2. @U9",
        "```",
        "kubectl get ks -A",
        "```",
        "> quoted",
        "",
        "```*not bold* <kept>```",
        "and `a*b*c` & 2*3*4",
        "",
        "[ Delete ]  [ Cancel ]  [ Pick ]",
        "",
        "[mystery]",
    ]
    assert blocks_to_text([], "fallback *only* &amp; <@U1>") == "fallback only & @U1"
