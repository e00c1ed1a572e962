"""known_hosts parsing and matching, the sandbox's SSH host keys, and the deploy-key fault in GitAccess."""

from __future__ import annotations

import base64
import hashlib
import hmac
import subprocess
import threading
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519

from sandbox.git_access import GitAccess
from sandbox.gitrepos import RepoStore
from sandbox.known_hosts import KnownHostsError, check_host_key, hosts_match, parse_known_hosts

MISMATCH = "ssh: handshake failed: knownhosts: key mismatch"
UNKNOWN = "ssh: handshake failed: knownhosts: key is unknown"
SLUG = "org/private-gitops"
SSH_URL = "ssh://git@github.com/org/private-gitops"


def b64(text: str) -> str:
    return base64.b64encode(text.encode()).decode()


def other_key() -> str:
    """An Ed25519 public key line that is no host's key."""
    public = ed25519.Ed25519PrivateKey.generate().public_key()
    return public.public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH).decode()


def make_key() -> tuple[str, str]:
    key = ed25519.Ed25519PrivateKey.generate()
    private = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.OpenSSH, serialization.NoEncryption()
    ).decode()
    public = key.public_key().public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH)
    return private, public.decode()


def hashed(address: str, salt: bytes = b"0123456789abcdefghij") -> str:
    digest = hmac.new(salt, address.encode(), hashlib.sha1).digest()
    return f"|1|{base64.b64encode(salt).decode()}|{base64.b64encode(digest).decode()}"


@pytest.fixture
def access() -> GitAccess:
    return GitAccess()


# -- host keys ----------------------------------------------------------------------------------------


def test_host_keys_are_openssh_lines_made_once_per_host(access: GitAccess) -> None:
    keys = access.host_keys("github.com")
    assert len(keys) == 1
    key_type, encoded = keys[0].split()  # no comment
    assert key_type == "ssh-ed25519"
    serialization.load_ssh_public_key(keys[0].encode())
    assert base64.b64decode(encoded)[4:15] == b"ssh-ed25519"
    assert access.host_keys("GitHub.com") == keys
    assert access.host_keys("ssh.dev.azure.com") != keys
    assert GitAccess().host_keys("github.com") != keys  # per GitAccess, never a fixed key


