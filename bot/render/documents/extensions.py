"""The document of the Flux extension (``microsoft.flux``) on a cluster."""

from __future__ import annotations

from bot.models import Compliance, ExtensionState
from bot.render.document import Block, Code, Column, Fields, Line, Status, Subheading, Table, Text, strong
from bot.render.documents.configs import azure_reports
from bot.render.documents.parts import state, where

SETTING_COLUMNS = (Column("Setting", joiner="• "), Column("Value", joiner=" = "))


def extension_blocks(ext: ExtensionState) -> list[Block]:
    """Where the extension is, its version and upgrade policy, what Azure reports, its settings."""
    auto = {True: "on", False: "off", None: "not set"}[ext.auto_upgrade_minor_version]
    fields: tuple[tuple[str, Line], ...] = (
        ("Type", (Code(ext.extension_type),)),
        ("Provisioning", state(ext.provisioning_state or Compliance.UNKNOWN)),
        ("Version", (Text(ext.version),) if ext.version else ("latest (auto-upgrade)",)),
        ("Current version", (Text(ext.current_version),) if ext.current_version else ("not reported",)),
        ("Auto-upgrade", (auto,)),
        ("Release train", (Text(ext.release_train or "not set"),)),
    )
    blocks: list[Block] = [Subheading("Flux extension", (Code(ext.name), " on ", *where(ext.cluster))), Fields(fields)]
    if ext.error:
        blocks.append(azure_reports(ext.error))
    if not ext.settings:
        return [*blocks, Status((strong("Settings"), " · none (the extension's defaults)"))]
    rows = tuple(((Code(key),), (Code(value),)) for key, value in ext.settings)
    return [*blocks, Table((strong("Settings"), f" · {len(ext.settings)}"), SETTING_COLUMNS, rows, "settings")]
