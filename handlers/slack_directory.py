"""Slack as the status page's directory: the Slack user id of an email, and the user's policy groups.

The policy names people by Slack user id; a sign-in proxy names them by email. ``users.lookupByEmail``
(scope ``users:read.email``) joins the two. Answers are cached for a few minutes per process, misses too, so
a page that reloads itself every 30 s costs Slack one call per person per TTL. The cache keeps the
``LOOKUP_ENTRIES`` most recently used emails (anyone behind the proxy can send many), and a user of a
workspace outside SLACK_ALLOWED_TEAMS (when set) counts as no user, as their slash commands are refused.
"""

from __future__ import annotations

import logging
import time
from collections import OrderedDict
from collections.abc import Callable, Iterable

from slack_sdk.errors import SlackApiError
from slack_sdk.web.async_client import AsyncWebClient

from bot.errors import FluxopsError
from handlers.slack import GroupCache

log = logging.getLogger(__name__)
#: seconds an email's Slack user id (or its absence) is remembered
LOOKUP_TTL = 300.0
#: emails remembered at most (least recently used first out)
LOOKUP_ENTRIES = 1_000


class SlackDirectory:
    def __init__(
        self,
        *,
        client: AsyncWebClient,
        groups: set[str],
        allowed_teams: Iterable[str] = (),
        clock: Callable[[], float] = time.monotonic,
        max_entries: int = LOOKUP_ENTRIES,
    ) -> None:
        self._client = client
        self._groups = GroupCache(groups)
        self._allowed_teams = frozenset(allowed_teams)
        self._clock = clock
        self._max_entries = max_entries
        self._emails: OrderedDict[str, tuple[float, str | None]] = OrderedDict()

    async def user_by_email(self, email: str) -> str | None:
        """The Slack user id of ``email`` in the bot's workspace; None when Slack knows no such user."""
        folded = email.strip().casefold()
        cached = self._emails.get(folded)
        if cached is not None and self._clock() - cached[0] < LOOKUP_TTL:
            self._emails.move_to_end(folded)
            return cached[1]
        try:
            response = await self._client.users_lookupByEmail(email=folded)
            user = response.get("user") or {}
            found: str | None = str(user.get("id")) if user.get("id") and not user.get("deleted") else None
            if found is not None and not self._in_allowed_team(user):
                log.warning("status page: a sign-in by a Slack user outside SLACK_ALLOWED_TEAMS counts as no user")
                found = None
        except SlackApiError as error:
            if error.response.get("error") != "users_not_found":
                raise FluxopsError(
                    "fluxops could not ask Slack who signed in",
                    recommendation="try again in a minute; if it persists, check the bot's users:read.email scope",
                ) from None
            found = None
        self._emails[folded] = (self._clock(), found)
        self._emails.move_to_end(folded)
        while len(self._emails) > self._max_entries:
            self._emails.popitem(last=False)
        return found

    def _in_allowed_team(self, user: dict[str, object]) -> bool:
        """Whether ``user`` (users.lookupByEmail's) belongs to an allowed workspace or enterprise (any, if unset)."""
        if not self._allowed_teams:
            return True
        enterprise = user.get("enterprise_user")
        enterprise_id = enterprise.get("enterprise_id") if isinstance(enterprise, dict) else None
        return user.get("team_id") in self._allowed_teams or enterprise_id in self._allowed_teams

    async def groups_of(self, user: str) -> frozenset[str]:
        """The policy's Slack user groups ``user`` is in (GroupLookupFailed when Slack cannot say)."""
        return await self._groups.groups_of(user, self._client)
