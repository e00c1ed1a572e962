"""The benchmarks run from a clean checkout and print their figures (a smoke test in a small size: not timed)."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_the_ingress_benchmark_runs_and_prints_its_figures() -> None:
    done = subprocess.run(
        [str(ROOT / "scripts" / "bench"), "ingress", "--seconds", "0.5", "--rounds", "1", "--connections", "4"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=180,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    last = done.stdout.strip().splitlines()[-1]
    figures = r"fluxops \d+ req/s p99 \d+ ms; baseline \d+ req/s p99 \d+ ms; ratio \d+\.\d\dx; errors 0"
    assert re.fullmatch(f"ingress: {figures}", last), last
