"""Orders: insert and read back, optimistic updates in one transaction per account, intent-first tags,
archiving rejected orders, fair prices."""

from __future__ import annotations

from datetime import datetime, timedelta
from decimal import Decimal

import msgspec
import pytest

from domain.errors import DatabaseError, StaleVersion
from domain.records import ExitFill, FairPrice, OrderRow, OrderUpdate, exit_fills_json
from domain.status import OrderStatus, TradeStatus
from tests.storage.conftest import T0, an_order, given_user_with_account

HOSTILE = "'; DROP TABLE orders; --"


def every_column_set(user_id: int, account_id: int) -> OrderRow:
    return an_order(
        user_id,
        account_id,
        strategy=HOSTILE,
        symbol='NIFTY"25MAR\\22000CE',
        entry_order_id=9_000_000_001,
        entry_tag="e1",
        entry_orderstatus="PartiallyFilled",
        filled_qty=4,
        avg_entry_price=Decimal("2500.55"),
        entry_modifications=1,
        sl_stop_price=Decimal("2450"),
        sl_order_id=9_000_000_002,
        sl_tag="s1",
        sl_orderstatus="Trigger Pending",
        sl_qty=4,
        tp_price=Decimal("2600.95"),
        tp_order_id=9_000_000_003,
        tp_tag="t1",
        tp_orderstatus="New",
        tp_qty=4,
        status="RUNNING",
        exit_price=None,
        realized_pnl=Decimal("-12.3456"),
        unrealized_pnl=Decimal("99999999.9999"),
        ltp=Decimal("2501.05"),
        reject_reason="RMS: 'x'",
        regenerated_from=None,
        regeneration_attempt=2,
        version=1,
        created_at=T0,
        updated_at=T0 + timedelta(microseconds=123456),
        sl_rejections=2,
        tp_rejections=1,
        exit_fills=(ExitFill(app_order_id=9_000_000_002, qty=1, avg_price=Decimal("2450.0525")),),
    )


async def test_an_order_reads_back_exactly_as_inserted(store):
    user_id, account_id = await given_user_with_account(store, "alice")
    row = every_column_set(user_id, account_id)

    order_id = await store.insert_order(row)

    assert await store.order(user_id, order_id) == msgspec.structs.replace(row, id=order_id)
    assert await store.orders_for_accounts(user_id, [account_id]) == [
        msgspec.structs.replace(row, id=order_id)
    ]


async def test_every_leg_and_trade_status_reads_back_as_its_member(store):
    user_id, account_id = await given_user_with_account(store, "alice")
    trades = list(TradeStatus)
    given = [(leg, trades[n % len(trades)]) for n, leg in enumerate(OrderStatus)]

    ids = [await store.insert_order(an_order(user_id, account_id, entry_orderstatus=leg, sl_orderstatus=leg,
                                             tp_orderstatus=leg, status=trade)) for leg, trade in given]

    read = [await store.order(user_id, order_id) for order_id in ids]
    assert [(row.entry_orderstatus, row.sl_orderstatus, row.tp_orderstatus, row.status) for row in read] == [
        (leg, leg, leg, trade) for leg, trade in given]
    assert {type(row.sl_orderstatus) for row in read} == {OrderStatus}
    assert {type(row.status) for row in read} == {TradeStatus}


async def test_orders_for_accounts_lists_only_the_users_orders_on_those_accounts(store):
    alice, first = await given_user_with_account(store, "alice", "C1")
    second = await store.add_account(alice, "paper", "http://127.0.0.1:9000", "C2")
    bob, bobs = await given_user_with_account(store, "bob")
    on_first = await store.insert_order(an_order(alice, first))
    on_second = await store.insert_order(an_order(alice, second))
    await store.insert_order(an_order(bob, bobs))

    assert [o.id for o in await store.orders_for_accounts(alice, [first, second, bobs])] == [
        on_first,
        on_second,
    ]
    assert [o.id for o in await store.orders_for_accounts(alice, [second])] == [on_second]
    assert await store.order(bob, on_first) is None


async def test_an_order_on_another_users_account_is_refused(store):
    alice, _ = await given_user_with_account(store, "alice")
    _, bobs = await given_user_with_account(store, "bob")

    with pytest.raises(DatabaseError, match="not an account of user"):
        await store.insert_order(an_order(alice, bobs))


