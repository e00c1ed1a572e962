"""``reconcile NAME -c CLUSTER [--with-source] [--kustomization K]``: Flux reconciles a configuration now."""

from __future__ import annotations

from collections.abc import Sequence

from bot.commands import Reconcile
from bot.grammar.arguments import name_argument, no_more_words
from bot.grammar.flags import Arity, Flag, read_flags
from bot.grammar.targets import CLUSTER_FLAGS, cluster_target
from bot.usage import code
from bot.values import dns_label

NAME = Flag("name", ("--name", "-n"), metavar="NAME")
WITH_SOURCE = Flag("with_source", ("--with-source",), Arity.SWITCH)
#: one kustomization of the configuration, by its name in the configuration (``infra``, not ``NAME-infra``)
KUSTOMIZATION = Flag("kustomization", ("--kustomization", "--ks"), metavar="NAME")

RECONCILE_FLAGS = (NAME, *CLUSTER_FLAGS, WITH_SOURCE, KUSTOMIZATION)


def reconcile(words: Sequence[str]) -> Reconcile:
    options = read_flags(words, RECONCILE_FLAGS, command="reconcile")
    name = name_argument(options)
    assert name is not None
    no_more_words(options)
    target = cluster_target(options)
    kustomization = options.value("kustomization")
    return Reconcile(
        target=target,
        name=name,
        with_source=bool(options.switch("with_source")),
        kustomization=dns_label(kustomization, code(options.spelled("kustomization")))
        if kustomization is not None
        else None,
    )
