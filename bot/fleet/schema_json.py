"""The JSON Schema of fleet documents, generated from ``bot.fleet.schema`` and committed for editors and CI."""

from __future__ import annotations

import json
from typing import Any

from bot.fleet.schema import FleetDocument

SCHEMA_FILE = "schemas/fleet.schema.json"
SCHEMA_ID = "https://fluxops.io/schemas/fleet.schema.json"
REGENERATE = (
    "PYTHONPATH=. .venv/bin/python -c 'from bot.fleet.schema_json import schema_text; print(schema_text(), end=\"\")'"
    f" > {SCHEMA_FILE}"
)


def json_schema() -> dict[str, Any]:
    """The JSON Schema (draft 2020-12) of one fleet document, as committed in ``schemas/fleet.schema.json``."""
    schema = _key_patterns(FleetDocument.model_json_schema())
    return {"$schema": "https://json-schema.org/draft/2020-12/schema", "$id": SCHEMA_ID, **schema}


def _key_patterns(node: Any) -> Any:
    """pydantic writes a checked mapping key as ``patternProperties``, which lets other keys through;
    ``propertyNames`` + ``additionalProperties`` refuses them, as the loader does."""
    if isinstance(node, list):
        return [_key_patterns(item) for item in node]
    if not isinstance(node, dict):
        return node
    out = {key: _key_patterns(value) for key, value in node.items()}
    patterns = out.get("patternProperties")
    if isinstance(patterns, dict) and len(patterns) == 1 and "additionalProperties" not in out:
        ((pattern, value_schema),) = patterns.items()
        del out["patternProperties"]
        out["propertyNames"] = {**out.get("propertyNames", {}), "pattern": pattern}
        out["additionalProperties"] = value_schema
    return out


def schema_text() -> str:
    return json.dumps(json_schema(), indent=2, ensure_ascii=False) + "\n"
