"""The one golden-file harness: compare a text with a file under tests/golden/, or rewrite it with UPDATE_GOLDEN=1.

Two comparisons share it:

- ``assert_golden(name, text)`` normalizes what changes from run to run (job ids, commit shas, clock
  times) first; for scenario tests, whose texts come from a running stack.
- ``assert_exact(name, text)`` compares byte for byte; for renderer tests, whose inputs are fixed, so
  the golden file is exactly what is posted (Slack JSON, Markdown, plan comments).

Regenerate after an intended change and review the diff:

    UPDATE_GOLDEN=1 PYTHONPATH=. .venv/bin/pytest tests/bot/render tests/bot/fleet
"""

from __future__ import annotations

import difflib
import os
import re
from collections.abc import Iterable
from pathlib import Path

import pytest

GOLDEN = Path(__file__).parent / "golden"

#: what changes from run to run: job ids, commit shas, clock times, ARM ids' random parts
_VOLATILE = (
    (re.compile(r"\bj-[0-9a-f]{12}\b"), "j-<job>"),
    (re.compile(r"\b[0-9a-f]{40}\b"), "<sha>"),
    (re.compile(r"\b[0-9a-f]{12}\b"), "<sha>"),
    (re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC"), "<time>"),
    (re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)?"), "<time>"),
    # how often and how long ago a Flux event was seen ("· 4 times, last 3s ago —")
    (re.compile(r"\b\d+ times?, last \d+[smhd] ago\b"), "<n> times, last <age> ago"),
)
#: at most this many diff lines are shown when a golden file differs
_DIFF_LINES = 200


def updating() -> bool:
    """True when this run rewrites golden files instead of comparing (``UPDATE_GOLDEN=1``)."""
    return bool(os.environ.get("UPDATE_GOLDEN"))


def normalize(text: str) -> str:
    for pattern, replacement in _VOLATILE:
        text = pattern.sub(replacement, text)
    return text.rstrip() + "\n"


def assert_golden(name: str, text: str) -> None:
    """``text``, normalized (``normalize``), equals tests/golden/``name``."""
    _compare(GOLDEN / name, normalize(text))


def assert_exact(name: str, text: str) -> None:
    """``text`` equals tests/golden/``name`` byte for byte."""
    _compare(GOLDEN / name, text)


def assert_no_stale(folder: str, known: Iterable[str]) -> None:
    """Every file in tests/golden/``folder`` is one of ``known`` (a golden without a case is stale)."""
    if updating():
        return
    names = set(known)
    stale = sorted(p.name for p in (GOLDEN / folder).iterdir() if p.name not in names)
    assert not stale, f"golden files without a case: {stale}"


def _compare(path: Path, actual: str) -> None:
    if updating():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(actual, encoding="utf-8")
        return
    if not path.exists():
        pytest.fail(f"no golden file {path}; run with UPDATE_GOLDEN=1 to write it", pytrace=False)
    expected = path.read_text(encoding="utf-8")
    if actual != expected:
        diff = list(
            difflib.unified_diff(
                expected.splitlines(), actual.splitlines(), f"{path} (golden)", f"{path} (actual)", lineterm=""
            )
        )
        more = f"\n... {len(diff) - _DIFF_LINES} more diff lines" if len(diff) > _DIFF_LINES else ""
        pytest.fail(
            f"{path} differs (UPDATE_GOLDEN=1 rewrites it):\n" + "\n".join(diff[:_DIFF_LINES]) + more, pytrace=False
        )
