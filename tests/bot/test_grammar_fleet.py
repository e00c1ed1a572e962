"""``/flux fleet ...``: selectors, waves, the config and extension flags read by their own builders, run ids."""

from __future__ import annotations

import pytest

from bot.commands import (
    ConfigCreate,
    ConfigUpdate,
    ExtensionUpdate,
    FleetApply,
    FleetCancel,
    FleetExtensionUpdate,
    FleetList,
    FleetResume,
    FleetStatus,
    WaveSize,
)
from bot.commands.fleet import DEFAULT_MAX_PARALLEL, DEFAULT_WAVES
from bot.grammar.fleet_commands import waves
from bot.usage import UsageError
from tests.bot.grammar_helpers import error
from tests.bot.grammar_helpers import run as command

URL = "https://github.com/Azure/gitops-flux2-kustomize-helm-mt"


def fleet_apply(text: str) -> FleetApply:
    found = command(text)
    assert isinstance(found, FleetApply)
    return found


def test_update_only_reads_what_config_update_reads() -> None:
    fleet = fleet_apply("fleet apply apps --clusters env=prod --branch release-42 --interval 5m")
    single = command("config update apps -c prod --branch release-42 --interval 5m")
    assert isinstance(single, ConfigUpdate)
    assert fleet.patch == single.patch
    assert fleet.spec is None
    assert fleet.selector == (("env", "prod"),)
    assert (fleet.waves, fleet.max_parallel) == (DEFAULT_WAVES, DEFAULT_MAX_PARALLEL)


def test_a_url_makes_the_whole_configuration_as_config_create_does() -> None:
    flags = f"-u {URL} --branch main --namespace cluster-config --kustomization name=infra path=./infrastructure"
    fleet = fleet_apply(f"fleet apply cluster-config --clusters env=staging,region=weu {flags}")
    single = command(f"config create cluster-config -c prod {flags}")
    assert isinstance(single, ConfigCreate)
    assert fleet.spec == single.spec
    assert fleet.credentials == single.credentials
    assert fleet.patch.url == URL and fleet.patch.ref == single.spec.source.ref  # type: ignore[union-attr]
    assert fleet.selector == (("env", "staging"), ("region", "weu"))


def test_credentials_are_references() -> None:
    fleet = fleet_apply(
        "fleet apply apps --clusters env=prod -u https://dev.azure.com/o/p/_git/r --branch main "
        "--https-user bot --https-key-ref ado/token"
    )
    assert fleet.credentials.https_key == "ado/token"


@pytest.mark.parametrize(
    ("words", "selector"),
    [
        ("--clusters env=prod", (("env", "prod"),)),
        ("--clusters env=prod region=weu", (("env", "prod"), ("region", "weu"))),
        ("--clusters=env=prod,name=fleet-*", (("env", "prod"), ("name", "fleet-*"))),
        ("--selector env=prod", (("env", "prod"),)),
        ("-l env=prod", (("env", "prod"),)),
        ("--clusters all", ()),
        ("--clusters ALL", ()),
    ],
)
def test_selectors(words: str, selector: tuple[tuple[str, str], ...]) -> None:
    assert fleet_apply(f"fleet apply apps {words} --branch main").selector == selector


