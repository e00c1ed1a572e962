"""The benchmarks run from a clean checkout and print their figures (a smoke test in a small size: not timed)."""

from __future__ import annotations

import contextlib
import os
import re
import signal
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
NUMBER = r"\d+(?:\.\d+)?"


def last_line(name: str, *options: str, timeout: float = 180) -> str:
    """Run ``./scripts/bench NAME OPTIONS``; its last line, once it exited 0."""
    command = [str(ROOT / "scripts" / "bench"), name, *options]
    bench = subprocess.Popen(
        command, cwd=ROOT, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, start_new_session=True
    )
    try:
        output, _ = bench.communicate(timeout=timeout)
    finally:  # the benchmark's servers too, whatever happened
        with contextlib.suppress(ProcessLookupError):
            os.killpg(bench.pid, signal.SIGKILL)
    assert bench.returncode == 0, output
    return output.strip().splitlines()[-1]


def test_the_ingress_benchmark_runs_and_prints_its_figures() -> None:
    last = last_line("ingress", "--seconds", "0.5", "--rounds", "1", "--connections", "4")
    figures = (
        r"fluxops \d+ req/s p99 \d+ ms; baseline \d+ req/s p99 \d+ ms; ratio \d+\.\d\dx; "
        r"web CPU per request \d+ us vs \d+ us \(ratio \d+\.\d\dx\); redis CPU per request \d+ us vs \d+ us; errors 0"
    )
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


def test_the_slack_ack_benchmark_runs_and_prints_its_figures() -> None:
    last = last_line("slack_ack", "--commands", "10", "--rounds", "1", "--seconds", "0.5", "--clusters", "3")
    n = NUMBER
    figures = (
        f"quiet p50 {n} ms p99 {n} ms; loaded p50 {n} ms p99 {n} ms "
        rf"\(pushes \d+ req/s = \d+% of capacity \d+ req/s\); ratio p99 {n}x; errors 0"
    )
    assert re.fullmatch(f"slack_ack: {figures}", last), last


def test_the_push_trace_benchmark_runs_and_prints_its_figures() -> None:
    last = last_line("push_trace", "--clusters", "1", "--timeout", "120")
    n = NUMBER
    figures = (
        rf"1 cluster \(per cluster, 1 push\): overhead p50 {n} s p95 {n} s, per cluster p50 {n} s p95 {n} s, "
        rf"flux p50 {n} s, last status {n} s \(ratio {n}x\), 1/1 final"
    )
    assert re.fullmatch(rf"push_trace: time scale {n}, polls {n}-{n} s; {figures}", last), last
