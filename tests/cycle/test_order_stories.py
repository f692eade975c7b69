"""Steps 2-9 end to end, one story each: MariaDB and SQLite, the paper broker over HTTP, real actors, and
every broker: each story runs with XTS accounts and with Kite accounts, over the paper broker's two faces.

Given an account, its entry and a market, when cycles run, then the database and the broker agree on
what the system did with the orders — and the broker's journal proves nothing was sent twice.
"""

import time
from decimal import Decimal

import pytest

from actors.error_reporter.report import RELOGIN, RELOGIN_BY_HAND
from messages.frames import PausedFrame, SessionNeeded
from tests.cycle.conftest import CycleRig

D = Decimal
pytestmark = pytest.mark.every_broker


def given_long_entry(rig: CycleRig, quantity: int = 10, **prices: str) -> int:
    rig.price("100")
    return rig.place_entry(side="BUY", quantity=quantity, entry_type="LIMIT", entry_limit_price="99",
                           sl_stop_price=prices.get("sl", "95"), tp_price=prices.get("tp", "110"))


def given_a_filled_long(rig: CycleRig, max_fill_qty: int | None = None) -> int:
    """A user with one account whose long entry of 10 at 99 has filled (SL 95, TP 110 not placed yet); with
    `max_fill_qty`, the broker fills at most that much of it at a time."""
    rig.given_user("PAPER1")
    if max_fill_qty is not None:
        rig.sim("liquidity", max_fill_qty=max_fill_qty)
    order_id = given_long_entry(rig)
    rig.price("99")
    return order_id


def test_an_entry_filled_in_two_parts_gets_sl_and_tp_sized_to_each_part(rig: CycleRig):
    order_id = given_a_filled_long(rig, max_fill_qty=6)

    rig.run_cycle()
    order = rig.order(order_id)
    assert (order.status, order.filled_qty, order.sl_qty, order.tp_qty) == ("RUNNING", 6, 6, 6)
    book = rig.book()
    assert (book[order.sl_tag].quantity, book[order.sl_tag].side, book[order.sl_tag].order_type) == (6, "SELL",
                                                                                                      "STOPLIMIT")
    assert (book[order.tp_tag].quantity, book[order.tp_tag].limit_price) == (6, D("110"))

    rig.price("98.5")
    rig.run_cycle()
    order = rig.order(order_id)
    assert (order.filled_qty, order.sl_qty, order.tp_qty) == (10, 10, 10)
    book = rig.book()
    assert book[order.sl_tag].quantity == 10 and book[order.tp_tag].quantity == 10
    assert rig.sent(order.sl_tag) == 1 and rig.sent(order.tp_tag) == 1
    assert rig.sent(order.sl_tag, "modify") == 1


def test_the_take_profit_fills_and_the_stop_loss_is_cancelled(rig: CycleRig):
    order_id = given_a_filled_long(rig)
    rig.run_cycle()
    rig.price("110.5")

    rig.run_cycle()
    order = rig.order(order_id)
    assert order.status == "CLOSED"
    assert order.exit_price == D("110.5") and order.realized_pnl == D("115")  # (110.5 - 99) x 10
    assert rig.book()[order.sl_tag].status == "Cancelled"
    assert rig.sent(order.sl_tag, "cancel") == 1

    rig.run_cycle()
    assert rig.sent(order.sl_tag, "cancel") == 1, "a closed trade is not cancelled twice"


def test_a_trade_that_exits_part_one_day_and_the_rest_the_next_is_closed_with_the_pnl_of_both_days(rig: CycleRig):
    order_id = given_a_filled_long(rig)
    rig.run_cycle()
    rig.sim("liquidity", max_fill_qty=4)
    rig.price("95")
    rig.run_cycle()
    assert (rig.order(order_id).status, rig.order(order_id).realized_pnl) == ("RUNNING", D("-16"))  # (95 - 99) x 4

    rig.sim("new_day")
    rig.sim("liquidity", max_fill_qty=None)
    rig.price("100")
    rig.run_cycle()
    order = rig.order(order_id)
    assert rig.book()[order.sl_tag].quantity == 6 and rig.book()[order.tp_tag].quantity == 6
    rig.price("111")
    rig.run_cycle()

    order = rig.order(order_id)
    assert order.status == "CLOSED"
    assert order.realized_pnl == D("56")  # (95 - 99) x 4 yesterday + (111 - 99) x 6 today
    assert order.exit_price == D("104.6")  # (95 x 4 + 111 x 6) / 10
    assert [(fill.qty, fill.avg_price) for fill in order.exit_fills] == [(4, D("95")), (6, D("111"))]
    assert rig.book()[order.sl_tag].status == "Cancelled"
    assert not rig.errors(), "the position of 6 the broker carried over bears the record out"


