"""GitAccess: deploy keys, tokens, and the answers a git server gives to a clone."""

from __future__ import annotations

import base64
import subprocess
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519, rsa

from sandbox.git_access import DeployKeyError, GitAccess, public_key_of
from sandbox.gitrepos import RepoHandle, RepoStore

SLUG = "org/private-gitops"
SSH_URL = "ssh://git@github.com/org/private-gitops"


def make_key(kind: str = "ed25519", fmt: str = "openssh") -> tuple[str, str]:
    """(private key text, OpenSSH public key line), generated now: no key lives in the repo."""
    key: ed25519.Ed25519PrivateKey | rsa.RSAPrivateKey | ec.EllipticCurvePrivateKey
    if kind == "rsa":
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    elif kind == "ecdsa":
        key = ec.generate_private_key(ec.SECP256R1())
    else:
        key = ed25519.Ed25519PrivateKey.generate()
    private_format = {
        "openssh": serialization.PrivateFormat.OpenSSH,
        "pkcs8": serialization.PrivateFormat.PKCS8,
        "traditional": serialization.PrivateFormat.TraditionalOpenSSL,
    }[fmt]
    private = key.private_bytes(serialization.Encoding.PEM, private_format, serialization.NoEncryption())
    public = key.public_key().public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH)
    return private.decode(), public.decode()


@pytest.fixture
def store(tmp_path: Path) -> RepoStore:
    repos = RepoStore(tmp_path / "repos")
    repos.create_repo(SLUG, {"README.md": "x"}, private=True)
    repos.create_repo("org/public", {"README.md": "x"}, private=False)
    return repos


def handle(store: RepoStore, url: str) -> RepoHandle:
    found = store.resolve_url(url)
    assert found is not None
    return found


@pytest.mark.parametrize(
    ("kind", "fmt"),
    [
        ("ed25519", "openssh"),
        ("ed25519", "pkcs8"),
        ("rsa", "openssh"),
        ("rsa", "traditional"),
        ("ecdsa", "pkcs8"),
    ],
)
def test_registered_key_may_clone(store: RepoStore, kind: str, fmt: str) -> None:
    access = GitAccess()
    private, public = make_key(kind, fmt)
    access.add_deploy_key("github.com", SLUG, public + " flux@cluster", title="flux")
    for given in (private, base64.b64encode(private.encode()).decode()):
        result = access.check_ssh(handle(store, SSH_URL), given)
        assert result.ok
        assert result.method == "ssh-key"
        assert result.fingerprint == public_key_of(private)[1]


def test_fingerprint_matches_ssh_keygen(tmp_path: Path) -> None:
    private, public = make_key("ed25519")
    (tmp_path / "key.pub").write_text(public + "\n")
    printed = subprocess.run(
        ["ssh-keygen", "-lf", str(tmp_path / "key.pub")], capture_output=True, text=True, check=True
    ).stdout.split()[1]
    assert public_key_of(private)[1] == printed


def test_ssh_refusals_read_like_flux(store: RepoStore) -> None:
    access = GitAccess()
    _private, public = make_key()
    other_private, _ = make_key()
    access.add_deploy_key("github.com", SLUG, public, title="flux")
    h = handle(store, SSH_URL)

    none = access.check_ssh(h, None)
    assert not none.ok
    assert none.fingerprint is None
    assert none.message == (
        "failed to checkout and determine revision: unable to clone "
        "'ssh://git@github.com/org/private-gitops': ssh: handshake failed: ssh: unable to authenticate, "
        "attempted methods [none], no supported methods remain"
    )
    wrong = access.check_ssh(h, other_private)
    assert not wrong.ok
    assert wrong.fingerprint == public_key_of(other_private)[1]
    assert wrong.message.endswith("attempted methods [none publickey], no supported methods remain")
    # GitHub wants a key over SSH even for a public repository.
    assert not access.check_ssh(handle(store, "git@github.com:org/public.git"), None).ok


def test_bad_and_encrypted_private_keys(store: RepoStore, tmp_path: Path) -> None:
    access = GitAccess()
    h = handle(store, SSH_URL)
    assert access.check_ssh(h, "bm90IGEga2V5").message.endswith("ssh: no key found")
    assert access.check_ssh(h, "-----BEGIN OPENSSH PRIVATE KEY-----\ngarbage\n").message.endswith("no key found")
    pkcs8 = (
        ed25519.Ed25519PrivateKey.generate()
        .private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.BestAvailableEncryption(b"passphrase"),
        )
        .decode()
    )
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "passphrase", "-f", str(tmp_path / "k")], check=True)
    openssh = (tmp_path / "k").read_text()
    for encrypted in (pkcs8, openssh):
        assert access.check_ssh(h, encrypted).message.endswith("ssh: this private key is passphrase protected")


