"""What Slack refuses in a message: Block Kit limits, text length, malformed ``blocks`` and ``metadata``.

Errors read as Slack writes them, each naming the offending field by JSON pointer, e.g.
``must be less than 3001 characters [json-pointer:/blocks/0/text/text]``. Only the limits an app
like fluxops can run into are checked; anything else inside a known block type is accepted.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

from sandbox.slack.errors import SlackError, invalid_blocks

MAX_BLOCKS = 50
MAX_MESSAGE_TEXT = 40_000
MAX_SECTION_TEXT = 3000
MAX_SECTION_FIELDS = 10
MAX_FIELD_TEXT = 2000
MAX_HEADER_TEXT = 150
MAX_CONTEXT_ELEMENTS = 10
MAX_ACTIONS_ELEMENTS = 25
MAX_BUTTON_TEXT = 75
MAX_BUTTON_VALUE = 2000
MAX_BUTTON_URL = 3000
MAX_ID = 255  # block_id and action_id

#: block types Slack accepts in messages
BLOCK_TYPES = frozenset(
    {
        "actions",
        "context",
        "context_actions",
        "divider",
        "file",
        "header",
        "image",
        "input",
        "markdown",
        "rich_text",
        "section",
        "table",
        "video",
    }
)
TEXT_TYPES = frozenset({"plain_text", "mrkdwn"})


def json_argument(value: Any, *, format_error: str) -> Any:
    """Form-encoded calls carry ``blocks``/``metadata`` as JSON strings; JSON calls may carry either form."""
    if not isinstance(value, str):
        return value
    try:
        return json.loads(value)
    except ValueError:
        raise SlackError(format_error) from None


def parse_blocks(value: Any) -> list[dict[str, Any]] | None:
    """``blocks`` as given (None when absent), checked for shape and Block Kit limits."""
    if value is None:
        return None
    blocks = json_argument(value, format_error="invalid_blocks_format")
    if not isinstance(blocks, list):
        raise SlackError("invalid_blocks_format")
    errors = block_errors(blocks)
    if errors:
        raise invalid_blocks(errors)
    return blocks


def parse_metadata(value: Any) -> dict[str, Any] | None:
    """Message metadata: ``{"event_type": str, "event_payload": object}``; ``{}`` clears it on update."""
    if value is None:
        return None
    metadata = json_argument(value, format_error="invalid_metadata_format")
    if not isinstance(metadata, dict):
        raise SlackError("invalid_metadata_format")
    if not metadata:
        return metadata
    if not isinstance(metadata.get("event_type"), str) or not isinstance(metadata.get("event_payload"), dict):
        raise SlackError("invalid_metadata_schema")
    return metadata


def check_text(text: str) -> None:
    if len(text) > MAX_MESSAGE_TEXT:
        raise SlackError("msg_too_long")


def block_errors(blocks: list[Any]) -> list[str]:
    """Every limit ``blocks`` breaks, as Slack's messages; empty when the blocks are acceptable."""
    if len(blocks) > MAX_BLOCKS:
        return [_err(f"no more than {MAX_BLOCKS} items allowed", "/blocks")]
    errors: list[str] = []
    for index, block in enumerate(blocks):
        errors.extend(_block(block, f"/blocks/{index}"))
    return errors


def _err(message: str, pointer: str) -> str:
    return f"{message} [json-pointer:{pointer}]"


def _too_long(limit: int, pointer: str) -> str:
    return _err(f"must be less than {limit + 1} characters", pointer)


def _block(block: Any, at: str) -> list[str]:
    if not isinstance(block, dict):
        return [_err("expected an object", at)]
    kind = block.get("type")
    if not isinstance(kind, str):
        return [_err("missing required field: type", at)]
    if kind not in BLOCK_TYPES:
        return [_err(f"unsupported type: {kind}", f"{at}/type")]
    errors = _identifier(block, "block_id", at)
    if kind == "section":
        errors += _section(block, at)
    elif kind == "header":
        errors += _text_object(block.get("text"), f"{at}/text", MAX_HEADER_TEXT, plain_only=True, required=True)
    elif kind == "context":
        errors += _elements(block, at, MAX_CONTEXT_ELEMENTS, _context_element)
    elif kind == "actions":
        errors += _elements(block, at, MAX_ACTIONS_ELEMENTS, _interactive_element)
    return errors


