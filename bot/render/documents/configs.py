"""The documents of Flux configurations: one configuration (its fields, kustomizations and Flux objects) and a list."""

from __future__ import annotations

from collections.abc import Sequence

from bot.models import Compliance, FluxConfigState, Kustomization, ObjectStatus, Provisioning
from bot.render import wording as w
from bot.render.document import (
    Block,
    Code,
    Column,
    Fields,
    Inline,
    Items,
    Line,
    Mark,
    Paragraph,
    Status,
    Strong,
    Subheading,
    Table,
    Text,
    Url,
    row_line,
    strong,
)
from bot.render.documents.parts import name, row_message, state, where, yes
from bot.render.source_facts import Fact, describe, kind_word

_UNKNOWN = Mark("sign", "unknown")
_NO_REVISION = "none yet"


def config_blocks(config: FluxConfigState, focus: str | None) -> list[Block]:
    """One Flux configuration: where it is, its fields, what Azure reports, its kustomizations and objects."""
    spec = config.spec
    rest: Line = (Code(config.name or "?"), " on ", *where(config.cluster))
    if spec is not None:
        rest += (" · namespace ", Code(spec.namespace), " · scope ", Text(spec.scope))
    blocks: list[Block] = [Subheading("Flux configuration", rest), _fields(config)]

    compliance = config.compliance_state or Compliance.UNKNOWN
    if config.error_message and compliance != Compliance.COMPLIANT:
        blocks.append(azure_reports(config.error_message))

    kustomizations = spec.kustomizations if spec is not None else ()
    focused = next((k for k in kustomizations if focus is not None and k.name == focus), None)
    if focus is not None and focused is None:
        blocks.append(Status((_UNKNOWN, " This configuration has no kustomization ", Code(focus), ".")))
    if focused is not None:
        blocks.append(_focus(config, focused))
    elif kustomizations:
        title = (strong("Kustomizations"), f" · {len(kustomizations)}")
        blocks.append(Items(title, tuple(_kustomization(k) for k in kustomizations), "kustomizations"))

    if not config.statuses:
        return [*blocks, Status((strong("Flux objects"), " · none reported yet"))]
    focus_names = {f"{config.name}-{focused.name}", focused.name} if focused is not None else set()
    rows = tuple(
        _object_row(obj, obj.kind == "Kustomization" and obj.name in focus_names)
        for obj in w.failing_first(config.statuses)
    )
    tally = w.tally(w.object_state(obj) for obj in config.statuses)
    title = (strong("Flux objects"), f" · {len(config.statuses)}: {tally}")
    return [*blocks, Table(title, OBJECT_COLUMNS, rows, "objects")]


def azure_reports(message: str) -> Paragraph:
    """What Azure says went wrong, with a warning mark."""
    return Paragraph(Text(message), lead=(Mark("sign", "warning"), " ", strong("Azure reports:"), " "))


def _fields(config: FluxConfigState) -> Fields:
    spec = config.spec
    fields: list[tuple[str, Line]] = [
        ("Compliance", state(config.compliance_state or Compliance.UNKNOWN)),
        ("Provisioning", state(config.provisioning_state or Compliance.UNKNOWN)),
    ]
    facts = describe(spec.source) if spec is not None else None
    if facts is not None:
        fields.append(("Source", (Text(facts.kind), " ", Url(facts.url))))
        what, value = facts.selector
        fields.append(("Reference", (Text(what), " ", Code(value)) if value else (Text(what),)))
        if facts.auth:
            fields.append(("Auth", _facts_line(facts.auth)))
    else:
        fields.append(("Source", (Text(config.source_kind), " (not shown: fluxops does not model this kind yet)")))
    revision = config.source_synced_commit
    fields.append(("Source revision", (Code(w.short_revision(revision)),) if revision else (_NO_REVISION,)))
    updated = w.timestamp(config.status_updated_at) or w.timestamp(config.source_updated_at)
    fields.append(("Last update", (Text(updated),) if updated else ("not reported",)))
    if spec is not None and facts is not None:
        every = f"every {w.interval(facts.sync_interval_seconds)}, timeout {w.interval(facts.timeout_seconds)}"
        fields.append(("Sync", (every, " · ", strong("suspended")) if spec.suspend else (every,)))
    return Fields(tuple(fields))


def _facts_line(facts: Sequence[Fact]) -> Line:
    """``access key ID `AKIA…` · insecure (plain HTTP)``: words as the bot's, identifiers as code."""
    line: list[Inline] = []
    for index, (what, value) in enumerate(facts):
        line += [" · "] if index else []
        line += [what, " ", Code(value)] if value else [what]
    return tuple(line)


def _kustomization(k: Kustomization) -> Line:
    line: list[Inline] = [Code(k.name), " → ", Code(k.path or "./")]
    if k.depends_on:
        line.append(" · after ")
        line += _codes(k.depends_on)
    flags = [flag for flag, on in (("prune", k.prune), ("force", k.force)) if on]
    if flags:
        line.append(" · " + ", ".join(flags))
    return tuple(line)


