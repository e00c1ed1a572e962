"""The answers GitHub gives instead of a resource: status, message, validation errors."""

from __future__ import annotations

from typing import Any

from aiohttp import web

DOCS = "https://docs.github.com/rest"


class ApiError(Exception):
    """An answer GitHub gives instead of the resource: status, message and optional validation errors."""

    def __init__(
        self,
        status: int,
        message: str,
        *,
        errors: list[dict[str, Any]] | None = None,
        doc: str = DOCS,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.status = status
        self.message = message
        self.errors = errors
        self.doc = doc
        self.headers = headers or {}

    def response(self) -> web.Response:
        body: dict[str, Any] = {"message": self.message}
        if self.errors:
            body["errors"] = self.errors
        body["documentation_url"] = self.doc
        body["status"] = str(self.status)
        return web.json_response(body, status=self.status, headers=self.headers)


def not_found() -> ApiError:
    return ApiError(404, "Not Found")


def validation(message: str, *, resource: str, field: str, code: str = "custom") -> ApiError:
    error = {"resource": resource, "code": code, "field": field}
    if code == "custom":
        error["message"] = message
    return ApiError(422, "Validation Failed", errors=[error])
