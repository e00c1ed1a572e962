"""The sandbox assembled: world, git repositories, simulated Flux, the ARM emulator and the clusters'
Kubernetes API, both on HTTPS.

``Sandbox`` lives on one asyncio loop. ``SandboxThread`` runs it on a loop of its own in a background
thread, so synchronous callers (the Azure SDK, Celery workers in tests) can talk to it over HTTPS.
"""

from __future__ import annotations

import asyncio
import tempfile
import threading
from collections.abc import Awaitable, Callable
from concurrent.futures import Future
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

from aiohttp import web

from sandbox.arm.app import ArmEmulator, EmulatorConfig
from sandbox.fluxsim import FluxSimulator
from sandbox.git_access import GitAccess
from sandbox.gitrepos import RepoStore
from sandbox.identity import IdentityEndpoint
from sandbox.kubeapi.server import KubeApiServer
from sandbox.kubeapi.store import KubeStore
from sandbox.seed import TUTORIAL_AKS, TUTORIAL_ARC, seed_world
from sandbox.served import Served
from sandbox.source_servers import SourceServers
from sandbox.source_servers.cluster_secrets import seed_cluster_secrets
from sandbox.tls import local_tls
from sandbox.world import World

T = TypeVar("T")


@dataclass
class SandboxOptions:
    """How to build the sandbox. Defaults let a person watch a configuration converge in seconds."""

    state_dir: Path | None = None  # None: a fresh temporary directory
    fleet: int = 0
    emulator: EmulatorConfig = field(default_factory=EmulatorConfig)
    #: real seconds between the simulated agent's steps (fetch, then each kustomization)
    step_seconds: float = 0.7
    #: start the servers Bucket, Azure Blob and OCI sources are fetched from (S3, azurite, an OCI registry);
    #: off, those sources fail saying so (most tests need only Git, and start quicker without them)
    source_servers: bool = False


@dataclass(frozen=True)
class Endpoints:
    arm_url: str
    ca_file: Path
    subscription_id: str
    #: IDENTITY_ENDPOINT / IDENTITY_HEADER for azure-identity's managed identity credential
    identity_endpoint: str = ""
    identity_header: str = ""
    #: the clusters' Kubernetes API server; cluster C is at {kube_api_url}/clusters/{C.kube_slug}
    kube_api_url: str = ""

    def azure_environment(self) -> dict[str, str]:
        """What a fluxops process needs in its environment to manage the sandbox's clusters."""
        return {
            "AZURE_ARM_ENDPOINT": self.arm_url,
            "AZURE_CA_BUNDLE": str(self.ca_file),
            "AZURE_SUBSCRIPTION_IDS": self.subscription_id,
            "IDENTITY_ENDPOINT": self.identity_endpoint,
            "IDENTITY_HEADER": self.identity_header,
        }


