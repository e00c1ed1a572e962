"""``parse``: one ``/flux`` text in, exactly one outcome out — Run, Reply or Ignore — and never an exception.

Slack sends the words after ``/flux``; a pull-request comment counts only when its first non-empty line
starts with ``/flux`` (the rest of the comment is prose for people). The steps: pick the command line,
cap its length, tokenize, refuse secrets, find the command, answer ``--help``, read the command.
A usage error becomes ``Reply(error=True)`` with the usage line and a pointer to the command's help;
no reply ever repeats a secret-looking value from the input.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from bot.commands import Ignore, ParseResult, Reply, Run
from bot.grammar.arguments import StrayWord
from bot.grammar.foreign_commands import foreign_command
from bot.grammar.freeze_commands import take_break_glass, with_break_glass
from bot.grammar.help import help_text, topic_of, usage_of
from bot.grammar.registry import READERS
from bot.grammar.secrets import refuse_secrets
from bot.grammar.tokens import normalize, split
from bot.grammar.vocabulary import from_az, resolve
from bot.redact import MASK, secret_values
from bot.usage import UsageError, code, shown

MAX_LENGTH = 4000
_PREFIX = re.compile(r"^/flux(?=\s|$)", re.IGNORECASE)
_FIRST_LINE = re.compile(r"[^\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029]*")
_HELP_FLAGS = frozenset({"--help", "-h"})
#: secret-looking values shorter than this are not searched for in replies (they would match ordinary words)
_MIN_SECRET = 8
#: one word of 40+ base64 characters: maybe a key even when it does not look random (redact wants that)
_KEY_LIKE_WORD = re.compile(r"[A-Za-z0-9+/]{40,}={0,2}")
INTERNAL_ERROR = (
    "fluxops could not read that command (an internal error; nothing was run). Try again, or see `/flux help`."
)


def parse(text: str, *, comment: bool = False) -> ParseResult:
    """What ``text`` asks for. ``comment``: a PR comment (only a first line starting ``/flux`` counts)."""
    line = ""
    try:
        found = _command_line(text, comment=comment)
        if found is None:
            return Ignore()
        line = found
        return _parse_line(line)
    except UsageError as err:
        return Reply(_without_secrets(render(err), text[: 2 * MAX_LENGTH], line), error=True)
    except Exception:
        # A bug must not become a 500 on a Slack command; the fuzz tests look for this reply.
        return Reply(INTERNAL_ERROR, error=True)


def _command_line(text: str, *, comment: bool) -> str | None:
    """The words after ``/flux``, or None when a comment is not addressed to fluxops."""
    if comment:
        first = _FIRST_LINE.match(text.lstrip())
        match = _PREFIX.match(first.group().strip() if first else "")
        if match is None:
            return None
        line = match.string[match.end() :]
    else:
        line = text.strip()
        match = _PREFIX.match(line)
        if match is not None:
            line = line[match.end() :]
    if len(line) > MAX_LENGTH:
        raise UsageError(
            f"The command is {len(line)} characters long; fluxops reads at most {MAX_LENGTH}.",
            hint="Split it into several commands.",
        )
    return line


def _parse_line(line: str) -> ParseResult:
    typed = split(normalize(line, keep_channels=True))
    if not typed:
        return Reply(help_text(None))
    words = from_az(typed)
    refuse_secrets(words)
    if any(word in _HELP_FLAGS for word in words):
        plain = [word for word in words if word not in _HELP_FLAGS]
        if not plain:
            return Reply(help_text(None))
        try:
            path, _ = resolve(plain, allow_group=True)
        except UsageError as err:
            raise foreign_command(plain) or err from None
        return Reply(help_text(path))
    try:
        path, used = resolve(words)
    except UsageError as err:
        raise foreign_command(typed) or _pasted(err, typed, words) from None
    rest = words[used:]
    if path == "help":
        return Reply(help_text(topic_of(rest)))
    try:
        rest, reason = take_break_glass(rest)
        return Run(with_break_glass(READERS[path](rest), reason))
    except UsageError as err:
        if err.topic is None:
            err.topic = path
        foreign = foreign_command(typed)
        if foreign is not None:
            raise foreign from None
        if isinstance(err, StrayWord) and err.cluster_missing:
            err.hint = f"Put the cluster after `-c`: {shown(_with_cluster(words, err.word))}."
        raise _pasted(err, typed, words) from None


def _with_cluster(words: Sequence[str], cluster: str) -> str:
    """The command with ``-c`` in front of the (last) word ``cluster``."""
    at = len(words) - 1 - list(reversed(words)).index(cluster)
    return " ".join(["/flux", *words[:at], "-c", *words[at:]])


def _pasted(err: UsageError, typed: Sequence[str], words: Sequence[str]) -> UsageError:
    """A pasted az command's error says which /flux command it was read as."""
    if list(typed) == list(words):
        return err
    # from_az put one group word in place of the az words: what the first two /flux words were typed as
    az = " ".join(typed[: len(typed) - len(words) + 2])
    err.message = f"{shown(az)} reads as {shown('/flux ' + ' '.join(words[:2]))}. {err.message}"
    return err


def render(err: UsageError) -> str:
    """The reply for a usage error: what was wrong, what to type instead, the usage line, where help is."""
    lines = [f"{err.message} {err.hint}".strip()]
    usage = usage_of(err.topic) if err.usage else ""
    if usage:
        lines.append(f"Usage: {code(usage)}")
    more = f"/flux help {err.topic}" if err.topic and err.topic != "help" else "/flux help"
    lines.append(f"See {code(more)}.")
    return "\n".join(lines)


def _without_secrets(reply: str, *texts: str) -> str:
    """Belt and braces: mask any secret-looking value of the input that a message repeated."""
    values: set[str] = set()
    for text in texts:
        for variant in {text, normalize(text)}:
            values.update(secret_values(variant))
            values.update(v for word in variant.split() for v in secret_values(word))
            values.update(w for w in (word.strip("'\"") for word in variant.split()) if _KEY_LIKE_WORD.fullmatch(w))
    for value in sorted(values, key=len, reverse=True):
        if len(value) >= _MIN_SECRET:
            reply = reply.replace(value, MASK)
    return reply
