"""What the sandbox's registry holds: per repository its manifests (by digest) and tags, and blobs by digest."""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field

from sandbox.tarball import pack

OCI_MANIFEST_MEDIA_TYPE = "application/vnd.oci.image.manifest.v1+json"
#: what `flux push artifact` writes: an empty JSON config and one gzipped tarball layer
FLUX_CONFIG_MEDIA_TYPE = "application/vnd.cncf.flux.config.v1+json"
FLUX_LAYER_MEDIA_TYPE = "application/vnd.cncf.flux.content.v1.tar+gzip"


def digest_of(data: bytes) -> str:
    return "sha256:" + hashlib.sha256(data).hexdigest()


@dataclass
class Repository:
    manifests: dict[str, bytes] = field(default_factory=dict)  # digest -> manifest JSON as served
    tags: dict[str, str] = field(default_factory=dict)  # tag -> digest


class RegistryStore:
    """Thread-safe: the registry serves on the sandbox loop, tests and seeds push from anywhere."""

    def __init__(self) -> None:
        self.repositories: dict[str, Repository] = {}
        self.blobs: dict[str, bytes] = {}
        self._lock = threading.Lock()

    def push_artifact(
        self,
        repository: str,
        files: Mapping[str, str | bytes],
        *,
        tags: tuple[str, ...],
        source: str = "",
        revision: str = "",
    ) -> str:
        """``files`` as a Flux artifact in ``repository`` under ``tags``; returns the manifest's digest."""
        layer = pack(files)
        config = b"{}"
        annotations = {"org.opencontainers.image.created": "2026-01-01T00:00:00Z"}
        if source:
            annotations["org.opencontainers.image.source"] = source
        if revision:
            annotations["org.opencontainers.image.revision"] = revision
        manifest = {
            "schemaVersion": 2,
            "mediaType": OCI_MANIFEST_MEDIA_TYPE,
            "config": {"mediaType": FLUX_CONFIG_MEDIA_TYPE, "digest": digest_of(config), "size": len(config)},
            "layers": [{"mediaType": FLUX_LAYER_MEDIA_TYPE, "digest": digest_of(layer), "size": len(layer)}],
            "annotations": annotations,
        }
        body = json.dumps(manifest, separators=(",", ":"), sort_keys=True).encode()
        digest = digest_of(body)
        with self._lock:
            self.blobs[digest_of(layer)] = layer
            self.blobs[digest_of(config)] = config
            repo = self.repositories.setdefault(repository, Repository())
            repo.manifests[digest] = body
            for tag in tags:
                repo.tags[tag] = digest
        return digest

    def manifest(self, repository: str, reference: str) -> tuple[str, bytes] | None:
        """(digest, manifest) for a tag or a digest, or None."""
        with self._lock:
            repo = self.repositories.get(repository)
            if repo is None:
                return None
            digest = reference if reference.startswith("sha256:") else repo.tags.get(reference)
            if digest is None or digest not in repo.manifests:
                return None
            return digest, repo.manifests[digest]

    def blob(self, digest: str) -> bytes | None:
        with self._lock:
            return self.blobs.get(digest)

    def tags(self, repository: str) -> list[str] | None:
        with self._lock:
            repo = self.repositories.get(repository)
            return None if repo is None else sorted(repo.tags)
