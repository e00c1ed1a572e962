"""What every group of endpoints shares: the call (user, project, version, body), JSON replies, lookups."""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from aiohttp import web

from sandbox.azure_devops.records import AdoError, PullRequest, Repo
from sandbox.azure_devops.state import Organization

if TYPE_CHECKING:
    from sandbox.azure_devops.server import FakeAzureDevOps

Params = dict[str, str]
Handler = Callable[[web.Request, Params, "Call"], Awaitable[web.StreamResponse]]


@dataclass(frozen=True)
class Call:
    """Who is calling, in which project (None when the URL names none)."""

    user: str
    project: str | None
    api_version: str
    body: bytes = b""


class Endpoints:
    """The base of the endpoint groups: the fake, its organization, and lookups that answer ADO's 404."""

    def __init__(self, fake: FakeAzureDevOps) -> None:
        self.fake = fake
        self.org: Organization = fake.org

    def _repo(self, p: Params, call: Call) -> Repo:
        return self.org.repo(call.project, p["repo"])

    def _pr(self, p: Params, call: Call) -> PullRequest:
        repo = self._repo(p, call) if "repo" in p else None
        return self.org.pull(int(p["pr"]), repo=repo, project=call.project)


def json_response(body: Any, *, status: int = 200, headers: Mapping[str, str] | None = None) -> web.Response:
    """A JSON answer, UTF-8, as ADO sends it."""
    return web.Response(
        status=status,
        text=json.dumps(body),
        content_type="application/json",
        charset="utf-8",
        headers=dict(headers or {}),
    )


def list_response(values: list[Any]) -> web.Response:
    """ADO's list envelope: ``{"count": n, "value": [...]}``."""
    return json_response({"count": len(values), "value": values})


def read_body(call: Call) -> dict[str, Any]:
    """The call's body as a JSON object, or ADO's 400."""
    raw = call.body
    try:
        body = json.loads(raw) if raw else {}
    except ValueError:
        raise AdoError(400, "InvalidArgumentValueException", "The request body is not valid JSON.") from None
    if not isinstance(body, dict):
        raise AdoError(400, "InvalidArgumentValueException", "The request body must be a JSON object.")
    return body


def enum_value(value: Any, names: Mapping[int, str], field: str) -> str:
    """ADO takes enums as numbers or names (any case)."""
    if isinstance(value, int) and value in names:
        return names[value]
    if isinstance(value, str):
        for name in names.values():
            if name.lower() == value.lower():
                return name
    raise AdoError(400, "InvalidArgumentValueException", f"Invalid value {value!r} for {field}.")


def lower_query(request: web.Request) -> dict[str, str]:
    """The query with lower-case names (ADO reads them case-insensitively)."""
    return {k.lower(): v for k, v in request.query.items()}


def number(value: float) -> str:
    """A number as a header value: 2 rather than 2.0."""
    return str(int(value)) if float(value).is_integer() else str(value)
