"""The container image (deploy/Dockerfile): its shape read from the files, and, where podman is, built and run.

The first tests are cheap and always run: they read the Dockerfile, the locks, .dockerignore, the Procfile and the
compose file. The last builds the image for real and checks it running (scripts/image-check, ~2 minutes with the
base image cached, ~2.5 without): it runs in CI (CI=true) and where FLUXOPS_IMAGE_TEST=1, needs root and podman
(scripts/bootstrap installs it there), and FLUXOPS_IMAGE_TEST=0 turns it off.
"""

from __future__ import annotations

import importlib.metadata
import os
import re
import shlex
import shutil
import subprocess
import tomllib
from pathlib import Path

import pytest
import yaml
from packaging.markers import default_environment
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

from tests.deploy.dockerfile import Dockerfile, Instruction

ROOT = Path(__file__).resolve().parents[2]
DOCKERFILE = ROOT / "deploy" / "Dockerfile"
LOCK = "deploy/requirements.lock"
BUILD_LOCK = "deploy/build-requirements.lock"
#: what building fluxops's wheel needs: pyproject.toml (and the README it names) and the packages it lists
SOURCES = {"pyproject.toml", "README.md", "bot", "workers", "handlers", "sandbox", "cli", "telemetry"}
#: the non-root user the image runs as (uid:gid); Kubernetes' runAsNonRoot needs it numeric
USER = "10001:10001"
BEAT_SCHEDULE = "/tmp/celerybeat-schedule"


@pytest.fixture(scope="module")
def dockerfile() -> Dockerfile:
    return Dockerfile.read(DOCKERFILE)


def procfile() -> dict[str, list[str]]:
    entries: dict[str, list[str]] = {}
    for line in (ROOT / "Procfile").read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            name, _, command = line.partition(":")
            entries[name.strip()] = shlex.split(command)
    return entries


def image_commands() -> dict[str, list[str]]:
    """The Procfile's commands as the image runs them: beat keeps its schedule in /tmp, not the working directory."""
    commands = procfile()
    commands["beat"] = [
        f"--schedule={BEAT_SCHEDULE}" if word.startswith("--schedule=") else word for word in commands["beat"]
    ]
    return commands


def lock_pins(path: str) -> dict[str, tuple[Requirement, list[str]]]:
    """name -> (the pinned requirement, its hashes) of a hashed requirements file."""
    text = re.sub(r"\\\n", " ", (ROOT / path).read_text())
    pins: dict[str, tuple[Requirement, list[str]]] = {}
    for line in text.splitlines():
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        requirement_text, *options = re.split(r"\s+(?=--)", line)
        requirement = Requirement(requirement_text)
        hashes = [option.removeprefix("--hash=") for option in options if option.startswith("--hash=")]
        pins[canonicalize_name(requirement.name)] = (requirement, hashes)
    return pins


def runtime_requirements() -> list[Requirement]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    return [Requirement(text) for text in project["dependencies"]]


def commands_of(run: Instruction) -> list[list[str]]:
    """The commands a RUN chains with &&, as shell words."""
    return [shlex.split(part) for part in run.args.split("&&")]


def pip_installs(stage_runs: list[Instruction]) -> list[list[str]]:
    found = []
    for run in stage_runs:
        for words in commands_of(run):
            if "pip" in " ".join(words) and "install" in words:
                found.append(words)
    return found


def test_multi_stage_on_a_public_base_image_chosen_by_a_build_arg(dockerfile: Dockerfile) -> None:
    assert len(dockerfile.stages) >= 2
    assert dockerfile.stages[0].name == "build"
    assert all(stage.base == "${BASE_IMAGE}" for stage in dockerfile.stages)
    # real users build on the public image; scripts/image-check passes a base made from Debian packages
    assert dockerfile.global_args["BASE_IMAGE"].startswith("python:3.11-slim")


def test_the_final_stage_takes_only_the_built_venv(dockerfile: Dockerfile) -> None:
    copies = dockerfile.final.all("COPY")
    assert [(copy.flags().get("from"), copy.operands()) for copy in copies] == [
        ("build", ["/opt/fluxops", "/opt/fluxops"])
    ]
    env = " ".join(i.args for i in dockerfile.final.all("ENV"))
    assert "PATH=/opt/fluxops/bin:$PATH" in env
    # a read-only root filesystem: home and bytecode caches must not be written
    assert "HOME=/tmp" in env and "PYTHONDONTWRITEBYTECODE=1" in env


