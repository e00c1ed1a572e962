"""The sandbox with replicas: every Procfile process (web, worker, beat) runs more than once on one redis-server.

A replica is named ``{role}-{n}`` (``web-1``, ``worker-2``, ``beat-1``) and runs its role's Procfile line as
written, as a Deployment's pods would: each web on a port of its own (``web_urls``), each worker under its own
Celery node name, each beat with its own schedule file. Killing and starting replicas by name is Stack's own
``kill_process`` / ``start_process``; a restarted web keeps its port, as a pod behind its Service would keep
its place.
"""

from __future__ import annotations

import asyncio
import shlex
import subprocess
import time
from collections.abc import Coroutine, Iterable
from dataclasses import replace
from typing import Any, TypeVar

import aiohttp
import redis

from sandbox.redis_server import free_port
from sandbox.stack import REPO_ROOT, Stack, StackOptions, StackThread, procfile

T = TypeVar("T")


def role_of(name: str) -> str:
    """``web-2`` -> ``web``: the Procfile line a replica runs."""
    role, _, index = name.rpartition("-")
    if not role or not index.isdigit():
        raise ValueError(f"a replica is named role-N (web-1, worker-2), not {name!r}")
    return role


class ReplicaStack(Stack):
    """A Stack whose processes are replicas; start it with ``StackOptions(processes=())`` and ``replicas``."""

    def __init__(self, options: StackOptions, replicas: Iterable[str]) -> None:
        self.replicas = tuple(replicas)
        self.web_ports = {name: free_port() for name in self.replicas if role_of(name) == "web"}
        first_web = next(iter(self.web_ports.values()), 0)
        # the base stack points the fake Slack and GitHub at its one web: let that be web-1
        super().__init__(options if not first_web else _with_web_port(options, first_web))

    @property
    def web_urls(self) -> dict[str, str]:
        return {name: f"http://127.0.0.1:{port}" for name, port in self.web_ports.items()}

    async def start(self) -> None:
        await super().start()
        for name in self.replicas:
            self.start_process(name)
        await self.wait_ready(self.replicas)

    def start_process(self, name: str) -> subprocess.Popen[bytes]:
        """Run replica ``name`` (``role-N``): its role's Procfile line as written, from the repository root."""
        role = role_of(name)
        command = shlex.split(procfile()[role])
        env = dict(self.env)
        if role == "web":
            env["PORT"] = str(self.web_ports[name])
        elif role == "worker":
            command.append(f"--hostname={name}@%h")
            # as the worker Deployment sets it: SIGTERM is Celery's soft-then-cold shutdown, which hands running
            # jobs back to the queue after FLUXOPS_WORKER_SOFT_SHUTDOWN_TIMEOUT instead of waiting for them
            env["REMAP_SIGTERM"] = "SIGQUIT"
        elif role == "beat":
            command = [c.replace(".celerybeat-schedule", str(self.state_dir / f"{name}-schedule")) for c in command]
        log = (self.state_dir / "logs" / f"{name}.log").open("ab")
        # its own process group: killing it also reaches the pool children it forked, as a pod's end does
        child = subprocess.Popen(
            command, cwd=REPO_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT, start_new_session=True
        )
        self.children[name] = child
        return child

    async def wait_ready(self, names: Iterable[str], limit: float = 90.0) -> None:
        """Each web named answers /readyz, each worker named answers Celery's ping, each beat is running."""
        assert self.redis is not None
        pending = set(names)
        deadline = time.monotonic() + limit
        client = redis.Redis.from_url(self.redis.url)
        async with aiohttp.ClientSession() as session:
            while pending:
                for name in sorted(pending):
                    child = self.children[name]
                    if child.poll() is not None:
                        raise RuntimeError(f"fluxops {name} exited with {child.returncode}: {self.log_tail(name)}")
                    if await self._ready(name, session, client):
                        pending.discard(name)
                if time.monotonic() > deadline:
                    raise RuntimeError(f"not ready: {sorted(pending)}: " + self.log_tail(sorted(pending)[0]))
                await asyncio.sleep(0.2)

    async def _ready(self, name: str, session: aiohttp.ClientSession, client: redis.Redis) -> bool:
        role = role_of(name)
        if role == "web":
            try:
                async with session.get(f"{self.web_urls[name]}/readyz") as response:
                    return response.status == 200
            except aiohttp.ClientError:
                return False
        if role == "worker":
            # Celery logs this once the node consumes; the inventory says a worker has run its first task
            return "ready." in self.log_text(name) and bool(client.exists("fluxops:inventory"))
        return True

    def log_text(self, name: str) -> str:
        path = self.state_dir / "logs" / f"{name}.log"
        return path.read_text(errors="replace") if path.exists() else ""


def _with_web_port(options: StackOptions, port: int) -> StackOptions:
    return replace(options, web_port=port)


class ReplicaStackThread(StackThread):
    """A ReplicaStack on its own event loop in a background thread; ``call`` runs a coroutine there (the fakes'
    state is that loop's, so a client that reads it, such as one signing slash commands, runs there too)."""

    def __init__(self, options: StackOptions, replicas: Iterable[str]) -> None:
        super().__init__(options)
        self.stack = ReplicaStack(options, replicas)

    def call(self, coroutine: Coroutine[Any, Any, T], timeout: float = 300.0) -> T:
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(timeout)
