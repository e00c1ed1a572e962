"""The status page's Slack directory: an email's user id, cached with a bound, workspaces outside
SLACK_ALLOWED_TEAMS counted as no user."""

from __future__ import annotations

from typing import Any

from handlers.slack_directory import SlackDirectory


class Slack:
    """users.lookupByEmail's answers (a stand-in for AsyncWebClient: only the call counts matter here)."""

    def __init__(self, users: dict[str, dict[str, Any]]) -> None:
        self.users = users
        self.calls: list[str] = []

    async def users_lookupByEmail(self, *, email: str) -> dict[str, Any]:
        self.calls.append(email)
        return {"ok": True, "user": self.users[email]}


async def test_the_email_cache_is_bounded_least_recently_used_first_out() -> None:
    slack = Slack({f"p{n}@example.com": {"id": f"U{n}", "team_id": "T1"} for n in range(5)})
    directory = SlackDirectory(client=slack, groups=set(), clock=lambda: 0.0, max_entries=3)  # type: ignore[arg-type]
    for n in range(3):
        assert await directory.user_by_email(f"p{n}@example.com") == f"U{n}"
    assert await directory.user_by_email("P0@example.com") == "U0"  # cached, and now the most recent
    assert await directory.user_by_email("p3@example.com") == "U3"  # p1, the least recent, goes
    assert len(slack.calls) == 4
    assert await directory.user_by_email("p0@example.com") == "U0" and len(slack.calls) == 4
    assert await directory.user_by_email("p1@example.com") == "U1" and len(slack.calls) == 5


async def test_a_user_of_another_workspace_counts_as_no_user_when_teams_are_listed() -> None:
    slack = Slack(
        {
            "in@example.com": {"id": "U1", "team_id": "T1"},
            "grid@example.com": {"id": "U2", "team_id": "T9", "enterprise_user": {"enterprise_id": "E1"}},
            "out@example.com": {"id": "U3", "team_id": "T2"},
        }
    )
    directory = SlackDirectory(client=slack, groups=set(), allowed_teams=["T1", "E1"])  # type: ignore[arg-type]
    assert await directory.user_by_email("in@example.com") == "U1"
    assert await directory.user_by_email("grid@example.com") == "U2"
    assert await directory.user_by_email("out@example.com") is None
    anyone = SlackDirectory(client=slack, groups=set())  # type: ignore[arg-type]
    assert await anyone.user_by_email("out@example.com") == "U3"
