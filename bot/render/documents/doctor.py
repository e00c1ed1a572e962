"""The documents of `/flux doctor` (findings per cluster, and a fleet's summary) and `/flux v1 list`."""

from __future__ import annotations

from collections.abc import Sequence

from bot.models import V1Config
from bot.render.document import (
    Block,
    Code,
    Column,
    Fields,
    Items,
    Line,
    Mark,
    Status,
    Subheading,
    Table,
    Text,
    strong,
)
from bot.render.documents.parts import name, row_message, state, where
from bot.views import DoctorReport, Finding, Severity

#: clusters of a fleet report whose findings are shown in full (the rest: their summary row only)
FULL_REPORTS = 5
SEVERITY_MARKS = {
    Severity.ERROR: Mark("sign", "failed"),
    Severity.WARNING: Mark("sign", "warning"),
    Severity.INFO: Mark("sign", "note"),
    Severity.OK: Mark("result", "succeeded"),
}
SUMMARY_COLUMNS = (
    Column("Cluster", joiner="", key=True),
    Column("Worst", joiner=" · "),
    Column("Errors", joiner=" · errors "),
    Column("Warnings", joiner=" · warnings "),
)


def severity(value: Severity) -> Line:
    return (SEVERITY_MARKS[value], " ", value.value)


def _finding(finding: Finding) -> Line:
    line: Line = (SEVERITY_MARKS[finding.severity], " ", Text(row_message(finding.text)))
    if finding.fix:
        line += (" — fix: ", Code(finding.fix))
    return line


def report_blocks(report: DoctorReport, *, heading: bool = True) -> list[Block]:
    """Every finding of one cluster, worst first, then the checks skipped and why."""
    blocks: list[Block] = []
    if heading:
        errors, warnings = report.count(Severity.ERROR), report.count(Severity.WARNING)
        counts = f" · {errors} error{'' if errors == 1 else 's'}, {warnings} warning{'' if warnings == 1 else 's'}"
        blocks.append(Subheading("Doctor", (Text(name(report.cluster)), counts)))
    items = tuple(_finding(f) for f in report.findings)
    if items:
        blocks.append(Items((strong("Findings"), f" · {len(items)}"), items, "findings"))
    else:
        blocks.append(Status((strong("Findings"), " · none")))
    if report.skipped:
        skipped = tuple((Text(row_message(s)),) for s in report.skipped)
        blocks.append(Items((strong("Skipped"),), skipped, "skipped checks"))
    return blocks


def doctor_blocks(reports: Sequence[DoctorReport]) -> list[Block]:
    """One cluster: its findings. Several: a summary row per cluster, then the findings of the unhealthy ones
    (the first ``FULL_REPORTS``)."""
    if len(reports) == 1:
        return report_blocks(reports[0])
    rows = tuple(
        (
            (Text(name(r.cluster)),),
            severity(r.worst),
            (str(r.count(Severity.ERROR)),),
            (str(r.count(Severity.WARNING)),),
        )
        for r in reports
    )
    blocks: list[Block] = [Table((strong("Clusters"), f" · {len(reports)}"), SUMMARY_COLUMNS, rows, "clusters")]
    unhealthy = [r for r in reports if r.worst in (Severity.ERROR, Severity.WARNING)]
    for report in unhealthy[:FULL_REPORTS]:
        blocks += report_blocks(report)
    if len(unhealthy) > FULL_REPORTS:
        more = len(unhealthy) - FULL_REPORTS
        blocks.append(
            Status(
                (
                    f"{more} more cluster{'s' if more != 1 else ''} with problems: ",
                    Code("/flux doctor -c CLUSTER"),
                    " shows one",
                )
            )
        )
    return blocks


def _v1_fields(config: V1Config) -> tuple[tuple[str, Line], ...]:
    helm: Line = ("off",)
    if config.enable_helm_operator:
        chart = f" · chart {config.helm_chart_version}" if config.helm_chart_version else ""
        values = f" · values {config.helm_chart_values}" if config.helm_chart_values else ""
        helm = ("on", Text(chart + values))
    return (
        ("Repository", (Text(name(config.repository_url)),)),
        (
            "Operator",
            (
                Code(name(config.operator_instance_name or config.name)),
                " in namespace ",
                Code(name(config.operator_namespace or "default")),
            ),
        ),
        ("Operator params", (Code(name(config.operator_params)),) if config.operator_params else ("none",)),
        ("Scope", (Text(config.operator_scope or "cluster"),)),
        ("SSH known hosts", ("set" if config.ssh_known_hosts else "not set",)),
        ("Helm operator", helm),
        (
            "Public key",
            (Code(name(config.repository_public_key)),)
            if config.repository_public_key
            else ("none (HTTPS or public)",),
        ),
        ("Compliance", state(config.compliance_state or "Unknown")),
    )


def v1_blocks(configs: Sequence[V1Config]) -> list[Block]:
    """Each Flux v1 configuration with the fields of the v1 tutorial."""
    if not configs:
        return [Status((strong("Flux v1 configurations"), " · none"))]
    blocks: list[Block] = [Status((strong("Flux v1 configurations"), f" · {len(configs)} (retired: migrate them)"))]
    for config in configs:
        blocks += [
            Subheading("Flux v1", (Code(name(config.name)), " on ", *where(config.cluster))),
            Fields(_v1_fields(config)),
        ]
        if config.compliance_message:
            blocks.append(Status(("Azure reports: ", Text(row_message(config.compliance_message)))))
    return blocks
