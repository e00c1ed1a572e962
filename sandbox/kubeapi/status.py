"""Kubernetes ``Status`` failures: every error the sandbox's API server answers is one of these."""

from __future__ import annotations

import json
from typing import Any

from aiohttp import web

from sandbox.kubeapi.store import Resource

_REASONS = {
    400: "BadRequest",
    401: "Unauthorized",
    403: "Forbidden",
    404: "NotFound",
    405: "MethodNotAllowed",
    410: "Expired",
    415: "UnsupportedMediaType",
    422: "Invalid",
    500: "InternalError",
}


class KubeError(Exception):
    """A failure the API server answers with a ``Status`` body and the same ``code``."""

    def __init__(self, code: int, message: str, *, reason: str | None = None, details: dict[str, Any] | None = None):
        super().__init__(message)
        self.code = code
        self.message = message
        self.reason = reason or _REASONS.get(code, "Unknown")
        self.details = details

    def body(self) -> dict[str, Any]:
        return status_body(self.code, self.reason, self.message, self.details)

    def response(self) -> web.Response:
        return web.Response(status=self.code, text=json.dumps(self.body()), content_type="application/json")


def status_body(code: int, reason: str, message: str, details: dict[str, Any] | None = None) -> dict[str, Any]:
    body: dict[str, Any] = {
        "kind": "Status",
        "apiVersion": "v1",
        "metadata": {},
        "status": "Failure",
        "message": message,
        "reason": reason,
        "code": code,
    }
    if details is not None:
        body["details"] = details
    return body


def qualified(resource: Resource) -> str:
    """``gitrepositories.source.toolkit.fluxcd.io``, or ``namespaces`` for the core group, as messages name it."""
    return f"{resource.plural}.{resource.group}" if resource.group else resource.plural


def unauthorized() -> KubeError:
    return KubeError(401, "Unauthorized")


def not_found(resource: Resource, name: str) -> KubeError:
    return KubeError(
        404,
        f'{qualified(resource)} "{name}" not found',
        details={"name": name, "group": resource.group, "kind": resource.plural},
    )


def no_such_path() -> KubeError:
    return KubeError(404, "the server could not find the requested resource", details={})


def method_not_allowed() -> KubeError:
    return KubeError(405, "the server does not allow this method on the requested resource", details={})


def bad_request(message: str) -> KubeError:
    return KubeError(400, message)


def forbidden(user: str, verb: str, resource: Resource, namespace: str | None, name: str | None) -> KubeError:
    """An RBAC denial worded as the API server words it."""
    subject = f'{qualified(resource)} "{name}"' if name else qualified(resource)
    where = f'in the namespace "{namespace}"' if namespace else "at the cluster scope"
    message = (
        f'{subject} is forbidden: User "{user}" cannot {verb} resource "{resource.plural}" '
        f'in API group "{resource.group}" {where}'
    )
    details: dict[str, Any] = {"group": resource.group, "kind": resource.plural}
    if name:
        details["name"] = name
    return KubeError(403, message, details=details)
