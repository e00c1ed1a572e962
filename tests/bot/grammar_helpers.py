"""Small helpers shared by the grammar tests."""

from __future__ import annotations

from bot.commands import Command, Reply, Run
from bot.grammar import parse


def run(text: str, *, comment: bool = False) -> Command:
    """The command ``text`` parses to; fails the test with the reply when it does not."""
    result = parse(text, comment=comment)
    assert isinstance(result, Run), f"{text!r} did not parse: {result}"
    return result.command


def error(text: str, *, comment: bool = False) -> str:
    """The error reply ``text`` gets; fails the test when it parses or the reply is not an error."""
    result = parse(text, comment=comment)
    assert isinstance(result, Reply), f"{text!r} should be an error, got {result}"
    assert result.error, f"{text!r} should be an error, got help: {result.text[:200]}"
    return result.text


def reply(text: str, *, comment: bool = False) -> str:
    """The non-error reply (help) ``text`` gets."""
    result = parse(text, comment=comment)
    assert isinstance(result, Reply) and not result.error, f"{text!r} should get help, got {result}"
    return result.text
