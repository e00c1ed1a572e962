"""bot.redact skips its full scan for text that cannot hold a secret (most log lines); the skip must never
hide one: whatever the pre-check passes over, the full scan finds nothing in either."""

from __future__ import annotations

import re
from unittest.mock import patch

from hypothesis import given, settings
from hypothesis import strategies as st

from bot import redact

#: the characters the patterns care about, and words that start them, so generated text comes near them
PIECES = st.sampled_from(
    ["-", "--", "=", "@", ":", "/", "+", "_", " ", "\n", "ghp_", "xoxb-", "xapp-", "Bearer ", "basic ", "BEGIN",
     "-----BEGIN KEY-----", "sig=", "https://u:p@h", "--https-key", "--config-protected", "sha256:", "--commit"]
)  # fmt: skip
TEXT = st.lists(st.one_of(PIECES, st.text(alphabet="abcXYZ0189-_/+= ", max_size=40)), max_size=12).map("".join)


@settings(max_examples=3000, deadline=None)
@given(TEXT)
def test_text_the_pre_check_passes_over_has_nothing_to_mask(text: str) -> None:
    if not redact._MAYBE_SECRET.search(text):
        with patch.object(redact, "_MAYBE_SECRET", re.compile("")):  # matches everything: the full scan
            assert redact.secret_spans(text) == []


def test_plain_log_text_skips_the_scan_and_secrets_do_not() -> None:
    for plain in ("job j-0123456789ab enqueued", "lock flux/demo-arc/cluster-config held", "route /webhooks/github"):
        assert not redact._MAYBE_SECRET.search(plain)
    for secret in ("token ghp_" + "a1" * 10, "sig=abc", "https://u:pw@host", "--https-key hunter2"):
        assert redact._MAYBE_SECRET.search(secret)
        assert redact.redact(secret) != secret
