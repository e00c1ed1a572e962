"""A server the sandbox runs as a child process: started on a free port, ready when the port accepts, ended with it."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import subprocess
import time
from collections.abc import Mapping, Sequence
from pathlib import Path


class ChildServerError(RuntimeError):
    """A child server could not be started; the message says which and why (with its log's tail)."""


class ChildServer:
    """One child process serving on ``127.0.0.1:port``; its output goes to ``log``."""

    def __init__(self, name: str, command: Sequence[str], *, port: int, log: Path, env: Mapping[str, str]) -> None:
        self.name = name
        self.command = list(command)
        self.port = port
        self.log = log
        self.env = dict(env)
        self.proc: subprocess.Popen[bytes] | None = None

    def spawn(self) -> subprocess.Popen[bytes]:
        self.log.parent.mkdir(parents=True, exist_ok=True)
        with self.log.open("ab") as out:
            self.proc = subprocess.Popen(
                self.command, stdout=out, stderr=subprocess.STDOUT, env=self.env, start_new_session=True
            )
        return self.proc

    async def start(self, limit: float = 30.0) -> None:
        """Start the process and wait until its port accepts connections (no request: some servers count them)."""
        proc = self.spawn()
        deadline = time.monotonic() + limit
        while True:
            if proc.poll() is not None:
                raise ChildServerError(f"{self.name} exited with {proc.returncode}: {self.tail()}")
            try:
                _, writer = await asyncio.open_connection("127.0.0.1", self.port)
            except OSError:
                if time.monotonic() > deadline:
                    self.stop()
                    raise ChildServerError(f"{self.name} did not listen on port {self.port} in {limit:.0f}s") from None
                await asyncio.sleep(0.05)
                continue
            writer.close()
            return

    def tail(self, lines: int = 15) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return "(no log)"

    def stop(self) -> None:
        """End the process and what it forked (its process group); safe to call again."""
        if self.proc is None or self.proc.poll() is not None:
            return
        with contextlib.suppress(ProcessLookupError):  # it ended since poll()
            os.killpg(self.proc.pid, signal.SIGTERM)
        try:
            self.proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait(timeout=5)
