"""``Ed25519KeyMaker``: the ``bot.ports.KeyMaker`` that makes the SSH keys fluxops registers as deploy keys.

The private half is OpenSSH private key text without a passphrase (what Flux's source-controller takes in
``sshPrivateKey``), held in a ``Secret`` from the moment it exists. The public half is the one-line
``ssh-ed25519 AAAA...`` form without a comment, and the fingerprint is ``SHA256:...`` exactly as
``ssh-keygen -lf`` prints it, so people can match what fluxops shows with what GitHub shows.
"""

from __future__ import annotations

import base64
import hashlib

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519

from bot.key_records import GeneratedKey
from bot.models import Secret


def ssh_fingerprint(public_key: str) -> str:
    """``SHA256:<unpadded base64 of sha256(key blob)>`` of an OpenSSH public key line, as ``ssh-keygen -lf``."""
    blob = base64.b64decode(public_key.split()[1], validate=True)
    return "SHA256:" + base64.b64encode(hashlib.sha256(blob).digest()).decode().rstrip("=")


class Ed25519KeyMaker:
    """Makes a new Ed25519 key pair on each call (``os.urandom`` via the OpenSSL backend)."""

    def generate(self) -> GeneratedKey:
        key = ed25519.Ed25519PrivateKey.generate()
        private = key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.OpenSSH, serialization.NoEncryption()
        ).decode()
        public = key.public_key().public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH)
        public_line = public.decode()
        return GeneratedKey(
            private_key=Secret(private), public_key=public_line, fingerprint=ssh_fingerprint(public_line)
        )

    def __repr__(self) -> str:
        return "Ed25519KeyMaker()"
