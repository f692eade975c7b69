"""The order book index's rules: an order's leg found by its tag, else by the broker id on record; which row
wins a tag several rows share; the live rows and exit attempts by leg; the exit fills merged with the
order's record; money's rounding; and the index kept per account while its snapshot keeps its version.
Pure: given book rows and an order row, what the index answers."""

from decimal import ROUND_UP, Decimal, localcontext

import msgspec
import pytest

from actors.book_indexes import book_index
from adapters.store.kept import next_version
from domain.book import BookIndex, money
from domain.broker import BrokerOrder
from domain.records import BrokerSnapshot, ExitFill, OrderRow
from domain.tags import order_tag


def order(side: str = "BUY", **fields) -> OrderRow:
    base = dict(id=7, user_id=1, account_id=2, strategy="s", symbol="SBIN", exchange_segment="NSECM",
                instrument_id=3045, side=side, quantity=10, entry_type="LIMIT", entry_tag=order_tag(7, "entry", 1),
                entry_order_id=100, filled_qty=10, avg_entry_price=Decimal("100"), status="RUNNING")
    base.update(fields)
    return OrderRow(**base)


def row(app_order_id: int, tag: str, status: str = "New", filled: int = 0, price: str | None = None,
        side: str = "SELL") -> BrokerOrder:
    return BrokerOrder(client_id="C", app_order_id=app_order_id, exchange_segment="NSECM", instrument_id=3045,
                       symbol="SBIN", side=side, order_type="LIMIT", product_type="NRML", quantity=10, status=status,
                       filled_qty=filled, avg_price=Decimal(price) if price else None, tag=tag)


# --- an order's leg -------------------------------------------------------------------------------------


@pytest.mark.parametrize("leg", ["entry", "sl", "tp"])
def test_a_leg_is_found_by_its_tag_though_the_record_holds_another_broker_id(leg):
    tagged = row(250, order_tag(7, leg, 2))
    recorded = row(240, order_tag(7, leg, 1))
    trade = order(**{f"{leg}_tag": order_tag(7, leg, 2), f"{leg}_order_id": 240})

    assert BookIndex([recorded, tagged]).leg(trade, leg) is tagged


def test_of_rows_sharing_a_tag_the_oldest_broker_order_is_the_leg():
    tag = order_tag(7, "sl", 1)
    older, newer = row(200, tag), row(201, tag)

    assert BookIndex([newer, older]).leg(order(sl_tag=tag), "sl") is older


@pytest.mark.parametrize("foreign_tag", ["", "someone-else"])
def test_a_leg_whose_tag_the_book_does_not_list_is_found_by_its_broker_id_when_that_row_has_no_tag_of_ours(
        foreign_tag):
    untagged = row(200, foreign_tag)

    found = BookIndex([untagged]).leg(order(sl_tag=order_tag(7, "sl", 1), sl_order_id=200), "sl")

    assert found is untagged


def test_a_leg_without_a_tag_on_record_is_found_by_its_broker_id_whatever_tag_the_row_carries():
    tagged = row(200, order_tag(7, "sl", 1))

    assert BookIndex([tagged]).leg(order(sl_order_id=200), "sl") is tagged


def test_the_row_of_an_earlier_attempt_is_not_the_leg_while_the_current_attempt_is_in_flight():
    earlier = row(200, order_tag(7, "sl", 1), status="Cancelled")

    assert BookIndex([earlier]).leg(order(sl_tag=order_tag(7, "sl", 2), sl_order_id=200), "sl") is None


@pytest.mark.parametrize("fields", [{}, {"sl_order_id": 999}, {"sl_tag": order_tag(7, "sl", 1)}])
def test_a_leg_neither_its_tag_nor_its_broker_id_finds_is_absent(fields):
    assert BookIndex([row(200, "")]).leg(order(**fields), "sl") is None


# --- live rows and exit attempts ------------------------------------------------------------------------


def test_live_rows_of_our_tags_are_indexed_by_order_and_leg_in_book_order_and_ended_or_foreign_rows_are_not():
    first, second = row(201, order_tag(7, "sl", 1)), row(202, order_tag(7, "sl", 2), status="Trigger Pending")
    rows = [second, row(203, order_tag(7, "tp", 1), status="Filled"), row(204, "someone-else"), first,
            row(205, order_tag(8, "entry", 1), status="PartiallyFilled")]

    index = BookIndex(rows).live_by_leg

    assert index == {(7, "sl"): [first, second], (8, "entry"): [rows[4]]}


