"""Sealer: FLUXOPS_KEY_ENCRYPTION_KEY's Fernet keys seal and open secrets; key rotation; errors without key material."""

from __future__ import annotations

import pytest
from cryptography.fernet import Fernet
from pydantic import ValidationError

from bot.errors import ConfigurationError
from bot.models import Secret
from bot.settings import Settings
from workers.key_sealing import MAKE_A_KEY, Sealer, sealer_from_settings

PLAIN = "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXktdjEAAAAA-the-secret-part\n"


def new_key() -> str:
    return Fernet.generate_key().decode()


def test_round_trip_and_the_token_holds_no_plaintext() -> None:
    key = new_key()
    sealer = Sealer(Secret(key))
    token = sealer.seal(Secret(PLAIN))
    assert isinstance(token, bytes)
    assert PLAIN.encode() not in token and b"the-secret-part" not in token
    assert sealer.unseal(token) == Secret(PLAIN)
    assert sealer.seal(Secret(PLAIN)) != token  # a fresh IV each time
    assert key not in repr(sealer) and repr(sealer) == "Sealer(keys=1)"


def test_prepending_a_new_key_keeps_old_tokens_open_and_seals_with_the_new_one() -> None:
    old, new = new_key(), new_key()
    sealed_before = Sealer(Secret(old)).seal(Secret(PLAIN))
    rotated = Sealer(Secret(f" {new} , {old} "))
    assert rotated.unseal(sealed_before) == Secret(PLAIN)
    sealed_after = rotated.seal(Secret(PLAIN))
    assert Sealer(Secret(new)).unseal(sealed_after) == Secret(PLAIN)
    with pytest.raises(ConfigurationError):
        Sealer(Secret(old)).unseal(sealed_after)  # the first key sealed it, not the old one
    resealed = rotated.reseal(sealed_before)
    assert Sealer(Secret(new)).unseal(resealed) == Secret(PLAIN)


def test_a_key_no_longer_configured_cannot_open_and_says_why() -> None:
    gone, current = new_key(), new_key()
    token = Sealer(Secret(gone)).seal(Secret(PLAIN))
    with pytest.raises(ConfigurationError) as refused:
        Sealer(Secret(current)).unseal(token)
    text = refused.value.user_text()
    assert "no longer in FLUXOPS_KEY_ENCRYPTION_KEY" in text and "put the key it was sealed with back" in text
    assert gone not in text and current not in text and "the-secret-part" not in text
    with pytest.raises(ConfigurationError):
        Sealer(Secret(current)).unseal(token[:-4] + b"AAAA")  # damaged
    with pytest.raises(ConfigurationError):
        Sealer(Secret(current)).reseal(token)


@pytest.mark.parametrize(
    ("setting", "which"),
    [
        ("not-a-fernet-key", "its key"),
        ("c2hvcnQ=", "its key"),
        (f"{Fernet.generate_key().decode()},short!", "key 2 of 2"),
    ],
)
def test_a_malformed_key_says_which_and_how_to_make_one(setting: str, which: str) -> None:
    with pytest.raises(ConfigurationError) as refused:
        Sealer(Secret(setting))
    text = refused.value.user_text()
    assert which in refused.value.message and MAKE_A_KEY in refused.value.recommendation
    for part in setting.split(","):
        assert part not in text


@pytest.mark.parametrize("setting", ["", " , ,"])
def test_an_empty_setting_is_refused(setting: str) -> None:
    with pytest.raises(ConfigurationError, match="is empty"):
        Sealer(Secret(setting))


def test_settings_read_the_key_and_the_other_key_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("FLUXOPS_KEY_ENCRYPTION_KEY", "FLUXOPS_FAILPOINTS", "FLUXOPS_KEY_ROTATION_CHECK_INTERVAL"):
        monkeypatch.delenv(name, raising=False)
    defaults = Settings()
    assert sealer_from_settings(defaults) is None
    assert defaults.failpoints is False and defaults.key_rotation_check_interval == 3600
    key = new_key()
    monkeypatch.setenv("FLUXOPS_KEY_ENCRYPTION_KEY", key)
    monkeypatch.setenv("FLUXOPS_FAILPOINTS", "true")
    monkeypatch.setenv("FLUXOPS_KEY_ROTATION_CHECK_INTERVAL", "60")
    settings = Settings()
    assert key not in repr(settings)
    assert settings.failpoints is True and settings.key_rotation_check_interval == 60
    sealer = sealer_from_settings(settings)
    assert sealer is not None
    assert Sealer(Secret(key)).unseal(sealer.seal(Secret("x"))) == Secret("x")
    monkeypatch.setenv("FLUXOPS_KEY_ROTATION_CHECK_INTERVAL", "0")
    with pytest.raises(ValidationError, match="FLUXOPS_KEY_ROTATION_CHECK_INTERVAL"):
        Settings()