def test_runs_as_a_numeric_non_root_user(dockerfile: Dockerfile) -> None:
    users = dockerfile.final.all("USER")
    assert [user.args for user in users] == [USER]
    uid, _, gid = USER.partition(":")
    assert int(uid) != 0 and int(gid) != 0
    # nothing after USER runs as root again
    assert dockerfile.final.instructions.index(users[0]) > max(
        dockerfile.final.instructions.index(run) for run in dockerfile.final.all("RUN")
    )


def test_every_pip_install_takes_hashed_pins_or_the_wheel_built_beside_it(dockerfile: Dockerfile) -> None:
    installs = pip_installs(dockerfile.stages[0].all("RUN"))
    assert len(installs) == 3
    locks = set()
    for words in installs:
        if "--require-hashes" in words:
            assert "--no-deps" in words and "--only-binary=:all:" in words, words
            locks.add(words[words.index("-r") + 1])
        else:
            # fluxops's own wheel, just built from the copied sources: no index, no dependencies
            assert "--no-index" in words and "--no-deps" in words, words
            assert words[-1] == "/tmp/wheels/fluxops-*.whl", words
    assert locks == {"/tmp/requirements.lock", "/tmp/build-requirements.lock"}
    assert not pip_installs(dockerfile.final.all("RUN")), "the final stage installs nothing"
    copied = {tuple(copy.operands()) for copy in dockerfile.stages[0].all("COPY")}
    assert (LOCK, "/tmp/requirements.lock") in copied
    assert (BUILD_LOCK, "/tmp/build-requirements.lock") in copied


def test_copies_only_what_the_wheel_is_built_from(dockerfile: Dockerfile) -> None:
    sources = {source for copy in dockerfile.stages[0].all("COPY") for source in copy.operands()[:-1]}
    assert sources == SOURCES | {LOCK, BUILD_LOCK}
    assert all((ROOT / source).exists() for source in sources)


def test_dockerignore_lets_in_only_what_the_copies_take(dockerfile: Dockerfile) -> None:
    patterns = [
        line.strip() for line in (ROOT / ".dockerignore").read_text().splitlines() if line.strip()[:1] not in ("", "#")
    ]
    assert patterns[0] == "*", "everything is left out first"
    allowed = {pattern[1:].rstrip("/") for pattern in patterns if pattern.startswith("!")}
    assert allowed == SOURCES | {LOCK, BUILD_LOCK}
    assert {"**/__pycache__", "**/*.pyc"} <= set(patterns)


def test_the_lock_pins_every_runtime_dependency_with_hashes() -> None:
    pins = lock_pins(LOCK)
    for requirement in runtime_requirements():
        name = canonicalize_name(requirement.name)
        assert name in pins, f"{name} is in pyproject.toml but not in {LOCK}: run scripts/image-lock"
        pinned = pins[name][0]
        (version,) = [spec.version for spec in pinned.specifier if spec.operator == "=="]
        assert requirement.specifier.contains(version, prereleases=True), f"{pinned} does not satisfy {requirement}"
    for name, (pinned, hashes) in pins.items():
        assert [spec.operator for spec in pinned.specifier] == ["=="], f"{name} is not pinned exactly"
        assert hashes and all(h.startswith("sha256:") for h in hashes), f"{name} has no sha256"


def test_the_lock_holds_everything_the_runtime_dependencies_pull_in() -> None:
    # the image installs the lock with --no-deps: what the installed dependencies require, with the extras asked
    # for (celery[redis] -> kombu[redis] -> redis), must all be pinned
    pins = lock_pins(LOCK)
    environment = default_environment()
    needed: set[str] = set()
    todo = [(requirement, "") for requirement in runtime_requirements()]
    while todo:
        requirement, extra = todo.pop()
        if requirement.marker and not requirement.marker.evaluate({**environment, "extra": extra}):
            continue
        name = canonicalize_name(requirement.name)
        key = f"{name}[{','.join(sorted(requirement.extras))}]"
        if key in needed:
            continue
        needed.add(key)
        try:
            requires = importlib.metadata.requires(name) or []
        except importlib.metadata.PackageNotFoundError:
            continue  # not installed here: the name check above still covers it
        for text in requires:
            sub = Requirement(text)
            if sub.marker is None or "extra" not in str(sub.marker):
                todo.append((sub, ""))
            else:
                todo.extend((sub, wanted) for wanted in requirement.extras)
    missing = {key.split("[")[0] for key in needed} - set(pins)
    assert not missing, f"{LOCK} lacks {sorted(missing)}: run scripts/image-lock"


