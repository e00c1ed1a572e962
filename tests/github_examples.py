"""GitHub's published webhook payloads, as test fixtures: the npm package ``@octokit/webhooks-examples``.

The payloads are not copied into this repository. A pinned version is installed with npm into an ignored
folder (``.cache/webhooks-examples``): by ``scripts/bootstrap`` (what CI runs), or lazily by the first test
that asks for an example. When it cannot be installed the asking test fails, saying why; it never skips.

    python -m tests.github_examples      # install (when missing) and print where the examples are

A test takes an example (a deep copy), changes only the fields it needs (the repository, the installation,
an action or a login) and posts it signed through the real handler.
"""

from __future__ import annotations

import copy
import json
import os
import shutil
import subprocess
import sys
from functools import cache
from pathlib import Path
from typing import Any

PACKAGE = "@octokit/webhooks-examples"
VERSION = "7.6.1"  # pinned: a new version is a deliberate change of the fixtures
ROOT = Path(__file__).resolve().parent.parent
FOLDER = ROOT / ".cache" / "webhooks-examples"
_PACKAGE_DIR = Path("node_modules", *PACKAGE.split("/"))
_INDEX = "api.github.com/index.json"  # the examples of github.com (the ghes-* folders: GitHub Enterprise Server)


class ExamplesUnavailable(RuntimeError):
    """The pinned package could not be installed or read."""


def _installed_version(folder: Path) -> str:
    try:
        return str(json.loads((folder / _PACKAGE_DIR / "package.json").read_text())["version"])
    except (OSError, ValueError, KeyError):
        return ""


def install(folder: Path = FOLDER) -> Path:
    """The index of the pinned package's examples, installing the package with npm when it is missing."""
    index = folder / _PACKAGE_DIR / _INDEX
    if _installed_version(folder) == VERSION and index.is_file():
        return index
    npm = shutil.which("npm")
    if npm is None:
        raise ExamplesUnavailable(
            f"npm is not installed: the GitHub webhook fixtures come from {PACKAGE}@{VERSION} (install Node.js)"
        )
    # a folder of this process's own, renamed into place: concurrent installs never see half of one
    staging = folder.with_name(f"{folder.name}.{os.getpid()}.tmp")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    command = [
        npm, "install", "--prefix", str(staging), "--no-save", "--no-package-lock", "--ignore-scripts",
        "--no-audit", "--no-fund", "--loglevel=error", f"{PACKAGE}@{VERSION}",
    ]  # fmt: skip
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=300, check=False)
    except subprocess.TimeoutExpired as error:
        shutil.rmtree(staging, ignore_errors=True)
        raise ExamplesUnavailable(f"`{' '.join(command)}` did not finish in {error.timeout}s") from None
    if done.returncode != 0 or _installed_version(staging) != VERSION:
        shutil.rmtree(staging, ignore_errors=True)
        output = (done.stderr or done.stdout).strip()[-2000:]
        raise ExamplesUnavailable(
            f"could not install {PACKAGE}@{VERSION} (the GitHub webhook fixtures) with `{' '.join(command)}`: "
            f"exit {done.returncode}\n{output}"
        )
    shutil.rmtree(folder, ignore_errors=True)
    try:
        staging.rename(folder)
    except OSError:  # another process put its copy in place first
        shutil.rmtree(staging, ignore_errors=True)
    if _installed_version(folder) != VERSION or not index.is_file():
        raise ExamplesUnavailable(f"{PACKAGE}@{VERSION} installed, but {index} is missing")
    return index


@cache
def _examples() -> dict[str, list[dict[str, Any]]]:
    """Every example, by webhook event name (``push``, ``pull_request``, ...)."""
    index = install()
    return {entry["name"]: entry["examples"] for entry in json.loads(index.read_text())}


def every_example() -> list[tuple[str, str, dict[str, Any]]]:
    """Every published example of every host the package covers (github.com and each GitHub Enterprise
    Server release), as (host folder, event name, a copy of the payload), in the package's order."""
    package = install().parent.parent
    found: list[tuple[str, str, dict[str, Any]]] = []
    for index in sorted(package.glob("*/index.json")):
        for entry in json.loads(index.read_text()):
            found.extend((index.parent.name, entry["name"], copy.deepcopy(p)) for p in entry["examples"])
    return found


def example(event: str, *, action: str | None = None, ref_prefix: str | None = None) -> dict[str, Any]:
    """A copy of the first published example of ``event`` (with that ``action``; for a push, that ref kind)."""
    for payload in _examples().get(event, []):
        if action is not None and payload.get("action") != action:
            continue
        if ref_prefix is not None and not str(payload.get("ref", "")).startswith(ref_prefix):
            continue
        return copy.deepcopy(payload)
    raise LookupError(f"{PACKAGE}@{VERSION} has no {event} example with action={action} ref={ref_prefix}")


def on_repository(payload: dict[str, Any], full_name: str, repo_id: int) -> dict[str, Any]:
    """``payload`` as if sent for ``full_name``: its names, id and URLs wherever the payload names the
    repository (``repository``, and a pull request's head and base repositories). In place; returned."""
    old = payload["repository"]["full_name"]
    pull = payload.get("pull_request") or {}
    sides = [pull.get(side, {}).get("repo") for side in ("head", "base")]
    for repository in (payload["repository"], *sides):
        if repository is not None and repository["full_name"] == old:
            retarget(repository, full_name, repo_id)
    return payload


def retarget(repository: dict[str, Any], full_name: str, repo_id: int) -> dict[str, Any]:
    """A published repository object renamed to ``full_name`` (in place; returned)."""
    owner, name = full_name.split("/")
    old = repository["full_name"]
    repository.update(
        id=repo_id, name=name, full_name=full_name,
        html_url=f"https://github.com/{full_name}", clone_url=f"https://github.com/{full_name}.git",
        url=str(repository["url"]).replace(old, full_name),
    )  # fmt: skip
    repository["owner"]["login"] = owner
    return repository


def as_user(user: dict[str, Any], login: str, user_id: int) -> dict[str, Any]:
    """A published user object turned into another account (in place; returned)."""
    user.update(login=login, id=user_id)
    return user


if __name__ == "__main__":
    try:
        print(install())
    except ExamplesUnavailable as problem:
        print(problem, file=sys.stderr)
        sys.exit(1)
