"""Golden files: compare a text with tests/golden/<name>, or rewrite it with UPDATE_GOLDEN=1."""

from __future__ import annotations

import difflib
import os
import re
from pathlib import Path

GOLDEN = Path(__file__).parent / "golden"

#: what changes from run to run: job ids, commit shas, clock times, ARM ids' random parts
_VOLATILE = (
    (re.compile(r"\bj-[0-9a-f]{12}\b"), "j-<job>"),
    (re.compile(r"\b[0-9a-f]{40}\b"), "<sha>"),
    (re.compile(r"\b[0-9a-f]{12}\b"), "<sha>"),
    (re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC"), "<time>"),
    (re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?(Z|[+-]\d\d:\d\d)?"), "<time>"),
)


def normalize(text: str) -> str:
    for pattern, replacement in _VOLATILE:
        text = pattern.sub(replacement, text)
    return text.rstrip() + "\n"


def assert_golden(name: str, text: str) -> None:
    path = GOLDEN / name
    actual = normalize(text)
    if os.environ.get("UPDATE_GOLDEN"):
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(actual)
        return
    assert path.exists(), f"no golden file {path}; run with UPDATE_GOLDEN=1 to write it"
    expected = path.read_text()
    if actual != expected:
        diff = "".join(difflib.unified_diff(expected.splitlines(True), actual.splitlines(True), str(path), "actual"))
        raise AssertionError(f"{path} differs (UPDATE_GOLDEN=1 rewrites it):\n{diff}")