def test_the_build_lock_pins_the_installer_with_hashes() -> None:
    pins = lock_pins(BUILD_LOCK)
    assert set(pins) == {"pip", "setuptools"}
    assert all(hashes for _, hashes in pins.values())


def test_the_default_command_is_the_procfiles_web(dockerfile: Dockerfile) -> None:
    (cmd,) = dockerfile.final.all("CMD")
    assert cmd.exec_form() == procfile()["web"]
    assert [i.exec_form() for i in dockerfile.final.all("ENTRYPOINT")] == []  # the command alone picks the process


def test_the_image_runs_the_procfiles_processes_with_beats_schedule_in_tmp() -> None:
    commands = image_commands()
    assert set(commands) == {"web", "worker", "beat"}
    assert commands["web"] == procfile()["web"] and commands["worker"] == procfile()["worker"]
    # the Dockerfile's header, the compose file and the image check give the same commands
    header = DOCKERFILE.read_text()
    compose = yaml.safe_load((ROOT / "deploy" / "compose.yaml").read_text())["services"]
    check = (ROOT / "scripts" / "image-check").read_text()
    for name, command in commands.items():
        assert f"#   {name:<7} {shlex.join(command)}" in header
        assert compose[name]["command"] == command
        if name != "web":  # the check runs web by the image's default command
            assert f'"$IMAGE" {shlex.join(command)}' in check


def test_compose_runs_the_image_read_only_without_capabilities() -> None:
    services = yaml.safe_load((ROOT / "deploy" / "compose.yaml").read_text())["services"]
    for name in ("web", "worker", "beat"):
        service = services[name]
        assert service["read_only"] is True and service["tmpfs"] == ["/tmp"] and service["cap_drop"] == ["ALL"]
        assert ("healthcheck" in service) == (name != "web"), "worker and beat turn off the web's HEALTHCHECK"


def test_healthcheck_and_oci_labels(dockerfile: Dockerfile) -> None:
    (healthcheck,) = dockerfile.final.all("HEALTHCHECK")
    probe = healthcheck.exec_form()
    assert probe[:2] == ["python", "-c"] and "/healthz" in probe[2]
    labels = " ".join(label.args for label in dockerfile.final.all("LABEL"))
    for key in ("title", "description", "version", "revision", "source"):
        assert f"org.opencontainers.image.{key}=" in labels


def image_test_skip_reason() -> str | None:
    wanted = os.environ.get("FLUXOPS_IMAGE_TEST", "")
    if wanted == "0":
        return "FLUXOPS_IMAGE_TEST=0"
    if wanted != "1" and os.environ.get("CI") != "true":
        return "builds and runs the image (~2 minutes): set FLUXOPS_IMAGE_TEST=1 (CI runs it)"
    if shutil.which("podman") is None:
        return "podman is not installed (scripts/bootstrap installs it in CI or with FLUXOPS_IMAGE_TEST=1)"
    if os.geteuid() != 0:
        return "scripts/image-check needs root (rootful podman)"
    return None


@pytest.mark.timeout(900)
@pytest.mark.skipif(image_test_skip_reason() is not None, reason=str(image_test_skip_reason()))
def test_the_image_builds_and_runs_web_worker_and_beat_read_only_as_non_root() -> None:
    result = subprocess.run(
        [str(ROOT / "scripts" / "image-check")],
        cwd=ROOT,
        env={**os.environ, "IMAGE": "localhost/fluxops:test"},
        capture_output=True,
        text=True,
        timeout=840,
        check=False,
    )
    output = result.stdout + result.stderr
    assert result.returncode == 0, output[-6000:]
    for line in (
        "ok: user 10001:10001",
        "ok: /readyz:",
        "ok: web runs as uid 10001, gid 10001",
        "ok: root filesystem read-only, /tmp writable",
        "ok: HEALTHCHECK passes",
        "ok: worker answers ping",
        "ok: beat: Sending due task",
        "ok: worker: Task fluxops.",
        "ok: beat keeps its schedule in memory",
        "image check passed",
    ):
        assert line in output, output[-6000:]
