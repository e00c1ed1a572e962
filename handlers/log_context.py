"""Per-request log context of the web process: the fields every line logged while a request is handled carries.

Each request opens a scope of its own (``handlers/request_scope.py``; a keep-alive connection handles its
requests one after the other in one task, and the scope ends with its request, so nothing bound for one reaches
the next). The scope holds the route and, for GitHub, the delivery id and event from the headers; receivers add
what only the body tells (``bind_delivery``): Azure DevOps' notification, Slack's trigger id and user. The fields
are read when a line is logged, not bound up front: most requests log nothing.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from telemetry.log_context import current_scope

#: header values are logged only when they look like what GitHub sends (they are not signed)
_TOKEN = re.compile(r"[A-Za-z0-9._:-]{1,100}")
_HEADER_FIELDS = (("X-GitHub-Delivery", "delivery_id"), ("X-GitHub-Event", "event_type"))


class RequestLogScope:
    """The log fields of one request: its route, the GitHub headers that look sane, and what a receiver bound."""

    __slots__ = ("bound", "headers", "route")

    def __init__(self, route: str, headers: Mapping[str, str]) -> None:
        self.route = route
        self.headers = headers
        self.bound: dict[str, str] = {}

    def log_fields(self) -> dict[str, str]:
        fields = {"route": self.route}
        for header, name in _HEADER_FIELDS:
            value = self.headers.get(header, "")
            if value and _TOKEN.fullmatch(value):
                fields[name] = value
        fields.update(self.bound)
        return fields


def bind_delivery(*, delivery_id: str = "", event: str = "", actor: str = "") -> None:
    """Bind what a receiver learned about the delivery it handles, for the rest of the request."""
    scope = current_scope()
    if not isinstance(scope, RequestLogScope):
        return
    given = {"delivery_id": delivery_id[:100], "event_type": event[:64], "actor": actor[:100]}
    scope.bound.update({key: value for key, value in given.items() if value})
