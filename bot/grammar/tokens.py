"""The tokenizer: the words of a ``/flux`` command, as a POSIX shell would split them.

Slack changes what people type before we see it, so the text is normalized first:

- link markup: ``<https://x|label>`` and ``<https://x>`` become the URL, except Slack's own auto-link of a
  bare name (``<http://example.com|example.com>`` is what the person typed: ``example.com``);
  ``<mailto:a@b|a@b>`` becomes ``a@b``; ``<#C1|general>`` becomes ``#general``; ``<@U1>`` becomes ``@U1``;
- the HTML entities Slack escapes: ``&amp;``, ``&lt;``, ``&gt;``;
- "smart" quotes (U+201C, U+201D, U+2018, U+2019) are quotes; non-breaking and other Unicode spaces are spaces;
- a word that starts with an em or en dash (``—branch``, from autocorrected ``--branch``) starts with ``--``.

The parser keeps channel mentions as Slack sent them (``keep_channels``): ``<#C1|general>`` carries the
channel's id, which ``watch --channel`` needs and ``#general`` has lost.
"""

from __future__ import annotations

import re
import shlex

from bot.usage import UsageError

_LINK = re.compile(r"<([^<>\s|]+)(?:\|([^<>]*))?>")
_ENTITY = re.compile(r"&(amp|lt|gt);")
_ENTITIES = {"amp": "&", "lt": "<", "gt": ">"}
_QUOTES = str.maketrans(
    {
        "\u201c": '"',
        "\u201d": '"',
        "\u201e": '"',
        "\u201f": '"',
        "\u2018": "'",
        "\u2019": "'",
        "\u201a": "'",
        "\u201b": "'",
    }
)
_SPACES = re.compile(r"[\u00a0\u1680\u2000-\u200a\u202f\u205f\u3000]")
_INVISIBLE = re.compile(r"[\u200b\u200c\u200d\u2060\ufeff]")
_PLAIN_LABEL = re.compile(r"[\w.-]*")
_DASH_WORD = re.compile(r"(?<!\S)[\u2012\u2013\u2014\u2015\u2212]+(?=[A-Za-z])")


def _link(match: re.Match[str]) -> str:
    target, label = match.group(1), match.group(2)
    if target.startswith("mailto:"):
        return label if label else target[len("mailto:") :]
    if target[:1] in "#@!":
        # channel, user and special mentions: the readable part
        return f"{target[0]}{label}" if label else target
    if label and target == f"http://{label}":
        # Slack auto-linked a bare host or path; the person typed the label
        return label
    return target


def normalize(text: str, *, keep_channels: bool = False) -> str:
    """Undo Slack's markup and typography so the text reads as it was typed.

    ``keep_channels`` leaves channel mentions (``<#C1|general>``) whole, for the readers that want the id.
    """
    text = _LINK.sub(_keep_channel if keep_channels else _link, text)
    text = _ENTITY.sub(lambda m: _ENTITIES[m.group(1)], text)
    text = _INVISIBLE.sub("", text)
    text = _SPACES.sub(" ", text)
    text = text.translate(_QUOTES)
    return _DASH_WORD.sub(_dash, text)


def _keep_channel(match: re.Match[str]) -> str:
    target, label = match.group(1), match.group(2)
    if not target.startswith("#"):
        return _link(match)
    # a label the shell would split or unquote is not worth keeping: the id is what counts
    return match.group(0) if label is None or _PLAIN_LABEL.fullmatch(label) else f"<{target}>"


def _dash(match: re.Match[str]) -> str:
    """Em dash + ``branch`` -> ``--branch``; en dash + ``c`` -> ``-c`` (a one-letter flag is a short one)."""
    rest = match.string[match.end() :]
    short = len(rest) == 1 or (len(rest) > 1 and not rest[1].isalpha())
    return "-" if short else "--"


def split(text: str) -> list[str]:
    """Shell-like words of normalized text (``#`` is not a comment); quoting problems are UsageErrors."""
    lexer = shlex.shlex(text, posix=True)
    lexer.whitespace_split = True
    lexer.commenters = ""
    try:
        return list(lexer)
    except ValueError as err:
        if "quotation" in str(err):
            raise UsageError(
                "A quote is not closed.",
                hint="Close every `\"` and `'` you open, or leave the quotes out for words without spaces.",
            ) from None
        raise UsageError(
            "The command ends with a lone backslash.", hint="Remove it, or write `\\\\` for a backslash."
        ) from None


def tokenize(text: str) -> list[str]:
    """``normalize`` then ``split``."""
    return split(normalize(text))