class Sandbox:
    """Everything the sandbox serves, on the running event loop."""

    def __init__(self, options: SandboxOptions | None = None) -> None:
        self.options = options or SandboxOptions()
        self._tmp: tempfile.TemporaryDirectory[str] | None = None
        if self.options.state_dir is None:
            self._tmp = tempfile.TemporaryDirectory(prefix="fluxops-sandbox-")
            self.state_dir = Path(self._tmp.name)
        else:
            self.state_dir = self.options.state_dir
        self.world = World()
        self.repos = RepoStore(self.state_dir / "repos")
        self.access = GitAccess()
        seed_world(self.world, self.repos, self.access, fleet=self.options.fleet)
        #: the clusters' Kubernetes objects: the simulated Flux writes them, the Kubernetes API serves them
        self.kube_store = KubeStore()
        self.flux = FluxSimulator(
            kube=self.kube_store,
            world=self.world,
            repos=self.repos,
            access=self.access,
            time_scale=self.options.emulator.time_scale,
            step_seconds=self.options.step_seconds,
        )
        self.arm = ArmEmulator(world=self.world, agent=self.flux, config=self.options.emulator)
        self.identity = IdentityEndpoint()
        self.kube_api = KubeApiServer(world=self.world, store=self.kube_store)
        #: the Bucket / Azure Blob / OCI servers, when ``source_servers`` (started by :meth:`start`)
        self.source_servers: SourceServers | None = None
        self._runner: web.AppRunner | None = None
        self._kube_runner: web.AppRunner | None = None
        self._identity_runner: web.AppRunner | None = None
        self.endpoints: Endpoints | None = None

    async def start(self, host: str = "127.0.0.1", port: int = 0) -> Endpoints:
        tls = local_tls(self.state_dir / "tls")
        self.arm.kube_ca_pem = tls.ca_file.read_text()
        self._runner = web.AppRunner(self.arm.app(), access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, host, port, ssl_context=tls.context)
        await site.start()
        bound_port = self._runner.addresses[0][1]
        url = f"https://{host}:{bound_port}"
        self.arm.base_url = url
        self._identity_runner = web.AppRunner(self.identity.app(), access_log=None)
        await self._identity_runner.setup()
        await web.TCPSite(self._identity_runner, "127.0.0.1", 0).start()
        self.identity.base_url = f"http://127.0.0.1:{self._identity_runner.addresses[0][1]}"
        self._kube_runner = web.AppRunner(self.kube_api.app(), access_log=None)
        await self._kube_runner.setup()
        await web.TCPSite(self._kube_runner, host, 0, ssl_context=tls.context).start()
        self.kube_api.base_url = f"https://{host}:{self._kube_runner.addresses[0][1]}"
        self.world.kube_api_url = self.kube_api.base_url
        if self.options.source_servers:
            self.source_servers = SourceServers(tls=tls, state_dir=self.state_dir)
            self.flux.source_access = await self.source_servers.start()
            seed_cluster_secrets(self.world, self.flux.source_access, (TUTORIAL_ARC, TUTORIAL_AKS))
        self.endpoints = Endpoints(
            arm_url=url,
            ca_file=tls.ca_file,
            subscription_id=self.world.subscriptions[0],
            identity_endpoint=self.identity.url,
            identity_header=self.identity.header_secret,
            kube_api_url=self.kube_api.base_url,
        )
        return self.endpoints

    def served(self) -> list[Served]:
        """The servers of the emulated cloud, for the start-up banner (one line each; add new ones here)."""
        assert self.endpoints is not None, "the sandbox is not started"
        e = self.endpoints
        return [
            Served("ARM emulator", e.arm_url, f"HTTPS, CA {e.ca_file}", f"{e.arm_url}/_sandbox/health"),
            Served(
                "Kubernetes API",
                f"{e.kube_api_url}/clusters/<slug>",
                "same CA; kubeconfigs from ARM (listClusterUserCredential)",
                f"{e.kube_api_url}/_sandbox/health",
            ),
            *self._source_servers_served(),
        ]

    def _source_servers_served(self) -> list[Served]:
        access = self.source_servers.access if self.source_servers is not None else None
        if access is None:
            return []
        served = []
        if access.s3 is not None:
            served.append(Served("S3 (moto)", access.s3.url, "Bucket sources", f"{access.s3.url}/moto-api/"))
        if access.blob is not None:
            # probed by the public container's listing: a Served holds no secret (a test prints what it probes)
            served.append(
                Served("Azure Blob (azurite)", access.blob.url, "Azure Blob sources", access.blob.public_listing)
            )
        if access.registry is not None:
            registry = access.registry
            tags = f"https://{registry.host}/v2/{registry.public_repository}/tags/list"
            served.append(Served("OCI registry", f"https://{registry.host}", "OCIRepository sources", tags))
        return served

    async def stop(self) -> None:
        self.arm.operations.cancel_all()
        await self.flux.stop()
        self.kube_api.stop_watches()
        if self.source_servers is not None:
            await self.source_servers.stop()
        for runner in (self._runner, self._identity_runner, self._kube_runner):
            if runner is not None:
                await runner.cleanup()
        self._runner = self._identity_runner = self._kube_runner = None
        if self._tmp is not None:
            self._tmp.cleanup()
            self._tmp = None


class SandboxThread:
    """A Sandbox on its own loop in a daemon thread; ``call`` runs code on that loop."""

    def __init__(self, options: SandboxOptions | None = None) -> None:
        self._options = options
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, name="fluxops-sandbox", daemon=True)
        self.sandbox: Sandbox | None = None

    def start(self) -> Endpoints:
        self._thread.start()

        async def boot() -> Endpoints:
            self.sandbox = Sandbox(self._options)
            return await self.sandbox.start()

        return self.run(boot)

    def run(self, factory: Callable[[], Awaitable[T]], timeout: float = 60.0) -> T:
        """Run a coroutine made by ``factory`` on the sandbox loop and wait for its result."""

        async def wrapper() -> T:
            return await factory()

        future: Future[T] = asyncio.run_coroutine_threadsafe(wrapper(), self._loop)
        return future.result(timeout)

    def call(self, fn: Callable[[Sandbox], T], timeout: float = 60.0) -> T:
        """Run ``fn(sandbox)`` on the sandbox loop (safe access to world state)."""
        assert self.sandbox is not None

        async def inner() -> T:
            assert self.sandbox is not None
            return fn(self.sandbox)

        return self.run(inner, timeout)

    def stop(self) -> None:
        if self.sandbox is not None:
            sandbox = self.sandbox
            self.run(sandbox.stop)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)
        self._loop.close()
