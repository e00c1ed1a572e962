"""Fault injection driven by configuration, so later tests can prove retries and resumption.

A rule matches requests by method and a case-insensitive regular expression over the path, then
either answers an HTTP error instead of handling the request (``respond``) or lets the request through
and shapes the long-running operation it starts (``operation``: fail, slow, cancel). It fires with a
probability (``rate``), for a number of matches (``times``, after skipping ``skip``), or by a scripted
``sequence`` of outcomes ("ok" lets a request through). Example (YAML or JSON)::

    faults:
      - {method: PUT, path: "fluxConfigurations/", respond: 503, times: 2}
      - {method: GET, path: "/resources$", sequence: [429, ok, 500]}
      - {method: PUT, path: "fluxConfigurations/broken", operation: fail,
         code: ExtensionOperationFailed, message: "helm install timed out"}
      - {method: DELETE, path: "extensions/", operation: slow, seconds: 5}
"""

from __future__ import annotations

import random
import re
from dataclasses import dataclass, field
from typing import Any

from sandbox.arm.errors import ArmError

_ERROR_CODES = {
    409: ("Conflict", "Another operation is in progress on this resource. Retry after it completes."),
    429: ("TooManyRequests", "The request is being throttled."),
    500: ("InternalServerError", "An internal error occurred. Please retry the request."),
    502: ("BadGateway", "The gateway did not receive a response from the resource provider."),
    503: ("ServiceUnavailable", "The resource provider is temporarily unavailable. Please retry."),
    504: ("GatewayTimeout", "The gateway did not receive a response within the specified time period."),
}


@dataclass(frozen=True)
class OperationFault:
    """How a matched long-running operation should end."""

    outcome: str  # "fail" | "slow" | "cancel"
    seconds: float = 0.0
    code: str = "OperationFailed"
    message: str = "The operation failed."


@dataclass
class FaultRule:
    path: re.Pattern[str]
    method: str | None = None
    respond: int | None = None
    operation: str | None = None
    rate: float | None = None
    times: int | None = None
    skip: int = 0
    sequence: list[str] = field(default_factory=list)
    retry_after: float = 1.0
    seconds: float = 0.0
    code: str | None = None
    message: str | None = None
    seen: int = 0

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> FaultRule:
        if "respond" not in raw and "operation" not in raw and "sequence" not in raw:
            raise ValueError(f"fault rule {raw!r} needs one of respond, operation or sequence")
        operation = raw.get("operation")
        if operation is not None and operation not in ("fail", "slow", "cancel"):
            raise ValueError(f"fault operation must be fail, slow or cancel, not {operation!r}")
        for step in raw.get("sequence", []):
            text = str(step).lower()
            if text != "ok" and not (text.isdigit() and 400 <= int(text) <= 599):
                raise ValueError(f"fault sequence steps are HTTP error statuses (400-599) or 'ok', not {step!r}")
        if operation is not None and raw.get("sequence"):
            raise ValueError("a fault rule shapes either responses (respond/sequence) or operations, not both")
        return cls(
            path=re.compile(str(raw.get("path", "")), re.IGNORECASE),
            method=str(raw["method"]).upper() if raw.get("method") else None,
            respond=int(raw["respond"]) if raw.get("respond") is not None else None,
            operation=operation,
            rate=float(raw["rate"]) if raw.get("rate") is not None else None,
            times=int(raw["times"]) if raw.get("times") is not None else None,
            skip=int(raw.get("skip", 0)),
            sequence=[str(s).lower() for s in raw.get("sequence", [])],
            retry_after=float(raw.get("retry_after", 1.0)),
            seconds=float(raw.get("seconds", 0.0)),
            code=raw.get("code"),
            message=raw.get("message"),
        )

    def matches(self, method: str, path: str) -> bool:
        return (self.method is None or self.method == method) and bool(self.path.search(path))

    def fire(self, rng: random.Random) -> str | None:
        """The outcome for this match: a status string, "op", or None to let it through."""
        self.seen += 1
        index = self.seen - 1 - self.skip
        if index < 0:
            return None
        if self.sequence:
            return self.sequence[index] if index < len(self.sequence) else None
        if self.times is not None and index >= self.times:
            return None
        if self.rate is not None and rng.random() >= self.rate:
            return None
        return str(self.respond) if self.respond is not None else "op"


class FaultInjector:
    """Holds the rules; the emulator asks it about every request and every operation it starts."""

    def __init__(self, rules: list[dict[str, Any]] | None = None, *, seed: int = 1) -> None:
        self._rng = random.Random(seed)
        self.rules: list[FaultRule] = []
        self.configure(rules or [])
        self.injected: list[dict[str, Any]] = []  # what fired, for tests to read

    def configure(self, rules: list[dict[str, Any]]) -> None:
        """Replace all rules (validated before anything changes)."""
        self.rules = [FaultRule.from_dict(r) for r in rules]

    def http_fault(self, method: str, path: str) -> ArmError | None:
        """An error to answer instead of handling the request, if a ``respond``/sequence rule fires."""
        for rule in self.rules:
            if rule.operation is not None or not rule.matches(method, path):
                continue
            outcome = rule.fire(self._rng)
            if outcome is None or outcome == "ok":
                continue
            status = int(outcome)
            code, message = _ERROR_CODES.get(status, ("InjectedFault", "Injected fault."))
            headers = {"Retry-After": _seconds(rule.retry_after)} if status in (429, 503) else {}
            self.injected.append({"method": method, "path": path, "status": status})
            return ArmError(status, rule.code or code, rule.message or message, headers=headers)
        return None

    def operation_fault(self, method: str, path: str) -> OperationFault | None:
        """How the operation a write starts should end, if an ``operation`` rule fires."""
        for rule in self.rules:
            if rule.operation is None or not rule.matches(method, path):
                continue
            if rule.fire(self._rng) in (None, "ok"):
                continue
            self.injected.append({"method": method, "path": path, "operation": rule.operation})
            return OperationFault(
                outcome=rule.operation,
                seconds=rule.seconds,
                code=rule.code or "OperationFailed",
                message=rule.message or "The operation failed (injected by the sandbox).",
            )
        return None


def _seconds(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)
