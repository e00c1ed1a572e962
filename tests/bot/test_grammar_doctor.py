"""doctor (one cluster or a selector) and v1 list|migrate: what they parse to, and that they travel in job records."""

from __future__ import annotations

import pytest

from bot.command_codec import decode_command, encode
from bot.commands import ClusterTarget, Doctor, DoctorFleet, Role, V1List, V1Migrate
from bot.grammar.vocabulary import PLANNED
from bot.models import ClusterType
from tests.bot.grammar_helpers import reply, run

C = ClusterTarget("c")


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("doctor -c c", Doctor(target=C)),
        ("doctor -c c -g rg -t arc", Doctor(target=ClusterTarget("c", "rg", ClusterType.CONNECTED))),
        ("doctor --clusters env=prod,region=weu", DoctorFleet(selector=(("env", "prod"), ("region", "weu")))),
        ("doctor --clusters all", DoctorFleet(selector=())),
        ("doctor --selector env=demo", DoctorFleet(selector=(("env", "demo"),))),
        ("v1 list -c legacy-arc", V1List(target=ClusterTarget("legacy-arc"))),
        ("v1 ls -c legacy-arc", V1List(target=ClusterTarget("legacy-arc"))),
        ("v1 migrate cluster-config -c legacy-arc", V1Migrate("cluster-config", ClusterTarget("legacy-arc"))),
        ("v1 migrate -n cluster-config -c legacy-arc --yes", V1Migrate("cluster-config", ClusterTarget("legacy-arc"))),
    ],
)
def test_parses_and_travels(text: str, expected: object) -> None:
    command = run(text)
    assert command == expected
    assert decode_command(encode(command)) == command


def test_roles_and_confirmation() -> None:
    assert Doctor.role is Role.VIEWER and not Doctor.mutates
    assert V1List.role is Role.VIEWER and not V1List.mutates
    assert V1Migrate.role is Role.ADMIN and V1Migrate.mutates and V1Migrate.destructive
    assert V1Migrate("a", C).lock_name == "a"


def test_nothing_is_planned_any_more_and_help_lists_them() -> None:
    assert PLANNED == {}
    overview = reply("help")
    for command in ("/flux doctor", "/flux v1 list", "/flux v1 migrate"):
        assert command in overview
    assert "v1 migrate NAME -c CLUSTER" in reply("help v1")
    assert "--clusters" in reply("doctor --help")
