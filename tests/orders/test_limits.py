"""The limits on automation: the daily loss limit that pauses a user, and the budget and backoff of
regenerating a rejected entry, each pinned at its boundary."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from domain.limits import (
    daily_loss_pause_reason,
    regeneration_allowed,
    regeneration_due,
    total_day_pnl,
    watched_loss_limit,
)

D = Decimal
ARCHIVED_AT = datetime(2024, 5, 6, 4, 0, tzinfo=UTC)
MICROSECOND = timedelta(microseconds=1)


# --- the day's PnL ------------------------------------------------------------------------------------


def test_the_day_pnl_is_the_realized_plus_the_unrealized_of_every_line():
    lines = [(D("120.50"), D("-30.25")), (D("-200"), D("15.05"))]

    assert total_day_pnl(lines) == D("-94.70")


def test_a_figure_not_computed_yet_counts_as_zero_in_the_day_pnl():
    lines = [(None, D("-30.25")), (D("12.40"), None), (None, None)]

    assert total_day_pnl(lines) == D("-17.85")


def test_a_day_without_history_has_a_pnl_of_decimal_zero():
    pnl = total_day_pnl([])

    assert pnl == 0 and isinstance(pnl, Decimal)


# --- the daily loss limit -----------------------------------------------------------------------------


def test_a_user_without_a_daily_loss_limit_is_not_watched():
    assert watched_loss_limit(None, paused=False) is None


def test_a_user_already_paused_is_not_watched_again():
    assert watched_loss_limit(D("5000"), paused=True) is None


def test_a_running_user_with_a_limit_is_held_to_that_limit():
    assert watched_loss_limit(D("5000"), paused=False) == D("5000")


def test_a_day_pnl_exactly_at_minus_the_limit_pauses_with_the_reason():
    assert daily_loss_pause_reason(D("5000"), D("-5000")) == "daily loss limit 5000.00 reached (day PnL -5000.00)"


def test_a_day_pnl_one_paisa_above_minus_the_limit_does_not_pause():
    assert daily_loss_pause_reason(D("5000"), D("-4999.99")) is None


def test_a_day_pnl_past_minus_the_limit_pauses_and_says_by_how_much():
    assert daily_loss_pause_reason(D("50"), D("-89.80")) == "daily loss limit 50.00 reached (day PnL -89.80)"


def test_a_profitable_day_never_pauses():
    assert daily_loss_pause_reason(D("50"), D("49.99")) is None


def test_a_zero_limit_which_the_store_refuses_to_set_would_pause_a_flat_day():
    assert daily_loss_pause_reason(D("0"), D("0")) == "daily loss limit 0.00 reached (day PnL 0.00)"
    assert daily_loss_pause_reason(D("0"), D("0.01")) is None


# --- the regeneration budget --------------------------------------------------------------------------


def test_the_last_regeneration_the_budget_allows_is_made():
    assert regeneration_allowed(attempt=2, max_regenerations=2)


def test_a_regeneration_one_over_the_budget_is_not_made():
    assert not regeneration_allowed(attempt=3, max_regenerations=2)


def test_a_budget_of_zero_allows_no_regeneration():
    assert not regeneration_allowed(attempt=1, max_regenerations=0)


# --- the regeneration backoff -------------------------------------------------------------------------


def test_the_first_regeneration_is_due_exactly_one_backoff_after_the_archiving():
    assert regeneration_due(ARCHIVED_AT, 1, 30.0, ARCHIVED_AT + timedelta(seconds=30))


def test_the_first_regeneration_is_not_due_a_microsecond_before_its_backoff():
    assert not regeneration_due(ARCHIVED_AT, 1, 30.0, ARCHIVED_AT + timedelta(seconds=30) - MICROSECOND)


def test_the_second_regeneration_waits_twice_the_backoff():
    due = ARCHIVED_AT + timedelta(seconds=60)

    assert regeneration_due(ARCHIVED_AT, 2, 30.0, due)
    assert not regeneration_due(ARCHIVED_AT, 2, 30.0, due - MICROSECOND)


def test_the_third_regeneration_waits_four_times_the_backoff():
    due = ARCHIVED_AT + timedelta(seconds=120)

    assert regeneration_due(ARCHIVED_AT, 3, 30.0, due)
    assert not regeneration_due(ARCHIVED_AT, 3, 30.0, due - MICROSECOND)


def test_without_a_backoff_a_regeneration_is_due_the_moment_the_entry_is_archived():
    assert regeneration_due(ARCHIVED_AT, 2, 0.0, ARCHIVED_AT)
    assert not regeneration_due(ARCHIVED_AT, 2, 0.0, ARCHIVED_AT - MICROSECOND)
