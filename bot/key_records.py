"""Deploy keys fluxops made: what it records about each, never the private half.

A key is an Ed25519 SSH key fluxops generated (``--deploy-key generate`` or a rotation), registered as a
read-only deploy key on one GitHub repository, and given to the Flux configurations that read that
repository through ``configurationProtectedSettings``. Its record says which repository, which GitHub
deploy key, when it was made and which configurations on which clusters use it. The private half is
held only sealed (encrypted with a key from the settings) by the ``KeyRegistry``; it never appears here.

Records are JSON in the registry; ``key_id`` (``dk-`` and ten hex digits) is fluxops' own name for a key,
shown in ``/flux key status`` and taken by ``/flux key rotate --key ID``.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import asdict, dataclass, field, replace
from typing import Any

from bot.models import Secret

#: a key that is in use
ACTIVE = "active"
#: a key made by a job that has not given it to any configuration yet (a create or rotation in flight)
PENDING = "pending"


#: fluxops's name for a key: ``dk-`` and ten hex digits
KEY_ID = re.compile(r"dk-[0-9a-f]{10}")


def key_id_for(job_id: str, purpose: str = "") -> str:
    """The id of the key a job makes: derived from the job, so a resumed job finds the key it made."""
    return "dk-" + hashlib.sha256(f"{job_id}/{purpose}".encode()).hexdigest()[:10]


@dataclass(frozen=True, order=True)
class KeyUser:
    """One Flux configuration using a key: the cluster's ARM id and the configuration's name."""

    cluster_id: str
    config: str
    #: how people name the cluster (inventory alias or cluster name); for messages only
    label: str = field(default="", compare=False)

    @property
    def key(self) -> str:
        """Identity of the user, case-insensitive as ARM is."""
        return f"{self.cluster_id.lower()}/{self.config.lower()}"

    def shown(self) -> str:
        return f"{self.config} on {self.label or self.cluster_id.rsplit('/', 1)[-1]}"


@dataclass(frozen=True)
class DeployKeyRecord:
    key_id: str
    #: the source URL as the configurations name it (ssh://git@github.com/org/repo)
    repository: str
    #: "github.com" (or a GitHub Enterprise host) and "org/repo"
    host: str
    full_name: str
    fingerprint: str  # SHA256:... as ssh-keygen -lf prints it
    public_key: str  # "ssh-ed25519 AAAA..." (public: safe to show and store)
    created_at: float  # epoch seconds
    github_key_id: int | None = None
    users: tuple[KeyUser, ...] = ()
    state: str = ACTIVE
    #: the key(s) this one replaced, when a rotation made it
    replaces: tuple[str, ...] = ()

    def with_user(self, user: KeyUser) -> DeployKeyRecord:
        kept = tuple(u for u in self.users if u.key != user.key)
        return replace(self, users=tuple(sorted((*kept, user))))

    def without_user(self, user: KeyUser) -> DeployKeyRecord:
        return replace(self, users=tuple(u for u in self.users if u.key != user.key))

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> DeployKeyRecord:
        data: dict[str, Any] = json.loads(text)
        data["users"] = tuple(KeyUser(**u) for u in data.get("users", ()))
        data["replaces"] = tuple(data.get("replaces", ()))
        return cls(**data)


@dataclass(frozen=True)
class GeneratedKey:
    """A fresh SSH key pair: the private half (OpenSSH PEM text) stays a Secret until it leaves for ARM."""

    private_key: Secret
    public_key: str  # "ssh-ed25519 AAAA..."
    fingerprint: str


#: the role of a credential recorded before roles were kept: only ``--https-key-ref`` was recorded then
HTTPS_KEY = "https_key"


@dataclass(frozen=True)
class CredentialUse:
    """Which configurations were given the secret credential ``ref`` (`--https-key-ref REF`, a bucket's secret
    key, a blob's account key or SAS token, ...), as fluxops recorded it: ARM never returns protected settings,
    so this record is how a rotation finds them and how fluxops knows a configuration holds a secret. ``urls``
    holds, per user (``KeyUser.key``), the source the credential was given for (a URL, or ``ENDPOINT/BUCKET``):
    a rotation re-hands it only while the configuration still reads that source. ``roles`` holds, per user,
    what it was given as (the ``CredentialRefs`` field: ``https_key``, ``sas_token``, ...)."""

    ref: str
    users: tuple[KeyUser, ...] = ()
    urls: tuple[tuple[str, str], ...] = ()
    roles: tuple[tuple[str, str], ...] = ()

    def with_user(self, user: KeyUser, url: str | None = None, role: str = HTTPS_KEY) -> CredentialUse:
        kept = tuple(u for u in self.users if u.key != user.key)
        urls = tuple((k, v) for k, v in self.urls if k != user.key)
        if url is not None:
            urls = tuple(sorted((*urls, (user.key, url))))
        roles = tuple(sorted((*((k, v) for k, v in self.roles if k != user.key), (user.key, role))))
        return replace(self, users=tuple(sorted((*kept, user))), urls=urls, roles=roles)

    def without_user(self, user: KeyUser) -> CredentialUse:
        users = tuple(u for u in self.users if u.key != user.key)
        return replace(
            self,
            users=users,
            urls=tuple((k, v) for k, v in self.urls if k != user.key),
            roles=tuple((k, v) for k, v in self.roles if k != user.key),
        )

    def url_of(self, user: KeyUser) -> str | None:
        """The URL ``user`` was given the credential for (None: recorded before fluxops kept it)."""
        return next((url for key, url in self.urls if key == user.key), None)

    def role_of(self, user: KeyUser) -> str:
        """What ``user`` was given the credential as (``HTTPS_KEY`` when recorded before roles were kept)."""
        return next((role for key, role in self.roles if key == user.key), HTTPS_KEY)

    def used_by(self, user: KeyUser) -> bool:
        return any(u.key == user.key for u in self.users)

    def to_json(self) -> str:
        return json.dumps(asdict(self), sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> CredentialUse:
        data: dict[str, Any] = json.loads(text)
        return cls(
            ref=data["ref"],
            users=tuple(KeyUser(**u) for u in data.get("users", ())),
            urls=tuple((str(k), str(v)) for k, v in data.get("urls", ())),
            roles=tuple((str(k), str(v)) for k, v in data.get("roles", ())),
        )
