"""The ``/flux`` command language: text from Slack or a PR comment in, a typed outcome out.

``parse(text, comment=False)`` returns ``Run(command)``, ``Reply(text, error)`` or ``Ignore()`` (see
``bot.commands``) for any input, and never raises. ``help_text(topic)`` is the help the grammar answers with.
"""

from bot.grammar.help import help_text
from bot.grammar.parser import MAX_LENGTH, parse

__all__ = ["MAX_LENGTH", "help_text", "parse"]
