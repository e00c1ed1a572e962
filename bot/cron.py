"""The five-field cron schedules freezes and deployment windows start on (``0 18 * * FRI``).

Fields: minute (0-59), hour (0-23), day of month (1-31), month (1-12 or JAN-DEC), day of week (0-7 or
SUN-SAT; 0 and 7 are Sunday). Each field is ``*``, a number or name, a range ``A-B``, any of those with a step
(``*/15``, ``8-18/2``), or a comma list of them. As in cron, when both the day of month and the day of week
are restricted a day matches either. Nicknames (``@daily``), ``L``, ``W`` and ``#`` are not supported and are
refused, so a schedule never silently means something else; so is a schedule no real day matches (``0 9 30 2 *``).

Times are wall-clock times in a zone (zoneinfo): ``fires_between`` and ``next_fire`` walk days, then the
matching hours and minutes, so a long look-back (a 64-hour freeze) costs a few hundred steps, not one a minute.
"""

from __future__ import annotations

import calendar
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

_MONTHS = {name.upper(): n for n, name in enumerate(calendar.month_abbr) if name}
_DAYS = {"SUN": 0, "MON": 1, "TUE": 2, "WED": 3, "THU": 4, "FRI": 5, "SAT": 6}
#: (name, low, high, names) of each field
_FIELDS: tuple[tuple[str, int, int, dict[str, int]], ...] = (
    ("minute", 0, 59, {}),
    ("hour", 0, 23, {}),
    ("day of month", 1, 31, {}),
    ("month", 1, 12, _MONTHS),
    ("day of week", 0, 7, _DAYS),
)
#: how far ``next_fire`` looks (a schedule on 29 FEB fires once in four years)
HORIZON_DAYS = 366 * 4 + 1
#: the most days each month has (February in a leap year)
_MONTH_DAYS = {month: calendar.monthrange(2024, month)[1] for month in range(1, 13)}


class CronError(ValueError):
    """A schedule that is not one of the supported five-field forms; the message says what to write."""


def _value(text: str, name: str, low: int, high: int, names: dict[str, int]) -> int:
    word = text.upper()
    if word in names:
        return names[word]
    if not word.isdigit():
        known = f" or a name ({', '.join(names)})" if names else ""
        raise CronError(f"the {name} field has {text!r}: write a number {low}-{high}{known}")
    number = int(word)
    if not low <= number <= high:
        raise CronError(f"the {name} field has {number}, outside {low}-{high}")
    return number


def _field(text: str, name: str, low: int, high: int, names: dict[str, int]) -> tuple[frozenset[int], bool]:
    """The values a field allows, and whether it is ``*`` (unrestricted)."""
    values: set[int] = set()
    for part in text.split(","):
        span, slash, step_text = part.partition("/")
        step = 1
        if slash:
            if not step_text.isdigit() or int(step_text) == 0:
                raise CronError(f"the {name} field has step {step_text!r}: write a positive number (*/15)")
            step = int(step_text)
        if span == "*":
            start, end = low, high
        elif "-" in span:
            first, _, last = span.partition("-")
            start, end = _value(first, name, low, high, names), _value(last, name, low, high, names)
            if end < start:
                raise CronError(f"the {name} field has the range {span!r}, which ends before it starts")
        else:
            start = _value(span, name, low, high, names)
            end = high if slash else start
        values.update(range(start, end + 1, step))
    return frozenset(values), text == "*"


@dataclass(frozen=True)
class Cron:
    """A parsed schedule; ``text`` as it was written."""

    text: str
    minutes: frozenset[int]
    hours: frozenset[int]
    days: frozenset[int]
    months: frozenset[int]
    weekdays: frozenset[int]  # 0 = Sunday
    any_day: bool
    any_weekday: bool

    @classmethod
    def parse(cls, text: str) -> Cron:
        parts = text.split()
        if len(parts) != 5:
            raise CronError(
                f"{text!r} has {len(parts)} field(s); a schedule has five: minute hour day-of-month month "
                "day-of-week, e.g. '0 18 * * FRI'"
            )
        parsed = [_field(part, *spec) for part, spec in zip(parts, _FIELDS, strict=True)]
        weekdays = frozenset(d % 7 for d in parsed[4][0])
        cron = cls(
            text=" ".join(parts),
            minutes=parsed[0][0],
            hours=parsed[1][0],
            days=parsed[2][0],
            months=parsed[3][0],
            weekdays=weekdays,
            any_day=parsed[2][1],
            any_weekday=parsed[4][1],
        )
        if not cron.fires_ever():
            raise CronError(
                f"{cron.text!r} never fires: no month it names has the day of month it names (FEB has at most 29 "
                "days; APR, JUN, SEP and NOV have 30)"
            )
        return cron

    def fires_ever(self) -> bool:
        """Some real day matches it. Only a day of month no month it names has can fail: with the day of week
        restricted too either one matches, and every real date falls on every day of the week in some year."""
        if self.any_day or not self.any_weekday:
            return True
        return any(day <= _MONTH_DAYS[month] for month in self.months for day in self.days)

    def day_matches(self, day: date) -> bool:
        if day.month not in self.months:
            return False
        by_date = day.day in self.days
        by_weekday = (day.isoweekday() % 7) in self.weekdays
        if self.any_day or self.any_weekday:
            return by_date and by_weekday
        return by_date or by_weekday

    def _fires_on(self, day: date, zone: ZoneInfo) -> Iterator[datetime]:
        for hour in sorted(self.hours):
            for minute in sorted(self.minutes):
                yield datetime(day.year, day.month, day.day, hour, minute, tzinfo=zone)

    def fires_between(self, start: datetime, end: datetime, zone: ZoneInfo) -> Iterator[datetime]:
        """The times it fires in ``[start, end)`` (aware datetimes), earliest first, as aware datetimes."""
        day = start.astimezone(zone).date()
        last = end.astimezone(zone).date()
        while day <= last:
            if self.day_matches(day):
                for at in self._fires_on(day, zone):
                    if start <= at < end:
                        yield at
            day += timedelta(days=1)

    def last_fire(self, at: datetime, zone: ZoneInfo, within: timedelta) -> datetime | None:
        """The latest time it fired at or before ``at``, looking back at most ``within``."""
        found = None
        for fired in self.fires_between(at - within, at + timedelta(microseconds=1), zone):
            found = fired
        return found

    def next_fire(self, after: datetime, zone: ZoneInfo) -> datetime | None:
        """The first time it fires strictly after ``after``; None when it never does (within four years)."""
        day = after.astimezone(zone).date()
        for _ in range(HORIZON_DAYS):
            if self.day_matches(day):
                for at in self._fires_on(day, zone):
                    if at > after:
                        return at
            day += timedelta(days=1)
        return None
