"""``events NAME -c CLUSTER [--kind K] [--since 1h]``: the Flux events of one configuration's objects."""

from __future__ import annotations

from collections.abc import Sequence

from bot.cluster_objects import FLUX_KINDS, FLUX_RESOURCES
from bot.commands import Events
from bot.grammar.arguments import name_argument, no_more_words
from bot.grammar.flags import Flag, read_flags
from bot.grammar.targets import CLUSTER_FLAGS, cluster_target
from bot.usage import UsageError, closest, code, one_of, shown
from bot.values import since_seconds

NAME = Flag("name", ("--name", "-n"), metavar="NAME")
KIND = Flag("kind", ("--kind", "--for"), metavar="KIND")
SINCE = Flag("since", ("--since",), metavar="DURATION")

DEFAULT_SINCE = "1h"

#: what people type for a kind besides its name: the plural (``kubectl get kustomizations``) and flux's short names
_KIND_WORDS: dict[str, str] = {
    **{kind.lower(): kind for kind in FLUX_KINDS},
    **{plural: kind for kind, (_, _, plural) in FLUX_RESOURCES.items()},
    "ks": "Kustomization",
    "hr": "HelmRelease",
    "gitrepo": "GitRepository",
    "gitrepos": "GitRepository",
    "git": "GitRepository",
    "oci": "OCIRepository",
    "helmrepo": "HelmRepository",
}


def flux_kind(value: str, what: str = "`--kind`") -> str:
    """A Flux kind in any case (``kustomization``, ``HelmRelease``, ``ks``), spelled as Flux spells it."""
    found = _KIND_WORDS.get(value.strip().lower())
    if found is not None:
        return found
    near = closest(value.strip().lower(), [kind.lower() for kind in FLUX_KINDS])
    hint = f"Did you mean {code(_KIND_WORDS[near])}?" if near else f"The kinds are {one_of(FLUX_KINDS)}."
    raise UsageError(f"{what} takes a Flux kind, not {shown(value)}.", hint=hint)


def events(words: Sequence[str]) -> Events:
    options = read_flags(words, (NAME, *CLUSTER_FLAGS, KIND, SINCE), command="events")
    name = name_argument(options)
    assert name is not None
    no_more_words(options)
    target = cluster_target(options)
    kind = options.value("kind")
    since = options.value("since")
    return Events(
        target=target,
        name=name,
        kind=flux_kind(kind, code(options.spelled("kind"))) if kind is not None else None,
        since_seconds=since_seconds(since, code(options.spelled("since"))) if since is not None else 3600,
    )
