"""The GitHub webhook fixtures fail loudly, never skip, when npm cannot give them."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests import github_examples


def test_no_npm_is_a_clear_failure(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setenv("PATH", str(tmp_path))  # no npm on it
    with pytest.raises(github_examples.ExamplesUnavailable, match="npm is not installed"):
        github_examples.install(tmp_path / "examples")


def test_the_pinned_examples_are_there():
    index = github_examples.install()
    assert index.is_relative_to(github_examples.FOLDER)
    assert github_examples.example("push", ref_prefix="refs/heads/")["ref"] == "refs/heads/master"
    with pytest.raises(LookupError, match="no push example"):
        github_examples.example("push", action="opened")
