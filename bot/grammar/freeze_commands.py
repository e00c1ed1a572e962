"""``freezes`` and ``--break-glass "REASON"``: listing change freezes, and overriding one (bot.freezes).

``--break-glass`` is read here, before a command's own reader sees its words, so every command that changes a
cluster takes it the same way; the command then carries the reason (``BaseCommand.break_glass``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace

from bot.commands import Command, FleetResume, ListFreezes
from bot.freezes import gated
from bot.grammar.arguments import no_more_words
from bot.grammar.clusters_and_audit import selector
from bot.grammar.flags import Arity, Flag, read_flags
from bot.grammar.targets import CLUSTER_FLAGS, cluster_target
from bot.usage import UsageError, code

BREAK_GLASS = "--break-glass"
#: a reason is for people reading the audit log: a sentence, not an essay
MAX_REASON = 200
_EXAMPLE = BREAK_GLASS + ' "prod outage, hotfix INC-123"'
FREEZE_CLUSTERS = Flag("selector", ("--clusters", "--selector", "-l"), Arity.PAIRS, metavar="KEY=VALUE,...")


def take_break_glass(words: Sequence[str]) -> tuple[list[str], str]:
    """``words`` without ``--break-glass REASON`` (or ``--break-glass=REASON``), and the reason ("" if absent)."""
    rest: list[str] = []
    reasons: list[str] = []
    items = iter(words)
    for word in items:
        name, equals, value = word.partition("=")
        if name != BREAK_GLASS:
            rest.append(word)
            continue
        reason = value if equals else next(items, "")
        if not reason.strip() or (not equals and reason.startswith("-")):
            raise UsageError(f"{code(BREAK_GLASS)} needs a reason: {code(_EXAMPLE)}.")
        reasons.append(reason.strip())
    if len(reasons) > 1:
        raise UsageError(f"{code(BREAK_GLASS)} is given {len(reasons)} times; give it once.")
    reason = reasons[0] if reasons else ""
    if len(reason) > MAX_REASON:
        raise UsageError(f"The {code(BREAK_GLASS)} reason is {len(reason)} characters; keep it under {MAX_REASON}.")
    return rest, reason


def with_break_glass(command: Command, reason: str) -> Command:
    """``command`` carrying the break-glass ``reason``; a usage error when the command changes no cluster."""
    if not reason:
        return command
    if not (gated(command) or isinstance(command, FleetResume)):
        raise UsageError(
            f"{code(BREAK_GLASS)} overrides a change freeze, and `{command.verb}` changes no cluster: leave it out."
        )
    return replace(command, break_glass=reason)


def freezes(words: Sequence[str]) -> ListFreezes:
    options = read_flags(words, (*CLUSTER_FLAGS, FREEZE_CLUSTERS), command="freezes")
    tagged = [w for w in options.positionals if "=" in w]
    options.positionals[:] = [w for w in options.positionals if "=" not in w]
    no_more_words(options)
    target = cluster_target(options) if options.value("cluster") is not None else None
    pairs = selector([w for group in options.groups("selector") for w in group] + tagged, "--clusters")
    if target is not None and pairs:
        raise UsageError("Give `-c CLUSTER` or `--clusters KEY=VALUE`, not both.")
    return ListFreezes(target=target, selector=pairs)