async def test_updates_apply_together_and_bump_each_version(store):
    user_id, account_id = await given_user_with_account(store, "alice")
    first = await store.insert_order(an_order(user_id, account_id))
    second = await store.insert_order(an_order(user_id, account_id))

    versions = await store.apply_order_updates(
        user_id,
        account_id,
        [
            OrderUpdate(
                first, 1, {"status": "RUNNING", "filled_qty": 10, "avg_entry_price": Decimal("2500.10")}
            ),
            (second, 1, {"status": "ENTRY_OPEN", "entry_order_id": 42, "ltp": None}),
        ],
    )

    assert versions == {first: 2, second: 2}
    one, two = await store.orders_for_accounts(user_id, [account_id])
    assert (one.status, one.filled_qty, one.avg_entry_price, one.version) == (
        "RUNNING",
        10,
        Decimal("2500.10"),
        2,
    )
    assert (two.status, two.entry_order_id, two.entry_stop_price, two.version) == (
        "ENTRY_OPEN",
        42,
        Decimal("2500.05"),
        2,
    )
    assert one.updated_at > T0


@pytest.mark.parametrize("unrealized", [None, Decimal("0.0000"), Decimal("-0.0001")], ids=["unmarked", "zero", "least"])
async def test_an_orders_unrealized_pnl_reads_back_as_written_and_archived_none_when_unmarked(store, unrealized):
    user_id, account_id = await given_user_with_account(store, "alice")
    order_id = await store.insert_order(an_order(user_id, account_id, unrealized_pnl=Decimal("5")))

    await store.apply_order_updates(user_id, account_id, [(order_id, 1, {"unrealized_pnl": unrealized})])
    assert (await store.order(user_id, order_id)).unrealized_pnl == unrealized
    [archived] = await store.archive_rejected(user_id, account_id, [(order_id, "rejected")])

    assert archived["unrealized_pnl"] == (None if unrealized is None else str(unrealized))
    [stored] = await store.archived_orders(user_id, account_id)
    assert stored.order.unrealized_pnl == unrealized


async def test_the_exit_fills_on_record_round_trip_and_stay_when_other_columns_change(store):
    user_id, account_id = await given_user_with_account(store, "alice")
    order_id = await store.insert_order(an_order(user_id, account_id))
    fills = (ExitFill(app_order_id=9_000_000_002, qty=4, avg_price=Decimal("2450.0525")),
             ExitFill(app_order_id=9_100_000_007, qty=6, avg_price=Decimal("2600.95")))

    await store.apply_order_updates(user_id, account_id, [(order_id, 1, {"exit_fills": fills})])
    await store.apply_order_updates(user_id, account_id, [(order_id, 2, {"realized_pnl": Decimal("1")})])

    order = await store.order(user_id, order_id)
    assert (order.exit_fills, order.realized_pnl) == (fills, Decimal("1"))


async def test_a_stale_version_rejects_the_whole_batch_and_writes_nothing(store):
    user_id, account_id = await given_user_with_account(store, "alice")
    first = await store.insert_order(an_order(user_id, account_id))
    second = await store.insert_order(an_order(user_id, account_id))
    await store.apply_order_updates(user_id, account_id, [(second, 1, {"ltp": Decimal("1")})])

    with pytest.raises(StaleVersion):
        await store.apply_order_updates(
            user_id,
            account_id,
            [
                (first, 1, {"status": "RUNNING"}),
                (second, 1, {"status": "RUNNING"}),
            ],
        )

    one, two = await store.orders_for_accounts(user_id, [account_id])
    assert (one.status, one.version) == ("PENDING", 1)
    assert (two.status, two.version, two.ltp) == ("PENDING", 2, Decimal("1"))


async def test_marks_of_many_orders_go_in_one_statement_each_with_its_own_values(store):
    user_id, account_id = await given_user_with_account(store, "alice")
    marked, unmarked, priced, other = [
        await store.insert_order(an_order(user_id, account_id, ltp=Decimal("100"), unrealized_pnl=Decimal("5")))
        for _ in range(4)
    ]
    await store.orders_for_accounts(user_id, [account_id])  # kept, as a cycle's sync finds them
    before = store.database.statements

    versions = await store.apply_order_updates(user_id, account_id, [
        (marked, 1, {"ltp": Decimal("2501.05"), "unrealized_pnl": Decimal("-12.3456")}),
        (unmarked, 1, {"unrealized_pnl": None}),
        (priced, 1, {"ltp": Decimal("99999999.9995")}),
        (other, 1, {"status": "RUNNING"}),
    ])

    statements = store.database.statements - before
    rows = {o.id: o for o in await store.orders_for_accounts(user_id, [account_id])}
    assert versions == {marked: 2, unmarked: 2, priced: 2, other: 2}
    assert [(rows[i].ltp, rows[i].unrealized_pnl, rows[i].version, rows[i].status, rows[i].updated_at)
            for i in (marked, unmarked, priced, other)] == [
        (Decimal("2501.05"), Decimal("-12.3456"), 2, "PENDING", rows[other].updated_at),
        (Decimal("100"), None, 2, "PENDING", rows[other].updated_at),
        (Decimal("99999999.9995"), Decimal("5"), 2, "PENDING", rows[other].updated_at),
        (Decimal("100"), Decimal("5"), 2, "RUNNING", rows[other].updated_at),
    ]
    assert rows[other].updated_at > T0
    assert statements == await _statements_of_marks(store, user_id, account_id, 1)
    assert statements == await _statements_of_marks(store, user_id, account_id, 40)


