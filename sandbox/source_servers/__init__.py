"""The servers non-Git Flux sources are fetched from, started with the sandbox and seeded with its tutorial:

- :mod:`~sandbox.source_servers.s3`: an S3-compatible server (moto in server mode) with a bucket;
- :mod:`~sandbox.source_servers.azurite`: Azure Storage (azurite's Blob service) with a container;
- :mod:`sandbox.oci_registry`: the sandbox's own OCI registry with a Flux artifact;
- :mod:`~sandbox.source_servers.servers`: all three together, and what reads them (:class:`SourceAccess`).
"""

from sandbox.source_servers.servers import RegistryAccess, ServicePrincipal, SourceAccess, SourceServers

__all__ = ["RegistryAccess", "ServicePrincipal", "SourceAccess", "SourceServers"]
