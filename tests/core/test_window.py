"""The trading window, in Asia/Kolkata: boundaries, weekends, holidays, and config errors."""

from datetime import UTC, date, datetime, time, timedelta, timezone

import pytest

from actors.user_monitor.window import TradingWindow

IST = timezone(timedelta(hours=5, minutes=30))
WINDOW = TradingWindow()


@pytest.mark.parametrize(("local", "open_"), [
    (datetime(2026, 11, 25, 9, 25, 59, tzinfo=IST), False),
    (datetime(2026, 11, 25, 9, 26, 0, tzinfo=IST), True),
    (datetime(2026, 11, 25, 15, 29, 59, tzinfo=IST), True),
    (datetime(2026, 11, 25, 15, 30, 0, tzinfo=IST), False),
    (datetime(2026, 11, 28, 11, 0, tzinfo=IST), False),   # Saturday
    (datetime(2026, 11, 29, 11, 0, tzinfo=IST), False),   # Sunday
])
def test_window_boundaries_in_ist(local, open_):
    assert WINDOW.is_open(local) is open_
    assert WINDOW.is_open(local.astimezone(UTC)) is open_


def test_utc_times_are_judged_by_the_kolkata_clock():
    assert WINDOW.is_open(datetime(2026, 11, 25, 3, 56, tzinfo=UTC))      # 09:26 IST
    assert not WINDOW.is_open(datetime(2026, 11, 25, 10, 0, tzinfo=UTC))  # 15:30 IST


def test_holidays_close_the_day():
    window = TradingWindow(holidays=(date(2026, 11, 25),))
    assert not window.is_open(datetime(2026, 11, 25, 11, 0, tzinfo=IST))
    assert window.is_open(datetime(2026, 11, 26, 11, 0, tzinfo=IST))


def test_a_disabled_window_is_always_open():
    assert TradingWindow(enabled=False).is_open(datetime(2026, 11, 28, 23, 0, tzinfo=IST))


def test_an_unaware_time_is_refused():
    with pytest.raises(ValueError, match="timezone-aware"):
        WINDOW.is_open(datetime(2026, 11, 25, 11, 0))  # noqa: DTZ001 - the point of the test


def test_nonsense_windows_are_refused_with_the_reason():
    with pytest.raises(ValueError, match="before end"):
        TradingWindow(start=time(15, 30), end=time(9, 15))
    with pytest.raises(ValueError, match="weekdays"):
        TradingWindow(weekdays=(7,))
