"""A run's last view as JSON in its job record (``run:view``): what `fleet status` and `fleet list` show
without touching Azure. Read back strictly (Redis is not trusted): anything malformed is no snapshot."""

from __future__ import annotations

import json
from dataclasses import asdict
from typing import Any

from bot.views import ClusterFailure, ErrorInfo, FleetRunView, Phase, ThrottleInfo, WaveRow, WaveState

VIEW_FIELD = "run:view"


def encode(view: FleetRunView) -> str:
    return json.dumps(asdict(view), separators=(",", ":"))


def decode(text: str | None) -> FleetRunView | None:
    if not text:
        return None
    try:
        raw = json.loads(text)
        return _view(raw)
    except (ValueError, TypeError, KeyError, AttributeError):
        return None


def _str(value: Any) -> str:
    if not isinstance(value, str):
        raise TypeError("not text")
    return value


def _int(value: Any) -> int:
    if not isinstance(value, int) or isinstance(value, bool):
        raise TypeError("not a whole number")
    return value


def _float(value: Any) -> float:
    if not isinstance(value, int | float) or isinstance(value, bool):
        raise TypeError("not a number")
    return float(value)


def _wave(raw: dict[str, Any]) -> WaveRow:
    return WaveRow(
        number=_int(raw["number"]),
        state=WaveState(raw["state"]),
        total=_int(raw["total"]),
        done=_int(raw["done"]),
        in_flight=_int(raw["in_flight"]),
        failed=tuple(ClusterFailure(_str(f["cluster"]), _str(f["reason"])) for f in raw["failed"]),
        clusters=tuple(_str(c) for c in raw["clusters"]),
    )


def _view(raw: dict[str, Any]) -> FleetRunView:
    throttle = raw["throttle"]
    error = raw["error"]
    eta = raw["eta_seconds"]
    return FleetRunView(
        run_id=_str(raw["run_id"]),
        actor=_str(raw["actor"]),
        title=_str(raw["title"]),
        phase=Phase(raw["phase"]),
        waves=tuple(_wave(w) for w in raw["waves"]),
        creates=_int(raw["creates"]),
        updates=_int(raw["updates"]),
        unchanged=_int(raw["unchanged"]),
        throttle=None
        if throttle is None
        else ThrottleInfo(
            None if throttle["remaining"] is None else _int(throttle["remaining"]),
            _float(throttle["shut_seconds"]),
            _int(throttle["throttled"]),
        ),
        eta_seconds=None if eta is None else _float(eta),
        note=_str(raw["note"]),
        error=None
        if error is None
        else ErrorInfo(
            _str(error["doing"]), _str(error["message"]), _str(error["recommendation"]), _str(error["code"])
        ),
        shown_by=_str(raw.get("shown_by", "")),
    )
