"""A pinned npm package installed into a folder of the checkout's ignored ``.cache/`` (bootstrap, or lazily).

Installs go to a folder of the process's own, renamed into place, so concurrent installs never see half of one.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
from pathlib import Path

CACHE = Path(__file__).resolve().parents[1] / ".cache"


class PackageUnavailable(RuntimeError):
    """The pinned package could not be installed or read; the message says why and what to do."""


def installed_version(folder: Path, package: str) -> str:
    try:
        return str(json.loads((folder / package_dir(package) / "package.json").read_text())["version"])
    except (OSError, ValueError, KeyError):
        return ""


def package_dir(package: str) -> Path:
    return Path("node_modules", *package.split("/"))


def npm_install(package: str, version: str, folder: Path, *, why: str, scripts: bool = False) -> Path:
    """``folder`` with ``package@version`` in its node_modules, installing it with npm when it is missing."""
    if installed_version(folder, package) == version:
        return folder
    npm = shutil.which("npm")
    if npm is None:
        raise PackageUnavailable(f"npm is not installed: {why} come from {package}@{version} (install Node.js)")
    staging = folder.with_name(f"{folder.name}.{os.getpid()}.tmp")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    command = [
        npm, "install", "--prefix", str(staging), "--no-save", "--no-package-lock",
        "--no-audit", "--no-fund", "--loglevel=error", f"{package}@{version}",
    ]  # fmt: skip
    if not scripts:
        command.insert(5, "--ignore-scripts")
    try:
        done = subprocess.run(command, capture_output=True, text=True, timeout=600, check=False)
    except subprocess.TimeoutExpired as error:
        shutil.rmtree(staging, ignore_errors=True)
        raise PackageUnavailable(f"`{' '.join(command)}` did not finish in {error.timeout}s") from None
    if done.returncode != 0 or installed_version(staging, package) != version:
        shutil.rmtree(staging, ignore_errors=True)
        output = (done.stderr or done.stdout).strip()[-2000:]
        raise PackageUnavailable(
            f"could not install {package}@{version} ({why}) with `{' '.join(command)}`: "
            f"exit {done.returncode}\n{output}"
        )
    shutil.rmtree(folder, ignore_errors=True)
    try:
        staging.rename(folder)
    except OSError:  # another process put its copy in place first
        shutil.rmtree(staging, ignore_errors=True)
    if installed_version(folder, package) != version:
        raise PackageUnavailable(f"{package}@{version} was installed, but {folder} does not hold it")
    return folder
