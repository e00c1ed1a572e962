"""Reading flags the way az does: ``--flag VALUE``, ``--flag=VALUE``, switches, and multi-word flags.

Each command declares its flags; ``read_flags`` turns the words after the command into ``Options``.
Flag names are matched case-insensitively with ``_`` read as ``-`` (``--Depends_On`` is ``--depends-on``).
Unknown flags get a "did you mean"; a flag given twice is an error unless it is repeatable.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import Enum, auto

from bot.grammar.flag_families import flag_hint
from bot.usage import UsageError, code, shown
from bot.values import boolean, is_boolean


class Arity(Enum):
    SWITCH = auto()  # --no-extension
    VALUE = auto()  # --branch main, --branch=main
    OPTIONAL_BOOL = auto()  # --prune, --prune false
    PAIRS = auto()  # --kustomization name=a path=./a ...: KEY=VALUE words up to the next flag; repeatable


@dataclass(frozen=True)
class Flag:
    """One option of a command. ``names[0]`` is how messages and help spell it."""

    dest: str
    names: tuple[str, ...]
    arity: Arity = Arity.VALUE
    metavar: str = "VALUE"
    repeatable: bool = False
    #: PAIRS only: words (lowercase) taken alone in place of KEY=VALUE words (``--clusters all``)
    bare: tuple[str, ...] = ()
    #: PAIRS only: keys (lowercase) people write alone (``prune`` for ``prune=true``); they stay in the group so
    #: its reader can say what to write, instead of an "unexpected word" after it
    lone_keys: tuple[str, ...] = ()


@dataclass
class Options:
    """What the words after a command said: flag values by ``dest``, and the positional words."""

    positionals: list[str] = field(default_factory=list)
    #: the ``dest`` of every flag the command takes (given or not)
    accepts: frozenset[str] = frozenset()
    _values: dict[str, list[str | bool | list[str]]] = field(default_factory=dict)
    _spelled: dict[str, str] = field(default_factory=dict)

    def given(self, dest: str) -> bool:
        return dest in self._values

    def spelled(self, dest: str) -> str:
        """The flag as the person typed it (``-u`` or ``--url``), for messages."""
        return self._spelled.get(dest, dest)

    def value(self, dest: str) -> str | None:
        found = self._values.get(dest)
        if not found:
            return None
        last = found[-1]
        return last if isinstance(last, str) else None

    def values(self, dest: str) -> list[str]:
        return [v for v in self._values.get(dest, []) if isinstance(v, str)]

    def groups(self, dest: str) -> list[list[str]]:
        return [v for v in self._values.get(dest, []) if isinstance(v, list)]

    def switch(self, dest: str) -> bool | None:
        found = self._values.get(dest)
        if not found:
            return None
        last = found[-1]
        return last if isinstance(last, bool) else None

    def add(self, flag: Flag, spelling: str, value: str | bool | list[str]) -> None:
        self._values.setdefault(flag.dest, []).append(value)
        self._spelled.setdefault(flag.dest, spelling)


#: words after a --flag [true|false] that were meant as its value, not as the next positional word
_NEAR_BOOLEANS = frozenset(
    {"on", "off", "1", "0", "y", "n", "t", "f", "enable", "enabled", "disable", "disabled", "maybe", "none", "null"}
)


def flag_key(word: str) -> str:
    """How a flag is looked up: lowercase, ``_`` as ``-``."""
    return word.lower().replace("_", "-")


def is_flag(word: str) -> bool:
    """``-c``, ``--branch``, ``--branch=main``; not ``-1``, ``-`` or ``--``."""
    if len(word) < 2 or word[0] != "-":
        return False
    if word[1] == "-":
        return len(word) > 2 and word[2].isalpha()
    return word[1].isalpha()


def read_flags(words: Sequence[str], flags: Sequence[Flag], *, command: str = "") -> Options:
    """Read ``words`` against the ``flags`` of ``command`` (named in messages)."""
    table = {flag_key(name): flag for flag in flags for name in flag.names}
    options = Options(accepts=frozenset(flag.dest for flag in flags))
    i = 0
    while i < len(words):
        word = words[i]
        i += 1
        if not is_flag(word):
            options.positionals.append(word)
            continue
        spelling, inline = word, None
        if word.startswith("--") and "=" in word:
            spelling, inline = word.split("=", 1)
        flag = table.get(flag_key(spelling))
        if flag is None:
            raise _unknown_flag(spelling, table, command)
        if flag.dest in options._values and not (flag.repeatable or flag.arity is Arity.PAIRS):
            raise UsageError(f"{code(flag.names[0])} is given twice.", hint="Give it once.", usage=True)
        value: str | bool | list[str]
        if flag.arity is Arity.SWITCH:
            if inline is not None:
                raise UsageError(f"{code(spelling)} takes no value.", usage=True)
            value = True
        elif flag.arity is Arity.OPTIONAL_BOOL:
            if inline is not None:
                value = boolean(inline, code(spelling))
            elif i < len(words) and is_boolean(words[i]):
                value = boolean(words[i], code(spelling))
                i += 1
            elif i < len(words) and words[i].lower() in _NEAR_BOOLEANS:
                raise UsageError(f"{code(spelling)} takes `true` or `false`, not {shown(words[i])}.", usage=True)
            else:
                value = True
        elif flag.arity is Arity.VALUE:
            if inline is None and i < len(words) and not is_flag(words[i]):
                inline = words[i]
                i += 1
            if inline is None or inline == "":
                raise UsageError(
                    f"{code(spelling)} needs a value.", hint=f"Write {code(f'{spelling} {flag.metavar}')}.", usage=True
                )
            value = inline
        else:
            group = [] if inline is None else [inline]
            while i < len(words) and not is_flag(words[i]) and ("=" in words[i] or words[i].lower() in flag.lone_keys):
                group.append(words[i])
                i += 1
            if not group and i < len(words) and words[i].lower() in flag.bare:
                group.append(words[i])
                i += 1
            if not group:
                raise UsageError(
                    f"{code(spelling)} needs {flag.metavar} words.",
                    hint=f"Write {code(f'{spelling} {flag.metavar}')}.",
                    usage=True,
                )
            value = group
        options.add(flag, spelling, value)
    return options


def _unknown_flag(spelling: str, table: dict[str, Flag], command: str) -> UsageError:
    key = flag_key(spelling)
    where = f"an option of {code(command)}" if command else "an option of this command"
    if not key.startswith("--") and flag_key("-" + spelling) in table:
        # -branch for --branch
        return UsageError(
            f"{shown(spelling)} is not {where}.", hint=f"Did you mean {code('-' + spelling)}?", usage=True
        )
    candidates = [name for name in table if name.startswith("--")] if key.startswith("--") else list(table)
    hint = flag_hint(key, table, candidates)
    return UsageError(f"{shown(spelling)} is not {where}.", hint=hint, usage=True)