def test_a_gap_through_the_stop_loss_is_converted_to_a_limit_at_the_fair_price(rig: CycleRig):
    order_id = given_a_filled_long(rig)
    rig.run_cycle()
    rig.price("90")
    rig.fair(buy="90.10", sell="90.02")

    rig.run_cycle()
    order = rig.order(order_id)
    sl = rig.book()[order.sl_tag]
    assert sl.order_type == "LIMIT" and sl.limit_price == D("90.00")  # a SELL rounds down to the tick
    assert rig.sent(order.sl_tag, "modify") == 1

    rig.price("90")
    rig.run_cycle()
    order = rig.order(order_id)
    assert order.status == "CLOSED" and order.exit_price == D("90")
    assert order.realized_pnl == D("-90")


def test_the_fair_price_crossing_an_untriggered_entry_stop_converts_it_to_a_limit(rig: CycleRig):
    rig.given_user("PAPER1")
    order_id = rig.place_untriggered_buy_stop(sl_stop_price="98", tp_price="115")
    rig.fair(buy="104", sell="103.9")
    rig.run_cycle()
    assert rig.order(order_id).entry_modifications == 0, "the stop is not crossed yet"

    rig.fair(buy="105.12", sell="105.0")
    rig.run_cycle()
    order = rig.order(order_id)
    assert (order.entry_type, order.entry_limit_price, order.entry_modifications) == ("LIMIT", D("105.15"), 1)
    entry = rig.book()[order.entry_tag]
    assert entry.order_type == "LIMIT" and entry.limit_price == D("105.15")


def test_stale_or_missing_fair_prices_leave_orders_alone_and_are_counted(rig: CycleRig):
    from datetime import UTC, datetime, timedelta

    rig.given_user("PAPER1")
    order_id = rig.place_untriggered_buy_stop()
    rig.fair(buy="106", sell="105.9", at=datetime.now(UTC) - timedelta(minutes=10))
    rig.run_cycle()
    assert rig.order(order_id).entry_modifications == 0
    assert rig.sent(rig.order(order_id).entry_tag, "modify") == 0


@pytest.mark.rules(regeneration_backoff_s=0)
def test_a_rejected_entry_is_archived_regenerated_and_left_alone_after_its_last_attempt(rig: CycleRig):
    rig.given_user("PAPER1", strategies=("momentum",))
    rig.sim("reject", rule={"rule": "symbol", "symbol": "SBIN", "reason": "RMS:Blocked"})
    first = given_long_entry(rig)

    for _ in range(5):
        rig.run_cycle()

    archived = rig.io.call(rig.store.archived_orders(rig.user_id, rig.accounts["PAPER1"]))
    assert len(archived) == 3, "the original and its two regenerations"
    assert {a.archive_reason for a in archived} == {"RMS:Blocked"}
    assert sorted(a.order.regeneration_attempt for a in archived) == [0, 1, 2]
    assert any(a.order.id == first for a in archived)
    assert rig.orders() == []
    entries = [e for e in rig.journal() if e["route"] == "place"]
    assert len(entries) == 3 and len({e["tag"] for e in entries}) == 3


@pytest.mark.rules(regeneration_backoff_s=0)
def test_a_regenerated_entry_the_broker_took_is_not_placed_again_when_its_step_stopped_before_settling(
        rig: CycleRig):
    rig.given_user("PAPER1", strategies=("momentum",))
    rig.sim("reject", rule={"rule": "symbol", "symbol": "SBIN", "reason": "RMS:Blocked"})
    given_long_entry(rig)
    rig.run_cycle()
    rig.sim("reject", rule=None)
    settle = rig.store.mark_regeneration

    async def stopped_before_settling(*args, **kwargs):
        raise RuntimeError("the step stopped after the broker took the entry, before it settled the row")

    def entries_sent() -> list[str]:
        return [e["tag"] for e in rig.journal() if e["route"] == "place"]

    before = entries_sent()
    rig.store.mark_regeneration = stopped_before_settling
    rig.run_cycle()
    rig.store.mark_regeneration = settle
    [taken] = entries_sent()[len(before):]
    rig.run_cycle()
    rig.run_cycle()

    assert entries_sent() == [*before, taken], "the entry the broker took is the only one sent since"
    [regenerated] = rig.orders()
    assert (regenerated.entry_tag, regenerated.status) == (taken, "ENTRY_OPEN")


def test_an_ack_lost_after_the_broker_accepted_leaves_exactly_one_stop_loss(rig: CycleRig):
    order_id = given_a_filled_long(rig)
    rig.sim("faults", route="place", account="PAPER1", kind="accept_then_500", count=1)

    rig.run_cycle()
    order = rig.order(order_id)
    assert order.sl_orderstatus == "Unconfirmed", "the placement's answer was lost"

    rig.run_cycle()
    rig.run_cycle()
    order = rig.order(order_id)
    assert order.sl_orderstatus == "Trigger Pending" and order.sl_order_id is not None
    live_sls = [row for row in rig.book().values() if row.side == "SELL" and row.order_type == "STOPLIMIT"
                and row.status in ("Trigger Pending", "New")]
    assert len(live_sls) == 1
    assert rig.sent(order.sl_tag) == 1


