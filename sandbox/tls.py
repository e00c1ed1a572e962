"""A local certificate authority for the sandbox's HTTPS servers (trustme)."""

from __future__ import annotations

import ssl
from dataclasses import dataclass
from pathlib import Path

import trustme


@dataclass(frozen=True)
class ServerTls:
    context: ssl.SSLContext
    ca_file: Path
    #: the server certificate and its key as PEM files, for servers the sandbox runs as child processes
    cert_file: Path
    key_file: Path


def local_tls(directory: Path) -> ServerTls:
    """A fresh CA (its PEM written to ``directory/ca.pem``) and a server context for loopback names."""
    directory.mkdir(parents=True, exist_ok=True)
    ca = trustme.CA(organization_name="fluxops sandbox")
    cert = ca.issue_cert("127.0.0.1", "localhost", "::1")
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    cert.configure_cert(context)
    ca_file = directory / "ca.pem"
    ca.cert_pem.write_to_path(str(ca_file))
    cert_file, key_file = directory / "server.pem", directory / "server-key.pem"
    cert.cert_chain_pems[0].write_to_path(str(cert_file))
    cert.private_key_pem.write_to_path(str(key_file))
    key_file.chmod(0o600)
    return ServerTls(context=context, ca_file=ca_file, cert_file=cert_file, key_file=key_file)