def _focus(config: FluxConfigState, k: Kustomization) -> Items:
    """One kustomization (``kustomization show``): its spec and its Flux object's status."""
    flux_name = f"{config.name}-{k.name}"
    title = (
        Mark("sign", "focus"),
        " ",
        strong("Kustomization"),
        " ",
        Code(k.name),
        " (Flux object ",
        Code(flux_name),
        ")",
    )
    depends = _codes(k.depends_on) or ["nothing"]
    spec: Line = (
        "path ",
        Code(k.path or "./"),
        " · depends on ",
        *depends,
        f" · prune {yes(k.prune)} · force {yes(k.force)} · wait {yes(k.wait)}",
    )
    timing = f"every {w.interval(k.sync_interval_seconds)}"
    if k.retry_interval_seconds is not None:
        timing += f", retry every {w.interval(k.retry_interval_seconds)}"
    timing += f", timeout {w.interval(k.timeout_seconds)}"
    items: list[Line] = [spec, (timing,)]
    if k.substitute:
        pairs: list[Inline] = ["substitute "]
        for index, (key, value) in enumerate(k.substitute):
            pairs += [", "] if index else []
            pairs += [Code(key), "=", Code(value)]
        items.append(tuple(pairs))
    obj = next((o for o in config.statuses if o.kind == "Kustomization" and o.name in (flux_name, k.name)), None)
    status = (
        row_line(OBJECT_COLUMNS, _object_row(obj, False)) if obj is not None else (_UNKNOWN, " no status reported yet")
    )
    items.append(status)
    return Items(title, tuple(items), "lines")


OBJECT_COLUMNS = (
    Column("", joiner=""),
    Column("Kind", joiner=" ", key=True),
    Column("Name", joiner=" "),
    Column("State"),
    Column("Message", joiner=" — "),
)


def _object_row(obj: ObjectStatus, focused: bool) -> tuple[Line, ...]:
    state_word = w.object_state(obj)
    mark = Mark("sign", "failed") if w.is_failing(obj) else Mark("state", state_word)
    object_name = f"{obj.namespace}/{obj.name}" if obj.namespace else obj.name
    message: list[Inline] = [Text(row_message(w.status_message(obj)))]
    helm = obj.helm_release
    if helm is not None:
        if helm.chart_name:
            message += [" · chart ", Code(helm.chart_name)]
        if helm.last_revision_applied is not None:
            message.append(f" revision {helm.last_revision_applied}")
        if helm.failure_count:
            message.append(f" · {w.plural(helm.failure_count, 'failure')}")
    marks: Line = (Mark("sign", "focus"), " ", mark) if focused else (mark,)
    return (marks, (Text(obj.kind or "?"),), (Code(name(object_name)),), (Text(state_word),), tuple(message))


def config_list_blocks(configs: Sequence[FluxConfigState]) -> list[Block]:
    """Configurations, one row each, under a tally of their states."""
    if not configs:
        return [Status((strong("Flux configurations"), " · none"))]
    clusters = {cfg.cluster.name for cfg in configs}
    on: Line = (" on ", Strong((Text(next(iter(clusters))),))) if len(clusters) == 1 else ()
    tally = w.tally(w.config_state(cfg) for cfg in configs)
    title = (strong("Flux configurations"), *on, f" · {len(configs)}: {tally}")
    columns = (
        Column("", joiner=""),
        Column("Configuration", joiner=" ", key=True),
        Column("Cluster", joiner=" on ", in_line=len(clusters) > 1),
        Column("Compliance"),
        Column("Provisioning", joiner=" · provisioning "),
        Column("Source"),
        Column("Revision"),
        Column("Kustomizations"),
        Column("Message", joiner=" — "),
    )
    return [Table(title, columns, tuple(_config_row(cfg) for cfg in configs), "configurations")]


def _config_row(config: FluxConfigState) -> tuple[Line, ...]:
    compliance = config.compliance_state or Compliance.UNKNOWN
    mark = Mark("sign", "failed") if config.provisioning_state == Provisioning.FAILED else Mark("state", compliance)
    revision = config.source_synced_commit
    if config.spec is not None:
        count = len(config.spec.kustomizations)
    else:
        count = sum(1 for obj in config.statuses if obj.kind == "Kustomization")
    message: Line = ()
    if config.error_message and compliance != Compliance.COMPLIANT:
        message = (Text(row_message(config.error_message)),)
    return (
        (mark,),
        (Text(name(config.name or "?")),),
        (Text(name(config.cluster.name)),),
        (Text(compliance),),
        (Text(config.provisioning_state or Compliance.UNKNOWN),),
        _source_cell(config),
        (Code(w.short_revision(name(revision))),) if revision else ("no revision yet",),
        (w.plural(count, "kustomization"),),
        message,
    )


def _source_cell(config: FluxConfigState) -> Line:
    """``git branch `main```, ``bucket `flux```, ``oci tag `v1```; the kind alone when fluxops does not model it."""
    if config.spec is None:
        return (Text(kind_word(config.source_kind)),)
    facts = describe(config.spec.source)
    what, value = facts.selector
    words = facts.kind_word if what == facts.kind_word else f"{facts.kind_word} {what}"
    return (f"{words} ", Code(value))


def _codes(values: Sequence[str]) -> list[Inline]:
    out: list[Inline] = []
    for index, value in enumerate(values):
        out += [", ", Code(value)] if index else [Code(value)]
    return out
