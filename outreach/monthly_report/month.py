"""The month a report covers, in the country's time zone, and its days and weeks."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from polls.errors import OutreachError

MONTH = re.compile(r"(\d{4})-(\d{2})")


class ReportMonthError(OutreachError):
    pass


@dataclass(frozen=True)
class Period:
    """Days ``first`` to ``last``, both included (local dates)."""

    first: date
    last: date


@dataclass(frozen=True)
class ReportMonth:
    year: int
    month: int
    zone: ZoneInfo

    @classmethod
    def parse(cls, text: str, zone: str) -> ReportMonth:
        """``2026-11`` in the time zone named ``zone`` (``Asia/Baku``)."""
        found = MONTH.fullmatch(text.strip())
        if found is None or not 1 <= int(found.group(2)) <= 12:
            raise ReportMonthError(
                f"write the month as YYYY-MM, for example 2026-11 (got {text!r})"
            )
        try:
            tz = ZoneInfo(zone)
        except (ZoneInfoNotFoundError, ValueError):
            raise ReportMonthError(
                f"unknown time zone {zone!r}: set TIMEZONE, e.g. Asia/Baku"
            ) from None
        return cls(int(found.group(1)), int(found.group(2)), tz)

    @property
    def first_day(self) -> date:
        return date(self.year, self.month, 1)

    @property
    def next_first_day(self) -> date:
        return date(self.year + self.month // 12, self.month % 12 + 1, 1)

    @property
    def last_day(self) -> date:
        return self.next_first_day - timedelta(days=1)

    def start_of(self, day: date) -> datetime:
        """Local midnight at the start of ``day``, in UTC."""
        return datetime.combine(day, time(), self.zone).astimezone(UTC)

    @property
    def since(self) -> datetime:
        return self.start_of(self.first_day)

    @property
    def until(self) -> datetime:
        return self.start_of(self.next_first_day)

    def days(self) -> list[Period]:
        count = (self.next_first_day - self.first_day).days
        return [Period(day, day) for day in (self.first_day + timedelta(n) for n in range(count))]

    def weeks(self) -> list[Period]:
        """Monday-to-Sunday weeks, the first and last cut at the month's edges."""
        weeks: list[Period] = []
        start = self.first_day
        while start <= self.last_day:
            end = min(start + timedelta(days=6 - start.weekday()), self.last_day)
            weeks.append(Period(start, end))
            start = end + timedelta(days=1)
        return weeks

    def boundaries(self, periods: list[Period]) -> list[datetime]:
        """The UTC instants where the periods begin, and where the last one ends."""
        return [self.start_of(p.first) for p in periods] + [
            self.start_of(periods[-1].last + timedelta(days=1))
        ]
