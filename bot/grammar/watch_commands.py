"""``watch``, ``unwatch``, ``watches``: which Slack channels follow a configuration's reconciliation results.

A watch names one configuration on one cluster (``watch NAME -c CLUSTER``), or the clusters whose tags match a
selector (``watch [NAME] --clusters env=prod``, read as ``/flux clusters --selector`` reads it; ``all`` is every
cluster): then every configuration on them (only those named NAME when given), clusters that match later included.

``--channel`` takes a channel id (``C0123ABC``) or a channel mention as Slack sends it when the slash
command escapes channels (``<#C0123ABC|ops-alerts>``); either becomes the id. A bare ``#ops-alerts`` is
refused: fluxops cannot tell which channel a name means without asking Slack, and names change.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from bot.commands import ClusterTarget, Unwatch, UnwatchClusters, Watch, WatchClusters, WatchList
from bot.grammar.arguments import name_argument, no_more_words
from bot.grammar.flags import Arity, Flag, Options, read_flags
from bot.grammar.fleet_commands import clusters_selector
from bot.grammar.targets import CLUSTER_FLAGS, cluster_target
from bot.usage import UsageError, code, shown

NAME = Flag("name", ("--name", "-n"), metavar="NAME")
CHANNEL = Flag("channel", ("--channel",), metavar="CHANNEL")
#: ``--clusters KEY=VALUE,...``: a selector watch instead of one cluster's configuration
CLUSTERS = Flag("clusters", ("--clusters",), Arity.PAIRS, metavar="KEY=VALUE,...", bare=("all",))

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


Selected = tuple[tuple[tuple[str, str], ...], str | None, str]


def _subscription(words: Sequence[str], command: str) -> tuple[str, ClusterTarget, str] | Selected:
    """(name, cluster, channel) of a one-configuration watch, or (selector, name or None, channel) of a selector
    watch."""
    options = read_flags(words, (NAME, *CLUSTER_FLAGS, CHANNEL, CLUSTERS), command=command)
    channel = options.value("channel")
    channel_given = channel_id(channel, code(options.spelled("channel"))) if channel is not None else ""
    if options.groups("clusters"):
        given = [dest for dest in ("cluster", "resource_group", "cluster_type") if options.given(dest)]
        if given:
            raise UsageError(
                f"{code(options.spelled(given[0]))} and `--clusters` both pick clusters: give one.",
                hint=f"`/flux {command} NAME -c CLUSTER` for one cluster, `/flux {command} [NAME] --clusters env=prod` "
                "for every cluster the tags match.",
                usage=True,
            )
        selected = clusters_selector(options)
        name = name_argument(options, required=False)
        no_more_words(options)
        return selected, name, channel_given
    name = name_argument(options)
    assert name is not None
    no_more_words(options)
    return name, cluster_target(options), channel_given


def watch(words: Sequence[str]) -> Watch | WatchClusters:
    found = _subscription(words, "watch")
    if isinstance(found[1], ClusterTarget):
        name, target, channel = found
        assert isinstance(name, str)
        return Watch(name=name, target=target, channel=channel)
    selected, config, channel = found
    assert isinstance(selected, tuple)
    return WatchClusters(selector=selected, name=config, channel=channel)


def unwatch(words: Sequence[str]) -> Unwatch | UnwatchClusters:
    found = _subscription(words, "unwatch")
    if isinstance(found[1], ClusterTarget):
        name, target, channel = found
        assert isinstance(name, str)
        return Unwatch(name=name, target=target, channel=channel)
    selected, config, channel = found
    assert isinstance(selected, tuple)
    return UnwatchClusters(selector=selected, name=config, channel=channel)


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
