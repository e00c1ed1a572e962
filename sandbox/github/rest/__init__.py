"""GitHub's REST API, the part fluxops (through PyGithub) uses: paths, status codes, JSON shapes, errors.

Every URL in a response is built from the request's ``Host`` (so a client follows it back here), except
clone URLs, which keep the repositories' ``github.com`` addresses that Flux configurations name.

The route table is :class:`~sandbox.github.rest.routes.RestApi`; each module beside it serves one
resource: ``apps`` (user, meta, app and installations), ``repos`` (repositories, commits, comparisons,
collaborator permission), ``contents``, ``statuses``, ``checks`` (check runs), ``pulls`` (pull requests
and reviews), ``issues`` (comments and reactions) and ``deploy_keys``. ``resource`` holds what they share.
"""

from __future__ import annotations

from sandbox.github.rest.errors import ApiError
from sandbox.github.rest.repos import GIT_WEB, repository_for
from sandbox.github.rest.resource import PRINCIPAL
from sandbox.github.rest.routes import RestApi

__all__ = ["GIT_WEB", "PRINCIPAL", "ApiError", "RestApi", "repository_for"]
