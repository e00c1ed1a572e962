"""The help topics of fleet runs (``/flux fleet ...``) and what ``/flux help fleet`` says about waves.

bot/grammar/help_topics.py joins these with the others; bot/grammar/help.py shows ``FLEET_NOTES`` under the
group's subcommands.
"""

from __future__ import annotations

from bot.commands.fleet import DEFAULT_MAX_PARALLEL, DEFAULT_WAVES, MAX_PARALLEL_LIMIT, MAX_WAVES
from bot.grammar.help_parts import DURATIONS, KUSTOMIZATION_KEYS, SECRETS, SOURCE_FLAGS, Topic

_WAVES_TEXT = ",".join(str(w) for w in DEFAULT_WAVES)
_RUN = ("RUN", "the run's job id, `j-` and 12 hex digits, as its message shows it (`/flux fleet list` lists runs)")
ROLLOUT_FLAGS = (
    (
        "--clusters KEY=VALUE,...",
        "the clusters: every tag must match, as `/flux clusters --selector` reads it (`name=`, `rg=`, `type=` and "
        "globs too); `--clusters all` is every cluster you may see. Required: there is no default",
    ),
    (
        f"--waves {_WAVES_TEXT}",
        f"how far each wave reaches, cumulative: counts first, then percents of the matched clusters, each "
        f"further than the one before, the last `100%` (default `{_WAVES_TEXT}`, at most {MAX_WAVES} waves)",
    ),
    (
        "--max-parallel N",
        f"clusters written and not yet settled at one time, 1-{MAX_PARALLEL_LIMIT} (default {DEFAULT_MAX_PARALLEL}); "
        "ARM's write throttle paces the run too",
    ),
)
_HOW_IT_RUNS = (
    "The run first shows its plan — which clusters get a create, an update or nothing — and waits for your "
    "Confirm; where the policy's `approvals:` cover a matched cluster, others must approve first. You need "
    "operator on every matched cluster."
)

FLEET_NOTES = (
    "A *wave* is a slice of the matched clusters: the first is the canary. Every cluster of a wave must end "
    "Compliant (the extension: Succeeded) before the next wave starts, and the run *halts* on the first cluster "
    "that fails, ends Non-Compliant or times out: nothing after it is written. `/flux fleet resume RUN` carries on "
    "once it is fixed, and no cluster is written twice.",
    f"Defaults: `--waves {_WAVES_TEXT}` (one cluster, then a tenth of the fleet, then the rest), "
    f"`--max-parallel {DEFAULT_MAX_PARALLEL}`. ARM's write throttle paces every run; the run's message shows how "
    "many writes are left, any wait, and the time left.",
    _HOW_IT_RUNS,
    "Examples: `/flux fleet apply apps --clusters env=prod --branch release-42`, "
    "`/flux fleet extension update --clusters env=prod --version 1.13.1`, `/flux fleet status j-0123456789ab`.",
)

FLEET_TOPICS: dict[str, Topic] = {
    "fleet apply": Topic(
        usage="/flux fleet apply NAME --clusters KEY=VALUE,... [--waves 1,10%,100%] [--max-parallel N] "
        "<config create / config update flags>",
        summary="roll Flux configuration NAME out to every cluster a selector matches, in waves",
        description="Creates configuration NAME where it is missing and updates it where it exists, wave by wave. "
        "Without `-u URL` only the given fields change, as `config update` does, and clusters without the "
        "configuration are listed in the plan and left alone. With `-u URL` and its version the flags make the whole "
        "configuration, as `config create` does: `--namespace`, `--scope`, `--kind` and the other create-only "
        "flags shape only the ones created. Kustomization keys: "
        + KUSTOMIZATION_KEYS
        + ". "
        + DURATIONS
        + " "
        + _HOW_IT_RUNS
        + " "
        + SECRETS,
        flags=(
            ("NAME, -n, --name NAME", "the configuration's name"),
            *ROLLOUT_FLAGS,
            *SOURCE_FLAGS,
            ("--kustomization name=K KEY=VALUE ...", "a kustomization to add or change (repeatable)"),
            ("--namespace NS, --scope S, --kind K, --suspend", "with `-u`: the configuration created where missing"),
            ("--local-auth-ref, --provider, --bucket-..., --container-name ...", "with `-u`: as `config create`"),
            ("-c, --deploy-key, --no-extension", "not taken: pick clusters by tags, give a key fluxops holds"),
        ),
        examples=(
            "/flux fleet apply apps --clusters env=prod --branch release-42",
            "/flux fleet apply apps --clusters env=prod,region=weu --waves 1,5,25%,100% --max-parallel 20 "
            "--kustomization name=apps path=./apps/prod prune=true",
            "/flux fleet apply cluster-config --clusters env=staging -u https://github.com/Azure/"
            "gitops-flux2-kustomize-helm-mt --branch main --kustomization name=infra path=./infrastructure prune=true",
        ),
    ),
    "fleet extension update": Topic(
        usage="/flux fleet extension update --clusters KEY=VALUE,... [--version V] [--auto-upgrade true|false] "
        "[--release-train stable|preview] [--config KEY=VALUE ...]... [--waves 1,10%,100%] [--max-parallel N]",
        summary="change the microsoft.flux extension on every cluster a selector matches, in waves",
        description="Changes the extension as `extension update` does, wave by wave; clusters without the "
        "extension are listed in the plan and left alone. `--config KEY=` removes a setting; "
        "`/flux help extension settings` lists the settings. " + _HOW_IT_RUNS,
        flags=(
            *ROLLOUT_FLAGS,
            ("--version V", "pin this version (implies `--auto-upgrade false`)"),
            ("--auto-upgrade, --auto-upgrade-minor-version true|false", "follow new minor versions"),
            ("--release-train stable|preview", "the release train"),
            ("--config KEY=VALUE ...", "set settings; `KEY=` removes one (repeatable)"),
        ),
        examples=(
            "/flux fleet extension update --clusters env=prod --config helm-controller.detectDrift=true",
            "/flux fleet extension update --clusters all --version 1.13.1 --waves 1,10,50%,100%",
        ),
    ),
    "fleet status": Topic(
        usage="/flux fleet status RUN",
        summary="show a fleet run: its waves, failures, ARM's throttle and the time left",
        description="Shows where run RUN is: each wave's progress, the clusters that failed and why, and how "
        "ARM's write throttle paces it.",
        flags=(_RUN,),
        examples=("/flux fleet status j-0123456789ab",),
    ),
    "fleet list": Topic(
        usage="/flux fleet list",
        summary="the recent fleet runs, newest first",
        description="Lists recent fleet runs with their phase and progress; `/flux fleet status RUN` shows one.",
        examples=("/flux fleet list",),
    ),
    "fleet cancel": Topic(
        usage="/flux fleet cancel RUN",
        summary="stop a fleet run once its in-flight writes end",
        description="Writes nothing new; the writes already sent to ARM finish and are reported. You need "
        "operator on the run's clusters. `/flux fleet resume RUN` carries on later.",
        flags=(_RUN,),
        examples=("/flux fleet cancel j-0123456789ab",),
    ),
    "fleet resume": Topic(
        usage="/flux fleet resume RUN",
        summary="carry on with a halted, canceled or interrupted fleet run",
        description="Carries on from the run's record: clusters already written are not written again, and the "
        "halted wave is retried from the cluster that stopped it. You need operator on the run's clusters.",
        flags=(_RUN,),
        examples=("/flux fleet resume j-0123456789ab",),
    ),
}
