"""The REST API 7.1 routes of the fake: Git repositories, pull requests, threads, comments, likes,
statuses, items, diffs and commits, plus ``connectionData`` and ``identities``.

ADO matches its routes case-insensitively (``pullRequests`` and ``pullrequests`` are one route), so one
catch-all handler dispatches on regular expressions instead of aiohttp's router. Every call needs Basic
auth with a PAT the fake knows and an ``api-version`` (query or ``Accept`` header).

:mod:`~sandbox.azure_devops.rest.routes` holds the route table and the pipeline; beside it one module
per resource: ``identity`` (with the Git ACLs), ``repositories`` (commits, items, diffs), ``pulls``,
``threads`` (comments, likes) and ``statuses``; ``calls`` holds what they share.
"""

from __future__ import annotations

from sandbox.azure_devops.rest.routes import Fault, RestApi

__all__ = ["Fault", "RestApi"]
