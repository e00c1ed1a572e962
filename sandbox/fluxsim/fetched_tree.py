"""A fetched non-Git source as an :class:`~sandbox.fluxsim.state.Artifact`: its files and a Flux revision."""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from pathlib import Path

from sandbox.fluxsim.state import Artifact


def index_artifact(where: str, files: Mapping[str, bytes], etags: Mapping[str, str]) -> Artifact:
    """A bucket's (or container's) objects as an artifact: the revision is the digest of its etag index
    (``sha256:<hex>``), as source-controller names a Bucket revision, so it moves only when an object does."""
    index = "".join(f"{key} {etags[key]}\n" for key in sorted(etags))
    digest = hashlib.sha256(index.encode()).hexdigest()
    return Artifact(repo=Path("/", where), sha=digest, revision=f"sha256:{digest}", tree=dict(files))


def oci_artifact(where: str, reference: str | None, digest: str, files: Mapping[str, bytes]) -> Artifact:
    """An OCI artifact: revision ``<tag>@sha256:<hex>`` (``sha256:<hex>`` when pulled by digest), as Flux writes it."""
    hex_digest = digest.removeprefix("sha256:")
    revision = f"{reference}@sha256:{hex_digest}" if reference else f"sha256:{hex_digest}"
    return Artifact(repo=Path("/", where), sha=hex_digest, revision=revision, tree=dict(files))
