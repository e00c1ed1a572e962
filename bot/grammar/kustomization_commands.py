"""``kustomization create|update|delete|show|list``: the kustomizations of one Flux configuration.

The configuration is ``--config NAME`` (``-n`` as in az); the kustomization is a positional NAME,
``-k/--kustomization-name`` or ``--name``. A pasted az command (``-n CONFIG -k NAME``, or ``--name CONFIG
-k NAME``) reads as az means it.
"""

from __future__ import annotations

from collections.abc import Sequence

from bot.commands import (
    ClusterTarget,
    KustomizationCreate,
    KustomizationDelete,
    KustomizationList,
    KustomizationShow,
    KustomizationUpdate,
)
from bot.grammar.arguments import no_more_words
from bot.grammar.flags import Arity, Flag, Options, read_flags
from bot.grammar.kustomizations import names_list, substitute_sources, substitutions
from bot.grammar.targets import CLUSTER_FLAGS, cluster_target
from bot.grammar.write_flags import NO_WAIT, no_wait
from bot.models import Kustomization, KustomizationChange, SubstituteFrom
from bot.usage import UsageError, code, shown
from bot.values import dns_label, path, seconds

CONFIG = Flag("config", ("--config", "-n", "--config-name"), metavar="CONFIG")
K_NAME = Flag("kname", ("--kustomization-name", "-k"), metavar="NAME")
NAME = Flag("name", ("--name",), metavar="NAME")
PATH = Flag("path", ("--path",), metavar="PATH")
DEPENDS_ON = Flag("depends_on", ("--depends-on", "--dependson"), metavar="A,B", repeatable=True)
PRUNE = Flag("prune", ("--prune",), Arity.OPTIONAL_BOOL)
FORCE = Flag("force", ("--force",), Arity.OPTIONAL_BOOL)
WAIT = Flag("wait", ("--wait",), Arity.OPTIONAL_BOOL)
INTERVAL = Flag("interval", ("--interval", "--sync-interval"), metavar="DURATION")
RETRY = Flag("retry_interval", ("--retry-interval",), metavar="DURATION")
TIMEOUT = Flag("timeout", ("--timeout",), metavar="DURATION")
SUBSTITUTE = Flag("substitute", ("--substitute",), metavar="NAME:VALUE,...", repeatable=True)
SUBSTITUTE_FROM = Flag(
    "substitute_from", ("--substitute-from",), metavar="ConfigMap:NAME,Secret:NAME[:optional]", repeatable=True
)
YES = Flag("yes", ("--yes", "-y"), Arity.SWITCH)

_WHICH = (CONFIG, K_NAME, NAME, *CLUSTER_FLAGS)
_FIELDS = (PATH, DEPENDS_ON, PRUNE, FORCE, WAIT, INTERVAL, RETRY, TIMEOUT)


def _names(options: Options, *, need_kustomization: bool = True) -> tuple[ClusterTarget, str, str | None]:
    """(cluster, configuration, kustomization) as the options name them."""
    config = options.value("config")
    kname = options.value("kname")
    name = options.value("name")
    if config is None and kname is not None and name is not None:
        # az: --name is the configuration, -k the kustomization
        config, name = name, None
    if kname is not None and name is not None and kname != name:
        raise UsageError(f"Two kustomization names: {shown(kname)} and {shown(name)}.", hint="Give one.", usage=True)
    kname = kname or name
    word = options.positionals.pop(0) if options.positionals and need_kustomization else None
    if word is not None and kname is not None and word != kname:
        raise UsageError(f"Two kustomization names: {shown(word)} and {shown(kname)}.", hint="Give one.", usage=True)
    kname = word or kname
    if not need_kustomization and config is None and options.positionals:
        # kustomization list CONFIG
        config = options.positionals.pop(0)
    no_more_words(options)
    if config is None:
        raise UsageError("Which Flux configuration? `--config CONFIG` is required.", usage=True)
    config = dns_label(config, "`--config`")
    if need_kustomization:
        if kname is None:
            raise UsageError("Which kustomization? Its NAME is missing.", usage=True)
        kname = dns_label(kname, "The kustomization name")
    elif kname is not None:
        raise UsageError(f"{code('kustomization list')} takes no kustomization name.", usage=True)
    return cluster_target(options), config, kname


def _optional_seconds(options: Options, dest: str) -> int | None:
    value = options.value(dest)
    return seconds(value, code(options.spelled(dest))) if value is not None else None


