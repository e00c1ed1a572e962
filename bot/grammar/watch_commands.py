"""``watch``, ``unwatch``, ``watches``: which Slack channels follow a configuration's reconciliation results.

``--channel`` takes a channel id (``C0123ABC``) or a channel mention as Slack sends it when the slash
command escapes channels (``<#C0123ABC|ops-alerts>``); either becomes the id. A bare ``#ops-alerts`` is
refused: fluxops cannot tell which channel a name means without asking Slack, and names change.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from bot.commands import ClusterTarget, Unwatch, Watch, WatchList
from bot.grammar.arguments import name_argument, no_more_words
from bot.grammar.flags import Flag, Options, read_flags
from bot.grammar.targets import CLUSTER_FLAGS, cluster_target
from bot.usage import UsageError, code, shown

NAME = Flag("name", ("--name", "-n"), metavar="NAME")
CHANNEL = Flag("channel", ("--channel",), metavar="CHANNEL")

#: public (C) and private (G) channel ids; Slack ids are upper case
_CHANNEL_ID = re.compile(r"[CG][A-Z0-9]{6,20}")
#: ``<#C0123ABC>``, ``<#C0123ABC|ops-alerts>`` (kept whole by the tokenizer), or the ``#C0123ABC`` left of one
_MENTION = re.compile(r"<#([^<>|]*)(?:\|[^<>]*)?>|#([A-Z0-9]+)")


def channel_id(value: str, what: str = "`--channel`") -> str:
    """The Slack channel id that ``value`` (an id or a channel mention) names."""
    mention = _MENTION.fullmatch(value)
    found = (mention.group(1) or mention.group(2) or "") if mention else value
    if _CHANNEL_ID.fullmatch(found):
        return found
    if value.startswith(("<@", "@")):
        hint = "That is a person; give a channel."
    elif found.startswith("D") and _CHANNEL_ID.fullmatch("C" + found[1:]):
        hint = "That is a direct-message conversation; fluxops posts results to channels."
    elif _CHANNEL_ID.fullmatch(found.upper()):
        hint = f"Channel ids are upper case: did you mean {code(found.upper())}?"
    else:
        hint = (
            "fluxops does not look channels up by name: copy the id from the channel's details "
            "(it starts with `C`), or leave `--channel` out to use the channel you type in."
        )
    raise UsageError(f"{what} takes a Slack channel id such as `C0123ABC`, not {shown(value)}.", hint=hint)


def _subscription(words: Sequence[str], command: str) -> tuple[str, ClusterTarget, str]:
    options = read_flags(words, (NAME, *CLUSTER_FLAGS, CHANNEL), command=command)
    name = name_argument(options)
    assert name is not None
    no_more_words(options)
    target = cluster_target(options)
    channel = options.value("channel")
    return name, target, channel_id(channel, code(options.spelled("channel"))) if channel is not None else ""


def watch(words: Sequence[str]) -> Watch:
    name, target, channel = _subscription(words, "watch")
    return Watch(name=name, target=target, channel=channel)


def unwatch(words: Sequence[str]) -> Unwatch:
    name, target, channel = _subscription(words, "unwatch")
    return Unwatch(name=name, target=target, channel=channel)


def watches(words: Sequence[str]) -> WatchList:
    options = read_flags(words, CLUSTER_FLAGS, command="watches")
    no_more_words(options)
    return WatchList(target=_optional_target(options))


def _optional_target(options: Options) -> ClusterTarget | None:
    """The cluster when ``-c`` is given; ``-g`` or ``-t`` alone narrow nothing and are refused."""
    if options.given("cluster"):
        return cluster_target(options)
    for dest in ("resource_group", "cluster_type"):
        if options.given(dest):
            raise UsageError(
                f"{code(options.spelled(dest))} only narrows down `-c CLUSTER`.",
                hint="Add `-c CLUSTER`, or leave it out to list the subscriptions on every cluster.",
                usage=True,
            )
    return None
