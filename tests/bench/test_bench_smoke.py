"""The benchmarks run from a clean checkout and print their figures (a smoke test in a small size: not timed)."""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def test_the_ingress_benchmark_runs_and_prints_its_figures() -> None:
    command = [str(ROOT / "scripts" / "bench"), "ingress", "--seconds", "0.5", "--rounds", "1", "--connections", "4"]
    bench = subprocess.Popen(
        command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True
    )
    try:
        output, _ = bench.communicate(timeout=180)
    finally:  # the benchmark's servers too, whatever happened
        with contextlib.suppress(ProcessLookupError):
            os.killpg(bench.pid, signal.SIGKILL)
    assert bench.returncode == 0, output
    last = output.strip().splitlines()[-1]
    figures = r"fluxops \d+ req/s p99 \d+ ms; baseline \d+ req/s p99 \d+ ms; ratio \d+\.\d\dx; errors 0"
    assert re.fullmatch(f"ingress: {figures}", last), last


def test_the_fluxsim_scale_benchmark_runs_and_prints_its_figures() -> None:
    command = [str(ROOT / "scripts" / "bench"), "fluxsim_scale", "--fleet", "10", "--idle-seconds", "0.5"]
    bench = subprocess.Popen(
        command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True
    )
    try:
        output, _ = bench.communicate(timeout=180)
    finally:  # the sandbox process too, whatever happened
        with contextlib.suppress(ProcessLookupError):
            os.killpg(bench.pid, signal.SIGKILL)
    assert bench.returncode == 0, output
    last = output.strip().splitlines()[-1]
    assert last.startswith("fluxsim_scale: 10 configs | create: Compliant in "), last
    assert "| push: Compliant in " in last, last
    assert "checkouts 2 " in last, last  # one per commit, for the whole fleet


def test_the_fleet_benchmark_runs_and_prints_its_figures() -> None:
    command = [str(ROOT / "scripts" / "bench"), "fleet", "--clusters", "30", "--sequential", "3", "--limit", "120"]
    bench = subprocess.Popen(
        command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, start_new_session=True
    )
    try:
        output, errors = bench.communicate(timeout=300)
    finally:  # the stack's processes too, whatever happened
        with contextlib.suppress(ProcessLookupError):
            os.killpg(bench.pid, signal.SIGKILL)
    assert bench.returncode == 0, errors[-3000:]
    lines = output.strip().splitlines()
    assert len(lines) == 1, output  # progress goes to stderr
    number = r"\d+\.\d"
    figures = (
        rf"fleet: 30 clusters \| run {number} s \| bound {number} s \(writes 0\.0 s \+ reconcile {number} s\) \| "
        rf"ratio \d+\.\d\dx \| sequential ~\d+ s \(3 measured, extrapolated\) \| speedup \d+x \| "
        rf"writes 30, 429s 0 \(0\.0%\) \| failures 0 \| time scale 10"
    )
    assert re.fullmatch(figures, lines[0]), lines[0]
