"""Ed25519KeyMaker: keys Flux and OpenSSH accept, with the fingerprint ``ssh-keygen -lf`` prints."""

from __future__ import annotations

import base64
import hashlib
import shutil
import struct
import subprocess
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519

from bot.models import Secret
from bot.ports import KeyMaker
from workers.ssh_keys import Ed25519KeyMaker, ssh_fingerprint


def _blob(raw_public: bytes) -> bytes:
    """RFC 8709 wire form of an Ed25519 public key: string "ssh-ed25519", string key."""
    name = b"ssh-ed25519"
    return struct.pack(">I", len(name)) + name + struct.pack(">I", len(raw_public)) + raw_public


def test_private_half_is_an_unencrypted_openssh_key_whose_public_half_matches() -> None:
    maker: KeyMaker = Ed25519KeyMaker()
    key = maker.generate()
    assert isinstance(key.private_key, Secret)
    text = key.private_key.reveal()
    assert text.startswith("-----BEGIN OPENSSH PRIVATE KEY-----\n")
    assert text.rstrip().endswith("-----END OPENSSH PRIVATE KEY-----")
    private = serialization.load_ssh_private_key(text.encode(), password=None)
    assert isinstance(private, ed25519.Ed25519PrivateKey)
    derived = private.public_key().public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH)
    assert key.public_key == derived.decode()
    assert key.public_key.startswith("ssh-ed25519 AAAA") and len(key.public_key.split()) == 2  # no comment
    assert text not in repr(key) and "PRIVATE" not in repr(key)


def test_fingerprint_is_sha256_of_the_key_blob_without_padding() -> None:
    key = Ed25519KeyMaker().generate()
    private = serialization.load_ssh_private_key(key.private_key.reveal().encode(), password=None)
    raw = private.public_key().public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    expected = "SHA256:" + base64.b64encode(hashlib.sha256(_blob(raw)).digest()).decode().rstrip("=")
    assert key.fingerprint == expected == ssh_fingerprint(key.public_key)
    assert len(key.fingerprint) == len("SHA256:") + 43 and "=" not in key.fingerprint


@pytest.mark.skipif(shutil.which("ssh-keygen") is None, reason="OpenSSH's ssh-keygen is not installed")
def test_ssh_keygen_reads_the_key_and_prints_the_same_fingerprint(tmp_path: Path) -> None:
    key = Ed25519KeyMaker().generate()
    private = tmp_path / "id_ed25519"
    private.write_text(key.private_key.reveal())
    private.chmod(0o600)
    listed = subprocess.run(["ssh-keygen", "-lf", str(private)], capture_output=True, text=True, check=True)
    assert listed.stdout.split()[1] == key.fingerprint
    derived = subprocess.run(["ssh-keygen", "-yf", str(private)], capture_output=True, text=True, check=True)
    assert derived.stdout.split()[:2] == key.public_key.split()


def test_every_key_is_new() -> None:
    maker = Ed25519KeyMaker()
    keys = [maker.generate() for _ in range(5)]
    assert len({k.public_key for k in keys}) == len({k.fingerprint for k in keys}) == 5
