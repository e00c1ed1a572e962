"""``doctor`` (one cluster with ``-c``, or ``--clusters SELECTOR``) and ``v1 list|migrate``."""

from __future__ import annotations

from collections.abc import Sequence

from bot.commands import Doctor, DoctorFleet, V1List, V1Migrate
from bot.grammar.arguments import name_argument, no_more_words
from bot.grammar.config_commands import NAME
from bot.grammar.flags import Arity, Flag, read_flags
from bot.grammar.fleet_commands import CLUSTERS, clusters_selector
from bot.grammar.targets import CLUSTER_FLAGS, cluster_target
from bot.usage import UsageError

YES = Flag("yes", ("--yes", "-y"), Arity.SWITCH)


def doctor(words: Sequence[str]) -> Doctor | DoctorFleet:
    options = read_flags(words, (*CLUSTER_FLAGS, CLUSTERS), command="doctor")
    no_more_words(options)
    if options.groups("clusters"):
        if options.given("cluster"):
            raise UsageError(
                "`doctor` checks one cluster (`-c CLUSTER`) or the clusters a selector matches (`--clusters`), "
                "not both.",
                hint="For example `/flux doctor -c flux-demo-arc` or `/flux doctor --clusters env=prod`.",
                usage=True,
            )
        return DoctorFleet(selector=clusters_selector(options))
    if not options.given("cluster"):
        raise UsageError(
            "Which cluster? `-c CLUSTER` checks one, `--clusters KEY=VALUE,...` (or `--clusters all`) several.",
            hint="`/flux clusters` lists them.",
            usage=True,
        )
    return Doctor(target=cluster_target(options))


def v1_list(words: Sequence[str]) -> V1List:
    options = read_flags(words, CLUSTER_FLAGS, command="v1 list")
    no_more_words(options)
    return V1List(target=cluster_target(options))


def v1_migrate(words: Sequence[str]) -> V1Migrate:
    options = read_flags(words, (NAME, *CLUSTER_FLAGS, YES), command="v1 migrate")
    name = name_argument(options, what="The Flux v1 configuration's name")
    assert name is not None
    no_more_words(options)
    return V1Migrate(name=name, target=cluster_target(options))
