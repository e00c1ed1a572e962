"""The one mapping of a Git host's HTTP refusal to a bot error (workers/git_http_errors.py)."""

from __future__ import annotations

import pytest

from bot import errors
from workers.git_http_errors import Refusal, Wording, classify, host_error, retry_after

WORDS: Wording = {refusal: ("{doing}: " + refusal.value, "advice for " + refusal.value) for refusal in Refusal}


@pytest.mark.parametrize(
    ("status", "kw", "expected"),
    [
        (429, {}, Refusal.THROTTLED),
        (403, {"rate_limited": True}, Refusal.THROTTLED),
        (403, {}, Refusal.FORBIDDEN),
        (401, {}, Refusal.UNAUTHENTICATED),
        (203, {}, Refusal.UNAUTHENTICATED),
        (302, {}, Refusal.UNAUTHENTICATED),
        (404, {}, Refusal.NOT_FOUND),
        (409, {}, Refusal.INVALID),
        (409, {"conflict_retries": True}, Refusal.CONFLICT),
        (422, {}, Refusal.INVALID),
        (503, {}, Refusal.UNAVAILABLE),
    ],
)
def test_classify(status: int, kw: dict[str, bool], expected: Refusal) -> None:
    assert classify(status, **kw) is expected


def test_retry_after_in_seconds_any_case() -> None:
    assert retry_after({"Retry-After": "7"}) == 7.0
    assert retry_after({"retry-after": "-3"}) == 0.0
    assert retry_after({"Retry-After": "Wed, 21 Oct 2015 07:28:00 GMT"}) is None
    assert retry_after({}) is None


@pytest.mark.parametrize(
    ("refusal", "kind", "retryable"),
    [
        (Refusal.THROTTLED, errors.Throttled, True),
        (Refusal.UNAVAILABLE, errors.ServiceUnavailable, True),
        (Refusal.UNREACHABLE, errors.ServiceUnavailable, True),
        (Refusal.CONFLICT, errors.Conflict, True),
        (Refusal.UNAUTHENTICATED, errors.Unauthorized, False),
        (Refusal.FORBIDDEN, errors.Unauthorized, False),
        (Refusal.NOT_FOUND, errors.NotFound, False),
        (Refusal.INVALID, errors.InvalidRequest, False),
    ],
)
def test_host_error_class_wording_and_wait(refusal: Refusal, kind: type[errors.FluxopsError], retryable: bool) -> None:
    error = host_error(refusal, WORDS, code="418", retry_after=5.0, doing="reading x")
    assert type(error) is kind and error.retryable is retryable
    assert error.message == f"reading x: {refusal.value}" and error.recommendation == f"advice for {refusal.value}"
    assert error.code == "418"
    # a wait means something only where the job layer retries
    assert error.retry_after == (5.0 if retryable else None)