async def _statements_of_marks(store, user_id: int, account_id: int, orders: int) -> int:
    """The statements of one sync that writes the marks of `orders` new orders and one other order's status."""
    ids = [await store.insert_order(an_order(user_id, account_id)) for _ in range(orders + 1)]
    await store.orders_for_accounts(user_id, [account_id])
    before = store.database.statements
    await store.apply_order_updates(user_id, account_id, [
        *((order_id, 1, {"ltp": Decimal(order_id)}) for order_id in ids[:-1]), (ids[-1], 1, {"status": "RUNNING"})])
    return store.database.statements - before


async def test_a_stale_mark_rejects_the_whole_batch_and_writes_nothing(store):
    user_id, account_id = await given_user_with_account(store, "alice")
    fresh, stale, other = [await store.insert_order(an_order(user_id, account_id)) for _ in range(3)]
    await store.apply_order_updates(user_id, account_id, [(stale, 1, {"ltp": Decimal("1")})])

    with pytest.raises(StaleVersion, match="1 of the 2 orders whose marks moved"):
        await store.apply_order_updates(user_id, account_id, [
            (other, 1, {"status": "RUNNING"}),
            (fresh, 1, {"ltp": Decimal("7"), "unrealized_pnl": Decimal("3")}),
            (stale, 1, {"ltp": Decimal("8")}),
        ])

    rows = {o.id: o for o in await store.orders_for_accounts(user_id, [account_id])}
    assert [(rows[i].ltp, rows[i].version, rows[i].status) for i in (fresh, stale, other)] == [
        (None, 1, "PENDING"), (Decimal("1"), 2, "PENDING"), (None, 1, "PENDING")]


async def test_a_mark_never_reaches_another_account_or_user(store):
    alice, first = await given_user_with_account(store, "alice", "C1")
    second = await store.add_account(alice, "paper", "http://127.0.0.1:9000", "C2")
    bob, _ = await given_user_with_account(store, "bob")
    mine, theirs = [await store.insert_order(an_order(alice, first)) for _ in range(2)]

    with pytest.raises(StaleVersion):
        await store.apply_order_updates(alice, second, [(mine, 1, {"ltp": Decimal("1")}),
                                                        (theirs, 1, {"ltp": Decimal("1")})])
    with pytest.raises(StaleVersion):
        await store.apply_order_updates(bob, first, [(mine, 1, {"ltp": Decimal("1")})])

    assert [(o.ltp, o.version) for o in await store.orders_for_accounts(alice, [first])] == [(None, 1), (None, 1)]


async def test_a_failing_statement_rolls_back_the_accounts_whole_sync(store):
    user_id, account_id = await given_user_with_account(store, "alice")
    first = await store.insert_order(an_order(user_id, account_id))
    second = await store.insert_order(an_order(user_id, account_id))

    with pytest.raises(DatabaseError) as failure:
        await store.apply_order_updates(
            user_id,
            account_id,
            [
                (first, 1, {"status": "RUNNING", "filled_qty": 10}),
                (second, 1, {"status": "NOT_A_STATUS"}),
            ],
        )

    assert not isinstance(failure.value, StaleVersion)
    assert [
        (o.status, o.filled_qty, o.version) for o in await store.orders_for_accounts(user_id, [account_id])
    ] == [("PENDING", 0, 1), ("PENDING", 0, 1)]


async def test_an_update_never_reaches_another_account_or_user(store):
    alice, first = await given_user_with_account(store, "alice", "C1")
    second = await store.add_account(alice, "paper", "http://127.0.0.1:9000", "C2")
    bob, _ = await given_user_with_account(store, "bob")
    order_id = await store.insert_order(an_order(alice, first))

    with pytest.raises(StaleVersion):
        await store.apply_order_updates(alice, second, [(order_id, 1, {"status": "CLOSED"})])
    with pytest.raises(StaleVersion):
        await store.apply_order_updates(bob, first, [(order_id, 1, {"status": "CLOSED"})])

    assert (await store.order(alice, order_id)).status == "PENDING"


