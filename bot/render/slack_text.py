"""Slack's one escaper: every piece of text a Slack message shows goes through ``esc`` (or a helper built on it).

Every string that a person typed or that Azure or Flux reported is escaped for mrkdwn (``&``, ``<``,
``>``) and sent ``verbatim``, so a name cannot ping, link or turn into a channel reference; the only
mentions are the people the view names (its actor, audit actors, and ``<@U…>`` in the bot's own notes
and steps). Secrets are masked (``bot.redact``) and full commit ids shortened to 12 characters.
"""

from __future__ import annotations

import re

from bot.render import wording as w
from bot.render.wording import one_line
from bot.views import MENTION_MARK

_MENTION = re.compile(MENTION_MARK + r"([UW][A-Z0-9]{2,})" + MENTION_MARK)
_SLACK_USER = re.compile(r"(?:slack:)?([UW][A-Z0-9]{2,})")
LINKABLE = re.compile(r"https?://[^\s<>|`]+")


def esc(text: str) -> str:
    """``text`` safe inside mrkdwn: secrets in URLs masked, ``&``, ``<`` and ``>`` as entities (so no
    ``<@U…>``, ``<!channel>`` or link in it is live), no mention marks."""
    text = text.replace(MENTION_MARK, "")
    return w.redact(text).replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def esc_mentions(text: str) -> str:
    """Like ``esc`` but a user the bot named itself (bot.views.mention) becomes a ``<@U…>`` mention."""
    parts = _MENTION.split(text)  # text, user id, text, user id, ..., text
    return "".join(f"<@{part}>" if i % 2 else esc(part) for i, part in enumerate(parts))


def person(actor: str) -> str:
    """A Slack user id ("U123", "slack:U123") as a mention; anyone else (``github:octocat``) as text."""
    match = _SLACK_USER.fullmatch(actor)
    return f"<@{match.group(1)}>" if match else esc(actor or "someone")


def code(text: str) -> str:
    """Escaped text for inside `...` (a backtick would end the span early)."""
    return esc(text).replace("`", "'")


def url(value: str) -> str:
    """A configuration's URL as a link when it is a plain web URL (secrets masked), else as code."""
    safe = w.redact(value)
    if LINKABLE.fullmatch(safe):
        return "<" + safe.replace("&", "&amp;") + ">"
    return f"`{code(value)}`"


def commit_link(sha: str, link: str) -> str:
    """A short commit id as code, linked to ``link`` when that is a plain web URL."""
    if LINKABLE.fullmatch(link):
        return f"<{link.replace('&', '&amp;')}|{code(sha)}>"
    return f"`{code(sha)}`"


def plain_clip(text: str, limit: int) -> str:
    """Plain text (a header, a button) on one line, at most ``limit`` characters."""
    text = one_line(text)
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"
