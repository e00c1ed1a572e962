"""Usage errors: a value someone gave (in a command or a fleet file) that fluxops cannot use, and the helpers
that word them.

In the grammar a ``UsageError`` becomes a ``Reply(error=True)`` (the parser adds the command's usage line and a
pointer to its help); fleet files report it with the file and line. Every message says what was wrong and
what to give instead.
"""

from __future__ import annotations

import difflib
from collections.abc import Iterable

from bot.errors import FluxopsError
from bot.redact import redact

#: how much of a user's value an error message repeats
_SHOWN_MAX = 60
_UNSAFE = str.maketrans({"`": "'", "\n": " ", "\r": " ", "<": "\u2039", ">": "\u203a"})


class UsageError(FluxopsError):
    """The text is not a valid ``/flux`` command.

    ``topic`` names the command whose help to point to ("config create"); the parser fills it in when
    the error was raised by a validator that does not know which command it serves. ``usage`` asks the
    parser to repeat the command's usage line (a missing or unexpected argument, not a bad value).
    """

    def __init__(self, message: str, *, hint: str = "", topic: str | None = None, usage: bool = False) -> None:
        super().__init__(message, recommendation=hint, code="usage")
        self.hint = hint
        self.topic = topic
        self.usage = usage


def code(text: str) -> str:
    """``text`` as inline code in Slack mrkdwn and Markdown."""
    return f"`{text}`"


def shown(value: str) -> str:
    """A user's value, safe to repeat: secrets masked, long values cut, and nothing that formats or notifies.

    Backticks would end the code span; ``<`` and ``>`` could form Slack control sequences such as
    ``<!channel>``, so they become look-alike angle quotes.
    """
    cleaned = redact(value).translate(_UNSAFE)
    if len(cleaned) > _SHOWN_MAX:
        cleaned = cleaned[: _SHOWN_MAX - 1] + "…"
    return code(cleaned)


def closest(word: str, choices: Iterable[str], *, cutoff: float = 0.6) -> str | None:
    """The choice nearest to ``word`` (difflib ratio, case-insensitive), or None when none is near."""
    by_lower: dict[str, str] = {}
    for choice in choices:
        by_lower.setdefault(choice.lower(), choice)
    found = difflib.get_close_matches(word.lower(), list(by_lower), n=1, cutoff=cutoff)
    return by_lower[found[0]] if found else None


def did_you_mean(word: str, choices: Iterable[str], *, cutoff: float = 0.6) -> str:
    """ "Did you mean `x`?" for the closest choice, or "" when none is near."""
    found = closest(word, choices, cutoff=cutoff)
    return f"Did you mean {code(found)}?" if found else ""


def one_of(choices: Iterable[str]) -> str:
    """`a`, `b` or `c`."""
    quoted = [code(c) for c in choices]
    if len(quoted) <= 1:
        return "".join(quoted)
    return ", ".join(quoted[:-1]) + " or " + quoted[-1]
