"""Slack user groups at intake: a failed lookup is never cached as "no members" (roles neither lost nor assumed)."""

from __future__ import annotations

from typing import Any

import pytest

from handlers.slack import GroupCache, GroupLookupFailed


class Client:
    """Answers usergroups.users.list from ``members``; fails while ``failing``."""

    def __init__(self, members: dict[str, list[str]]) -> None:
        self.members = members
        self.failing = False
        self.calls = 0

    async def usergroups_users_list(self, *, usergroup: str) -> dict[str, Any]:
        self.calls += 1
        if self.failing:
            raise RuntimeError("slack is down")
        return {"users": self.members.get(usergroup, [])}


async def test_a_failed_lookup_refuses_and_is_asked_again_next_time() -> None:
    client = Client({"S0OPS": ["U1"]})
    cache = GroupCache({"S0OPS"})
    client.failing = True
    with pytest.raises(GroupLookupFailed, match="could not ask Slack"):
        await cache.groups_of("U1", client)  # type: ignore[arg-type]
    client.failing = False
    assert await cache.groups_of("U1", client) == frozenset({"S0OPS"})  # type: ignore[arg-type]
    assert client.calls == 2


async def test_answers_are_cached() -> None:
    client = Client({"S0OPS": ["U1"]})
    cache = GroupCache({"S0OPS"})
    assert await cache.groups_of("U2", client) == frozenset()  # type: ignore[arg-type]
    assert await cache.groups_of("U1", client) == frozenset({"S0OPS"})  # type: ignore[arg-type]
    assert client.calls == 1
