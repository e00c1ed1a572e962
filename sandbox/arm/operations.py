"""Long-running operations as ARM runs them: an id, a status URL, InProgress until done."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from sandbox.arm.faults import OperationFault


@dataclass
class Operation:
    id: str
    resource_path: str  # ARM path of the resource the operation acts on
    api_version: str
    status: str = "InProgress"  # InProgress | Succeeded | Failed | Canceled
    error: dict[str, str] | None = None
    #: applied when the operation ends well (makes the write take effect)
    on_success: Callable[[], None] | None = None
    #: applied when it ends badly (e.g. provisioningState Failed)
    on_failure: Callable[[str, dict[str, str] | None], None] | None = None

    @property
    def path(self) -> str:
        return f"{self.resource_path}/operations/{self.id}"

    def body(self) -> dict[str, Any]:
        return {
            "id": self.path,
            "name": self.id,
            "status": self.status,
            "properties": {},
            "error": self.error,
        }


@dataclass
class Operations:
    """All operations of the emulator; each one finishes on the event loop after its duration."""

    #: finished operations are kept for status polls, the oldest dropped past this many
    keep: int = 50_000
    ops: dict[str, Operation] = field(default_factory=dict)
    _handles: dict[str, asyncio.TimerHandle] = field(default_factory=dict)
    #: resource path (lower case) -> its operation in progress
    _active: dict[str, Operation] = field(default_factory=dict)

    def start(
        self,
        resource_path: str,
        api_version: str,
        *,
        seconds: float,
        fault: OperationFault | None,
        on_success: Callable[[], None],
        on_failure: Callable[[str, dict[str, str] | None], None] | None = None,
    ) -> Operation:
        op = Operation(
            id=str(uuid.uuid4()),
            resource_path=resource_path,
            api_version=api_version,
            on_success=on_success,
            on_failure=on_failure,
        )
        self.ops[op.id] = op
        self._active[resource_path.lower()] = op
        while len(self.ops) > self.keep:
            oldest = next(iter(self.ops))
            if self.ops[oldest].status == "InProgress":
                break
            del self.ops[oldest]
        outcome = "ok"
        if fault is not None:
            seconds += fault.seconds
            outcome = fault.outcome
        loop = asyncio.get_running_loop()
        self._handles[op.id] = loop.call_later(max(0.0, seconds), self._finish, op, outcome, fault)
        return op

    def _finish(self, op: Operation, outcome: str, fault: OperationFault | None) -> None:
        self._handles.pop(op.id, None)
        if self._active.get(op.resource_path.lower()) is op:
            del self._active[op.resource_path.lower()]
        if op.status != "InProgress":
            return
        if outcome in ("ok", "slow"):
            op.status = "Succeeded"
            if op.on_success:
                op.on_success()
            return
        op.status = "Canceled" if outcome == "cancel" else "Failed"
        if fault is not None and outcome == "fail":
            op.error = {"code": fault.code, "message": fault.message}
        elif outcome == "cancel":
            op.error = {"code": "OperationCanceled", "message": "The operation was canceled."}
        if op.on_failure:
            op.on_failure(op.status, op.error)

    def get(self, op_id: str) -> Operation | None:
        return self.ops.get(op_id.lower()) or self.ops.get(op_id)

    def in_progress_for(self, resource_path: str) -> Operation | None:
        return self._active.get(resource_path.lower())

    def cancel_all(self) -> None:
        for handle in self._handles.values():
            handle.cancel()
        self._handles.clear()
