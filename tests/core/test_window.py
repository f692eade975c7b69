"""The trading window, in Asia/Kolkata: boundaries, weekends, holidays, and config errors."""

import re
from datetime import UTC, date, datetime, time, timedelta, timezone
from zoneinfo import ZoneInfoNotFoundError

import pytest

from actors.user_monitor.window import TradingWindow

IST = timezone(timedelta(hours=5, minutes=30))
WINDOW = TradingWindow()
ALL_DAY = {"start": time(0, 0), "end": time(23, 59)}
"""A window open nearly around the clock, to judge a time near midnight by its local date."""


def exactly(message: str) -> str:
    """A `pytest.raises` pattern that matches `message` and nothing more."""
    return f"^{re.escape(message)}$"


@pytest.mark.parametrize(("local", "open_"), [
    (datetime(2026, 11, 25, 9, 25, 59, tzinfo=IST), False),
    (datetime(2026, 11, 25, 9, 26, 0, tzinfo=IST), True),
    (datetime(2026, 11, 25, 15, 29, 59, tzinfo=IST), True),
    (datetime(2026, 11, 25, 15, 29, 59, 999999, tzinfo=IST), True),
    (datetime(2026, 11, 25, 15, 30, 0, tzinfo=IST), False),
    (datetime(2026, 11, 28, 11, 0, tzinfo=IST), False),   # Saturday
    (datetime(2026, 11, 29, 11, 0, tzinfo=IST), False),   # Sunday
])
def test_window_boundaries_in_ist(local, open_):
    assert WINDOW.is_open(local) is open_
    assert WINDOW.is_open(local.astimezone(UTC)) is open_


@pytest.mark.parametrize("day", [23, 24, 25, 26, 27])
def test_given_the_default_window_when_a_weekday_noon_comes_then_it_is_open(day):
    assert WINDOW.is_open(datetime(2026, 11, day, 12, 0, tzinfo=IST))


def test_utc_times_are_judged_by_the_kolkata_clock():
    assert WINDOW.is_open(datetime(2026, 11, 25, 3, 56, tzinfo=UTC))      # 09:26 IST
    assert not WINDOW.is_open(datetime(2026, 11, 25, 10, 0, tzinfo=UTC))  # 15:30 IST


def test_given_a_friday_evening_in_utc_when_it_is_already_saturday_in_kolkata_then_the_window_is_closed():
    window = TradingWindow(**ALL_DAY)
    assert window.is_open(datetime(2026, 11, 27, 18, 0, tzinfo=UTC))       # Friday 23:30 IST
    assert not window.is_open(datetime(2026, 11, 27, 18, 30, tzinfo=UTC))  # Saturday 00:00 IST


def test_given_a_timezone_setting_when_judging_a_time_then_its_local_clock_decides():
    london = TradingWindow(start=time(8, 0), end=time(16, 30), timezone="Europe/London")
    assert london.is_open(datetime(2026, 11, 25, 8, 0, tzinfo=UTC))
    assert not london.is_open(datetime(2026, 11, 25, 7, 59, 59, tzinfo=UTC))


def test_holidays_close_the_day():
    window = TradingWindow(holidays=(date(2026, 11, 25),))
    assert not window.is_open(datetime(2026, 11, 25, 11, 0, tzinfo=IST))
    assert window.is_open(datetime(2026, 11, 26, 11, 0, tzinfo=IST))


def test_given_a_holiday_when_the_utc_date_is_still_the_day_before_then_the_kolkata_date_closes_it():
    window = TradingWindow(holidays=(date(2026, 11, 26),), **ALL_DAY)
    assert window.is_open(datetime(2026, 11, 25, 18, 28, tzinfo=UTC))       # 25th 23:58 IST
    assert not window.is_open(datetime(2026, 11, 25, 18, 30, tzinfo=UTC))  # 26th 00:00 IST


def test_given_listed_weekdays_when_a_day_is_not_listed_then_the_window_is_closed_that_day():
    wednesdays = TradingWindow(weekdays=(2,))
    assert wednesdays.is_open(datetime(2026, 11, 25, 11, 0, tzinfo=IST))
    assert not wednesdays.is_open(datetime(2026, 11, 26, 11, 0, tzinfo=IST))


def test_given_every_day_listed_when_a_sunday_comes_then_the_window_is_open():
    every_day = TradingWindow(weekdays=(0, 1, 2, 3, 4, 5, 6))
    assert every_day.is_open(datetime(2026, 11, 29, 11, 0, tzinfo=IST))


def test_a_disabled_window_is_always_open():
    assert TradingWindow(enabled=False).is_open(datetime(2026, 11, 28, 23, 0, tzinfo=IST))


def test_given_a_disabled_window_when_the_time_is_unaware_then_it_is_still_open():
    assert TradingWindow(enabled=False).is_open(datetime(2026, 11, 28, 23, 0))  # noqa: DTZ001 - the point


def test_an_unaware_time_is_refused():
    with pytest.raises(ValueError, match=exactly("trading window needs a timezone-aware time")):
        WINDOW.is_open(datetime(2026, 11, 25, 11, 0))  # noqa: DTZ001 - the point of the test


def test_given_start_after_end_when_configured_then_it_is_refused_with_the_reason():
    with pytest.raises(ValueError, match=exactly("trading window start 15:30:00 must be before end 09:15:00")):
        TradingWindow(start=time(15, 30), end=time(9, 15))


def test_given_start_equal_to_end_when_configured_then_it_is_refused():
    with pytest.raises(ValueError, match=exactly("trading window start 09:15:00 must be before end 09:15:00")):
        TradingWindow(start=time(9, 15), end=time(9, 15))


def test_given_start_one_second_before_end_when_configured_then_the_window_opens_for_that_second():
    window = TradingWindow(start=time(9, 15), end=time(9, 15, 1))
    assert window.is_open(datetime(2026, 11, 25, 9, 15, 0, 500000, tzinfo=IST))
    assert not window.is_open(datetime(2026, 11, 25, 9, 15, 1, tzinfo=IST))


@pytest.mark.parametrize("weekdays", [(7,), (-1,), (0, 1, 9)])
def test_given_a_weekday_outside_monday_to_sunday_when_configured_then_it_is_refused_with_the_reason(weekdays):
    with pytest.raises(ValueError, match=exactly(f"weekdays must be 0 (Monday) .. 6 (Sunday), got {weekdays}")):
        TradingWindow(weekdays=weekdays)


@pytest.mark.parametrize("weekdays", [(0, 1, 2, 3, 4, 5, 6), (6,), (0,), ()])
def test_given_weekdays_within_monday_to_sunday_when_configured_then_they_are_accepted(weekdays):
    assert TradingWindow(weekdays=weekdays).weekdays == weekdays


def test_given_an_unknown_timezone_when_configured_then_it_is_refused():
    with pytest.raises(ZoneInfoNotFoundError):
        TradingWindow(timezone="Asia/Nowhere")
