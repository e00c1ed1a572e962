"""``Sealer``: encrypts the secrets fluxops keeps (deploy key private halves, credentials it handed out).

The key-encryption key is ``FLUXOPS_KEY_ENCRYPTION_KEY``: one or more comma-separated Fernet keys
(AES-128-CBC with HMAC-SHA256, from ``cryptography``). With several, the first seals and every one
of them opens (``MultiFernet``), so the key-encryption key is rotated by prepending a new key and
dropping the old one once nothing sealed with it is left (``reseal`` re-seals a token with the first).

Key material never appears in a message or a repr: errors say which key (by position) is wrong.
"""

from __future__ import annotations

import binascii

from cryptography.fernet import Fernet, InvalidToken, MultiFernet

from bot.errors import ConfigurationError
from bot.models import Secret
from bot.settings import Settings

SETTING = "FLUXOPS_KEY_ENCRYPTION_KEY"
#: how to make a key, for error messages and the README
MAKE_A_KEY = 'python -c "from cryptography.fernet import Fernet; print(Fernet.generate_key().decode())"'


class Sealer:
    """Seals and unseals secrets with the key(s) of ``FLUXOPS_KEY_ENCRYPTION_KEY`` (``keys``, as set)."""

    def __init__(self, keys: Secret) -> None:
        parts = [part.strip() for part in keys.reveal().split(",")]
        given = [part for part in parts if part]
        if not given:
            raise ConfigurationError(
                f"{SETTING} is empty",
                recommendation=f"set it to a Fernet key; make one with `{MAKE_A_KEY}`",
            )
        fernets = []
        for position, part in enumerate(given, start=1):
            try:
                fernets.append(Fernet(part))
            except (ValueError, binascii.Error):
                which = f"key {position} of {len(given)}" if len(given) > 1 else "its key"
                raise ConfigurationError(
                    f"{SETTING}: {which} is not a Fernet key (32 url-safe base64-encoded bytes)",
                    recommendation=f"make a key with `{MAKE_A_KEY}`; separate several keys with commas, newest first",
                ) from None
        self._fernet = MultiFernet(fernets)
        self._count = len(fernets)

    def __repr__(self) -> str:
        return f"Sealer(keys={self._count})"

    def seal(self, secret: Secret) -> bytes:
        """``secret`` encrypted with the first key (a Fernet token: url-safe base64 text as bytes)."""
        return self._fernet.encrypt(secret.reveal().encode())

    def unseal(self, token: bytes) -> Secret:
        """The secret in ``token``; ConfigurationError when none of the configured keys opens it."""
        try:
            data = self._fernet.decrypt(token)
        except InvalidToken:
            raise _cannot_open() from None
        return Secret(data.decode())

    def reseal(self, token: bytes) -> bytes:
        """``token`` sealed again with the first key (after a new key was prepended)."""
        try:
            return self._fernet.rotate(token)
        except InvalidToken:
            raise _cannot_open() from None


def _cannot_open() -> ConfigurationError:
    return ConfigurationError(
        f"a sealed secret cannot be opened with any key in {SETTING}: it was sealed with a key no longer "
        f"in {SETTING}, or it was damaged",
        recommendation=f"put the key it was sealed with back in {SETTING} (after the current one), "
        "or make a new secret (`/flux key rotate`) so fluxops seals it again",
    )


def sealer_from_settings(settings: Settings) -> Sealer | None:
    """The Sealer of ``FLUXOPS_KEY_ENCRYPTION_KEY``; None when it is not set (fluxops then keeps no secrets)."""
    if settings.key_encryption_key is None:
        return None
    return Sealer(Secret(settings.key_encryption_key.get_secret_value()))
