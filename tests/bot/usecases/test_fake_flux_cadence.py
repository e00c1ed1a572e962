"""The in-memory Flux configurations report at the cadence ARM does.

ARM's ``statusUpdatedAt`` is the time of the agent's last status report, and the agent reports when it
reconciles: a fetch each source interval, an apply each kustomization interval (the ARM emulator's agent,
sandbox/fluxsim.py, publishes exactly then). Reading the resource does not move it. The rotation checks
(``still_fetching``) count fetch intervals from it, so a fake that reported on every read would let them pass
with no fetch at all.
"""

from __future__ import annotations

from dataclasses import replace

from bot.models import GitSource, Kustomization, RepositoryRef
from tests.bot.usecases.fakes import CLUSTER, TUTORIAL_SPEC, WALL_START, FakeFluxConfigs, iso

SOURCE_EVERY, APPLY_EVERY = 60, 300
SPEC = replace(
    TUTORIAL_SPEC,
    source=GitSource(url="https://github.com/org/repo", ref=RepositoryRef(branch="main"), sync_interval_seconds=60),
    kustomizations=(
        Kustomization(name="infra", path="./infrastructure", sync_interval_seconds=APPLY_EVERY),
        Kustomization(name="apps", path="./apps", sync_interval_seconds=900),
    ),
)


class Clock:
    def __init__(self) -> None:
        self.now = WALL_START

    def __call__(self) -> float:
        return self.now


def configs(clock: Clock) -> FakeFluxConfigs:
    flux = FakeFluxConfigs()
    flux.now = clock
    flux.fetches = lambda url, protected: None
    flux.seed(CLUSTER.ref, SPEC)
    return flux


def reported(flux: FakeFluxConfigs) -> str | None:
    return flux.get(CLUSTER.ref, SPEC.name).status_updated_at


def test_reading_does_not_move_the_status_time():
    clock = Clock()
    flux = configs(clock)
    first = reported(flux)
    assert first == iso(WALL_START)
    for seconds in (1, 10, 30, SOURCE_EVERY - 1):
        clock.now = WALL_START + seconds
        assert reported(flux) == first, f"read {seconds}s later"


def test_a_fetch_each_source_interval_moves_it():
    clock = Clock()
    flux = configs(clock)
    clock.now = WALL_START + SOURCE_EVERY
    assert reported(flux) == iso(WALL_START + SOURCE_EVERY)
    clock.now = WALL_START + SOURCE_EVERY + 5
    assert reported(flux) == iso(WALL_START + SOURCE_EVERY)


def test_an_apply_each_kustomization_interval_moves_it_between_fetches():
    clock = Clock()
    flux = configs(clock)
    flux.configs[(CLUSTER.ref, SPEC.name)].spec = replace(
        SPEC, source=replace(SPEC.source, sync_interval_seconds=3600)
    )  # fetches rarely: only applies report
    clock.now = WALL_START + APPLY_EVERY - 1
    assert reported(flux) == iso(WALL_START)
    clock.now = WALL_START + APPLY_EVERY
    assert reported(flux) == iso(WALL_START + APPLY_EVERY)
