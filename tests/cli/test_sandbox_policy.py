"""`fluxops sandbox up --policy FILE`: the sandbox runs with the user's own policy, refused when it does not load."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from cli.main import _read_policy, build_parser
from sandbox.stack import SANDBOX_POLICY

ROOT = Path(__file__).resolve().parents[2]


def test_a_policy_that_does_not_load_is_refused_before_anything_starts(tmp_path: Path) -> None:
    bad = tmp_path / "policy.yaml"
    bad.write_text("roles:\n  - role: admin\n    github_teams: [acme/platform]\n")
    done = subprocess.run(
        [sys.executable, "-m", "cli.main", "sandbox", "up", "--policy", str(bad)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    assert "github_teams" in done.stderr and "line 2" in done.stderr
    assert "starting" not in done.stdout  # nothing was started


def test_a_policy_that_loads_is_what_the_sandbox_runs_with(tmp_path: Path) -> None:
    good = tmp_path / "policy.yaml"
    good.write_text(SANDBOX_POLICY.replace("  - role: viewer\n", "  - role: operator\n", 1))
    assert _read_policy(str(good)) == good.read_text()
    assert build_parser().parse_args(["sandbox", "up", "--policy", str(good)]).policy == str(good)
    assert _read_policy(str(tmp_path / "missing.yaml")) is None
