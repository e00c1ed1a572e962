"""How long ago an event was seen: times with and without a zone."""

from __future__ import annotations

from bot.render.documents.events import age


def test_a_time_without_a_zone_is_utc() -> None:
    assert age("2024-05-01T10:00:00", "2024-05-01T10:03:00Z") == "3m"
    assert age("2024-05-01T10:00:00Z", "2024-05-01T12:00:00") == "2h"
    assert age("2024-05-01T11:00:00+01:00", "2024-05-01T10:00:45Z") == "45s"


def test_an_unreadable_time_is_shown_as_is() -> None:
    assert age("yesterday", "2024-05-01T10:03:00Z") in ("yesterday", "?")
