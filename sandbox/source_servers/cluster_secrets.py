"""Kubernetes Secrets the sandbox's tutorial clusters hold for the source servers, for ``localAuthRef``
(`--local-auth-ref NAME`): in the namespaces a configuration is usually made in."""

from __future__ import annotations

import base64
import json

from sandbox.source_servers.servers import SourceAccess
from sandbox.world import World

#: Secret names, the same on every tutorial cluster
REGISTRY_SECRET = "registry-auth"
BUCKET_SECRET = "bucket-auth"
BLOB_SECRET = "blob-auth"
NAMESPACES = ("flux-system", "default", "cluster-config")


def seed_cluster_secrets(world: World, access: SourceAccess, clusters: tuple[str, ...]) -> None:
    """Put the Secrets on the clusters named ``clusters`` (by name)."""
    secrets: dict[str, dict[str, str]] = {}
    if access.registry is not None:
        reg = access.registry
        auth = base64.b64encode(f"{reg.username}:{reg.password}".encode()).decode()
        config = {"auths": {reg.host: {"username": reg.username, "password": reg.password, "auth": auth}}}
        secrets[REGISTRY_SECRET] = {".dockerconfigjson": json.dumps(config)}
    if access.s3 is not None:
        secrets[BUCKET_SECRET] = {"accesskey": access.s3.access_key_id, "secretkey": access.s3.secret_access_key}
    if access.blob is not None:
        secrets[BLOB_SECRET] = {"accountKey": access.blob.account_key}
    for cluster in world.clusters.values():
        if cluster.name not in clusters:
            continue
        for namespace in NAMESPACES:
            for name, data in secrets.items():
                cluster.secrets[f"{namespace}/{name}"] = dict(data)