@pytest.mark.parametrize("column", ["version", "user_id", "id", "status = 'CLOSED', version", "strategy"])
async def test_only_allow_listed_columns_can_be_updated(store, column):
    user_id, account_id = await given_user_with_account(store, "alice")
    order_id = await store.insert_order(an_order(user_id, account_id))

    with pytest.raises(ValueError, match="not an updatable orders column"):
        await store.apply_order_updates(user_id, account_id, [(order_id, 1, {column: "x"})])

    assert (await store.order(user_id, order_id)).version == 1


async def test_a_leg_tag_is_written_before_the_order_is_sent_and_checked_by_version(store):
    user_id, account_id = await given_user_with_account(store, "alice")
    order_id = await store.insert_order(an_order(user_id, account_id))

    assert await store.record_leg_intent(user_id, order_id, "sl", "ML1-sl-1", expected_version=1) == 2
    with pytest.raises(StaleVersion):
        await store.record_leg_intent(user_id, order_id, "tp", "ML1-tp-1", expected_version=1)

    row = await store.order(user_id, order_id)
    assert (row.entry_tag, row.sl_tag, row.tp_tag, row.version) == (None, "ML1-sl-1", None, 2)


async def test_archiving_moves_the_full_row_and_its_reason_and_loses_nothing(store):
    user_id, account_id = await given_user_with_account(store, "alice")
    rejected = await store.insert_order(every_column_set(user_id, account_id))
    kept = await store.insert_order(an_order(user_id, account_id))
    before = await store.order(user_id, rejected)

    archived = await store.archive_rejected(user_id, account_id, [(rejected, "RMS: margin 'short'")])

    assert archived == [{**msgspec.to_builtins(before), "exit_fills": exit_fills_json(before.exit_fills)}]
    assert msgspec.convert(archived[0], dict[str, str | int | None]), "the row fits its event, RejectedArchived"
    assert archived[0]["realized_pnl"] == "-12.3456"
    assert [o.id for o in await store.orders_for_accounts(user_id, [account_id])] == [kept]
    [stored] = await store.archived_orders(user_id, account_id)
    assert stored.order == before
    assert stored.archive_reason == "RMS: margin 'short'"
    assert stored.archived_at.tzinfo is not None


async def test_archiving_another_accounts_order_does_nothing(store):
    alice, first = await given_user_with_account(store, "alice", "C1")
    second = await store.add_account(alice, "paper", "http://127.0.0.1:9000", "C2")
    order_id = await store.insert_order(an_order(alice, first))

    assert await store.archive_rejected(alice, second, [(order_id, "rejected")]) == []

    assert [o.id for o in await store.orders_for_accounts(alice, [first])] == [order_id]
    assert await store.archived_orders(alice, second) == []


async def test_a_new_order_never_reuses_an_archived_orders_id(store):
    user_id, account_id = await given_user_with_account(store, "alice")
    last = await store.insert_order(an_order(user_id, account_id))
    await store.archive_rejected(user_id, account_id, [(last, "rejected")])

    assert await store.insert_order(an_order(user_id, account_id)) > last


def fair_price(symbol: str, buy: str, sell: str, updated_at: datetime) -> FairPrice:
    return FairPrice(symbol=symbol, buy_fair_price=Decimal(buy), sell_fair_price=Decimal(sell), updated_at=updated_at)


async def test_fair_prices_upsert_and_read_back_by_symbol(store):
    later = T0 + timedelta(seconds=5)
    await store.upsert_desk_prices([fair_price("TCS", "3500.05", "3499.95", T0), fair_price(HOSTILE, "1", "2", T0)])
    await store.upsert_desk_prices([fair_price("TCS", "3501", "3500", later)])

    prices = await store.fair_prices(["TCS", HOSTILE, "MISSING"])

    assert prices == {"TCS": fair_price("TCS", "3501", "3500", later), HOSTILE: fair_price(HOSTILE, "1", "2", T0)}
    assert await store.fair_prices([]) == {}


async def test_a_naive_datetime_is_refused(store):
    user_id, account_id = await given_user_with_account(store, "alice")

    with pytest.raises(TypeError, match="timezone-aware"):
        await store.insert_order(an_order(user_id, account_id, created_at=T0.replace(tzinfo=None)))
