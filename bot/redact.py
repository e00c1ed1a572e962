"""Masking secrets in text bound for audit records, logs and error replies.

The grammar refuses secrets, but people paste them anyway (a private key after ``--ssh-private-key``, a
token in a URL), and the text they typed is what audit and logs keep. ``redact`` replaces every
secret-looking value with ``***``:

- the value of a secret-ish flag: ``--ssh-private-key``, ``--https-key``, ``--password``, any
  ``--*-key``, ``--*token*``, ``--*secret*``, protected settings (all their ``KEY=VALUE`` words);
  flags naming a credential (``--https-key-ref``) or an identity (``--mi-client-id``) are not secret;
- PEM blocks (``-----BEGIN ... -----END ...-----``, or to the end of the text when unterminated);
- tokens: GitHub (``ghp_``, ``gho_``, ``ghu_``, ``ghs_``, ``ghr_``, ``github_pat_``), Slack (``xox?-``,
  ``xapp-``), ``Bearer``/``Basic`` credentials, the password in ``scheme://user:password@host``;
- ``KEY=VALUE`` secrets: Azure SAS ``sig=``, ``AccountKey=``, ``password=``, ``token=``, ...;
- long random-looking strings: hex or base64 runs over 32 characters, except the git SHA after
  ``--commit``, the digest after ``--digest`` or ``sha256:``, and SSH key fingerprints (``SHA256:`` and 43
  base64 characters): not secrets, and worth keeping.

Over-masking a long path is the accepted price of never printing a token.
"""

from __future__ import annotations

import re

MASK = "***"

#: flags whose value is a secret even though their name does not say "key", "token" or "secret"
_SECRET_FLAGS = frozenset(
    {
        "--ssh-private-key-file",
        "--known-hosts",
        "--known-hosts-file",
        "--client-certificate",
        "--client-certificate-file",
        "--pat",
        "--private-key",
        "--private-key-file",
        "--connection-string",
        "--credentials",
    }
)
#: flags followed by several secret ``KEY=VALUE`` words
_SECRET_MULTI_FLAGS = frozenset(
    {
        "--config-protected",
        "--config-protected-settings",
        "--configuration-protected-settings",
        "--config-protected-file",
        "--configuration-protected-settings-file",
        "--protected-settings",
    }
)
_SECRET_WORDS = ("token", "secret", "password", "passwd", "passphrase")
#: suffixes of flags that name or identify a credential rather than hold one
_SAFE_SUFFIXES = ("-ref", "-id", "-name", "-type", "-args")
_SAFE_FLAGS = frozenset({"--deploy-key"})
#: the id fluxops gives a deploy key it made (bot.key_records): shown, audited, never secret
_KEY_ID = re.compile(r"(?i)dk-[0-9a-f]{10}")

_FLAG = re.compile(r"(?<!\S)(--?[A-Za-z][A-Za-z0-9_-]*)(=)?")
#: opening quote -> closing quote (Slack's "smart" quotes included)
_QUOTES = {
    '"': '"',
    "'": "'",
    "\u201c": "\u201d",
    "\u201d": "\u201d",
    "\u2018": "\u2019",
    "\u2019": "\u2019",
    "\u201e": "\u201c",
}

_PEM = re.compile(r"-----BEGIN[ A-Z0-9]*-----[\s\S]*?(?:-----END[ A-Z0-9]*-----|\Z)")
_GITHUB_TOKEN = re.compile(r"(?:gh[pousr]_[A-Za-z0-9]{16,}|github_pat_[A-Za-z0-9_]{16,})")
_SLACK_TOKEN = re.compile(r"(?:xox[abprse]-[A-Za-z0-9-]{6,}|xapp-[A-Za-z0-9-]{6,})")
_KEY_VALUE = re.compile(
    r"(?i)(?<![A-Za-z0-9])(?:sig|password|passwd|pwd|secret|client_?secret|token|access_?token|refresh_?token"
    r"|api_?key|account_?key|shared_?access_?key|shared_?access_?signature|private_?key)"
    # a Python repr's ``private_key=None`` holds no secret
    r"=(?!None(?:[,)\s]|$))([^\s&;\"'<>|]+)"
)
_URL_PASSWORD = re.compile(r"(?i)\b[a-z][a-z0-9+.-]*://[^\s/?#@:]*:([^\s/?#@]+)@")
_AUTH_HEADER = re.compile(r"(?i)\b(?:bearer|basic)\s+([A-Za-z0-9._~+/-]{16,}=*)")
_LONG_HEX = re.compile(r"(?<![0-9A-Za-z])[0-9a-fA-F]{33,}(?![0-9A-Za-z])")
_LONG_RUN = re.compile(r"[A-Za-z0-9+/_-]{33,}={0,2}")
_RUN_SEGMENTS = re.compile(r"[+/_-]")
_DIGEST = re.compile(r"(?i)\bsha(?:1|256|384|512):([0-9a-f]{32,})")
#: an SSH key fingerprint as ssh-keygen -lf prints it: a digest of a public key, safe to show
_SSH_FINGERPRINT = re.compile(r"\bSHA256:([A-Za-z0-9+/]{43})(?![A-Za-z0-9+/=])")
_EXEMPT_FLAGS = frozenset({"--commit", "--digest"})
#: what any of the patterns above needs to match at all: a flag, a PEM header, a token prefix, ``=``, ``@``, an
#: auth scheme, or a run long enough for a GitHub token (20) or a random string (33). Text without any of these
#: (most log lines, most messages) holds nothing to mask and skips the full scan; keep it in step with the
#: patterns (tests/bot/test_redact_fast_path.py checks it against them).
_MAYBE_SECRET = re.compile(
    r"(?<!\S)-|-----BEGIN|xox|xapp-|[=@]|(?i:bearer|basic)\s|[A-Za-z0-9_]{20}|[A-Za-z0-9+/_-]{33}"
)
_SURE_SIGNS = (
    (_PEM, "a private key"),
    (_GITHUB_TOKEN, "a GitHub token"),
    (_SLACK_TOKEN, "a Slack token"),
    (_URL_PASSWORD, "a password in a URL"),
    (_KEY_VALUE, "a secret `KEY=VALUE` (password, token, key or SAS `sig=`)"),
)


