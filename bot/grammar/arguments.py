"""Positional words: the NAME a command takes either as a word or as a flag, and words nobody asked for."""

from __future__ import annotations

import re

from bot.grammar.flags import Options
from bot.usage import UsageError, code, shown
from bot.values import dns_label

_KUSTOMIZATION_KEY = re.compile(
    r"(?i)^(name|path|depends[-_]?on|prune|force|wait|(sync[-_]?|retry[-_]?)?interval|timeout|substitute)="
)

#: a word that could be a cluster alias, name or ARM id (a stray word of another shape is not the cluster)
_CLUSTER_LIKE = re.compile(r"^([A-Za-z0-9][A-Za-z0-9_.-]*|/subscriptions/\S+)$")
_URL = re.compile(r"^([a-z][a-z0-9+.-]*://|git@)", re.IGNORECASE)
#: kustomization switches people write as a bare word
_SWITCH_WORDS = frozenset({"prune", "force", "wait"})


def name_argument(options: Options, *, dest: str = "name", what: str = "NAME", required: bool = True) -> str | None:
    """The name given as the first positional word or as the ``dest`` flag (both: they must agree)."""
    word = options.positionals.pop(0) if options.positionals else None
    flagged = options.value(dest)
    if word is not None and flagged is not None and word != flagged:
        raise UsageError(
            f"Two names: {shown(word)} and {code(options.spelled(dest))} {shown(flagged)}.",
            hint="Give one.",
            usage=True,
        )
    name = word if word is not None else flagged
    if name is None:
        if required:
            raise UsageError(f"{what} is missing.", usage=True)
        return None
    label = code(options.spelled(dest)) if word is None else what
    return dns_label(name, label)


class StrayWord(UsageError):
    """A word nobody asked for. ``cluster_missing``: the command takes ``-c`` and it was not given, so the word
    is likely the cluster; the parser then shows the command with ``-c`` in front of it."""

    def __init__(self, word: str, hint: str, *, cluster_missing: bool) -> None:
        super().__init__(f"Unexpected word {shown(word)}.", hint=hint, usage=True)
        self.word = word
        self.cluster_missing = cluster_missing


def no_more_words(options: Options) -> None:
    """Every positional word was used; an extra one is a mistake worth explaining."""
    if not options.positionals:
        return
    word = options.positionals[0]
    cluster_missing = False
    if _KUSTOMIZATION_KEY.match(word):
        hint = "Kustomization keys go after `--kustomization`, e.g. `--kustomization name=apps path=./apps`."
    elif word.lower() in _SWITCH_WORDS:
        lowered = word.lower()
        hint = (
            f"It needs a value: {code(lowered + '=true')} inside `--kustomization`, or {code('--' + lowered)} "
            "on `kustomization create|update`."
        )
    elif _URL.match(word) and "url" in options.accepts and not options.given("url"):
        hint = f"Put the URL after `-u`: {shown('-u ' + word)}."
    elif "=" in word:
        hint = "Settings go after a flag, e.g. `--config KEY=VALUE` or `--selector KEY=VALUE`."
    else:
        hint = "Quote values that contain spaces."
        cluster_missing = (
            "cluster" in options.accepts and not options.given("cluster") and bool(_CLUSTER_LIKE.match(word))
        )
    raise StrayWord(word, hint, cluster_missing=cluster_missing)
