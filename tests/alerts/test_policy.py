"""The alert policy, pure: each condition is announced once until it clears (or `realert_after` has passed),
and at most `per_minute` messages about a user go out in any minute, the note of those held back included.
Both sides of every boundary: the interval's equality, the last message allowed, one past it, the window's
edge."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from service.alerts.alert import Alert, AlertKind, Cleared
from service.alerts.policy import AlertPolicy, HeldBack

T0 = datetime(2026, 3, 2, 4, 0, tzinfo=UTC)
TICK = timedelta(microseconds=1)
MINUTE = timedelta(minutes=1)


def alert(kind: AlertKind = AlertKind.SESSION_NEEDED, user_id: int = 7, account_id: int | None = 12,
          order_id: int | None = None) -> Alert:
    return Alert(kind=kind, user_id=user_id, account_id=account_id, order_id=order_id, message="m", at=T0)


def policy(per_minute: int = 100, realert_after: timedelta | None = None) -> AlertPolicy:
    return AlertPolicy(per_minute=per_minute, realert_after=realert_after)


# --- dedup ---------------------------------------------------------------------------------------------


def test_a_condition_is_announced_once_while_it_persists():
    rules = policy()
    assert rules.offer(alert(), T0) == "send"
    assert rules.offer(alert(), T0 + timedelta(hours=6)) == "duplicate"


def test_another_account_order_kind_or_user_is_another_condition():
    rules = policy()
    rules.offer(alert(), T0)
    assert rules.offer(alert(account_id=13), T0) == "send"
    assert rules.offer(alert(kind=AlertKind.STOP_LOSS_MISSING, order_id=5), T0) == "send"
    assert rules.offer(alert(kind=AlertKind.STOP_LOSS_MISSING, order_id=6), T0) == "send"
    assert rules.offer(alert(user_id=8), T0) == "send"


def test_a_cleared_condition_is_announced_again_when_it_comes_back():
    rules = policy()
    rules.offer(alert(), T0)
    rules.clear(Cleared(kind=AlertKind.SESSION_NEEDED, user_id=7, account_id=12))
    assert rules.offer(alert(), T0 + TICK) == "send"


def test_clearing_one_account_leaves_the_others_condition():
    rules = policy()
    rules.offer(alert(account_id=12), T0)
    rules.offer(alert(account_id=13), T0)
    rules.clear(Cleared(kind=AlertKind.SESSION_NEEDED, user_id=7, account_id=12))
    assert rules.offer(alert(account_id=13), T0) == "duplicate"
    assert rules.offer(alert(account_id=12), T0) == "send"


def test_clearing_without_an_account_clears_the_users_every_account_and_no_other_users_or_kinds():
    rules = policy()
    sent = (alert(account_id=12), alert(account_id=13), alert(user_id=8), alert(AlertKind.PAUSED, account_id=None))
    for each in sent:
        rules.offer(each, T0)
    rules.clear(Cleared(kind=AlertKind.SESSION_NEEDED, user_id=7))
    assert [rules.offer(each, T0) for each in sent] == ["send", "send", "duplicate", "duplicate"]


def test_a_clear_keeping_some_orders_keeps_exactly_their_conditions():
    rules = policy()
    for order_id in (5, 6, 7):
        rules.offer(alert(AlertKind.STOP_LOSS_MISSING, order_id=order_id), T0)
    rules.clear(Cleared(kind=AlertKind.STOP_LOSS_MISSING, user_id=7, account_id=12, keep_orders=frozenset({5, 7})))
    assert [rules.offer(alert(AlertKind.STOP_LOSS_MISSING, order_id=o), T0) for o in (5, 6, 7)] == \
        ["duplicate", "send", "duplicate"]


def test_a_persisting_condition_is_announced_again_exactly_when_the_realert_interval_has_passed():
    rules = policy(realert_after=timedelta(minutes=30))
    rules.offer(alert(), T0)
    assert rules.offer(alert(), T0 + timedelta(minutes=30) - TICK) == "duplicate"
    assert rules.offer(alert(), T0 + timedelta(minutes=30)) == "send"
    assert rules.offer(alert(), T0 + timedelta(minutes=30) + TICK) == "duplicate", "counted from the last send"


def test_without_a_realert_interval_a_condition_is_never_announced_again_while_it_persists():
    rules = policy(realert_after=None)
    rules.offer(alert(), T0)
    assert rules.offer(alert(), T0 + timedelta(days=30)) == "duplicate"


# --- rate limit ----------------------------------------------------------------------------------------


def distinct(n: int, user_id: int = 7) -> list[Alert]:
    return [alert(account_id=100 + i, user_id=user_id) for i in range(n)]


def test_the_last_message_allowed_in_a_minute_goes_and_the_next_is_held_back():
    rules = policy(per_minute=3)
    assert [rules.offer(a, T0) for a in distinct(4)] == ["send", "send", "send", "held_back"]


def test_a_limit_of_one_lets_exactly_one_message_through():
    rules = policy(per_minute=1)
    assert [rules.offer(a, T0) for a in distinct(2)] == ["send", "held_back"]


def test_the_limit_is_per_user():
    rules = policy(per_minute=2)
    for a in distinct(3, user_id=7):
        rules.offer(a, T0)
    assert [rules.offer(a, T0) for a in distinct(2, user_id=8)] == ["send", "send"]


def test_a_send_exactly_a_minute_ago_no_longer_counts_one_a_microsecond_younger_does():
    rules = policy(per_minute=2)
    first, second, third = distinct(3)
    rules.offer(first, T0)
    rules.offer(second, T0 + timedelta(seconds=30))
    assert rules.offer(third, T0 + MINUTE - TICK) == "held_back"
    assert rules.offer(third, T0 + MINUTE) == "send"
    assert rules.room_at(7, T0 + MINUTE) == T0 + timedelta(seconds=30) + MINUTE


def test_a_duplicate_takes_no_room():
    rules = policy(per_minute=2)
    rules.offer(alert(), T0)
    for _ in range(5):
        rules.offer(alert(), T0)
    assert rules.offer(alert(account_id=99), T0) == "send"


def test_an_alert_held_back_is_not_remembered_as_sent_so_its_condition_gets_out_later():
    rules = policy(per_minute=1)
    first, second = distinct(2)
    rules.offer(first, T0)
    assert rules.offer(second, T0) == "held_back"
    assert rules.offer(second, T0 + MINUTE) == "send"


def test_room_is_now_while_under_the_limit_and_the_oldest_send_plus_a_minute_at_it():
    rules = policy(per_minute=2)
    assert rules.room_at(7, T0) == T0
    rules.offer(distinct(1)[0], T0)
    assert rules.room_at(7, T0 + TICK) == T0 + TICK
    rules.offer(distinct(2)[1], T0 + timedelta(seconds=10))
    assert rules.room_at(7, T0 + timedelta(seconds=20)) == T0 + MINUTE


# --- the note of alerts held back ------------------------------------------------------------------------


def test_no_note_when_nothing_was_held_back():
    rules = policy(per_minute=1)
    rules.offer(alert(), T0)
    assert rules.take_held_back(7, T0 + MINUTE) is None
    assert not rules.holds_back(7)


def test_the_note_waits_for_room_then_counts_the_alerts_held_back_by_kind_once():
    rules = policy(per_minute=2)
    rules.offer(alert(account_id=1), T0)
    rules.offer(alert(account_id=2), T0)
    rules.offer(alert(account_id=3), T0 + TICK)
    rules.offer(alert(AlertKind.STOP_LOSS_MISSING, order_id=4), T0 + TICK)
    rules.offer(alert(account_id=5), T0 + TICK)

    assert rules.take_held_back(7, T0 + MINUTE - TICK) is None, "no room yet"
    assert rules.holds_back(7)
    note = rules.take_held_back(7, T0 + MINUTE)
    assert note == HeldBack(user_id=7, kinds={AlertKind.SESSION_NEEDED: 2, AlertKind.STOP_LOSS_MISSING: 1})
    assert note.count == 3
    assert rules.take_held_back(7, T0 + 2 * MINUTE) is None, "told once"


def test_the_note_counts_as_a_message_in_the_window():
    rules = policy(per_minute=2)
    for a in distinct(3):
        rules.offer(a, T0)
    rules.take_held_back(7, T0 + MINUTE)
    assert rules.offer(alert(account_id=50), T0 + MINUTE) == "send"
    assert rules.offer(alert(account_id=51), T0 + MINUTE) == "held_back", "the note took one of the two"


def test_the_note_says_how_many_were_held_back_of_each_kind():
    note = HeldBack(user_id=7, kinds={AlertKind.STOP_LOSS_MISSING: 1, AlertKind.SESSION_NEEDED: 2})
    told = note.alert(T0, per_minute=10)
    assert (told.kind, told.user_id, told.account_id, told.at) == (AlertKind.ALERTS_HELD_BACK, 7, None, T0)
    assert told.message == "3 alerts held back by the limit of 10 a minute (session_needed 2, stop_loss_missing 1)"
    single = HeldBack(user_id=7, kinds={AlertKind.PAUSED: 1}).alert(T0, per_minute=1)
    assert single.message == "1 alert held back by the limit of 1 a minute (paused 1)"


@pytest.mark.parametrize("per_minute", [0, -1])
def test_a_limit_that_lets_nothing_through_is_refused(per_minute):
    with pytest.raises(ValueError, match="per_minute must be positive"):
        AlertPolicy(per_minute=per_minute, realert_after=None)
