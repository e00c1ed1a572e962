"""Gzipped tarballs of file trees: how Flux packs artifacts (OCI layers) and how the simulated Flux unpacks them."""

from __future__ import annotations

import gzip
import io
import tarfile
from collections.abc import Mapping

#: an artifact bigger than this unpacked is refused (a sandbox artifact is a few kilobytes)
MAX_UNPACKED = 64 * 1024 * 1024


class TarballError(ValueError):
    """Not a gzipped tarball, or one this reader will not unpack (links, paths leaving the root, too big)."""


def pack(files: Mapping[str, str | bytes]) -> bytes:
    """``files`` (path -> content) as a reproducible .tar.gz: same files, same bytes (so the same digest)."""
    raw = io.BytesIO()
    with tarfile.open(fileobj=raw, mode="w", format=tarfile.PAX_FORMAT) as tar:
        for path in sorted(files):
            body = files[path]
            data = body.encode() if isinstance(body, str) else body
            info = tarfile.TarInfo(path)
            info.size, info.mode, info.mtime = len(data), 0o644, 0
            tar.addfile(info, io.BytesIO(data))
    return gzip.compress(raw.getvalue(), mtime=0)


def unpack(blob: bytes) -> dict[str, bytes]:
    """The regular files of a .tar.gz (path -> bytes); directories are implied, anything else refused."""
    files: dict[str, bytes] = {}
    total = 0
    try:
        with tarfile.open(fileobj=io.BytesIO(blob), mode="r:gz") as tar:
            for member in tar:
                name = member.name.removeprefix("./")
                if member.isdir():
                    continue
                if not member.isfile():
                    raise TarballError(f"'{name}' is not a regular file")
                if name.startswith("/") or ".." in name.split("/"):
                    raise TarballError(f"'{name}' leaves the artifact's root")
                total += member.size
                if total > MAX_UNPACKED:
                    raise TarballError(f"it unpacks to more than {MAX_UNPACKED} bytes")
                extracted = tar.extractfile(member)
                files[name] = extracted.read() if extracted is not None else b""
    except (tarfile.TarError, OSError, EOFError) as exc:
        raise TarballError(f"not a gzipped tarball: {exc}") from None
    return files
