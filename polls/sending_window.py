"""Quiet hours and drip: when each recipient of a campaign may be messaged.

Pure arithmetic on aware date-times; every result is in UTC. A sending window
is ``[start, end)`` on the recipient's wall clock, within one day (``start <
end``): at ``end`` exactly the window is closed.

Daylight saving time, where the recipient's zone has it, follows the wall clock:

* A ``start`` that does not exist that day (the clocks jump over it, e.g. 02:30
  in Europe/Berlin on the last Sunday of March) opens the window at the jump,
  the first instant the clock reads later than ``start`` (03:00 summer time).
  ``fold=0`` alone would give 03:30, half an hour late.
* A ``start`` that happens twice (the clocks go back, e.g. 02:30 on the last
  Sunday of October) opens the window at its first occurrence (``fold=0``), or
  at the second when ``moment`` is already past the first.
* Whether a moment is inside the window is read on the clock as it shows then,
  so in a repeated hour both passes count. A window is opened once a day: a
  moment at or after ``end`` waits for the next day's ``start``.

Windows in Azerbaijan (Asia/Baku, UTC+4, no DST since 2016) are plain.
"""

from __future__ import annotations

import functools
from collections.abc import Mapping
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

__all__ = ["drip_moment", "next_allowed", "send_time", "zone_for_region"]

DEFAULT_ZONE = "Asia/Baku"


def next_allowed(moment: datetime, zone: ZoneInfo, start: time, end: time) -> datetime:
    """The first instant at or after ``moment`` when the local time in ``zone`` is in the window.

    Inside ``[start, end)``: ``moment`` itself. Before ``start``: today's start
    (local). At or after ``end``: tomorrow's start. Returns an aware UTC
    date-time. Raises ValueError for a naive ``moment`` or a window with
    ``end <= start``.
    """
    _require_aware(moment, "moment")
    if not start < end:
        raise ValueError(
            f"the window must end after it starts on the same day, got {start:%H:%M} to {end:%H:%M}"
        )
    local = moment.astimezone(zone)
    wall = local.time().replace(tzinfo=None)
    if start <= wall < end:
        return moment.astimezone(UTC)
    day = local.date() if wall < start else local.date() + timedelta(days=1)
    return _opening(day, start, zone, not_before=moment.astimezone(UTC))


def drip_moment(base: datetime, index: int, total: int, drip_hours: float | None) -> datetime:
    """When send ``index`` of ``total`` is due: spread evenly over ``drip_hours`` from ``base``.

    ``base + index * drip_hours / total`` (the last send is one step before the
    end); None: ``base``. An index at or past ``total`` (people who joined after
    the audience was counted) carries on at the same pace, past the end. Counted
    in real elapsed time (in UTC), so a drip across a DST change is as long as it
    says. Returns an aware UTC date-time.
    """
    _require_aware(base, "base")
    if total < 1:
        raise ValueError(f"total must be at least 1, got {total}")
    if index < 0:
        raise ValueError(f"index cannot be negative, got {index}")
    if drip_hours is not None and not drip_hours > 0:
        raise ValueError(f"drip_hours must be more than 0 or None, got {drip_hours}")
    start = base.astimezone(UTC)
    if drip_hours is None:
        return start
    return start + timedelta(hours=drip_hours) * index / total


def send_time(
    base: datetime,
    index: int,
    total: int,
    drip_hours: float | None,
    zone: ZoneInfo,
    start: time,
    end: time,
) -> datetime:
    """The planned moment for recipient ``index``: the drip moment, moved into their window."""
    return next_allowed(drip_moment(base, index, total, drip_hours), zone, start, end)


def zone_for_region(
    region: str | None, zones: Mapping[str, str], default: str = DEFAULT_ZONE
) -> ZoneInfo:
    """The time zone of a region (``zones`` maps region ids to IANA names), else ``default``.

    Raises ValueError naming the region for an unknown zone name.
    """
    name = zones.get(region, default) if region is not None else default
    try:
        return _zone(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        whose = f"region {region!r}" if region is not None and region in zones else "the default"
        raise ValueError(
            f"unknown time zone {name!r} for {whose}: use an IANA name such as Asia/Baku"
        ) from exc


@functools.cache
def _zone(name: str) -> ZoneInfo:
    return ZoneInfo(name)


def _require_aware(value: datetime, name: str) -> None:
    if value.utcoffset() is None:
        raise ValueError(f"{name} must be an aware date-time (with a time zone), got {value}")


def _opening(day: date, start: time, zone: ZoneInfo, not_before: datetime) -> datetime:
    """The first instant at or after ``not_before`` when ``day``'s clock reaches ``start``.

    ``not_before`` is a moment read before ``start`` on ``day`` (or on the day before).
    """
    wall = datetime.combine(day, start)
    instants = [wall.replace(tzinfo=zone, fold=fold).astimezone(UTC) for fold in (0, 1)]
    existing = sorted(
        instant
        for instant in set(instants)
        if instant.astimezone(zone).replace(tzinfo=None) == wall
    )
    if existing:
        # Twice on a day the clocks go back: the first pass, unless ``not_before`` is past it.
        return existing[0] if existing[0] >= not_before else existing[-1]
    # ``start`` falls in a gap: the opening is the jump, the first instant whose wall time
    # is past ``start``. It lies between the two readings; find it to the microsecond.
    low, high = min(instants), max(instants)
    while high - low > timedelta(microseconds=1):
        middle = low + (high - low) / 2
        if middle.astimezone(zone).replace(tzinfo=None) >= wall:
            high = middle
        else:
            low = middle
    return high
