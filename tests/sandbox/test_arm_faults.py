"""Fault rules: rates, counts, skips and scripted sequences, and how operations end."""

from __future__ import annotations

import pytest

from sandbox.arm.faults import FaultInjector


def outcomes(injector: FaultInjector, n: int, method: str = "PUT", path: str = "/x/fluxConfigurations/a") -> list:
    results = []
    for _ in range(n):
        err = injector.http_fault(method, path)
        results.append(err.status if err else "ok")
    return results


def test_times_and_skip():
    injector = FaultInjector([{"method": "PUT", "path": "fluxconfigurations/", "respond": 503, "times": 2, "skip": 1}])
    assert outcomes(injector, 5) == ["ok", 503, 503, "ok", "ok"]


def test_sequence_is_scripted_and_method_filtered():
    injector = FaultInjector([{"method": "GET", "path": "/a$", "sequence": [429, "ok", 500, 409]}])
    assert outcomes(injector, 2, method="PUT") == ["ok", "ok"]
    assert outcomes(injector, 5, method="GET") == [429, "ok", 500, 409, "ok"]


def test_rate_is_seeded_and_roughly_right():
    injector = FaultInjector([{"path": "", "respond": 500, "rate": 0.25}], seed=3)
    hits = outcomes(injector, 2000).count(500)
    assert 400 < hits < 600
    again = FaultInjector([{"path": "", "respond": 500, "rate": 0.25}], seed=3)
    assert outcomes(again, 2000).count(500) == hits


def test_throttle_fault_carries_retry_after_and_arm_body():
    injector = FaultInjector([{"path": "", "respond": 429, "retry_after": 2}])
    err = injector.http_fault("GET", "/anything")
    assert err is not None and err.headers == {"Retry-After": "2"}
    assert err.body() == {"error": {"code": "TooManyRequests", "message": "The request is being throttled."}}


def test_operation_faults():
    injector = FaultInjector(
        [
            {"method": "DELETE", "path": "extensions/", "operation": "slow", "seconds": 5},
            {"method": "PUT", "path": "broken$", "operation": "fail", "code": "X", "message": "boom", "times": 1},
        ]
    )
    assert injector.http_fault("PUT", "/p/broken") is None  # operation rules never answer HTTP errors
    slow = injector.operation_fault("DELETE", "/p/extensions/flux")
    assert slow is not None and (slow.outcome, slow.seconds) == ("slow", 5)
    fail = injector.operation_fault("PUT", "/p/broken")
    assert fail is not None and (fail.outcome, fail.code, fail.message) == ("fail", "X", "boom")
    assert injector.operation_fault("PUT", "/p/broken") is None  # times: 1
    assert [i.get("operation") for i in injector.injected] == ["slow", "fail"]


@pytest.mark.parametrize(
    ("rule", "needle"),
    [
        ({"path": "x"}, "needs one of respond, operation or sequence"),
        ({"path": "x", "operation": "explode"}, "fail"),
        ({"path": "x", "sequence": ["fail"]}, "HTTP error statuses"),
        ({"path": "x", "sequence": [200]}, "HTTP error statuses"),
        ({"path": "x", "operation": "fail", "sequence": [500]}, "not both"),
    ],
)
def test_bad_rules_are_refused(rule: dict, needle: str):
    with pytest.raises(ValueError, match=needle):
        FaultInjector([rule])


def test_faults_file_drives_the_cli_sandbox(tmp_path):
    from cli.main import _options, build_parser

    faults = tmp_path / "faults.yaml"
    faults.write_text("faults:\n  - {method: PUT, path: 'fluxConfigurations/', respond: 503, times: 1}\n")
    args = build_parser().parse_args(["sandbox", "arm", "--faults", str(faults), "--time-scale", "10"])
    options = _options(args)
    assert options.emulator.time_scale == 10
    assert options.emulator.faults == [{"method": "PUT", "path": "fluxConfigurations/", "respond": 503, "times": 1}]
