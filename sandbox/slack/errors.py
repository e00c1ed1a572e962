"""How the fake answers a refused call: Slack's ``{"ok": false, "error": ...}`` with an HTTP status."""

from __future__ import annotations

from typing import Any


class SlackError(Exception):
    """A refusal in Slack's words. Web API methods answer HTTP 200 for most of them, as Slack does."""

    def __init__(
        self,
        error: str,
        *,
        status: int = 200,
        extra: dict[str, Any] | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(error)
        self.error = error
        self.status = status
        self.extra = dict(extra or {})
        self.headers = dict(headers or {})

    def body(self) -> dict[str, Any]:
        return {"ok": False, "error": self.error, **self.extra}


def invalid_blocks(errors: list[str]) -> SlackError:
    """``invalid_blocks`` with the per-field reasons Slack lists in ``errors`` and ``response_metadata``."""
    return SlackError(
        "invalid_blocks",
        extra={"errors": errors, "response_metadata": {"messages": [f"[ERROR] {e}" for e in errors]}},
    )
