"""ARM-style errors: every failure the emulator reports is one of these, rendered as ARM renders it."""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web


class ArmError(Exception):
    """An error ARM would answer with ``{"error": {"code", "message"}}`` and ``status``."""

    def __init__(self, status: int, code: str, message: str, *, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.code = code
        self.message = message
        self.headers = headers or {}

    def body(self) -> dict[str, Any]:
        return {"error": {"code": self.code, "message": self.message}}

    def response(self) -> web.Response:
        return web.Response(
            status=self.status,
            text=json.dumps(self.body()),
            content_type="application/json",
            headers=self.headers,
        )


def bad_request(message: str, code: str = "InvalidRequestContent") -> ArmError:
    return ArmError(400, code, message)


def not_found(kind: str, name: str, resource_group: str) -> ArmError:
    return ArmError(
        404,
        "ResourceNotFound",
        f"The Resource '{kind}/{name}' under resource group '{resource_group}' was not found. "
        "For more details please go to https://aka.ms/ARMResourceNotFoundFix",
    )


def conflict(message: str, code: str = "Conflict") -> ArmError:
    return ArmError(409, code, message)
