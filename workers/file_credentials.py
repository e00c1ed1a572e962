"""Credentials fluxops holds as files (mounted secrets), by the names FLUXOPS_CONFIG gives them.

Each ``get`` reads the file again, so a rotated secret is picked up without a restart. Errors name the
credential and the file, never any part of the content.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path

from bot.errors import ConfigurationError, NotFound
from bot.models import Secret


class FileCredentials:
    """bot.ports.Credentials over files: ``entries`` maps a credential name to the file holding its secret."""

    def __init__(self, *, entries: Mapping[str, Path]) -> None:
        self._entries = dict(entries)

    def names(self) -> list[str]:
        """The credential names, sorted (names are not secret)."""
        return sorted(self._entries)

    def get(self, name: str) -> Secret:
        """The secret named ``name``, with its trailing newline stripped."""
        path = self._entries.get(name)
        if path is None:
            known = ", ".join(f"'{n}'" for n in self.names()) or "none"
            raise NotFound(
                f"fluxops holds no credential named '{name}' (it holds: {known})",
                recommendation="use one of those names, or add it under `credentials:` in FLUXOPS_CONFIG",
            )
        doing = f"reading credential '{name}' from {path}"
        try:
            data = path.read_bytes()
        except OSError as exc:
            reason = exc.strerror or type(exc).__name__
            raise ConfigurationError(
                f"{doing}: {reason}",
                recommendation="check that the file is mounted and readable by fluxops",
            ) from None
        # Decoded outside any except block: a UnicodeDecodeError carries the bytes it failed on, and
        # an exception context would keep them alive in tracebacks.
        text = _decode(data)
        if text is None:
            raise ConfigurationError(f"{doing}: it is not UTF-8 text", recommendation="store the secret as text")
        value = text.rstrip("\r\n")
        if not value:
            raise ConfigurationError(f"{doing}: the file is empty", recommendation="put the secret in the file")
        return Secret(value)

    def __repr__(self) -> str:
        return f"FileCredentials(names={self.names()!r})"


def _decode(data: bytes) -> str | None:
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError:
        return None