def is_secret_flag(flag: str) -> bool:
    """True for a flag whose value is a secret (``--https-key``, ``--sas-token``, ``--password``, ...)."""
    name = "--" + flag.lower().replace("_", "-").lstrip("-")
    if name in _SECRET_FLAGS or name in _SECRET_MULTI_FLAGS:
        return True
    if name in _SAFE_FLAGS or name.endswith(_SAFE_SUFFIXES):
        return False
    return name.endswith("-key") or any(word in name for word in _SECRET_WORDS)


def kind_of_secret(text: str) -> str | None:
    """What unmistakable secret ``text`` holds ("a private key", "a GitHub token", ...), or None.

    Only the sure signs count (no guessing from randomness), so a refusal is never a false alarm.
    """
    for pattern, kind in _SURE_SIGNS:
        if pattern.search(text):
            return kind
    return None


def _flag_key(flag: str) -> str:
    return "--" + flag.lower().replace("_", "-").lstrip("-")


def _value_span(text: str, start: int) -> tuple[int, int] | None:
    """The word starting at ``start`` (a quoted string counts as one word), or None if it is a flag."""
    if start >= len(text) or text[start].isspace():
        return None
    first = text[start]
    if first == "-" and len(text) > start + 1 and (text[start + 1].isalpha() or text[start + 1] == "-"):
        # another flag, not a value; "-----BEGIN" is a value (the PEM rule masks it anyway)
        rest = text[start:].lstrip("-")
        if rest[:5] != "BEGIN":
            return None
    end = start
    if first in _QUOTES:
        close = text.find(_QUOTES[first], start + 1)
        end = len(text) if close < 0 else close + 1
    while end < len(text) and not text[end].isspace():
        end += 1
    return start, end


def _flag_spans(text: str) -> tuple[list[tuple[int, int]], list[tuple[int, int]]]:
    """Spans of secret flag values, and spans exempt from the random-string rules (--commit SHA)."""
    secret: list[tuple[int, int]] = []
    exempt: list[tuple[int, int]] = []
    for match in _FLAG.finditer(text):
        key = _flag_key(match.group(1))
        is_exempt = key in _EXEMPT_FLAGS
        if not is_exempt and not is_secret_flag(key):
            continue
        pos = match.end()
        if match.group(2) is None:
            while pos < len(text) and text[pos].isspace():
                pos += 1
        many = key in _SECRET_MULTI_FLAGS
        while (span := _value_span(text, pos)) is not None:
            if key == "--key" and _KEY_ID.fullmatch(text[span[0] : span[1]]):
                break  # `key rotate --key dk-0123456789`: fluxops' name for a deploy key, not a key
            (exempt if is_exempt else secret).append(span)
            if not many:
                break
            pos = span[1]
            while pos < len(text) and text[pos].isspace():
                pos += 1
    return secret, exempt


def _random_looking(run: str) -> bool:
    """A run of base64/hex characters that has a long stretch mixing letters and digits."""
    for segment in _RUN_SEGMENTS.split(run.rstrip("=")):
        if len(segment) >= 20 and any(c.isdigit() for c in segment) and any(c.isalpha() for c in segment):
            return True
    return False


def _inside(span: tuple[int, int], areas: list[tuple[int, int]]) -> bool:
    return any(start <= span[0] and span[1] <= end for start, end in areas)


def secret_spans(text: str) -> list[tuple[int, int]]:
    """Sorted, non-overlapping (start, end) spans of the secret-looking values in ``text``."""
    if not _MAYBE_SECRET.search(text):
        return []
    spans, exempt = _flag_spans(text)
    exempt.extend(m.span(1) for m in _DIGEST.finditer(text))
    exempt.extend(m.span(1) for m in _SSH_FINGERPRINT.finditer(text))
    for whole in (_PEM, _GITHUB_TOKEN, _SLACK_TOKEN):
        spans.extend(m.span() for m in whole.finditer(text))
    for pattern in (_KEY_VALUE, _URL_PASSWORD, _AUTH_HEADER):
        spans.extend(m.span(1) for m in pattern.finditer(text))
    for match in _LONG_HEX.finditer(text):
        if not _inside(match.span(), exempt):
            spans.append(match.span())
    for match in _LONG_RUN.finditer(text):
        if _random_looking(match.group()) and not _inside(match.span(), exempt):
            spans.append(match.span())
    merged: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


def secret_values(text: str) -> list[str]:
    """The secret-looking values in ``text`` (surrounding quotes removed), as ``redact`` would mask them."""
    values = []
    for start, end in secret_spans(text):
        value = text[start:end]
        if len(value) >= 2 and value[0] in _QUOTES and value[-1] == _QUOTES[value[0]]:
            value = value[1:-1]
        values.append(value)
    return values


def redact(text: str) -> str:
    """``text`` with every secret-looking value replaced by ``***``."""
    out: list[str] = []
    last = 0
    for start, end in secret_spans(text):
        out.append(text[last:start])
        out.append(MASK)
        last = end
    out.append(text[last:])
    return "".join(out)
