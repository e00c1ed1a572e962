"""Flags every command that writes one Azure resource shares, whichever module reads the rest of its flags.

``--no-wait`` is az's: return once ARM accepted the write, without following the operation or the
reconciliation (``bot.commands.AzureWrite.no_wait``; ``bot.usecases.no_wait`` is what a job does with it).
"""

from __future__ import annotations

from bot.grammar.flags import Arity, Flag, Options

NO_WAIT = Flag("no_wait", ("--no-wait",), Arity.SWITCH)
#: what help says of ``--no-wait`` (every write's topic lists it)
NO_WAIT_HELP = (
    "--no-wait",
    "return once Azure accepted the change, without waiting for it to finish or for Flux to apply it (the "
    "configuration is unlocked while Azure still works on it; not with `--deploy-key generate`)",
)


def no_wait(options: Options) -> bool:
    """Whether the words asked for ``--no-wait``."""
    return bool(options.switch("no_wait"))