def test_deploy_key_lifecycle() -> None:
    access = GitAccess()
    _, public = make_key()
    _, second = make_key()
    first_id = access.add_deploy_key("github.com", "Org/Repo", public + " comment", title="one")
    second_id = access.add_deploy_key("github.com", "org/repo", second, title="two", read_only=False)
    keys = access.deploy_keys("GITHUB.COM", "org/repo")
    assert [(k.id, k.title, k.read_only) for k in keys] == [
        (first_id, "one", True),
        (second_id, "two", False),
    ]
    assert keys[0].key == public  # comment dropped
    assert keys[0].fingerprint.startswith("SHA256:")
    with pytest.raises(DeployKeyError, match="already in use"):
        access.add_deploy_key("github.com", "org/other", public, title="again")
    with pytest.raises(DeployKeyError, match="key is invalid"):
        access.add_deploy_key("github.com", "org/repo", "ssh-ed25519 not-base64!", title="bad")
    assert access.remove_deploy_key("github.com", "org/repo", first_id)
    assert not access.remove_deploy_key("github.com", "org/repo", first_id)
    assert [k.id for k in access.deploy_keys("github.com", "org/repo")] == [second_id]


def test_removed_key_no_longer_clones(store: RepoStore) -> None:
    access = GitAccess()
    private, public = make_key()
    key_id = access.add_deploy_key("github.com", SLUG, public, title="flux")
    assert access.check_ssh(handle(store, SSH_URL), private).ok
    access.remove_deploy_key("github.com", SLUG, key_id)
    assert not access.check_ssh(handle(store, SSH_URL), private).ok


def test_https_checks(store: RepoStore) -> None:
    access = GitAccess()
    private_repo = handle(store, "https://github.com/org/private-gitops.git")
    public_repo = handle(store, "https://github.com/org/public")
    assert access.check_https(public_repo, None, None).ok
    denied = access.check_https(private_repo, None, None)
    assert not denied.ok
    assert denied.message == (
        "failed to checkout and determine revision: unable to clone "
        "'https://github.com/org/private-gitops.git': authentication required"
    )
    access.add_token("github.com", SLUG, "flux-bot", "tok-123")
    assert access.check_https(private_repo, "flux-bot", "tok-123").ok
    assert access.check_https(private_repo, "FLUX-BOT", "tok-123").method == "https-token"
    assert not access.check_https(private_repo, "someone", "tok-123").ok
    assert not access.check_https(private_repo, "flux-bot", "tok-999").ok
    assert not access.check_https(private_repo, "", "tok-123").ok
    # Credentials that are sent must be valid, even for a public repository (as on GitHub).
    assert not access.check_https(public_repo, "flux-bot", "tok-123").ok
    assert access.revoke_token("github.com", SLUG, "tok-123")
    assert not access.revoke_token("github.com", SLUG, "tok-123")
    assert not access.check_https(private_repo, "flux-bot", "tok-123").ok


def test_unknown_repositories_look_private() -> None:
    access = GitAccess()
    private, _ = make_key()
    assert access.check_unknown("https://github.com/org/nope", ssh_key=None, token=None).message.endswith(
        "authentication required"
    )
    assert access.check_unknown("https://github.com/org/nope", ssh_key=None, token="t").message.endswith(
        "repository not found"
    )
    refused = access.check_unknown("git@github.com:org/nope.git", ssh_key=private, token=None)
    assert not refused.ok
    assert refused.fingerprint is not None
    assert "[none publickey]" in refused.message


def test_no_secret_in_any_result(store: RepoStore) -> None:
    access = GitAccess()
    private, public = make_key("rsa")
    encoded = base64.b64encode(private.encode()).decode()
    access.add_deploy_key("github.com", SLUG, public, title="flux")
    access.add_token("github.com", SLUG, "bot", "super-secret-token")
    h = handle(store, SSH_URL)
    results = [
        access.check_ssh(h, private),
        access.check_ssh(h, encoded),
        access.check_ssh(handle(store, "ssh://git@github.com/org/public"), private),
        access.check_https(handle(store, "https://github.com/org/private-gitops"), "bot", "super-secret-token"),
        access.check_https(handle(store, "https://github.com/org/private-gitops"), "bot", "wrong-secret-token"),
        access.check_https(handle(store, "https://bot:super-secret-token@github.com/org/private-gitops"), None, None),
    ]
    text = repr(results) + repr(access.deploy_keys("github.com", SLUG)) + repr(vars(access))
    body = "".join(private.splitlines()[1:-1])
    for secret in (body[:40], body[-40:], encoded[:40], "super-secret-token", "wrong-secret-token"):
        assert secret not in text