@pytest.mark.parametrize(
    ("text", "sizes"),
    [
        ("1,10%,100%", DEFAULT_WAVES),
        ("100%", (WaveSize(100, percent=True),)),
        ("1,5,25%,100%", (WaveSize(1), WaveSize(5), WaveSize(25, True), WaveSize(100, True))),
        (" 2 , 50% ,100%", (WaveSize(2), WaveSize(50, True), WaveSize(100, True))),
    ],
)
def test_waves(text: str, sizes: tuple[WaveSize, ...]) -> None:
    assert waves(text) == sizes


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("1,10%", "End `--waves` with `100%`: `--waves 1,10%,100%`"),
        ("5", "`--waves 5,100%`"),
        ("0,100%", "start at 1"),
        ("1,150%", "at most `100%`"),
        ("10%,5,100%", "Give the counts first"),
        ("1,1,100%", "each wave reaches further"),
        ("50%,10%,100%", "each wave reaches further"),
        ("1,,100%", "not ``"),
        ("one,100%", "not `one`"),
        ("-1,100%", "not `-1`"),
        (",".join(str(n) for n in range(1, 12)) + ",100%", "at most 10"),
    ],
)
def test_bad_waves(text: str, message: str) -> None:
    with pytest.raises(UsageError) as raised:
        waves(text)
    assert message in f"{raised.value.message} {raised.value.hint}"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("fleet apply apps --branch main", "`--clusters KEY=VALUE,...` is required"),
        ("fleet apply apps --branch main", "`--clusters all` means every cluster you may see"),
        ("fleet apply apps --clusters all,env=prod --branch main", "takes no tags besides"),
        ("fleet apply apps --clusters env --branch main", "`--clusters` needs KEY=VALUE,... words"),
        ("fleet apply apps --clusters =prod --branch main", "`--clusters` takes `KEY=VALUE` tags"),
        ("fleet apply apps --clusters env=prod,all --branch main", "takes no tags besides"),
        ("fleet apply apps --clusters all all --branch main", "Unexpected word `all`"),
        ("fleet apply apps --clusters env=prod,env=dev --branch main", "two values of `env`"),
        ("fleet apply apps -c prod --branch main", "not `-c`"),
        ("fleet apply apps -c prod --branch main", "`/flux config update NAME -c CLUSTER ...`"),
        ("fleet apply apps --clusters env=prod", "Nothing to change"),
        ("fleet apply apps --clusters env=prod --namespace x --branch main", "Add `-u URL`"),
        ("fleet apply apps --clusters env=prod --scope cluster --branch main", "shapes only a configuration"),
        ("fleet apply apps --clusters env=prod --suspend --branch main", "shapes only a configuration"),
        (f"fleet apply apps --clusters env=prod -u {URL}", "Which version of the source?"),
        ("fleet apply apps --clusters env=prod --deploy-key generate --branch x", "does not make deploy keys"),
        ("fleet apply apps --clusters env=prod --no-extension --branch x", "`--no-extension` changes nothing"),
        ("fleet apply apps --clusters env=prod --max-parallel 0 --branch x", "from 1 to 1000"),
        ("fleet apply apps --clusters env=prod --max-parallel 1001 --branch x", "from 1 to 1000"),
        ("fleet apply apps --clusters env=prod --wave 1,100% --branch x", "Did you mean `--waves`?"),
        ("fleet apply --clusters env=prod --branch x", "NAME is missing"),
        ("fleet apply apps --clusters env=prod --branch x --https-key hunter2hunter2", "never typed into chat"),
        ("fleet extension update --clusters env=prod", "Nothing to change"),
        ("fleet extension update --clusters env=prod --version 1.2.3 --auto-upgrade true", "--auto-upgrade false"),
        ("fleet extension update -c prod --version 1.2.3", "`/flux extension update -c CLUSTER ...`"),
        ("fleet extension update --clusters env=prod --config bogus.key=1", "bogus.key"),
        ("fleet extension update --clusters env=prod --extension-type x --version 1.2.3", "microsoft.flux"),
        ("fleet extension update apps --clusters env=prod --version 1.2.3", "Unexpected word `apps`"),
        ("fleet extension --clusters env=prod", "`fleet extension` needs `update`"),
        ("fleet extension upgrade --clusters env=prod", "Did you mean `fleet extension update`?"),
        ("fleet status", "RUN is missing"),
        ("fleet status 42", "not `42`"),
        ("fleet cancel j-0123456789ab j-0123456789ab", "takes one job id"),
        ("fleet list --all", "`--all` is not an option of `fleet list`"),
        ("fleet lst", "Did you mean `fleet list`?"),
        ("fleet", "`fleet` needs one of `apply`, `extension`, `status`, `list`, `cancel` or `resume`"),
    ],
)
def test_usage_errors(text: str, message: str) -> None:
    assert message in error(text)


def test_errors_point_to_the_fleet_help() -> None:
    assert "See `/flux help fleet apply`." in error("fleet apply apps --branch main")
    assert "See `/flux help fleet extension update`." in error("fleet extension update --clusters env=prod")
    assert "Usage: `/flux fleet status RUN`" in error("fleet status")


def test_extension_update_reads_what_extension_update_reads() -> None:
    flags = "--config helm-controller.detectDrift=true multiTenancy.enforce= --release-train preview"
    fleet = command(f"fleet extension update --clusters env=prod {flags} --waves 2,100% --max-parallel 5")
    single = command(f"extension update -c prod {flags}")
    assert isinstance(fleet, FleetExtensionUpdate) and isinstance(single, ExtensionUpdate)
    assert fleet.patch == single.patch
    assert (fleet.waves, fleet.max_parallel) == ((WaveSize(2), WaveSize(100, True)), 5)
    assert command("fleet ext update --clusters all --version 1.13.1") == FleetExtensionUpdate(
        selector=(),
        patch=command("extension update -c x --version 1.13.1").patch,  # type: ignore[union-attr]
    )


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("fleet status j-0123456789ab", FleetStatus(run_id="j-0123456789ab")),
        ("fleet show J-0123456789AB", FleetStatus(run_id="j-0123456789ab")),
        ("fleet list", FleetList()),
        ("fleet ls", FleetList()),
        ("fleet runs", FleetList()),
        ("fleet cancel j-0123456789ab", FleetCancel(run_id="j-0123456789ab")),
        ("fleet stop j-0123456789ab", FleetCancel(run_id="j-0123456789ab")),
        ("fleet resume j-0123456789ab", FleetResume(run_id="j-0123456789ab")),
    ],
)
def test_runs(text: str, expected: object) -> None:
    assert command(text) == expected
