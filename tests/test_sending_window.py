"""Quiet hours and drip: each recipient is messaged inside their own window."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfo

import pytest

from polls.sending_window import drip_moment, next_allowed, send_time, zone_for_region

BAKU = ZoneInfo("Asia/Baku")  # UTC+4, no daylight saving time since 2016
TASHKENT = ZoneInfo("Asia/Tashkent")  # UTC+5
BERLIN = ZoneInfo("Europe/Berlin")  # CET/CEST; in 2026 clocks change on 29 March and 25 October
START, END = time(10), time(20)


def utc(
    year: int, month: int, day: int, hour: int, minute: int = 0, second: int = 0, micro: int = 0
) -> datetime:
    return datetime(year, month, day, hour, minute, second, micro, tzinfo=UTC)


def local_wall(moment: datetime, zone: ZoneInfo) -> str:
    return moment.astimezone(zone).strftime("%Y-%m-%d %H:%M %Z")


# --------------------------------------------------------------------------- the window


@pytest.mark.parametrize(
    ("moment", "expected"),
    [
        (utc(2026, 12, 1, 10, 0), utc(2026, 12, 1, 10, 0)),  # 14:00 in Baku: inside
        (utc(2026, 12, 1, 6, 0), utc(2026, 12, 1, 6, 0)),  # 10:00 exactly: inside
        (
            utc(2026, 12, 1, 15, 59, 59, 999999),
            utc(2026, 12, 1, 15, 59, 59, 999999),
        ),  # a moment before 20:00: inside
        (utc(2026, 12, 1, 3, 0), utc(2026, 12, 1, 6, 0)),  # 07:00: today at 10:00
        (utc(2026, 11, 30, 21, 0), utc(2026, 12, 1, 6, 0)),  # 01:00 (UTC's yesterday): today
        (utc(2026, 12, 1, 16, 0), utc(2026, 12, 2, 6, 0)),  # 20:00 exactly: outside
        (utc(2026, 12, 1, 19, 30), utc(2026, 12, 2, 6, 0)),  # 23:30: tomorrow at 10:00
        (utc(2026, 12, 31, 17, 0), utc(2027, 1, 1, 6, 0)),  # 21:00 on 31 December: next year
    ],
    ids=[
        "inside",
        "at-start",
        "just-before-end",
        "before-start",
        "after-midnight",
        "at-end",
        "after-end",
        "after-end-new-year",
    ],
)
def test_window_in_baku(moment: datetime, expected: datetime) -> None:
    result = next_allowed(moment, BAKU, START, END)

    assert result == expected
    assert result.tzinfo is UTC


def test_result_is_utc_whatever_the_moment_is_written_in() -> None:
    moment = datetime(2026, 12, 1, 7, 0, tzinfo=timezone(timedelta(hours=4)))  # 07:00 Baku

    result = next_allowed(moment, BAKU, START, END)

    assert result == utc(2026, 12, 1, 6, 0)
    assert result.tzinfo is UTC
    assert local_wall(result, BAKU) == "2026-12-01 10:00 +04"


def test_same_moment_inside_for_baku_outside_for_tashkent() -> None:
    moment = utc(2026, 12, 1, 15, 30)  # 19:30 in Baku, 20:30 in Tashkent

    assert next_allowed(moment, BAKU, START, END) == moment
    tashkent = next_allowed(moment, TASHKENT, START, END)
    assert tashkent == utc(2026, 12, 2, 5, 0)
    assert local_wall(tashkent, TASHKENT) == "2026-12-02 10:00 +05"


def test_same_morning_moment_opens_an_hour_apart() -> None:
    moment = utc(2026, 12, 1, 4, 0)  # 08:00 in Baku, 09:00 in Tashkent

    assert next_allowed(moment, BAKU, START, END) == utc(2026, 12, 1, 6, 0)
    assert next_allowed(moment, TASHKENT, START, END) == utc(2026, 12, 1, 5, 0)


def test_almaty_is_utc_plus_5_with_current_tzdata() -> None:
    almaty = ZoneInfo("Asia/Almaty")
    if utc(2026, 6, 1, 0, 0).astimezone(almaty).utcoffset() != timedelta(hours=5):
        pytest.skip("tzdata older than 2024a: Kazakhstan moved Almaty to UTC+5 on 1 March 2024")
    moment = utc(2026, 12, 1, 15, 30)

    assert next_allowed(moment, almaty, START, END) == utc(2026, 12, 2, 5, 0)
    assert next_allowed(moment, BAKU, START, END) == moment


def test_berlin_spring_forward_day() -> None:
    # Saturday 21:00 CET; on Sunday the clocks jump from 02:00 to 03:00.
    saturday_evening = utc(2026, 3, 28, 20, 0)

    result = next_allowed(saturday_evening, BERLIN, START, END)

    assert result == utc(2026, 3, 29, 8, 0)  # 10:00 CEST = 08:00 UTC, not 09:00
    assert local_wall(result, BERLIN) == "2026-03-29 10:00 CEST"
    assert result - saturday_evening == timedelta(hours=12)  # 13 hours on the clock


def test_berlin_fall_back_day() -> None:
    # Saturday 21:00 CEST; on Sunday the clocks go back from 03:00 to 02:00.
    saturday_evening = utc(2026, 10, 24, 19, 0)

    result = next_allowed(saturday_evening, BERLIN, START, END)

    assert result == utc(2026, 10, 25, 9, 0)  # 10:00 CET = 09:00 UTC
    assert local_wall(result, BERLIN) == "2026-10-25 10:00 CET"
    assert result - saturday_evening == timedelta(hours=14)  # 13 hours on the clock


@pytest.mark.parametrize(
    ("moment", "expected"),
    [
        (utc(2026, 3, 29, 7, 30), utc(2026, 3, 29, 8, 0)),  # 09:30 CEST: waits
        (utc(2026, 3, 29, 8, 30), utc(2026, 3, 29, 8, 30)),  # 10:30 CEST: inside
        (utc(2026, 3, 29, 18, 0), utc(2026, 3, 30, 8, 0)),  # 20:00 CEST: tomorrow
        (utc(2026, 10, 25, 8, 30), utc(2026, 10, 25, 9, 0)),  # 09:30 CET: waits
        (utc(2026, 10, 25, 18, 59), utc(2026, 10, 25, 18, 59)),  # 19:59 CET: inside
        (utc(2026, 10, 25, 19, 0), utc(2026, 10, 26, 9, 0)),  # 20:00 CET: tomorrow
    ],
    ids=["spring-early", "spring-inside", "spring-end", "fall-early", "fall-late", "fall-end"],
)
def test_berlin_window_on_change_days_follows_the_new_offset(
    moment: datetime, expected: datetime
) -> None:
    assert next_allowed(moment, BERLIN, START, END) == expected


def test_start_skipped_by_spring_forward_opens_at_the_jump() -> None:
    # 02:30 does not exist on 29 March 2026 in Berlin: 01:59:59 CET is followed by 03:00 CEST.
    result = next_allowed(utc(2026, 3, 29, 0, 0), BERLIN, time(2, 30), time(4))

    assert result == utc(2026, 3, 29, 1, 0)
    assert local_wall(result, BERLIN) == "2026-03-29 03:00 CEST"
    before = result - timedelta(microseconds=1)
    assert local_wall(before, BERLIN) == "2026-03-29 01:59 CET"


def test_start_repeated_by_fall_back_opens_at_its_first_pass() -> None:
    # 02:30 happens twice on 25 October 2026 in Berlin: 00:30 UTC (CEST) and 01:30 UTC (CET).
    window = (time(2, 30), time(2, 45))

    first = next_allowed(utc(2026, 10, 24, 23, 0), BERLIN, *window)  # 01:00 CEST
    inside_first = next_allowed(utc(2026, 10, 25, 0, 40), BERLIN, *window)  # 02:40 CEST
    second = next_allowed(utc(2026, 10, 25, 1, 10), BERLIN, *window)  # 02:10 CET, 2nd pass

    assert first == utc(2026, 10, 25, 0, 30)
    assert inside_first == utc(2026, 10, 25, 0, 40)
    assert second == utc(2026, 10, 25, 1, 30)
    assert local_wall(second, BERLIN) == "2026-10-25 02:30 CET"


def test_naive_moment_is_refused() -> None:
    with pytest.raises(ValueError, match="aware"):
        next_allowed(datetime(2026, 12, 1, 12), BAKU, START, END)


@pytest.mark.parametrize(
    ("start", "end"), [(time(20), time(10)), (time(10), time(10))], ids=["reversed", "empty"]
)
def test_window_must_end_after_it_starts(start: time, end: time) -> None:
    with pytest.raises(ValueError, match="end after it starts"):
        next_allowed(utc(2026, 12, 1, 12), BAKU, start, end)


# --------------------------------------------------------------------------- drip


def test_drip_spreads_ten_recipients_over_five_hours() -> None:
    base = utc(2026, 12, 1, 6, 0)

    moments = [drip_moment(base, index, 10, 5) for index in range(10)]

    assert moments == [base + timedelta(minutes=30 * index) for index in range(10)]
    assert moments[-1] == utc(2026, 12, 1, 10, 30)  # one step before the five hours end


def test_recipients_beyond_the_count_carry_on_at_the_same_pace() -> None:
    base = utc(2026, 12, 1, 6, 0)

    # Counted 10, but 12 turned up while the sends were being planned.
    assert drip_moment(base, 10, 10, 5) == utc(2026, 12, 1, 11, 0)
    assert drip_moment(base, 11, 10, 5) == utc(2026, 12, 1, 11, 30)


def test_without_drip_everyone_is_due_at_base() -> None:
    base = datetime(2026, 12, 1, 10, 0, tzinfo=BAKU)

    assert {drip_moment(base, index, 3, None) for index in range(3)} == {utc(2026, 12, 1, 6, 0)}
    assert drip_moment(base, 2, 3, None).tzinfo is UTC


def test_drip_counts_real_hours_across_a_dst_change() -> None:
    base = datetime(2026, 3, 29, 0, 0, tzinfo=BERLIN)  # midnight CET = 23:00 UTC the day before

    # Half of five hours: 2.5 real hours, though the clock reads 03:30 by then.
    assert drip_moment(base, 5, 10, 5) == utc(2026, 3, 29, 1, 30)


@pytest.mark.parametrize(
    ("index", "total", "hours", "message"),
    [
        (0, 0, 5.0, "total"),
        (-1, 10, 5.0, "index"),
        (0, 10, 0.0, "drip_hours"),
        (0, 10, -1.0, "drip_hours"),
    ],
)
def test_drip_arguments_are_checked(index: int, total: int, hours: float, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        drip_moment(utc(2026, 12, 1, 6, 0), index, total, hours)


def test_send_time_moves_a_dripped_send_past_20_to_10_next_day() -> None:
    base = datetime(2026, 12, 1, 17, 0, tzinfo=BAKU)

    times = [send_time(base, index, 10, 5, BAKU, START, END) for index in range(10)]

    walls = [local_wall(moment, BAKU) for moment in times]
    assert walls[:6] == [
        "2026-12-01 17:00 +04",
        "2026-12-01 17:30 +04",
        "2026-12-01 18:00 +04",
        "2026-12-01 18:30 +04",
        "2026-12-01 19:00 +04",
        "2026-12-01 19:30 +04",
    ]
    # 20:00, 20:30, 21:00, 21:30: all wait until 10:00 the next day.
    assert set(times[6:]) == {utc(2026, 12, 2, 6, 0)}
    assert times == sorted(times)


def test_send_time_per_recipient_zone() -> None:
    base = utc(2026, 12, 1, 15, 0)  # 19:00 in Baku, 20:00 in Tashkent

    assert send_time(base, 1, 2, 1, BAKU, START, END) == utc(2026, 12, 1, 15, 30)
    assert send_time(base, 0, 2, 1, TASHKENT, START, END) == utc(2026, 12, 2, 5, 0)


# --------------------------------------------------------------------------- zones


def test_zone_for_region() -> None:
    zones = {"nakhchivan": "Asia/Baku", "almaty": "Asia/Almaty", "tashkent": "Asia/Tashkent"}

    assert zone_for_region("tashkent", zones) == TASHKENT
    assert zone_for_region("baku", zones) == BAKU  # not listed: the default
    assert zone_for_region(None, zones) == BAKU
    assert zone_for_region(None, {}, default="Asia/Tashkent") == TASHKENT
    assert zone_for_region("almaty", zones) is zone_for_region("almaty", zones)


def test_zone_for_region_with_an_unknown_zone_names_the_region() -> None:
    with pytest.raises(ValueError, match="unknown time zone 'Asia/Gotham' for region 'x'"):
        zone_for_region("x", {"x": "Asia/Gotham"})