def _identifier(obj: dict[str, Any], key: str, at: str) -> list[str]:
    value = obj.get(key)
    if value is None:
        return []
    if not isinstance(value, str):
        return [_err("must be a string", f"{at}/{key}")]
    if len(value) > MAX_ID:
        return [_too_long(MAX_ID, f"{at}/{key}")]
    return []


def _text_object(obj: Any, at: str, limit: int, *, plain_only: bool = False, required: bool = False) -> list[str]:
    if obj is None:
        return [_err("missing required field: text", at)] if required else []
    if not isinstance(obj, dict):
        return [_err("expected an object", at)]
    kind = obj.get("type")
    allowed = {"plain_text"} if plain_only else TEXT_TYPES
    if kind not in allowed:
        return [_err(f"must be one of: {', '.join(sorted(allowed))}", f"{at}/type")]
    text = obj.get("text")
    if not isinstance(text, str):
        return [_err("missing required field: text", at)]
    if not text:
        return [_err("must be more than 0 characters", f"{at}/text")]
    if len(text) > limit:
        return [_too_long(limit, f"{at}/text")]
    return []


def _section(block: dict[str, Any], at: str) -> list[str]:
    text, fields = block.get("text"), block.get("fields")
    if text is None and fields is None:
        return [_err("must define either `text` or `fields`", f"{at}/type")]
    errors = _text_object(text, f"{at}/text", MAX_SECTION_TEXT)
    if fields is not None:
        if not isinstance(fields, list):
            errors.append(_err("expected an array", f"{at}/fields"))
        elif len(fields) > MAX_SECTION_FIELDS:
            errors.append(_err(f"no more than {MAX_SECTION_FIELDS} items allowed", f"{at}/fields"))
        else:
            for i, field in enumerate(fields):
                errors += _text_object(field, f"{at}/fields/{i}", MAX_FIELD_TEXT, required=True)
    accessory = block.get("accessory")
    if accessory is not None:
        errors += _interactive_element(accessory, f"{at}/accessory")
    return errors


def _elements(block: dict[str, Any], at: str, limit: int, check: Callable[[Any, str], list[str]]) -> list[str]:
    elements = block.get("elements")
    if not isinstance(elements, list):
        return [_err("missing required field: elements", at)]
    if not elements:
        return [_err("must provide at least 1 item", f"{at}/elements")]
    if len(elements) > limit:
        return [_err(f"no more than {limit} items allowed", f"{at}/elements")]
    errors: list[str] = []
    for i, element in enumerate(elements):
        errors += check(element, f"{at}/elements/{i}")
    return errors


def _context_element(element: Any, at: str) -> list[str]:
    if isinstance(element, dict) and element.get("type") in TEXT_TYPES:
        return _text_object(element, at, MAX_SECTION_TEXT)
    if isinstance(element, dict) and element.get("type") == "image":
        return []
    return [_err("must be a text object or an image element", at)]


def _interactive_element(element: Any, at: str) -> list[str]:
    if not isinstance(element, dict) or not isinstance(element.get("type"), str):
        return [_err("missing required field: type", at)]
    errors = _identifier(element, "action_id", at)
    if element["type"] != "button":
        return errors
    errors += _text_object(element.get("text"), f"{at}/text", MAX_BUTTON_TEXT, plain_only=True, required=True)
    value = element.get("value")
    if value is not None and (not isinstance(value, str) or len(value) > MAX_BUTTON_VALUE):
        errors.append(_too_long(MAX_BUTTON_VALUE, f"{at}/value"))
    url = element.get("url")
    if url is not None and (not isinstance(url, str) or len(url) > MAX_BUTTON_URL):
        errors.append(_too_long(MAX_BUTTON_URL, f"{at}/url"))
    style = element.get("style")
    if style is not None and style not in ("primary", "danger"):
        errors.append(_err("must be one of: danger, primary", f"{at}/style"))
    return errors
