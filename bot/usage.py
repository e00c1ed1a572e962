"""Usage errors: a value someone gave (in a command or a fleet file) that fluxops cannot use, and the helpers
that word them.

In the grammar a ``UsageError`` becomes a ``Reply(error=True)`` (the parser adds the command's usage line and a
pointer to its help); fleet files report it with the file and line. Every message says what was wrong and
what to give instead.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Iterable

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


def edit_distance(a: str, b: str) -> int:
    """Keyboard slips between ``a`` and ``b``: letters added, dropped, changed or swapped with a neighbour."""
    previous: list[int] = []
    row = list(range(len(b) + 1))
    for i, left in enumerate(a, 1):
        before, previous, row = previous, row, [i] + [0] * len(b)
        for j, right in enumerate(b, 1):
            row[j] = min(previous[j] + 1, row[j - 1] + 1, previous[j - 1] + (left != right))
            if i > 1 and j > 1 and left == b[j - 2] and a[i - 2] == right:
                row[j] = min(row[j], before[j - 2] + 1)
    return row[-1]


def slips_allowed(word: str) -> int:
    """How many slips a word of this length may carry and still be recognised: 1 up to 5 letters, then 2, then 3."""
    size = len(word.lstrip("-"))
    return 1 if size <= 5 else 2 if size <= 10 else 3


def typo_of(word: str, choices: Iterable[str], *, related: Callable[[str, str], bool] | None = None) -> str | None:
    """The choice ``word`` is a slip of the keyboard for (case-insensitive), or None.

    Nearer than difflib's "similar": a few letters added, dropped, changed or swapped (``slips_allowed``), or
    the start of exactly one choice (``--depends`` for ``--depends-on``; ``deployed`` for the help topic
    ``deployed-object``, whose subtopics it also starts). ``related(word, choice)`` can refuse
    a choice that is spelled alike but means something else (another auth method, another source kind).
    """
    lowered = word.lower()
    by_lower: dict[str, str] = {}
    for choice in choices:
        if related is None or related(lowered, choice.lower()):
            by_lower.setdefault(choice.lower(), choice)
    limit = slips_allowed(lowered)
    scored = sorted(
        (edit_distance(lowered, choice), -difflib.SequenceMatcher(None, lowered, choice).ratio(), choice)
        for choice in by_lower
    )
    if scored and scored[0][0] <= limit:
        return by_lower[scored[0][2]]
    started = sorted((c for c in by_lower if c.startswith(lowered)), key=len)
    # one choice, or one and the longer ones it starts (a help topic and its subtopics): never a pick among several
    if len(lowered.lstrip("-")) >= 4 and started and all(c.startswith(started[0]) for c in started):
        return by_lower[started[0]]
    return None


def one_of(choices: Iterable[str]) -> str:
    """`a`, `b` or `c`."""
    quoted = [code(c) for c in choices]
    if len(quoted) <= 1:
        return "".join(quoted)
    return ", ".join(quoted[:-1]) + " or " + quoted[-1]