def test_one_account_with_an_expired_session_does_not_stop_the_others_stop_losses(rig: CycleRig):
    rig.given_user("A1", "A2", "A3")
    rig.price("100")
    ids = {c: rig.place_entry(c, side="BUY", quantity=4, entry_type="LIMIT", entry_limit_price="99",
                              sl_stop_price="95", tp_price="110") for c in ("A1", "A2", "A3")}
    rig.price("99")
    rig.sim("expire", account="A2")

    rig.run_cycle()
    assert rig.order(ids["A1"]).sl_orderstatus is not None and rig.order(ids["A3"]).sl_orderstatus is not None
    assert rig.order(ids["A2"]).sl_tag is None
    assert [(e.account_id, e.kind) for e in rig.errors()] == [(rig.accounts["A2"], "session_expired")]
    [needed] = [frame for _, frame in rig.notifier.sent if isinstance(frame, SessionNeeded)]
    assert needed.account_id == rig.accounts["A2"]
    assert (needed.login_url, needed.message) == (
        ("", RELOGIN) if rig.broker_name == "paper"
        else (f"{rig.paper.url}/connect/login?api_key=A2&v=3", RELOGIN_BY_HAND)), "Kite's login is by hand"
    for client in ("A1", "A3"):
        assert rig.book(client)[rig.order(ids[client]).sl_tag].quantity == 4


@pytest.mark.rules(inflight_settle_s=1.0)
def test_an_ambiguous_failure_the_broker_never_acted_on_is_resent_with_the_same_tag(rig: CycleRig):
    order_id = given_a_filled_long(rig)
    rig.sim("faults", route="place", account="PAPER1", kind="http_500", count=1)

    rig.run_cycle()
    order = rig.order(order_id)
    failed_tag = order.sl_tag
    assert order.sl_orderstatus == "Unconfirmed"
    assert failed_tag not in rig.book()

    rig.run_cycle()
    assert rig.sent(failed_tag) == 1, "within the settle time the request may still land: nothing is re-sent"
    time.sleep(1.0)
    rig.run_cycle()
    order = rig.order(order_id)
    assert order.sl_tag == failed_tag, "the same intent keeps its tag"
    assert rig.sent(failed_tag) == 2
    assert rig.book()[failed_tag].status == "Trigger Pending"
    rig.run_cycle()
    assert rig.sent(failed_tag) == 2


@pytest.mark.rules(regeneration_backoff_s=1.0)
def test_each_regeneration_waits_a_longer_backoff_than_the_last(rig: CycleRig):
    rig.given_user("PAPER1", strategies=("momentum",))
    rig.sim("reject", rule={"rule": "symbol", "symbol": "SBIN", "reason": "RMS: no margin"})
    given_long_entry(rig)

    def entries_sent() -> int:
        return sum(1 for e in rig.journal() if e["route"] == "place")

    rig.run_cycle()
    rig.run_cycle()
    assert entries_sent() == 1, "the first regeneration waits its 1 s backoff"
    time.sleep(1.1)
    rig.run_cycle()
    assert entries_sent() == 2
    rig.run_cycle()
    time.sleep(1.1)
    rig.run_cycle()
    assert entries_sent() == 2, "the second waits 2 s, not 1"
    time.sleep(1.0)
    rig.run_cycle()
    assert entries_sent() == 3


def test_reaching_the_daily_loss_limit_pauses_automation_with_the_reason(rig: CycleRig):
    rig.given_user("PAPER1")
    rig.io.call(rig.store.set_daily_loss_limit(rig.user_id, Decimal("50")))
    order_id = given_long_entry(rig)
    rig.price("99")
    rig.run_cycle()
    rig.price("90")
    rig.fair(buy="90.10", sell="90.02")
    rig.run_cycle()
    rig.price("90")
    rig.run_cycle()
    assert rig.order(order_id).realized_pnl == D("-90")

    summary = rig.run_cycle()
    assert summary.paused
    assert any("daily loss limit 50.00 reached (day PnL -89.80)" in notice for notice in summary.notices), \
        "paused at the start of the cycle after the open lot was marked 0.02 above the fill"
    context = rig.io.call(rig.store.load_cycle_context(rig.user_id))
    assert context.paused and "daily loss limit" in context.pause_reason
    assert [frame for _, frame in rig.notifier.sent if isinstance(frame, PausedFrame)] == [
        PausedFrame(paused=True, reason=context.pause_reason)], "the clients are told, as when the user pauses"
    second = rig.place_entry(side="BUY", quantity=1, entry_type="LIMIT", entry_limit_price="89",
                             sl_stop_price="85", tp_price="95")
    rig.price("89")
    rig.run_cycle()
    protected, book = rig.order(second), rig.book()
    assert (book[protected.sl_tag].status, book[protected.tp_tag].status) == ("Trigger Pending", "New"), \
        "an entry that fills while paused still gets its stop-loss and take-profit"
