"""The sandbox's source servers started together (in parallel: start-up stays quick), seeded, and stopped.

A server that cannot run here (azurite without Node.js, say) is left out with a warning: the sandbox still
starts, and a source of that kind fails with a message that says why.
"""

from __future__ import annotations

import asyncio
import logging
import secrets
import uuid
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

from aiohttp import web

from sandbox.npm_package import PackageUnavailable
from sandbox.oci_registry import OciRegistry
from sandbox.source_servers.azurite import AzuriteServer, BlobAccess
from sandbox.source_servers.process import ChildServerError
from sandbox.source_servers.s3 import S3Access, S3Server
from sandbox.tls import ServerTls
from sandbox.tutorial_repo import tutorial_files

_log = logging.getLogger(__name__)
T = TypeVar("T")
Server = TypeVar("Server", S3Server, AzuriteServer)
REGISTRY_REPOSITORY = "fluxops/demo"
#: a repository anyone may pull (no credentials): for a configuration without localAuthRef
PUBLIC_REPOSITORY = "fluxops/public-demo"
REGISTRY_USER = "flux-puller"


@dataclass(frozen=True)
class RegistryAccess:
    """The registry, its artifacts and a user that pulls them."""

    host: str  # 127.0.0.1:PORT
    repository: str
    public_repository: str
    username: str
    password: str = field(repr=False)
    #: tag -> manifest digest: "latest" and "1.0.0" (the tutorial), "0.9.0" (an older build of it)
    tags: dict[str, str] = field(default_factory=dict)

    @property
    def url(self) -> str:
        """The OCIRepository URL of the private artifact: oci://HOST/REPOSITORY."""
        return f"oci://{self.host}/{self.repository}"

    @property
    def public_url(self) -> str:
        return f"oci://{self.host}/{self.public_repository}"


@dataclass(frozen=True)
class ServicePrincipal:
    """An application of the sandbox's Entra directory allowed to read the blob container (and a managed
    identity): what `--sp-client-id` / `--mi-client-id` name."""

    tenant_id: str
    client_id: str
    client_secret: str = field(repr=False)
    managed_identity_client_id: str = ""


@dataclass(frozen=True)
class SourceAccess:
    """Where each seeded source is and what reads it; None for a server that is not running."""

    ca_file: Path
    s3: S3Access | None
    blob: BlobAccess | None
    registry: RegistryAccess | None
    principal: ServicePrincipal
    #: why a server is not running, by kind ("Bucket", "AzureBlob", "OCIRepository")
    missing: dict[str, str] = field(default_factory=dict)


class SourceServers:
    def __init__(self, *, tls: ServerTls, state_dir: Path) -> None:
        self.tls = tls
        self.state_dir = state_dir
        self.logs = state_dir / "logs"
        #: why a server is not running, by kind (see :attr:`SourceAccess.missing`)
        self.missing: dict[str, str] = {}
        self.s3: S3Server | None = S3Server(tls=tls, logs=self.logs)
        self.azurite: AzuriteServer | None = None
        try:
            self.azurite = AzuriteServer(tls=tls, state_dir=state_dir, logs=self.logs)
        except PackageUnavailable as exc:
            self._leave_out("AzureBlob", str(exc))
        self.registry = OciRegistry(users={REGISTRY_USER: secrets.token_urlsafe(18)})
        self._runner: web.AppRunner | None = None
        self.access: SourceAccess | None = None

    async def start(self) -> SourceAccess:
        """Start and seed the servers; a server that cannot do either is left out (``missing`` says why). On
        any other error, or when cancelled, what was started is stopped before the error goes on."""
        try:
            return await self._start()
        except BaseException:
            await self.stop()
            raise

    async def _start(self) -> SourceAccess:
        children = {kind: s for kind, s in (("Bucket", self.s3), ("AzureBlob", self.azurite)) if s is not None}
        results = await asyncio.gather(
            *(s.start() for s in children.values()), self._serve_registry(), return_exceptions=True
        )
        for (kind, server), result in zip(children.items(), results, strict=False):
            if isinstance(result, ChildServerError):
                self._leave_out(kind, str(result), server)
            elif isinstance(result, BaseException):
                raise result
        if isinstance(results[-1], BaseException):
            raise results[-1]
        files = tutorial_files()
        s3, blob = await asyncio.gather(
            self._seeded("Bucket", self.s3, lambda s: s.seed(files)),
            self._seeded("AzureBlob", self.azurite, lambda s: s.seed(files)),
        )
        self.access = SourceAccess(
            ca_file=self.tls.ca_file,
            s3=s3,
            blob=blob,
            registry=self._seed_registry(files),
            principal=ServicePrincipal(
                tenant_id=str(uuid.uuid4()),
                client_id=str(uuid.uuid4()),
                client_secret=secrets.token_urlsafe(24),
                managed_identity_client_id=str(uuid.uuid4()),
            ),
            missing=dict(self.missing),
        )
        return self.access

    async def _seeded(self, kind: str, server: Server | None, seed: Callable[[Server], T]) -> T | None:
        """``seed(server)`` in a thread (blocking I/O); a server it fails on is stopped and left out."""
        if server is None or kind in self.missing:
            return None
        try:
            return await asyncio.to_thread(seed, server)
        except Exception as exc:  # whatever its client raised: the sandbox runs on without this server
            self._leave_out(kind, f"{server.child.name} could not be seeded: {type(exc).__name__}: {exc}", server)
            return None

    def _leave_out(self, kind: str, why: str, server: S3Server | AzuriteServer | None = None) -> None:
        self.missing[kind] = why
        _log.warning("sandbox: %s (%s sources fail saying so)", why, kind)
        if server is not None:
            server.stop()

    async def _serve_registry(self) -> None:
        self._runner = web.AppRunner(self.registry.app(), access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", 0, ssl_context=self.tls.context).start()
        self.registry.base_url = f"https://127.0.0.1:{self._runner.addresses[0][1]}"

    def _seed_registry(self, files: dict[str, str]) -> RegistryAccess:
        store = self.registry.store
        source = "https://github.com/Azure/gitops-flux2-kustomize-helm-mt"
        older = {**files, "README.md": files["README.md"] + "\n(0.9.0: an older build of the artifact)\n"}
        tags = {"0.9.0": store.push_artifact(REGISTRY_REPOSITORY, older, tags=("0.9.0",), source=source)}
        digest = store.push_artifact(REGISTRY_REPOSITORY, files, tags=("1.0.0", "latest"), source=source)
        tags.update({"1.0.0": digest, "latest": digest})
        store.push_artifact(PUBLIC_REPOSITORY, files, tags=("1.0.0", "latest"), source=source)
        self.registry.public.add(PUBLIC_REPOSITORY)
        host = self.registry.base_url.removeprefix("https://")
        return RegistryAccess(
            host=host,
            repository=REGISTRY_REPOSITORY,
            public_repository=PUBLIC_REPOSITORY,
            username=REGISTRY_USER,
            password=self.registry.users[REGISTRY_USER],
            tags=tags,
        )

    async def stop(self) -> None:
        """Stop what runs (safe to call again, and after a start that failed part-way)."""
        for server in (self.s3, self.azurite):
            if server is not None:
                server.stop()
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner = None
