"""The processes a benchmark measures: the Procfile's web (or a baseline server), each in a session of its own,
on its own redis-server; and their end, whatever happened.

    with tempfile.TemporaryDirectory() as tmp, contextlib.ExitStack() as cleanup:
        store = redis_server(Path(tmp) / "a", cleanup)
        web = start_web(clean_env(REDIS_URL=store.url, ...), Path(tmp) / "web.log", cleanup)
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import time
import urllib.request
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:  # run as `python bench/NAME.py`: the repository's packages come from its root
    sys.path.insert(0, str(ROOT))

from sandbox.redis_server import RedisServer, free_port  # noqa: E402  (after the path is set)

#: the Procfile's web line (``python -m handlers.web``), with this interpreter
WEB_COMMAND = (sys.executable, "-m", "handlers.web")


@dataclass
class Server:
    name: str
    process: subprocess.Popen[bytes]
    #: ``http://127.0.0.1:PORT``
    base_url: str


def clean_env(**settings: str) -> dict[str, str]:
    """This process's environment without any outside system's settings (GITHUB_, SLACK_, ADO_, AZURE_), with the
    repository on PYTHONPATH, and ``settings`` over it."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("GITHUB_", "SLACK_", "ADO_", "AZURE_"))}
    return {**env, "PYTHONPATH": str(ROOT), **settings}


def redis_server(directory: Path, cleanup: contextlib.ExitStack) -> RedisServer:
    """A redis-server of its own in ``directory``, stopped when ``cleanup`` closes."""
    directory.mkdir(parents=True, exist_ok=True)
    store = RedisServer(directory)
    cleanup.callback(store.stop)
    return store


def start(name: str, command: list[str], port: int, env: dict[str, str], log: Path) -> Server:
    """Start a server in a session of its own (``stop`` ends it and anything it started) and wait until it
    listens; its output goes to ``log``."""
    with log.open("wb") as out:
        process = subprocess.Popen(
            command, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True
        )
    server = Server(name, process, f"http://127.0.0.1:{port}")
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            urllib.request.urlopen(f"{server.base_url}/", timeout=1)  # noqa: S310 - our own loopback server
        except OSError as error:
            if "Connection refused" not in str(error):
                return server  # it answered (404 and such): it listens
        time.sleep(0.1)
        if process.poll() is not None:
            break
    stop(server)
    raise RuntimeError(f"{name} did not start listening on {port}: {log.read_text()[-2000:]}")


def stop(server: Server) -> None:
    if server.process.poll() is None:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(server.process.pid, signal.SIGTERM)
        try:
            server.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(server.process.pid, signal.SIGKILL)
            server.process.wait(timeout=10)


def start_web(env: dict[str, str], log: Path, cleanup: contextlib.ExitStack, name: str = "fluxops") -> Server:
    """The Procfile's web process with ``env`` on a free port, stopped when ``cleanup`` closes."""
    port = free_port()
    server = start(name, list(WEB_COMMAND), port, {**env, "PORT": str(port)}, log)
    cleanup.callback(stop, server)
    return server


def start_baseline(
    name: str, script: str, args: list[str], env: dict[str, str], log: Path, cleanup: contextlib.ExitStack
) -> Server:
    """``python -c script PORT *args`` on a free port, stopped when ``cleanup`` closes."""
    port = free_port()
    server = start(name, [sys.executable, "-c", script, str(port), *args], port, env, log)
    cleanup.callback(stop, server)
    return server