@pytest.mark.parametrize("leg", ["sl", "tp"])
def test_every_attempt_of_an_exit_leg_counts_whatever_its_status_in_book_order(leg):
    attempts = [row(300, order_tag(7, leg, 1), status="Cancelled", filled=4, price="95"),
                row(301, order_tag(7, leg, 2), status="Filled", filled=6, price="96")]
    other = [row(100, order_tag(7, "entry", 1), status="Filled"), row(302, order_tag(8, leg, 1))]

    assert BookIndex([attempts[1], *other, attempts[0]]).exit_attempts(7, leg) == attempts


def test_an_order_with_no_exit_attempt_in_the_book_has_none():
    assert BookIndex([row(100, order_tag(7, "entry", 1))]).exit_attempts(7, "sl") == []


# --- exit fills -----------------------------------------------------------------------------------------


@pytest.mark.parametrize("side", ["BUY", "SELL"])
def test_the_books_exit_fills_replace_the_recorded_fill_of_the_same_row_and_keep_the_others_by_broker_id(side):
    record = (ExitFill(app_order_id=150, qty=2, avg_price=Decimal("94.0000")),
              ExitFill(app_order_id=301, qty=1, avg_price=Decimal("110.0000")))
    trade = order(side, exit_fills=record, tp_tag=order_tag(7, "tp", 2))
    book = [row(301, order_tag(7, "tp", 2), "PartiallyFilled", 3, "110.123456", "BUY" if side == "SELL" else "SELL"),
            row(200, order_tag(7, "sl", 1), "Cancelled", 4, "95.35")]

    fills = BookIndex(book).exit_fills(trade)

    assert fills == (ExitFill(app_order_id=150, qty=2, avg_price=Decimal("94.0000")),
                     ExitFill(app_order_id=200, qty=4, avg_price=Decimal("95.3500")),
                     ExitFill(app_order_id=301, qty=3, avg_price=Decimal("110.1235")))


def test_an_order_whose_exits_the_book_has_not_filled_keeps_its_record_as_it_is():
    record = (ExitFill(app_order_id=200, qty=4, avg_price=Decimal("95.3500")),)
    book = [row(201, order_tag(7, "sl", 2), "Trigger Pending"),
            row(300, order_tag(7, "tp", 1), "PartiallyFilled", 2)]

    assert BookIndex(book).exit_fills(order(exit_fills=record)) is record


# --- money ----------------------------------------------------------------------------------------------


@pytest.mark.parametrize(("amount", "kept"), [
    ("1.00005", "1.0000"), ("1.00015", "1.0002"), ("-1.00005", "-1.0000"), ("1.000051", "1.0001"), ("2", "2.0000"),
])
def test_money_keeps_four_places_rounding_half_to_even_whatever_the_decimal_context(amount, kept):
    with localcontext(rounding=ROUND_UP):
        assert str(money(Decimal(amount))) == kept


# --- the index kept per account -------------------------------------------------------------------------


def snapshot(*rows: BrokerOrder, version: int | None = None) -> BrokerSnapshot:
    """The rows as the store hands them out: under `version`, else under a version of their own."""
    return BrokerSnapshot(version=next_version() if version is None else version, orders=rows, positions=())


def test_an_accounts_index_is_built_once_while_its_snapshot_keeps_its_version():
    book = snapshot(row(200, order_tag(7, "sl", 1)))

    index = book_index(901, 1, book)

    assert book_index(901, 1, snapshot(*book.orders, version=book.version)) is index
    assert index.leg(order(sl_tag=order_tag(7, "sl", 1)), "sl") is book.orders[0]


def test_an_accounts_index_is_built_again_for_a_new_version():
    book = snapshot(row(200, order_tag(7, "sl", 1)))
    index = book_index(902, 1, book)
    refetched = snapshot(msgspec.structs.replace(book.orders[0], status="Filled"))

    again = book_index(902, 1, refetched)

    assert again is not index
    assert again.leg(order(sl_tag=order_tag(7, "sl", 1)), "sl") is refetched.orders[0]


@pytest.mark.parametrize(("other_user", "other_account"), [(904, 1), (903, 2)])
def test_each_account_keeps_its_own_index_whatever_another_accounts_book_is(other_user, other_account):
    book = snapshot(row(200, order_tag(7, "sl", 1)))
    other_book = snapshot(row(300, order_tag(7, "sl", 1)), version=book.version)  # kept apart by the account alone
    index = book_index(903, 1, book)

    other = book_index(other_user, other_account, other_book)

    assert other.leg(order(sl_tag=order_tag(7, "sl", 1)), "sl") is other_book.orders[0]
    assert book_index(903, 1, book) is index