def _depends_on(options: Options, name: str) -> tuple[str, ...] | None:
    if not options.given("depends_on"):
        return None
    found: list[str] = []
    for value in options.values("depends_on"):
        found += names_list(value, code(options.spelled("depends_on")))
    if name in found:
        raise UsageError(f"Kustomization {code(name)} cannot depend on itself.")
    return tuple(dict.fromkeys(found))


def _path(options: Options) -> str | None:
    value = options.value("path")
    return path(value, "`--path`") if value is not None else None


#: postBuild: on update, ``--substitute`` sets the variables it names (the others stay) and ``--substitute-from``
#: replaces the list; ``--substitute-from ""`` clears it
_POST_BUILD = (SUBSTITUTE, SUBSTITUTE_FROM)


def _substitute(options: Options) -> tuple[tuple[str, str], ...] | None:
    if not options.given("substitute"):
        return None
    pairs: dict[str, str] = {}
    for value in options.values("substitute"):
        for key, text in substitutions(value, "`--substitute`"):
            if key in pairs:
                raise UsageError(f"`--substitute` sets {code(key)} twice.")
            pairs[key] = text
    return tuple(sorted(pairs.items()))


def _substitute_from(options: Options) -> tuple[SubstituteFrom, ...] | None:
    if not options.given("substitute_from"):
        return None
    found: list[SubstituteFrom] = []
    for value in options.values("substitute_from"):
        found.extend(substitute_sources(value, "`--substitute-from`"))
    return tuple(found)


def kustomization_create(words: Sequence[str]) -> KustomizationCreate:
    options = read_flags(words, (*_WHICH, *_FIELDS, *_POST_BUILD, NO_WAIT), command="kustomization create")
    target, config, name = _names(options)
    assert name is not None
    wait = options.switch("wait")
    kustomization = Kustomization(
        name=name,
        path=_path(options) or "",
        depends_on=_depends_on(options, name) or (),
        prune=bool(options.switch("prune")),
        force=bool(options.switch("force")),
        wait=True if wait is None else wait,
        timeout_seconds=_optional_seconds(options, "timeout") or 600,
        sync_interval_seconds=_optional_seconds(options, "interval") or 600,
        retry_interval_seconds=_optional_seconds(options, "retry_interval"),
        substitute=_substitute(options) or (),
        substitute_from=_substitute_from(options) or (),
    )
    return KustomizationCreate(target=target, config=config, kustomization=kustomization, no_wait=no_wait(options))


def kustomization_update(words: Sequence[str]) -> KustomizationUpdate:
    options = read_flags(words, (*_WHICH, *_FIELDS, *_POST_BUILD, NO_WAIT), command="kustomization update")
    target, config, name = _names(options)
    assert name is not None
    change = KustomizationChange(
        name=name,
        path=_path(options),
        depends_on=_depends_on(options, name),
        prune=options.switch("prune"),
        force=options.switch("force"),
        wait=options.switch("wait"),
        sync_interval_seconds=_optional_seconds(options, "interval"),
        retry_interval_seconds=_optional_seconds(options, "retry_interval"),
        timeout_seconds=_optional_seconds(options, "timeout"),
        substitute=_substitute(options),
        substitute_from=_substitute_from(options),
    )
    if change == KustomizationChange(name=name):
        raise UsageError(
            "Nothing to change: give at least one option.",
            hint="For example `--path ./apps/prod`, `--prune true` or `--interval 5m`.",
            usage=True,
        )
    return KustomizationUpdate(target=target, config=config, change=change, no_wait=no_wait(options))


def kustomization_delete(words: Sequence[str]) -> KustomizationDelete:
    options = read_flags(words, (*_WHICH, YES, NO_WAIT), command="kustomization delete")
    target, config, name = _names(options)
    assert name is not None
    return KustomizationDelete(target=target, config=config, name=name, no_wait=no_wait(options))


def kustomization_show(words: Sequence[str]) -> KustomizationShow:
    options = read_flags(words, _WHICH, command="kustomization show")
    target, config, name = _names(options)
    assert name is not None
    return KustomizationShow(target=target, config=config, name=name)


def kustomization_list(words: Sequence[str]) -> KustomizationList:
    options = read_flags(words, _WHICH, command="kustomization list")
    target, config, _ = _names(options, need_kustomization=False)
    return KustomizationList(target=target, config=config)
