"""``fleet apply|extension update|status|list|cancel|resume``: one change rolled out over many clusters.

The clusters are ``--clusters KEY=VALUE,...``, read exactly as ``/flux clusters --selector`` reads them; there
is no fleet-wide default, and ``--clusters all`` says "every cluster I may see" in so many words (an empty
selector). ``fleet apply`` takes the flags of ``config create`` / ``config update`` and reads them with their
builders: ``patch`` is what changes where the configuration exists; with ``-u URL`` the flags also make a whole
configuration (``spec``), created where it is missing, and the create-only flags (``--namespace``, ``--scope``,
``--kind``...) shape only that one. ``fleet extension update`` takes the flags of ``extension update``.

``--waves`` is a comma list of counts and percents of the matched clusters, each wave reaching further than the
one before and the last reaching every cluster (``100%``).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from bot.commands import (
    FleetApply,
    FleetCancel,
    FleetExtensionUpdate,
    FleetList,
    FleetResume,
    FleetStatus,
    WaveSize,
)
from bot.commands.fleet import DEFAULT_MAX_PARALLEL, DEFAULT_WAVES, MAX_PARALLEL_LIMIT, MAX_WAVES
from bot.grammar.arguments import name_argument, no_more_words
from bot.grammar.clusters_and_audit import selector
from bot.grammar.config_commands import (
    CREATE_FLAGS,
    UPDATABLE,
    create_spec,
    nothing_to_change,
    update_patch,
)
from bot.grammar.extension_commands import EXTENSION_TYPE, PATCH_FLAGS, extension_patch
from bot.grammar.flags import Arity, Flag, Options, read_flags
from bot.grammar.pull_request_commands import job_id_argument
from bot.grammar.targets import CLUSTER_FLAGS
from bot.models import FluxConfigPatch
from bot.usage import UsageError, code, shown
from bot.values import integer

CLUSTERS = Flag("clusters", ("--clusters", "--selector", "-l"), Arity.PAIRS, metavar="KEY=VALUE,...", bare=("all",))
WAVES = Flag("waves", ("--waves",), metavar="1,10%,100%")
MAX_PARALLEL = Flag("max_parallel", ("--max-parallel",), metavar="N")
ROLLOUT_FLAGS = (CLUSTERS, WAVES, MAX_PARALLEL)

_WAVE = re.compile(r"(\d{1,7})(%?)")
_DEFAULT_WAVES = ",".join(str(w) for w in DEFAULT_WAVES)
_RUN_HINT = (
    "A run is named by its job id (`j-` and 12 hex digits), shown in its message; `/flux fleet list` lists runs."
)
#: the command that changes one cluster the way a fleet command changes many
_ONE_CLUSTER = {
    "fleet apply": "/flux config update NAME -c CLUSTER ...",
    "fleet extension update": "/flux extension update -c CLUSTER ...",
}
#: what fleet apply cannot do for a whole fleet, and what to do instead
_NOT_IN_FLEET = {
    "deploy_key": (
        "`fleet apply` does not make deploy keys.",
        "Make the key once with `/flux config create` on one cluster, or give a key fluxops holds with "
        "`--ssh-private-key-ref REF` (HTTPS: `--https-user USER --https-key-ref REF`).",
    ),
    "no_extension": (
        "`fleet apply` does not install the microsoft.flux extension, so `--no-extension` changes nothing.",
        "Leave it out; clusters without the extension are listed in the plan. "
        "`/flux fleet extension update` changes the extension where it is installed.",
    ),
}


def _no_cluster_flags(options: Options, command: str) -> None:
    given = [dest for dest in ("cluster", "resource_group", "cluster_type") if options.given(dest)]
    if given:
        raise UsageError(
            f"`{command}` picks its clusters with `--clusters KEY=VALUE,...`, not {code(options.spelled(given[0]))}.",
            hint="For one cluster by name write `--clusters name=prod-weu`; to change just one cluster use "
            f"{code(_ONE_CLUSTER[command])}.",
            usage=True,
        )


def clusters_selector(options: Options) -> tuple[tuple[str, str], ...]:
    """The ``--clusters`` selector: required; ``all`` alone is every cluster (an empty selector)."""
    groups = options.groups("clusters")
    if not groups:
        raise UsageError(
            "Which clusters? `--clusters KEY=VALUE,...` is required: a fleet run has no default.",
            hint="For example `--clusters env=prod`; `/flux clusters --selector env=prod` shows what it matches, "
            "and `--clusters all` means every cluster you may see.",
            usage=True,
        )
    words = [word for group in groups for word in group]
    items = [item for word in words for item in word.split(",") if item]
    if any(item.lower() == "all" for item in items):
        if len(items) > 1:
            raise UsageError(
                "`--clusters all` is every cluster; it takes no tags besides.",
                hint="Give `--clusters all` alone, or only the tags (`--clusters env=prod`).",
            )
        return ()
    return selector(words, options.spelled("clusters"))


def waves(text: str) -> tuple[WaveSize, ...]:
    """``1,10%,100%``: counts first, then percents, each reaching further than the one before, ending at 100%."""
    items = [item.strip() for item in text.split(",")]
    if len(items) > MAX_WAVES:
        raise UsageError(f"`--waves` gives {len(items)} waves; a run has at most {MAX_WAVES}.")
    made: list[WaveSize] = []
    for item in items:
        match = _WAVE.fullmatch(item)
        if match is None:
            raise UsageError(
                f"`--waves` takes counts and percents separated by commas (e.g. `{_DEFAULT_WAVES}`), not {shown(item)}."
            )
        wave = WaveSize(int(match.group(1)), percent=bool(match.group(2)))
        if wave.count < 1:
            raise UsageError("A wave reaches at least one cluster: `--waves` counts and percents start at 1.")
        if wave.percent and wave.count > 100:
            raise UsageError(f"`--waves` has {wave}: a wave reaches at most `100%` of the clusters.")
        if made:
            _reaches_further(made[-1], wave)
        made.append(wave)
    if made[-1] != WaveSize(100, percent=True):
        suggestion = ",".join([*(str(w) for w in made), "100%"])
        raise UsageError(
            "The last wave must reach every matched cluster.",
            hint=f"End `--waves` with `100%`: `--waves {suggestion}`.",
        )
    return tuple(made)


def _reaches_further(before: WaveSize, wave: WaveSize) -> None:
    if before.percent and not wave.percent:
        raise UsageError(
            f"`--waves` has the count {wave} after {before}: a count cannot be compared with a share of a fleet of any "
            "size.",
            hint="Give the counts first, then the percents, e.g. `--waves 1,5,25%,100%`.",
        )
    if wave.percent == before.percent and wave.count <= before.count:
        raise UsageError(
            f"`--waves` has {wave} after {before}: each wave reaches further than the one before "
            "(the sizes are cumulative).",
            hint=f"For example `--waves {_DEFAULT_WAVES}`.",
        )


def _rollout(options: Options) -> tuple[tuple[tuple[str, str], ...], tuple[WaveSize, ...], int]:
    found = clusters_selector(options)
    text = options.value("waves")
    limit = options.value("max_parallel")
    return (
        found,
        waves(text) if text is not None else DEFAULT_WAVES,
        integer(limit, "`--max-parallel`", low=1, high=MAX_PARALLEL_LIMIT)
        if limit is not None
        else DEFAULT_MAX_PARALLEL,
    )


def fleet_apply(words: Sequence[str]) -> FleetApply:
    options = read_flags(words, (*CREATE_FLAGS, *ROLLOUT_FLAGS), command="fleet apply")
    name = name_argument(options)
    assert name is not None
    no_more_words(options)
    _no_cluster_flags(options, "fleet apply")
    for dest, (message, hint) in _NOT_IN_FLEET.items():
        if options.given(dest):
            raise UsageError(message, hint=hint)
    found, sizes, limit = _rollout(options)
    if options.given("url"):
        spec, credentials, _ = create_spec(options, name)
        patch, _, _ = update_patch(options)
    else:
        _refuse_create_only(options)
        spec = None
        patch, credentials, _ = update_patch(options)
        if patch == FluxConfigPatch() and credentials.is_empty():
            raise nothing_to_change()
    return FleetApply(
        name=name,
        selector=found,
        patch=patch,
        spec=spec,
        credentials=credentials,
        waves=sizes,
        max_parallel=limit,
    )


def _refuse_create_only(options: Options) -> None:
    """Without ``-u`` fleet apply only updates: a flag that shapes a new configuration needs the whole of it."""
    for flag in CREATE_FLAGS:
        if options.given(flag.dest) and flag.dest not in UPDATABLE:
            raise UsageError(
                f"{code(options.spelled(flag.dest))} shapes only a configuration that `fleet apply` creates, and it "
                "creates one only from a whole source.",
                hint="Add `-u URL` and its version (e.g. `--branch main`) to create the configuration where it is "
                f"missing, or leave {code(options.spelled(flag.dest))} out to update it where it exists.",
            )


def fleet_extension_update(words: Sequence[str]) -> FleetExtensionUpdate:
    flags = (*CLUSTER_FLAGS, *PATCH_FLAGS, EXTENSION_TYPE, *ROLLOUT_FLAGS)
    options = read_flags(words, flags, command="fleet extension update")
    no_more_words(options)
    _no_cluster_flags(options, "fleet extension update")
    kind = options.value("extension_type")
    if kind is not None and kind.lower() != "microsoft.flux":
        raise UsageError(
            f"fluxops manages the `microsoft.flux` extension only, not {shown(kind)}.",
            hint="Leave `--extension-type` out.",
        )
    found, sizes, limit = _rollout(options)
    return FleetExtensionUpdate(selector=found, patch=extension_patch(options), waves=sizes, max_parallel=limit)


def fleet_status(words: Sequence[str]) -> FleetStatus:
    return FleetStatus(run_id=job_id_argument(words, "fleet status", what="RUN", hint=_RUN_HINT))


def fleet_list(words: Sequence[str]) -> FleetList:
    options = read_flags(words, (), command="fleet list")
    no_more_words(options)
    return FleetList()


def fleet_cancel(words: Sequence[str]) -> FleetCancel:
    return FleetCancel(run_id=job_id_argument(words, "fleet cancel", what="RUN", hint=_RUN_HINT))


def fleet_resume(words: Sequence[str]) -> FleetResume:
    return FleetResume(run_id=job_id_argument(words, "fleet resume", what="RUN", hint=_RUN_HINT))
