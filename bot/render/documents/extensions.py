"""The documents of cluster extensions: the Flux extension (``microsoft.flux``) in full, and every extension of a
cluster, one row each (``extension list``)."""

from __future__ import annotations

from collections.abc import Sequence

from bot.models import Compliance, ExtensionState, Provisioning
from bot.render.document import (
    Block,
    Code,
    Column,
    Fields,
    Line,
    Mark,
    Status,
    Strong,
    Subheading,
    Table,
    Text,
    strong,
)
from bot.render.documents.configs import azure_reports
from bot.render.documents.parts import name, row_message, state, where

SETTING_COLUMNS = (Column("Setting", joiner="• "), Column("Value", joiner=" = "))
LIST_COLUMNS = (
    Column("", joiner=""),
    Column("Extension", joiner=" ", key=True),
    Column("Type", joiner=" · "),
    Column("Version"),
    Column("Auto-upgrade", joiner=" · auto-upgrade "),
    Column("Provisioning", joiner=" · "),
    Column("Installed in"),
    Column("Message", joiner=" — "),
)
_AUTO = {True: "on", False: "off", None: "not set"}


def extension_blocks(ext: ExtensionState) -> list[Block]:
    """Where the extension is, its version and upgrade policy, what Azure reports, its settings."""
    fields: list[tuple[str, Line]] = [
        ("Type", (Code(ext.extension_type),)),
        ("Provisioning", state(ext.provisioning_state or Compliance.UNKNOWN)),
        ("Version", (Text(ext.version),) if ext.version else ("latest (auto-upgrade)",)),
        ("Current version", (Text(ext.current_version),) if ext.current_version else ("not reported",)),
        ("Auto-upgrade", (_AUTO[ext.auto_upgrade_minor_version],)),
        ("Release train", (Text(ext.release_train or "not set"),)),
    ]
    if ext.scope is not None:
        fields.append(("Installed in", installed_in(ext)))
    blocks: list[Block] = [
        Subheading("Flux extension", (Code(ext.name), " on ", *where(ext.cluster))),
        Fields(tuple(fields)),
    ]
    if ext.error:
        blocks.append(azure_reports(ext.error))
    if not ext.settings:
        return [*blocks, Status((strong("Settings"), " · none (the extension's defaults)"))]
    rows = tuple(((Code(key),), (Code(value),)) for key, value in ext.settings)
    return [*blocks, Table((strong("Settings"), f" · {len(ext.settings)}"), SETTING_COLUMNS, rows, "settings")]


def installed_in(ext: ExtensionState) -> Line:
    """``cluster scope · release namespace `flux-system```: az's ``scope``, in words."""
    if ext.scope is None:
        return ("not reported",)
    kind = "release namespace" if ext.scope == "cluster" else "target namespace"
    namespace: Line = (f" · {kind} ", Code(name(ext.namespace))) if ext.namespace else ()
    return (f"{ext.scope} scope", *namespace)


def extension_list_blocks(extensions: Sequence[ExtensionState]) -> list[Block]:
    """Every extension of a cluster, one row each, as ``az k8s-extension list`` names them."""
    if not extensions:
        return [Status((strong("Extensions"), " · none"))]
    title: Line = (strong("Extensions"), " on ", Strong((Text(extensions[0].cluster.name),)), f" · {len(extensions)}")
    return [Table(title, LIST_COLUMNS, tuple(_row(ext) for ext in extensions), "extensions")]


def _row(ext: ExtensionState) -> tuple[Line, ...]:
    provisioning = ext.provisioning_state or Compliance.UNKNOWN
    failed = Provisioning.failed(ext.provisioning_state)
    mark = Mark("sign", "failed") if failed else Mark("state", provisioning)
    version = ext.current_version or ext.version
    return (
        (mark,),
        (Code(name(ext.name)),),
        (Text(name(ext.extension_type)),),
        (Text(version),) if version else ("not reported",),
        (_AUTO[ext.auto_upgrade_minor_version],),
        (Text(provisioning),),
        installed_in(ext),
        (Text(row_message(ext.error)),) if ext.error else (),
    )
