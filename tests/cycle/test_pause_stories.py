"""The kill switch end to end, against the paper broker over HTTP on SQLite and MariaDB: a pause cancels
the entries still open at the broker, and a trade that fills while paused still gets its stop-loss and
take-profit; with `cancel_entries_when_paused = false` open entries are left to fill."""


from tests.cycle.conftest import CycleRig
from tests.cycle.test_order_stories import given_a_filled_long, given_long_entry


def pause(rig: CycleRig, reason: str = "lunch") -> None:
    rig.io.call(rig.store.set_paused(rig.user_id, True, reason))


def test_pausing_with_an_open_entry_cancels_it_at_the_broker(rig: CycleRig):
    rig.given_user("PAPER1")
    order_id = given_long_entry(rig)
    rig.run_cycle()
    entry_tag = rig.order(order_id).entry_tag
    assert rig.book()[entry_tag].status == "New"

    pause(rig)
    summary = rig.run_cycle()

    assert rig.book()[entry_tag].status == "Cancelled"
    assert rig.sent(entry_tag, route="cancel") == 1
    assert summary.paused and any("open entries are cancelled" in notice for notice in summary.notices)
    rig.run_cycle()
    assert rig.order(order_id).status == "CANCELLED"
    assert rig.sent(entry_tag, route="cancel") == 1, "a cancelled entry is not cancelled again"


def test_an_entry_that_fills_while_paused_gets_its_stop_loss_and_take_profit(rig: CycleRig):
    rig.given_user("PAPER1")
    order_id = given_long_entry(rig)
    rig.run_cycle()
    pause(rig)

    rig.price("99")
    rig.run_cycle()

    order = rig.order(order_id)
    book = rig.book()
    assert order.status == "RUNNING"
    assert (book[order.sl_tag].status, book[order.sl_tag].quantity) == ("Trigger Pending", 10)
    assert (book[order.tp_tag].status, book[order.tp_tag].quantity) == ("New", 10)
    assert rig.sent(order.entry_tag, route="cancel") == 0, "nothing left to cancel: the entry filled"


def test_a_partly_filled_entry_is_cancelled_on_pause_and_what_filled_is_protected(rig: CycleRig):
    order_id = given_a_filled_long(rig, max_fill_qty=4)
    rig.run_cycle()
    pause(rig)

    rig.run_cycle()

    order = rig.order(order_id)
    book = rig.book()
    assert book[order.entry_tag].status == "Cancelled"
    assert (book[order.sl_tag].quantity, book[order.tp_tag].quantity) == (4, 4)


def test_with_cancelling_off_a_pause_leaves_the_open_entry_and_protects_its_fill(keeping_rig: CycleRig):
    rig = keeping_rig
    rig.given_user("PAPER1")
    order_id = given_long_entry(rig)
    rig.run_cycle()
    pause(rig)
    rig.run_cycle()
    entry_tag = rig.order(order_id).entry_tag
    assert rig.book()[entry_tag].status == "New" and rig.sent(entry_tag, route="cancel") == 0

    rig.price("99")
    rig.run_cycle()

    order = rig.order(order_id)
    assert (rig.book()[order.sl_tag].status, rig.book()[order.tp_tag].status) == ("Trigger Pending", "New")
