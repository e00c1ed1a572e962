"""The document of a pull request's preflight: what it breaks, per configuration and group of clusters."""

from __future__ import annotations

from bot.preflight.findings import Finding, Level
from bot.preflight.report import Group, Report
from bot.render.document import Block, Code, Document, Items, Line, Mark, Status, Subheading, Text, strong
from bot.render.documents.parts import name, row_message

#: clusters named in a group's heading before "and N more"
CLUSTERS_SHOWN = 10


def _finding(finding: Finding) -> Line:
    mark = Mark("sign", "failed") if finding.level is Level.ERROR else Mark("sign", "note")
    where: Line = (Code(finding.where), " — ") if finding.where else ()
    return (mark, " ", *where, Text(row_message(finding.message)))


def _clusters(group: Group) -> Line:
    shown = ", ".join(name(c) for c in group.clusters[:CLUSTERS_SHOWN])
    rest = len(group.clusters) - CLUSTERS_SHOWN
    more = f" and {rest} more" if rest > 0 else ""
    noun = "cluster" if len(group.clusters) == 1 else "clusters"
    return (f" on {noun} ", Text(shown), more)


def _group(group: Group) -> list[Block]:
    blocks: list[Block] = [Subheading("Configuration", (Code(group.config), *_clusters(group)))]
    if not group.findings:
        blocks.append(Status((Mark("result", "succeeded"), " no problems found")))
        return blocks
    errors = len(group.errors)
    notes = len(group.findings) - errors
    counted = f" · {errors} problem{'' if errors == 1 else 's'}"
    if notes:
        counted += f", {notes} note{'' if notes == 1 else 's'}"
    title = (strong("Findings"), counted)
    blocks.append(Items(title, tuple(_finding(f) for f in group.findings), "findings"))
    return blocks


def preflight_document(report: Report) -> Document:
    """What the pull request breaks on every cluster whose configurations use its repository and base branch."""
    errors = len(report.errors)
    if errors:
        title = f"Preflight: this pull request breaks {errors} thing{'' if errors == 1 else 's'} Flux applies"
    else:
        title = "Preflight: nothing Flux applies is broken by this pull request"
    configs = len({g.config for g in report.groups})
    byline: Line = (
        "Checked ",
        Code(report.head_sha[:12]),
        " against ",
        Code(report.base_branch),
        f" for {configs} configuration{'' if configs == 1 else 's'} on {report.clusters} "
        f"cluster{'' if report.clusters == 1 else 's'}",
    )
    blocks: list[Block] = [Status(byline)]
    for group in report.groups:
        blocks += _group(group)
    blocks.append(Status(("Updated on every push to the pull request.",)))
    mark = Mark("result", "failed" if errors else "succeeded")
    summary = f"{title} ({report.repo}#{report.number})"
    return Document(mark=mark, title=title, blocks=tuple(blocks), summary=summary)
