"""Help and errors name only commands that exist, and every command has its help.

Every `/flux ...` that a string in bot/grammar names (help topics, error hints, the table of other tools'
commands) must start with a command the grammar knows; the hints for other tools' commands, with their
placeholders filled in, must parse to a command.
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

from bot.commands import Reply, Run
from bot.grammar import parse
from bot.grammar.foreign_commands import FOREIGN
from bot.grammar.help import help_text
from bot.grammar.help_topics import TOPICS
from bot.grammar.registry import READERS
from bot.grammar.vocabulary import COMMANDS, GROUPS, resolve
from bot.usage import UsageError

GRAMMAR = Path(__file__).resolve().parents[2] / "bot" / "grammar"
#: a `/flux ...` in code (after a backtick) or a usage line (the whole string starts with it)
_MENTION = re.compile(r"(?:`|^)/flux((?: [^`]*)?)(?:`|$)")
#: a word that is no longer the command's name: a placeholder, a flag, an option group
_NOT_A_NAME = re.compile(r"^([A-Z_]+|\[.*|\(.*|-.*|\.\.\.|<.*|\{.*)$")


def _strings() -> list[tuple[str, str]]:
    """(file, text) of every string literal, and of every literal part of an f-string, in bot/grammar."""
    found: list[tuple[str, str]] = []
    for path in sorted(GRAMMAR.glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Constant) and isinstance(node.value, str):
                found.append((path.name, node.value))
    return found


def _mentions() -> list[tuple[str, str]]:
    """(file, words after /flux) of every command a grammar string names."""
    return [
        (name, match.group(1).strip())
        for name, text in _strings()
        for match in _MENTION.finditer(text)
        if match.group(1).strip()
    ]


def _name_words(words: str) -> list[list[str]]:
    """The words that name the command, once per alternative (``create|update``)."""
    names: list[str] = []
    for word in words.split():
        if _NOT_A_NAME.match(word):
            break
        names.append(word)
    variants: list[list[str]] = [[]]
    for word in names:
        variants = [[*v, alt] for v in variants for alt in word.split("|")]
    return [v for v in variants if v]


def test_the_walk_finds_the_mentions() -> None:
    """The walk is not vacuous: it sees help usage lines, hints and the other-tools table."""
    mentions = _mentions()
    assert len(mentions) > 150
    files = {name for name, _ in mentions}
    assert {"foreign_commands.py", "help_config_topics.py", "help_topics.py", "help_doctor_topics.py"} <= files


@pytest.mark.parametrize(("where", "words"), _mentions())
def test_every_mentioned_command_exists(where: str, words: str) -> None:
    for variant in _name_words(words):
        if variant[0] == "help":
            continue
        try:
            path, _ = resolve(variant, allow_group=True)
        except UsageError as err:
            pytest.fail(f"{where} names `/flux {words}`, which is no command: {err.message}")
        assert path in READERS or path in GROUPS, (where, words)


_FILL = {
    "NAME": "apps",
    "CONFIG": "apps",
    "CLUSTER": "prod",
    "K": "infra",
    "URL": "https://github.com/org/repo",
    "V": "1.13.1",
    "SELECTOR": "env=prod",
}


@pytest.mark.parametrize("key", list(FOREIGN), ids=" ".join)
def test_other_tools_hints_name_commands_that_parse(key: tuple[str, ...]) -> None:
    """Each command a hint spells out in full parses, once its placeholders are filled in."""
    hint = FOREIGN[key].hint
    complete = [m.group(1).strip() for m in _MENTION.finditer(hint) if " -c " in f"{m.group(1)} "]
    complete += [m.group(1).strip() for m in re.finditer(r"`/flux ((?:clusters|audit|plan))`", hint)]
    for words in complete:
        filled = " ".join(_FILL.get(w, w) for w in words.split() if w != "...")
        result = parse(f"/flux {filled}", comment=True)
        assert isinstance(result, Run), f"{key}: `/flux {words}` -> {result}"


@pytest.mark.parametrize("path", sorted(READERS))
def test_every_command_has_its_help(path: str) -> None:
    assert path in TOPICS, f"`{path}` has no help topic"
    assert path in COMMANDS, f"`{path}` is missing from the overview"
    result = parse(f"/flux help {path}")
    assert isinstance(result, Reply) and not result.error
    assert result.text == help_text(path)
    assert result.text.startswith(f"*`/flux {path}`*"), result.text[:80]


def test_every_help_topic_and_overview_entry_is_a_command() -> None:
    assert set(COMMANDS) == set(READERS) | {"help"}
    assert set(TOPICS) == set(READERS) | {"help"}


@pytest.mark.parametrize("group", sorted(GROUPS))
def test_every_group_has_its_help(group: str) -> None:
    result = parse(f"/flux help {group}")
    assert isinstance(result, Reply) and not result.error
    assert result.text.startswith(f"*`/flux {group}`*")
