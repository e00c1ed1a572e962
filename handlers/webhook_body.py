"""Reading a webhook body safely: a per-route size cap, then UTF-8, JSON, an object, a nesting limit.

Two steps, because a receiver verifies between them: ``read_capped`` gets the exact raw bytes (what a
signature covers) without ever holding more than the cap, whatever Content-Length says or whether the
body is chunked; ``parse_json_object`` turns verified bytes into a dict. Every refusal is an HTTP 4xx
with a short JSON reason; nothing here raises anything else.

aiohttp's ``client_max_size`` only bounds ``request.read()``/``post()``; reading the stream ourselves
lets each route have its own cap (GitHub pushes are far larger than a Slack command).
"""

from __future__ import annotations

import asyncio
import json
from typing import Any, NoReturn
from urllib.parse import parse_qs

import orjson
from aiohttp import web

#: deeper JSON than this is refused; GitHub and Azure DevOps payloads nest about 8 levels
MAX_DEPTH = 64
#: the longest a client may take to send a body (GitHub gives up on a delivery after 10 s)
READ_TIMEOUT_SECONDS = 10.0
_CHUNK = 64 * 1024
JSON = "application/json"
FORM = "application/x-www-form-urlencoded"


def refuse(status: type[web.HTTPError], reason: str, **headers: str) -> NoReturn:
    """Raise ``status`` with a short JSON body ``{"error": reason}``."""
    raise status(text=json.dumps({"error": reason}), content_type=JSON, headers=headers or None)


def _too_large(max_bytes: int, size: int, reason: str) -> NoReturn:
    raise web.HTTPRequestEntityTooLarge(
        max_size=max_bytes, actual_size=size, text=json.dumps({"error": reason}), content_type=JSON
    )


async def read_capped(request: web.Request, max_bytes: int) -> bytes:
    """The raw body, at most ``max_bytes``: 413 past it (Content-Length first, then while reading)."""
    declared = request.content_length
    if declared is not None and declared > max_bytes:
        _too_large(max_bytes, declared, f"the body is {declared} bytes; this route takes at most {max_bytes}")
    content = request.content
    if content.is_eof():  # all of it has arrived already (as a delivery's body usually has): no wait, no timer
        raw = content.read_nowait()
        if len(raw) > max_bytes:
            _too_large(max_bytes, len(raw), f"the body is over {max_bytes} bytes")
        return raw
    chunks: list[bytes] = []
    size = 0
    try:
        async with asyncio.timeout(READ_TIMEOUT_SECONDS):
            async for chunk in content.iter_chunked(_CHUNK):
                size += len(chunk)
                if size > max_bytes:  # a chunked body, or one longer than its Content-Length said
                    _too_large(max_bytes, size, f"the body is over {max_bytes} bytes")
                chunks.append(chunk)
    except TimeoutError:
        refuse(web.HTTPRequestTimeout, f"the body took over {READ_TIMEOUT_SECONDS:.0f} s to arrive")
    return b"".join(chunks)


def parse_json_object(raw: bytes, content_type: str, *, allow_form: bool = False) -> dict[str, Any]:
    """The JSON object in ``raw``; 415 for another media type, 400 for anything that is not a sane object.

    ``allow_form``: also take ``application/x-www-form-urlencoded`` with the JSON in its ``payload``
    field (a GitHub webhook may be configured to send that; its signature still covers the raw body).
    """
    media, _, params = content_type.partition(";")
    media = media.strip().lower()
    charset = _charset(params)
    if charset not in ("", "utf-8", "utf8"):
        refuse(web.HTTPUnsupportedMediaType, f"the body must be UTF-8, not {charset[:40]}")
    if media == FORM and allow_form:
        try:
            body: bytes | str = _form_payload(raw.decode("utf-8"))
        except UnicodeDecodeError:
            refuse(web.HTTPBadRequest, "the body is not UTF-8")
    elif media != JSON:
        accepted = f"{JSON} or {FORM}" if allow_form else JSON
        refuse(web.HTTPUnsupportedMediaType, f"Content-Type must be {accepted}, not {media[:60] or 'missing'}")
    else:
        body = raw  # orjson reads the bytes and checks they are UTF-8 itself: no decoded copy
    try:
        data = orjson.loads(body)
    except orjson.JSONDecodeError as error:
        if isinstance(body, bytes) and not _is_utf8(body):
            refuse(web.HTTPBadRequest, "the body is not UTF-8")
        if "depth limit" in str(error) or "recursion" in str(error):  # deeper than the parser follows
            refuse(web.HTTPBadRequest, f"the JSON nests deeper than {MAX_DEPTH} levels")
        refuse(web.HTTPBadRequest, "the body is not valid JSON")
    if not isinstance(data, dict):
        refuse(web.HTTPBadRequest, f"the JSON must be an object, not {_json_type(data)}")
    if _may_nest_deeper(body, MAX_DEPTH) and _too_deep(data, MAX_DEPTH):
        refuse(web.HTTPBadRequest, f"the JSON nests deeper than {MAX_DEPTH} levels")
    return data


def _charset(params: str) -> str:
    for param in params.split(";"):
        name, _, value = param.partition("=")
        if name.strip().lower() == "charset":
            return value.strip().strip('"').lower()
    return ""


def _form_payload(text: str) -> str:
    try:
        fields = parse_qs(text, strict_parsing=True, max_num_fields=10)
    except ValueError:
        refuse(web.HTTPBadRequest, "the form body cannot be read")
    payload = fields.get("payload", [])
    if len(payload) != 1:
        refuse(web.HTTPBadRequest, "a form body must carry exactly one 'payload' field")
    return payload[0]


def _json_type(value: object) -> str:
    if isinstance(value, list):
        return "an array"
    if isinstance(value, str):
        return "a string"
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "a boolean"
    return "a number"


def _may_nest_deeper(body: bytes | str, limit: int) -> bool:
    """False when ``body`` has too few opening brackets to nest past ``limit`` (counting is C-fast; the walk of
    ``_too_deep`` costs as much as the parse, and a typical delivery has a few dozen containers)."""
    if isinstance(body, bytes):
        return body.count(b"{") + body.count(b"[") > limit
    return body.count("{") + body.count("[") > limit


def _is_utf8(raw: bytes) -> bool:
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _too_deep(root: dict[str, Any], limit: int) -> bool:
    """Whether containers nest more than ``limit`` levels (iterative: no recursion on hostile input)."""
    stack: list[tuple[Any, int]] = [(root, 1)]
    while stack:
        value, depth = stack.pop()
        if depth > limit:
            return True
        children = value.values() if isinstance(value, dict) else value
        stack.extend((child, depth + 1) for child in children if isinstance(child, dict | list))
    return False
