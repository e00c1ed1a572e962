"""workers.tasks.RetryPolicy: how long a retryable job waits before its next try."""

from __future__ import annotations

import random

import pytest

from bot import errors
from workers.tasks import JOB_RETRY, RetryPolicy

#: the policy the job task declares
POLICY: RetryPolicy = JOB_RETRY


def no_jitter(monkeypatch: pytest.MonkeyPatch, factor: str = "middle") -> None:
    """Make the jitter deterministic: its lowest, middle or highest factor."""

    def uniform(low: float, high: float) -> float:
        return {"lowest": low, "middle": (low + high) / 2, "highest": high}[factor]

    monkeypatch.setattr(random, "uniform", uniform)


def busy(retry_after: float | None) -> errors.Busy:
    return errors.Busy("waiting for job j-0 to release cluster-config", holder="j-0", retry_after=retry_after)


def test_backoff_grows_with_retries_up_to_the_cap(monkeypatch: pytest.MonkeyPatch) -> None:
    no_jitter(monkeypatch)
    error = errors.ServiceUnavailable("Azure Resource Manager answered 503")

    delays = [POLICY.countdown(error, retries) for retries in range(12)]

    assert delays[:4] == [2.0, 4.0, 8.0, 16.0]
    assert delays == sorted(delays)
    assert max(delays) == POLICY.cap
    assert delays[-1] == POLICY.cap


@pytest.mark.parametrize("retries", [0, 3, 7, 20])
def test_jitter_stays_within_its_bounds(monkeypatch: pytest.MonkeyPatch, retries: int) -> None:
    monkeypatch.setattr(random, "uniform", random.Random(retries).uniform)  # repeatable, global state untouched
    error = errors.Conflict("another operation is in progress")
    nominal = min(POLICY.cap, POLICY.base * 2**retries)
    for _ in range(200):
        delay = POLICY.countdown(error, retries)
        assert nominal * (1 - POLICY.jitter) - 0.01 <= delay <= nominal * (1 + POLICY.jitter) + 0.01


def test_jitter_actually_spreads_retries() -> None:
    error = errors.Conflict("another operation is in progress")
    assert len({POLICY.countdown(error, 2) for _ in range(50)}) > 1


@pytest.mark.parametrize("factor", ["middle", "highest"])
@pytest.mark.parametrize(("retries", "retry_after"), [(0, 30.0), (2, 120.0), (9, 900.0)])
def test_retry_after_wins_over_a_shorter_backoff(
    monkeypatch: pytest.MonkeyPatch, factor: str, retries: int, retry_after: float
) -> None:
    no_jitter(monkeypatch, factor)
    error = errors.Throttled("Azure asked fluxops to slow down (429)", retry_after=retry_after)

    assert POLICY.countdown(error, retries) >= retry_after


def test_retry_after_is_a_floor_even_with_the_lowest_jitter(monkeypatch: pytest.MonkeyPatch) -> None:
    no_jitter(monkeypatch, "lowest")
    error = errors.Throttled("Azure asked fluxops to slow down (429)", retry_after=30)

    assert POLICY.countdown(error, 0) >= 30


@pytest.mark.parametrize(
    ("retry_after", "nominal"),
    [
        pytest.param(None, 5.0, id="no-hint"),
        pytest.param(1.0, 5.0, id="never-faster-than-the-cadence"),
        pytest.param(20.0, 20.0, id="lock-ttl-left"),
        pytest.param(3600.0, 60.0, id="capped-at-a-minute"),
    ],
)
def test_busy_waits_at_its_own_cadence(
    monkeypatch: pytest.MonkeyPatch, retry_after: float | None, nominal: float
) -> None:
    no_jitter(monkeypatch)

    # the same at any retry count: waiting for a lock is not a failure to back off from
    assert {POLICY.countdown(busy(retry_after), retries) for retries in (0, 5, 50)} == {nominal}


def test_busy_jitter_stays_within_its_bounds(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(random, "uniform", random.Random(5).uniform)
    for _ in range(200):
        delay = POLICY.countdown(busy(None), 3)
        assert POLICY.busy_every * (1 - POLICY.jitter) - 0.01 <= delay <= POLICY.busy_every * (1 + POLICY.jitter) + 0.01
