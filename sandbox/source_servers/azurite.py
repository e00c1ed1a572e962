"""The sandbox's Azure Storage: azurite's Blob service (npm, pinned), its own process, HTTPS with the sandbox CA.

One storage account with a key the sandbox makes, a container of the tutorial's manifests, and a read/list SAS
token for it; a second container anyone may read (an AzureBlob source without credentials, and what the banner's
health probe lists: no secret in its URL). OAuth is on at azurite's basic level (it checks a bearer token's
issuer, audience and lifetime, not its signature); who may have such a token is decided by the sandbox's Entra
directory (sandbox/entra.py).

azurite keeps its data in the state directory: a sandbox started again on the same ``--state-dir`` finds its
containers there and fills them anew.
"""

from __future__ import annotations

import base64
import os
import secrets
import shutil
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from azure.core.exceptions import ResourceExistsError
from azure.storage.blob import BlobServiceClient, ContainerClient, ContainerSasPermissions, generate_container_sas

from sandbox.npm_package import CACHE, PackageUnavailable, npm_install, package_dir
from sandbox.redis_server import free_port
from sandbox.source_servers.process import ChildServer
from sandbox.tls import ServerTls

PACKAGE = "azurite"
VERSION = "3.37.0"  # pinned: scripts/bootstrap installs this one into .cache/azurite
FOLDER = CACHE / "azurite"
ACCOUNT = "fluxopssandbox"
CONTAINER = "fluxops-demo"
#: a container anyone may list and read (public access "container")
PUBLIC_CONTAINER = "fluxops-public-demo"


@dataclass(frozen=True)
class BlobAccess:
    """Where the container is and what reads it."""

    url: str  # the account's endpoint, https://127.0.0.1:PORT/ACCOUNT (path-style, as azurite serves)
    account: str
    container: str
    account_key: str = field(repr=False)
    sas_token: str = field(repr=False)  # read and list on the container, without a leading "?"
    public_container: str = PUBLIC_CONTAINER

    @property
    def public_listing(self) -> str:
        """The public container's listing: a URL that answers 200 without any credential."""
        return f"{self.url}/{self.public_container}?restype=container&comp=list"


def azurite_binary(install: bool = False) -> Path:
    """azurite's Blob service executable; with ``install``, installed into ``.cache/azurite`` when missing."""
    binary = FOLDER / "node_modules" / ".bin" / "azurite-blob"
    if install:
        npm_install(PACKAGE, VERSION, FOLDER, why="the sandbox's Azure Storage emulator")
    elif not binary.exists() or not (FOLDER / package_dir(PACKAGE)).is_dir():
        raise PackageUnavailable(
            f"azurite {VERSION} is not installed in {FOLDER}: run scripts/bootstrap (it installs it with npm)"
        )
    if shutil.which("node") is None:
        raise PackageUnavailable("node is not installed: azurite (the sandbox's Azure Storage emulator) needs Node.js")
    return binary


class AzuriteServer:
    def __init__(self, *, tls: ServerTls, state_dir: Path, logs: Path, install: bool = False) -> None:
        self.tls = tls
        self.port = free_port()
        self.account_key = base64.b64encode(secrets.token_bytes(64)).decode()
        self.url = f"https://127.0.0.1:{self.port}/{ACCOUNT}"
        workspace = state_dir / "azurite"
        workspace.mkdir(parents=True, exist_ok=True)
        command = [
            str(azurite_binary(install)),
            "--blobHost", "127.0.0.1", "--blobPort", str(self.port), "--location", str(workspace),
            "--cert", str(tls.cert_file), "--key", str(tls.key_file),
            "--skipApiVersionCheck", "--disableTelemetry", "--silent",
        ]  # fmt: skip
        env = {**os.environ, "AZURITE_ACCOUNTS": f"{ACCOUNT}:{self.account_key}"}
        self.child = ChildServer(
            "the Azure Storage emulator (azurite)", command, port=self.port, log=logs / "azurite.log", env=env
        )
        self.access: BlobAccess | None = None

    async def start(self) -> None:
        await self.child.start()

    def seed(self, files: Mapping[str, str | bytes], container: str = CONTAINER) -> BlobAccess:
        """The container with ``files`` and the public one with the same, and a SAS token that reads the first
        (blocking I/O). Containers kept from an earlier run are filled anew: they hold ``files`` and nothing else."""
        service = BlobServiceClient(
            self.url,
            credential={"account_name": ACCOUNT, "account_key": self.account_key},
            connection_verify=str(self.tls.ca_file),
        )
        _fill(service.get_container_client(container), files, public=False)
        _fill(service.get_container_client(PUBLIC_CONTAINER), files, public=True)
        sas = generate_container_sas(
            ACCOUNT,
            container,
            account_key=self.account_key,
            permission=ContainerSasPermissions(read=True, list=True),
            expiry=datetime.now(UTC) + timedelta(days=30),
        )
        self.access = BlobAccess(self.url, ACCOUNT, container, self.account_key, sas)
        return self.access

    def stop(self) -> None:
        self.child.stop()


def _fill(client: ContainerClient, files: Mapping[str, str | bytes], *, public: bool) -> None:
    """The container (created, or the one already there) holding ``files`` only."""
    access = "container" if public else None
    try:
        client.create_container(public_access=access)
    except ResourceExistsError:
        client.set_container_access_policy(signed_identifiers={}, public_access=access)
        for stale in {b.name for b in client.list_blobs()} - set(files):
            client.delete_blob(stale)
    for path, body in sorted(files.items()):
        client.upload_blob(path, body.encode() if isinstance(body, str) else body, overwrite=True)
