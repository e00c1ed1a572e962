"""Block Kit as terminal text: what ``fluxops chat`` prints for each message the bot posts.

Any Block Kit message works, not only ours: header, section (text, fields, accessory), context,
divider, actions, image, input, markdown and rich_text blocks. mrkdwn is lightly cleaned: mentions and
links become readable (``<@U123>`` -> ``@U123``, ``<url|label>`` -> ``label (url)``), ``&amp;`` and
friends are decoded, emoji shortcodes Slack would draw become the emoji, and *bold* / _italic_ markers
are dropped everywhere outside code; `code` and ```code blocks``` are kept as they are.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

DIVIDER = "─" * 40

#: The shortcodes fluxops uses and a few common ones; any other stays ``:name:``.
EMOJI: dict[str, str] = {
    "+1": "👍",
    "-1": "👎",
    "alarm_clock": "⏰",
    "arrows_counterclockwise": "🔄",
    "bell": "🔔",
    "construction": "🚧",
    "double_vertical_bar": "⏸️",
    "eyes": "👀",
    "fast_forward": "⏩",
    "gear": "⚙️",
    "grey_question": "❔",
    "heavy_check_mark": "✔️",
    "heavy_minus_sign": "➖",  # noqa: RUF001 - an emoji, not a minus
    "hourglass": "⌛",
    "hourglass_flowing_sand": "⏳",
    "inbox_tray": "📥",
    "information_source": "ℹ️",  # noqa: RUF001 - an emoji, not an i
    "key": "🔑",
    "large_green_circle": "🟢",
    "large_yellow_circle": "🟡",
    "link": "🔗",
    "lock": "🔒",
    "mag": "🔍",
    "memo": "📝",
    "no_entry": "⛔",
    "no_entry_sign": "🚫",
    "package": "📦",
    "point_right": "👉",
    "question": "❓",
    "raised_hand": "✋",
    "recycle": "♻️",
    "red_circle": "🔴",
    "rocket": "🚀",
    "speech_balloon": "💬",
    "stopwatch": "⏱️",
    "tada": "🎉",
    "thumbsdown": "👎",
    "thumbsup": "👍",
    "warning": "⚠️",
    "wave": "👋",
    "white_check_mark": "✅",
    "white_circle": "⚪",
    "wrench": "🔧",
    "x": "❌",
}

_CODE = re.compile(r"(```.*?```|`[^`\n]*`)", re.S)
_ANGLE = re.compile(r"<([^<>\n]+)>")
_SHORTCODE = re.compile(r":([a-z0-9_+\-]+):")
_BOLD = re.compile(r"(?<![\w*])\*(?=[^\s*])([^*\n]*?[^\s*])\*(?![\w*])")
_ITALIC = re.compile(r"(?<![\w_])_(?=[^\s_])([^_\n]*?[^\s_])_(?![\w_])")
_LABELLED_FIELD = re.compile(r"\*([^*\n]+)\*\n(.*)", re.S)


def blocks_to_text(blocks: Sequence[Mapping[str, Any]], fallback: str = "") -> str:
    """The message as lines of text; ``fallback`` (the message's ``text``) when it has no blocks."""
    out: list[str] = []
    previous = ""
    for block in blocks:
        text = _block(block)
        if not text:
            continue
        kind = str(block.get("type", ""))
        # A blank line between content blocks, as Slack leaves space; none around headers and dividers.
        if out and not ({previous, kind} & {"header", "divider"}):
            out.append("")
        out.append(text)
        previous = kind
    if not out:
        return mrkdwn_to_text(fallback)
    return "\n".join(out)


def mrkdwn_to_text(text: str) -> str:
    """mrkdwn as a person reads it in a terminal (code spans and blocks untouched but for entities)."""
    out = []
    for index, part in enumerate(_CODE.split(text)):
        out.append(_entities(part) if index % 2 else _prose(part))
    return "".join(out)


def _prose(text: str) -> str:
    text = _ANGLE.sub(lambda m: _control(m.group(1)), text)
    text = _SHORTCODE.sub(lambda m: EMOJI.get(m.group(1), m.group(0)), text)
    text = _BOLD.sub(r"\1", text)
    text = _ITALIC.sub(r"\1", text)
    return _entities(text)


def _control(inner: str) -> str:
    """One ``<...>`` sequence: a mention, a special, a date or a link."""
    target, _, label = inner.partition("|")
    if target.startswith("@"):
        return f"@{label.lstrip('@')}" if label else target
    if target.startswith("#"):
        return f"#{label}" if label else target
    if target.startswith("!"):
        command = target[1:]
        if command in ("here", "channel", "everyone"):
            return f"@{command}"
        if label:
            return label
        if command.startswith("subteam^"):
            return "@" + command.removeprefix("subteam^")
        return f"@{command}"
    if not label or label == target or f"mailto:{label}" == target:
        return target
    return f"{label} ({target})"


def _entities(text: str) -> str:
    return text.replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")


def _text_object(obj: Any) -> str:
    if not isinstance(obj, Mapping):
        return str(obj) if obj else ""
    text = str(obj.get("text", ""))
    if obj.get("type") == "mrkdwn":
        return mrkdwn_to_text(text)
    if obj.get("emoji", True):
        return _SHORTCODE.sub(lambda m: EMOJI.get(m.group(1), m.group(0)), text)
    return text


def _field(obj: Any) -> str:
    """A section field; ``*Label*\\nvalue`` reads as ``Label: value``."""
    if isinstance(obj, Mapping) and obj.get("type") == "mrkdwn":
        match = _LABELLED_FIELD.fullmatch(str(obj.get("text", "")))
        if match:
            return f"{mrkdwn_to_text(match.group(1))}: {mrkdwn_to_text(match.group(2))}"
    return _text_object(obj)


def _block(block: Mapping[str, Any]) -> str:
    kind = block.get("type")
    if kind == "header":
        return _text_object(block.get("text"))
    if kind == "section":
        parts = []
        if block.get("text"):
            parts.append(_text_object(block["text"]))
        parts.extend(_field(f) for f in block.get("fields") or ())
        if block.get("accessory"):
            parts.append(_element(block["accessory"]))
        return "\n".join(p for p in parts if p)
    if kind == "context":
        return "  ".join(_element(e) for e in block.get("elements") or ())
    if kind == "divider":
        return DIVIDER
    if kind == "actions":
        return "  ".join(_element(e) for e in block.get("elements") or ())
    if kind == "rich_text":
        return "\n".join(_rich(e) for e in block.get("elements") or ())
    if kind == "markdown":
        return str(block.get("text", ""))
    if kind == "image":
        title = _text_object(block.get("title"))
        return f"[image: {block.get('alt_text', '')}]" + (f" {title}" if title else "")
    if kind == "input":
        label = _text_object(block.get("label"))
        return f"{label}: {_element(block.get('element') or {})}"
    if kind == "video":
        return f"[video: {_text_object(block.get('title'))}]"
    return f"[{kind}]"


def _element(element: Mapping[str, Any]) -> str:
    kind = element.get("type")
    if kind in ("mrkdwn", "plain_text"):
        return _text_object(element)
    if kind == "button":
        return f"[ {_text_object(element.get('text'))} ]"
    if kind == "image":
        return f"[image: {element.get('alt_text', '')}]"
    if kind in ("checkboxes", "radio_buttons"):
        mark = "☐" if kind == "checkboxes" else "○"
        return "  ".join(f"{mark} {_text_object(o.get('text'))}" for o in element.get("options") or ())
    if kind == "overflow":
        return "[ ⋯ ]"
    initial = element.get("initial_option")
    if isinstance(initial, Mapping):
        return f"[ {_text_object(initial.get('text'))} ▾ ]"
    for key in ("initial_date", "initial_time", "initial_value", "initial_user", "initial_channel"):
        if element.get(key):
            return f"[ {element[key]} ]"
    placeholder = _text_object(element.get("placeholder"))
    return f"[ {placeholder or kind} ]"


def _rich(element: Mapping[str, Any]) -> str:
    """One rich_text_section / _list / _preformatted / _quote."""
    kind = element.get("type")
    children = element.get("elements") or ()
    if kind == "rich_text_list":
        indent = "  " * int(element.get("indent", 0) or 0)
        start = int(element.get("offset", 0) or 0)
        ordered = element.get("style") == "ordered"
        items = []
        for number, item in enumerate(children, start=start + 1):
            mark = f"{number}." if ordered else "•"
            items.append(f"{indent}{mark} {_rich(item).rstrip()}")
        return "\n".join(items)
    inline = "".join(_inline(child) for child in children)
    if kind == "rich_text_preformatted":
        return f"```\n{inline.rstrip()}\n```"
    if kind == "rich_text_quote":
        return "\n".join(f"> {line}" for line in inline.rstrip("\n").split("\n"))
    return inline.rstrip("\n")


def _inline(element: Mapping[str, Any]) -> str:
    kind = element.get("type")
    style = element.get("style") or {}
    if kind == "text":
        text = str(element.get("text", ""))
        return f"`{text}`" if isinstance(style, Mapping) and style.get("code") else text
    if kind == "link":
        url, label = str(element.get("url", "")), str(element.get("text") or "")
        return f"{label} ({url})" if label and label != url else url
    if kind == "user":
        return f"@{element.get('user_id', '')}"
    if kind == "usergroup":
        return f"@{element.get('usergroup_id', '')}"
    if kind == "channel":
        return f"#{element.get('channel_id', '')}"
    if kind == "broadcast":
        return f"@{element.get('range', 'here')}"
    if kind == "emoji":
        name = str(element.get("name", ""))
        return EMOJI.get(name, f":{name}:")
    if kind == "date":
        return str(element.get("fallback") or element.get("timestamp", ""))
    return str(element.get("text") or element.get("value") or "")
