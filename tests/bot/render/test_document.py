"""The neutral documents: built once per view, and read alike by both backends (no drift between them)."""

from __future__ import annotations

from dataclasses import replace

from bot.render import document as d
from bot.render.documents import build
from bot.render.markdown import render_markdown
from bot.render.slack import render
from bot.views import JobView
from cli.slack_text import blocks_to_text
from tests.bot.render import tutorial_views as tv


def _slack_text(view: JobView) -> str:
    return "\n".join(blocks_to_text(m.blocks, m.text) for m in render(view))


def test_a_row_reads_as_one_line_with_its_joiners_and_key() -> None:
    columns = (d.Column("", joiner=""), d.Column("Name", joiner=" ", key=True), d.Column("Detail", joiner=" — "))
    line = d.row_line(columns, ((d.Mark("sign", "failed"),), (d.Text("apps"),), ()))
    assert line == (d.Mark("sign", "failed"), " ", d.Strong((d.Text("apps"),)))
    hidden = replace(columns[2], in_line=False)
    assert d.row_line((*columns[:2], hidden), ((), (d.Text("x"),), (d.Text("y"),))) == (d.Strong((d.Text("x"),)),)


def test_a_job_document_holds_every_part_of_the_view_in_order() -> None:
    view = tv.tutorial_non_compliant()
    doc = build(view)
    kinds = [type(block).__name__ for block in doc.blocks]
    assert kinds[0] == "Byline" and "Divider" in kinds and kinds[-1] == "Table"
    assert doc.metadata == (view.job_id, view.phase.value, view.phase.terminal)
    assert doc.mark == d.Mark("phase", view.phase.value)


def test_both_backends_say_the_same_words_for_a_configuration_without_a_revision() -> None:
    config = replace(tv.PENDING, source_synced_commit=None)
    view = replace(tv.tutorial_pending(), config=config)
    markdown = render_markdown(view)
    slack = _slack_text(view)
    assert "**Source revision:** none yet" in markdown
    assert "Source revision: none yet" in slack


def test_both_backends_list_configurations_with_the_same_words() -> None:
    markdown = render_markdown(tv.config_list())
    slack = _slack_text(tv.config_list())
    for words in ("no revision yet", "2 kustomizations", "1 kustomization"):
        assert words in markdown and words in slack
