"""Steps 3, 5 and 6 keep each account's last plan while its orders, its book and the fair prices it can see
are the same: a cycle in which nothing moved plans nothing again, and a change to any input (a fair price's
value, or only its age) is planned again. Step 4 keeps its plan while the orders, the book and what the
book's fetch time decides are the same (tests/cycle/test_order_stories.py has the in-flight leg whose
absence becomes known only as the book grows older than the settle time). The book's index and the FIFO
result are kept while the stored snapshot keeps its version."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime
from decimal import Decimal as D
from typing import Any

import pytest

from actors import book_indexes
from actors.order_placer import steps as placer_steps
from actors.order_syncer import steps as syncer_steps
from actors.pnl_calculator import step as pnl_step
from messages.events import EntriesModified
from tests.cycle.conftest import CycleRig


class Calls:
    """Wraps a pure planning function and counts its calls; the real function does the work."""

    def __init__(self, function: Callable[..., Any]) -> None:
        self.function, self.count = function, 0

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        self.count += 1
        return self.function(*args, **kwargs)


def entries_modified(rig: CycleRig) -> EntriesModified:
    logged = rig.io.call(rig.runtime.event_log.read_cycle(rig.user_id, rig.finished[-1].cycle_id))
    return next(e.event for e in logged if isinstance(e.event, EntriesModified))


def test_a_cycle_in_which_nothing_moved_plans_nothing_again_and_a_fair_price_move_is_planned(
        rig: CycleRig, monkeypatch: pytest.MonkeyPatch):
    sync_plans = Calls(syncer_steps.plan_order_sync)
    entry_plans = Calls(placer_steps.plan_entry_modification)
    monkeypatch.setattr(syncer_steps, "plan_order_sync", sync_plans)
    monkeypatch.setattr(placer_steps, "plan_entry_modification", entry_plans)
    rig.given_user("PAPER1")
    order_id = rig.place_untriggered_buy_stop(sl_stop_price="98", tp_price="115")
    rig.fair(buy="104", sell="103.9")
    rig.run_cycle()
    rig.run_cycle()
    settled = (sync_plans.count, entry_plans.count)

    rig.run_cycle()
    assert (sync_plans.count, entry_plans.count) == settled, "same orders, book and fair prices: no new plan"
    assert rig.order(order_id).entry_modifications == 0

    rig.fair(buy="105.12", sell="105.0")
    rig.run_cycle()
    assert sync_plans.count == settled[0] + 1 and entry_plans.count > settled[1]
    order = rig.order(order_id)
    assert (order.entry_type, order.entry_limit_price, order.entry_modifications) == ("LIMIT", D("105.15"), 1)


@pytest.mark.rules(fair_price_max_age_s=1.0)
def test_a_fair_price_that_only_grew_old_is_judged_again(rig: CycleRig):
    rig.given_user("PAPER1")
    order_id = rig.place_untriggered_buy_stop()
    rig.fair(buy="104", sell="103.9", at=datetime.now(UTC))
    rig.run_cycle()
    assert entries_modified(rig).stale_fair_prices == 0

    time.sleep(1.2)  # the same row, now older than the limit
    rig.run_cycle()
    assert entries_modified(rig).stale_fair_prices == 1
    assert rig.order(order_id).entry_modifications == 0


def test_a_cycle_in_which_nothing_moved_plans_no_protection_again_and_a_fill_is_protected(
        rig: CycleRig, monkeypatch: pytest.MonkeyPatch):
    protection_plans = Calls(placer_steps.plan_protection)
    monkeypatch.setattr(placer_steps, "plan_protection", protection_plans)
    rig.given_user("PAPER1")
    rig.price("100")
    order_id = rig.place_entry(side="BUY", quantity=10, entry_type="LIMIT", entry_limit_price="99",
                               sl_stop_price="95", tp_price="110")
    rig.run_cycle()
    rig.run_cycle()
    settled = protection_plans.count

    rig.run_cycle()
    assert protection_plans.count == settled, "same orders and book: no new protection plan"
    assert rig.order(order_id).sl_tag is None, "nothing filled yet: nothing to protect"

    rig.price("99")  # the entry fills: the book and the order change
    rig.run_cycle()
    assert protection_plans.count > settled
    order = rig.order(order_id)
    assert rig.book()[order.sl_tag].status == "Trigger Pending" and order.tp_tag in rig.book()


def test_a_cycle_in_which_nothing_moved_neither_indexes_the_book_nor_matches_fifo_again_and_a_fill_does_both(
        rig: CycleRig, monkeypatch: pytest.MonkeyPatch):
    indexes, matches = Calls(book_indexes.BookIndex), Calls(pnl_step.match_fifo)
    monkeypatch.setattr(book_indexes, "BookIndex", indexes)
    monkeypatch.setattr(pnl_step, "match_fifo", matches)
    rig.given_user("PAPER1")
    rig.price("100")
    rig.place_entry(side="BUY", quantity=10, entry_type="LIMIT", entry_limit_price="99", sl_stop_price="95",
                    tp_price="110")
    rig.run_cycle()
    rig.run_cycle()
    settled = (indexes.count, matches.count)

    rig.run_cycle()
    assert (indexes.count, matches.count) == settled, "same book: the index and the FIFO result are kept"

    rig.price("99")  # the entry fills: the book changes
    rig.run_cycle()
    assert indexes.count > settled[0] and matches.count > settled[1]
