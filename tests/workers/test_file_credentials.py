"""Credentials read from files: the secret comes back as a Secret and never shows in reprs or errors."""

from __future__ import annotations

import os
import pwd
import tempfile
import traceback
from collections.abc import Callable
from pathlib import Path

import pytest

from bot.errors import ConfigurationError, FluxopsError, NotFound
from bot.models import Secret
from bot.ports import Credentials
from workers.file_credentials import FileCredentials

VALUE = "glpat-s3cr3t-value"


@pytest.fixture
def files(tmp_path: Path) -> dict[str, Path]:
    contents = {
        "plain": VALUE,
        "newline": VALUE + "\n",
        "crlf": VALUE + "\r\n",
        "inner": "line1\nline2\n",
        "empty": "",
        "only-newline": "\n",
    }
    paths = {}
    for name, text in contents.items():
        path = tmp_path / name
        path.write_bytes(text.encode())
        paths[name] = path
    (tmp_path / "binary").write_bytes(b"\xff\xfe" + VALUE.encode())
    paths["binary"] = tmp_path / "binary"
    paths["missing"] = tmp_path / "does-not-exist"
    return paths


def test_it_is_a_credentials_port(files):
    port: Credentials = FileCredentials(entries=files)
    assert isinstance(port.get("plain"), Secret)


@pytest.mark.parametrize(
    ("name", "value"),
    [("plain", VALUE), ("newline", VALUE), ("crlf", VALUE), ("inner", "line1\nline2")],
)
def test_get_reads_the_file_without_its_trailing_newline(files, name, value):
    assert FileCredentials(entries=files).get(name).reveal() == value


def test_a_rotated_file_is_read_again(files):
    creds = FileCredentials(entries=files)
    assert creds.get("plain").reveal() == VALUE
    files["plain"].write_text("rotated\n")
    assert creds.get("plain").reveal() == "rotated"


def test_unknown_name_lists_the_known_names_only(files):
    creds = FileCredentials(entries={"a-token": files["plain"], "b-token": files["newline"]})
    with pytest.raises(NotFound) as caught:
        creds.get("c-token")
    assert caught.value.message == "fluxops holds no credential named 'c-token' (it holds: 'a-token', 'b-token')"
    assert "FLUXOPS_CONFIG" in caught.value.recommendation
    assert VALUE not in caught.value.user_text()


def test_no_credentials_at_all(files):
    with pytest.raises(NotFound, match=r"\(it holds: none\)"):
        FileCredentials(entries={}).get("x")


@pytest.mark.parametrize(
    ("name", "phrase"),
    [
        ("missing", "No such file or directory"),
        ("binary", "not UTF-8 text"),
        ("empty", "the file is empty"),
        ("only-newline", "the file is empty"),
    ],
)
def test_unreadable_files_are_named_not_shown(files, name, phrase):
    with pytest.raises(ConfigurationError) as caught:
        FileCredentials(entries=files).get(name)
    error = caught.value
    assert error.message.startswith(f"reading credential '{name}' from {files[name]}: ")
    assert phrase in error.message
    shown = "".join(traceback.format_exception(error))
    assert VALUE not in shown
    assert error.__cause__ is None
    assert error.__context__ is None or error.__suppress_context__


def _as_unprivileged(read: Callable[[], object]) -> str:
    """What ``read`` raised, as "Type: message" ("" when it raised nothing), run as a user the file's mode
    applies to: in this process normally, in a forked child that dropped to nobody when the tests run as root
    (root reads files whatever their mode, so the check would prove nothing)."""
    if os.geteuid() != 0:
        try:
            read()
        except Exception as error:
            return f"{type(error).__name__}: {error}"
        return ""
    nobody = pwd.getpwnam("nobody")
    reader, writer = os.pipe()
    child = os.fork()
    if child == 0:  # pragma: no cover - the child reports through the pipe and never returns
        outcome = ""
        try:
            os.setgroups([])
            os.setgid(nobody.pw_gid)
            os.setuid(nobody.pw_uid)
            read()
        except Exception as error:
            outcome = f"{type(error).__name__}: {error}"
        os.write(writer, outcome.encode())
        os._exit(0)
    os.close(writer)
    with os.fdopen(reader, "rb") as pipe:
        outcome = pipe.read().decode()
    _, status = os.waitpid(child, 0)
    assert os.waitstatus_to_exitcode(status) == 0
    return outcome


def test_a_file_without_read_permission():
    # a directory of its own that anyone may enter (the tests' tmp_path is private to their user when root)
    with tempfile.TemporaryDirectory() as folder:
        Path(folder).chmod(0o755)
        path = Path(folder) / "plain"
        path.write_text(VALUE)
        path.chmod(0)
        outcome = _as_unprivileged(lambda: FileCredentials(entries={"plain": path}).get("plain"))
    assert outcome.startswith("ConfigurationError: ") and "Permission denied" in outcome
    assert VALUE not in outcome


def test_reprs_never_show_the_secret(files):
    creds = FileCredentials(entries=files)
    secret = creds.get("plain")
    for text in (repr(creds), str(creds), repr(secret), str(secret), f"{secret}"):
        assert VALUE not in text
    assert "plain" in repr(creds)


def test_errors_are_fluxops_errors(files):
    for name in ("missing", "nope"):
        with pytest.raises(FluxopsError):
            FileCredentials(entries=files).get(name)
