"""The change-control sections of FLUXOPS_CONFIG: ``freezes:`` and ``windows:`` (bot/config_file.py documents the
schema; bot/freezes.py says what they mean at a given moment).

A freeze stops changes on the clusters it selects, once (``from`` .. ``to``, RFC 3339 with an offset) or on a
schedule (``cron`` + ``duration``). A window allows changes: once any window selects a cluster, changes to it
run only inside one of its windows (``cron`` + ``duration``, or ``days`` + ``hours``). Both take ``clusters``
as the roles' selector does, or tags written as `/flux clusters --selector` takes them (``env=prod,region=weu``).
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import Field, field_validator, model_validator

from bot.config_access import ClusterSelector, ConfigModel, period_seconds
from bot.cron import Cron, CronError

_HOURS = re.compile(r"(\d{1,2}):(\d{2})-(\d{1,2}):(\d{2})")


def _selector(value: object) -> object:
    """``env=prod,region=weu`` (as `/flux clusters --selector` takes it) -> ``{tags: {env: prod, ...}}``."""
    if not isinstance(value, str):
        return value
    tags: dict[str, str] = {}
    for item in (part.strip() for part in value.split(",")):
        key, sep, tag = item.partition("=")
        if not item or not sep or not key.strip():
            raise ValueError(f"{value!r} is not a selector: write tags as env=prod,region=weu, or {{names: [...]}}")
        tags[key.strip()] = tag.strip()
    return {"tags": tags}


def _zone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"{value!r} is not a time zone: write an IANA name such as UTC or Europe/Berlin") from None
    return value


def _cron(value: str | None) -> str | None:
    if value is None:
        return None
    try:
        return Cron.parse(value).text
    except CronError as error:
        raise ValueError(f"cron {value!r}: {error}") from None


def _duration(value: str | None) -> str | None:
    if value is not None and period_seconds(value) is None:
        raise ValueError(f"{value!r} is not a duration: write it like 64h, 2d, 90m or 1d12h")
    return value


class _Scheduled(ConfigModel):
    """What freezes and windows share: which clusters, a cron schedule with its duration, a time zone."""

    clusters: ClusterSelector = Field(default_factory=ClusterSelector)
    cron: str | None = None
    duration: str | None = None
    timezone: str = "UTC"

    @field_validator("clusters", mode="before")
    @classmethod
    def _selector_words(cls, value: object) -> object:
        return _selector(value)

    @field_validator("timezone")
    @classmethod
    def _zone_name(cls, value: str) -> str:
        return _zone(value)

    @field_validator("cron")
    @classmethod
    def _cron_text(cls, value: str | None) -> str | None:
        return _cron(value)

    @field_validator("duration")
    @classmethod
    def _duration_text(cls, value: str | None) -> str | None:
        return _duration(value)

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    @property
    def schedule(self) -> Cron | None:
        return None if self.cron is None else Cron.parse(self.cron)

    @property
    def length(self) -> timedelta:
        return timedelta(seconds=period_seconds(self.duration or "") or 0)


class FreezeRule(_Scheduled):
    """One entry under ``freezes:``: no changes to the selected clusters from ``from`` to ``to``, or for
    ``duration`` each time ``cron`` fires; ``reason`` is what a refused person reads."""

    from_: datetime | None = Field(default=None, alias="from")
    to: datetime | None = None
    reason: str

    @field_validator("from_", "to")
    @classmethod
    def _with_offset(cls, value: datetime | None) -> datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError(f"{value.isoformat()} has no UTC offset: write it as RFC 3339, e.g. 2026-12-24T18:00:00Z")
        return value

    @field_validator("reason")
    @classmethod
    def _says_why(cls, value: str) -> str:
        if not value.strip():
            raise ValueError("a freeze needs a reason: it is what people whose change is refused read")
        return value.strip()[:200]

    @model_validator(mode="after")
    def _one_way(self) -> FreezeRule:
        fixed = self.from_ is not None or self.to is not None
        recurring = self.cron is not None or self.duration is not None
        if fixed == recurring:
            raise ValueError("a freeze is either from + to (RFC 3339 times) or cron + duration, one of the two")
        if fixed and (self.from_ is None or self.to is None or self.to <= self.from_):
            raise ValueError("give both from and to, with to after from")
        if recurring and (self.cron is None or self.duration is None):
            raise ValueError("a recurring freeze needs both cron (when it starts) and duration (how long it lasts)")
        return self


class WindowRule(_Scheduled):
    """One entry under ``windows:``: the selected clusters change only inside this window (or another one that
    selects them). ``cron`` + ``duration``, or ``days`` (``MON-FRI``, ``[MON, WED]``) + ``hours``
    (``09:00-17:00``; an end before the start runs past midnight)."""

    days: list[str] | str | None = None
    hours: str | None = None

    @field_validator("hours")
    @classmethod
    def _span(cls, value: str | None) -> str | None:
        if value is None:
            return None
        match = _HOURS.fullmatch(value.strip())
        if match is None or int(match[1]) > 23 or int(match[3]) > 24 or int(match[2]) > 59 or int(match[4]) > 59:
            raise ValueError(f"hours {value!r} is not a span of the day: write it like 09:00-17:00")
        return value.strip()

    @model_validator(mode="after")
    def _one_way(self) -> WindowRule:
        by_days = self.days is not None or self.hours is not None
        if by_days == (self.cron is not None):
            raise ValueError("a window is either cron + duration, or days + hours, one of the two")
        if by_days:
            if self.days is None or self.hours is None or self.duration is not None:
                raise ValueError("a window by days needs days (MON-FRI) and hours (09:00-17:00), and no duration")
            _cron(self.effective_cron)
        elif self.duration is None:
            raise ValueError("a window with cron needs a duration: how long it stays open each time")
        return self

    @property
    def effective_cron(self) -> str:
        """The window as a cron schedule (days + hours written as one)."""
        if self.cron is not None:
            return self.cron
        match = _HOURS.fullmatch(self.hours or "")
        assert match is not None
        days = self.days if isinstance(self.days, str) else ",".join(self.days or [])
        return f"{int(match[2])} {int(match[1])} * * {days.replace(' ', '') or '*'}"

    @property
    def schedule(self) -> Cron:
        return Cron.parse(self.effective_cron)

    @property
    def length(self) -> timedelta:
        if self.duration is not None:
            return super().length
        match = _HOURS.fullmatch(self.hours or "")
        assert match is not None
        start = int(match[1]) * 60 + int(match[2])
        end = int(match[3]) * 60 + int(match[4])
        return timedelta(minutes=(end - start) % (24 * 60) or 24 * 60)

    def describe(self) -> str:
        """How messages name the window: ``MON-FRI 09:00-17:00 Europe/Berlin`` or ``cron '0 6 * * *' for 4h``."""
        if self.hours is not None:
            days = self.days if isinstance(self.days, str) else ",".join(self.days or [])
            return f"{days} {self.hours} {self.timezone}"
        return f"cron '{self.cron}' for {self.duration} ({self.timezone})"