def test_host_keys_are_made_once_under_concurrency(access: GitAccess) -> None:
    seen: list[list[str]] = []
    barrier = threading.Barrier(16)

    def read() -> None:
        barrier.wait()
        seen.append(access.host_keys("github.com"))

    threads = [threading.Thread(target=read) for _ in range(16)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(seen) == 16
    assert all(keys == seen[0] for keys in seen)


# -- check_known_hosts ------------------------------------------------------------------------------


def test_plain_entry_trusts_the_host(access: GitAccess) -> None:
    key = access.host_keys("github.com")[0]
    assert access.check_known_hosts("github.com", None, b64(f"github.com {key}\n")) is None
    assert access.check_known_hosts("github.com", 22, b64(f"# from ssh-keyscan\n\ngithub.com {key} comment\n")) is None
    assert access.check_known_hosts("github.com", None, b64(f"gitlab.com,github.com {key}")) is None


def test_unlisted_host_is_unknown_and_other_keys_are_a_mismatch(access: GitAccess) -> None:
    key = access.host_keys("github.com")[0]
    assert access.check_known_hosts("github.com", None, b64(f"gitlab.com {key}")) == UNKNOWN
    assert access.check_known_hosts("github.com", None, b64("")) == UNKNOWN
    assert access.check_known_hosts("github.com", None, b64(f"github.com {other_key()}")) == MISMATCH
    # Another host's key (the sandbox's ssh.dev.azure.com) is a mismatch for github.com.
    azure = access.host_keys("ssh.dev.azure.com")[0]
    assert access.check_known_hosts("github.com", None, b64(f"github.com {azure}")) == MISMATCH
    # One right line among wrong ones for the host is enough.
    both = f"github.com {other_key()}\ngithub.com {key}\n"
    assert access.check_known_hosts("github.com", None, b64(both)) is None


def test_non_default_port_needs_a_bracketed_entry(access: GitAccess) -> None:
    key = access.host_keys("github.com")[0]
    assert access.check_known_hosts("github.com", 2222, b64(f"[github.com]:2222 {key}")) is None
    assert access.check_known_hosts("github.com", 2222, b64(f"github.com {key}")) == UNKNOWN
    assert access.check_known_hosts("github.com", None, b64(f"[github.com]:2222 {key}")) == UNKNOWN
    assert access.check_known_hosts("github.com", 22, b64(f"[github.com]:22 {key}")) is None


@pytest.mark.parametrize(
    ("patterns", "host", "port", "expected"),
    [
        ("*", "github.com", None, True),
        ("*.com", "github.com", None, True),
        ("git*.com", "github.com", None, True),
        ("githu?.com", "github.com", None, True),
        ("githu?.com", "githuub.com", None, False),
        ("*.github.com", "github.com", None, False),
        ("[*.com]:2222", "github.com", 2222, True),
        ("*", "github.com", 2222, False),  # a pattern without a port is for port 22
        ("*.com,!github.com", "github.com", None, False),
        ("!gitlab.com,*.com", "github.com", None, True),
        ("GitHub.COM", "github.com", None, True),
        (hashed("github.com"), "github.com", None, True),
        (hashed("github.com"), "gitlab.com", None, False),
        (hashed("[github.com]:2222"), "github.com", 2222, True),
        (hashed("[github.com]:2222"), "github.com", None, False),
        ("|1|not|hashed|", "github.com", None, False),
    ],
)
def test_host_patterns(patterns: str, host: str, port: int | None, expected: bool) -> None:
    assert hosts_match(patterns, host, port) is expected


def test_glob_entry_trusts_the_host(access: GitAccess) -> None:
    key = access.host_keys("github.com")[0]
    assert access.check_known_hosts("github.com", None, b64(f"*.com {key}")) is None
    assert access.check_known_hosts("github.com", None, b64(f"*.example {key}")) == UNKNOWN


def test_hashed_entries_as_ssh_keygen_writes_them(access: GitAccess, tmp_path: Path) -> None:
    key = access.host_keys("github.com")[0]
    plain = tmp_path / "known_hosts"
    plain.write_text(f"github.com {key}\n[github.com]:2222 {key}\ngitlab.com {other_key()}\n")
    subprocess.run(["ssh-keygen", "-H", "-f", str(plain)], capture_output=True, check=True)
    text = plain.read_text()
    assert "github.com" not in text and text.count("|1|") == 3
    assert access.check_known_hosts("github.com", None, b64(text)) is None
    assert access.check_known_hosts("github.com", 2222, b64(text)) is None
    assert access.check_known_hosts("github.com", 2200, b64(text)) == UNKNOWN
    wrong = text.replace(key.split()[1], other_key().split()[1])
    assert access.check_known_hosts("github.com", None, b64(wrong)) == MISMATCH


def test_revoked_key_is_refused_and_cert_authority_lines_are_skipped(access: GitAccess) -> None:
    key = access.host_keys("github.com")[0]
    revoked = f"github.com {key}\n@revoked * {key}\n"
    assert access.check_known_hosts("github.com", None, b64(revoked)) == MISMATCH
    # A revoked key is revoked whatever host the @revoked line names (as in Go's knownhosts).
    assert access.check_known_hosts("github.com", None, b64(f"github.com {key}\n@revoked gitlab.com {key}")) == MISMATCH
    other_revoked = f"github.com {key}\n@revoked github.com {other_key()}\n"
    assert access.check_known_hosts("github.com", None, b64(other_revoked)) is None
    assert access.check_known_hosts("github.com", None, b64(f"@cert-authority github.com {key}")) == UNKNOWN
    ca_and_plain = f"@cert-authority *.com {other_key()}\ngithub.com {key}\n"
    assert access.check_known_hosts("github.com", None, b64(ca_and_plain)) is None


def test_bad_known_hosts(access: GitAccess) -> None:
    key = access.host_keys("github.com")[0]
    for not_base64 in ("github.com ssh-ed25519 AAAA", "!!!", base64.b64encode(b"\xff\xfe").decode()):
        assert access.check_known_hosts("github.com", None, not_base64) == "invalid known_hosts: not base64"
    assert access.check_known_hosts("github.com", None, b64("github.com\n")) == (
        "knownhosts: line 1: missing host pattern"
    )
    assert access.check_known_hosts("github.com", None, b64(f"# c\ngithub.com {key.split()[0]}")) == (
        "knownhosts: line 2: missing key type pattern"
    )
    assert access.check_known_hosts("github.com", None, b64("github.com ssh-ed25519 %%%")) == (
        "knownhosts: line 1: illegal base64 data in the key"
    )
    # A good line does not save a file with a bad one: Go refuses the whole file.
    bad_type = f"github.com {key}\ngithub.com ssh-rsa {key.split()[1]}\n"
    assert access.check_known_hosts("github.com", None, b64(bad_type)) == (
        "knownhosts: line 2: the key is not a ssh-rsa public key"
    )


def test_parse_known_hosts_keeps_markers_and_fields() -> None:
    key = other_key()
    entries = parse_known_hosts(f"# c\n@revoked a {key}\n@cert-authority *.b {key} ca\nc,d {key}\n")
    assert [(e.line, e.marker, e.hosts) for e in entries] == [
        (2, "@revoked", "a"),
        (3, "@cert-authority", "*.b"),
        (4, None, "c,d"),
    ]
    assert {e.key_type for e in entries} == {"ssh-ed25519"}
    with pytest.raises(KnownHostsError, match="hash type 2"):
        parse_known_hosts(f"|2|YQ==|Yg== {key}")
    with pytest.raises(KnownHostsError, match="negation"):
        parse_known_hosts(f"a,! {key}")
    with pytest.raises(KnownHostsError, match="invalid host pattern"):
        parse_known_hosts(f"[a.com] {key}")


def test_check_host_key_verdicts() -> None:
    key_type, encoded = other_key().split()
    offered = [(key_type, base64.b64decode(encoded))]
    entries = parse_known_hosts(f"h {key_type} {encoded}\n")
    assert check_host_key(entries, "h", None, offered) == "ok"
    assert check_host_key(entries, "h", None, []) == "mismatch"
    assert check_host_key(entries, "x", None, offered) == "unknown"
    revoked = parse_known_hosts(f"h {key_type} {encoded}\n@revoked h {key_type} {encoded}\n")
    assert check_host_key(revoked, "h", None, offered) == "revoked"


# -- broken deploy keys -----------------------------------------------------------------------------


@pytest.fixture
def store(tmp_path: Path) -> RepoStore:
    repos = RepoStore(tmp_path / "repos")
    repos.create_repo(SLUG, {"README.md": "x"}, private=True)
    repos.create_repo("org/other", {"README.md": "x"}, private=True)
    return repos


def test_broken_keys_are_listed_but_refused_until_cleared(access: GitAccess, store: RepoStore) -> None:
    handle = store.resolve_url(SSH_URL)
    assert handle is not None
    assert access.break_next_keys("github.com", "Org/Private-Gitops", 2) == 2
    assert access.break_next_keys("github.com", SLUG) == 3
    broken, broken_public = make_key()
    broken_id = access.add_deploy_key("github.com", SLUG, broken_public, title="first")
    assert [k.id for k in access.deploy_keys("github.com", SLUG)] == [broken_id]
    refused = access.check_ssh(handle, broken)
    assert not refused.ok
    assert refused.message.endswith("attempted methods [none publickey], no supported methods remain")
    unknown_private, _ = make_key()
    assert refused.message == access.check_ssh(handle, unknown_private).message  # as an unknown key
    # Another repository's keys are not broken.
    other_private, other_public = make_key()
    access.add_deploy_key("github.com", "org/other", other_public, title="other")
    other = store.resolve_url("git@github.com:org/other.git")
    assert other is not None
    assert access.check_ssh(other, other_private).ok

    access.clear_key_faults()
    assert access.check_ssh(handle, broken).ok
    good, good_public = make_key()
    access.add_deploy_key("github.com", SLUG, good_public, title="after clear")
    assert access.check_ssh(handle, good).ok  # the pending faults went too


def test_broken_fault_counts_down(access: GitAccess, store: RepoStore) -> None:
    handle = store.resolve_url(SSH_URL)
    assert handle is not None
    access.break_next_keys("github.com", SLUG)
    first, first_public = make_key()
    second, second_public = make_key()
    first_id = access.add_deploy_key("github.com", SLUG, first_public, title="broken")
    access.add_deploy_key("github.com", SLUG, second_public, title="fine")
    assert not access.check_ssh(handle, first).ok
    assert access.check_ssh(handle, second).ok
    # Removing and adding the key again registers a new, healthy key.
    access.remove_deploy_key("github.com", SLUG, first_id)
    access.add_deploy_key("github.com", SLUG, first_public, title="again")
    assert access.check_ssh(handle, first).ok
    with pytest.raises(ValueError, match="at least 1"):
        access.break_next_keys("github.com", SLUG, 0)
