"""What the store keeps of each account's rows: a steady cycle writes nothing and re-reads nothing, a change
writes only the rows it touched, and whatever is kept always equals what the database holds, read by a
second store (another process) that keeps nothing of its own. What it hands out carries a version that stays
while the rows are unchanged and is never given to other rows, so what a step computed from it is reused
exactly while it is right."""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta, timezone
from decimal import Decimal

import msgspec
import pytest

from actors.account_memo import AccountMemo
from actors.book_indexes import book_index
from adapters.store.kept import KeptRows, RowDiff, apply_diff, diff_rows
from adapters.store.repository import SqlStore
from domain.errors import StaleVersion
from domain.pnl import Match as FifoMatch
from domain.pnl import OpenLot as FifoLot
from domain.records import ExitFill
from tests.storage.conftest import T0, an_order, given_user_with_account
from tests.storage.test_snapshot_and_history import a_broker_order, a_position, stored_rows

IST = timezone(timedelta(hours=5, minutes=30))


async def row_ids(store, table: str, account_id: int) -> dict[int, int]:
    """ordinal -> row id of one account's rows in a snapshot or FIFO table (ids change only on a rewrite)."""
    database = store.database
    sql = f"SELECT ordinal, id FROM {table} WHERE account_id = {int(account_id)} ORDER BY ordinal"
    if database.dialect == "sqlite":
        return dict(await database.call("ids", lambda c: c.execute(sql).fetchall()))
    async with database.autocommit() as tx:
        cursor = await tx.connection.cursor()
        await cursor.execute(sql)
        return dict(await cursor.fetchall())


# --- the pure parts ---------------------------------------------------------------------------------


def test_diff_rows_names_changed_appended_and_vanished_ordinals():
    assert diff_rows(None, ["a", "b"]) == RowDiff(True, [], [0, 1])
    assert diff_rows(["a", "b"], ["a", "b"]).empty
    assert diff_rows(["a", "b", "c"], ["a", "B", "c", "d"]) == RowDiff(False, [1], [1, 3])
    assert diff_rows(["a", "b", "c"], ["x"]) == RowDiff(False, [0, 1, 2], [0])
    assert diff_rows([], []).empty


def test_apply_diff_converts_only_the_rows_the_diff_writes():
    converted = []

    def as_stored(row):
        converted.append(row)
        return row.upper()

    view = apply_diff(("A", "B", "C"), ["a", "x", "c", "d"], diff_rows(["a", "b", "c"], ["a", "x", "c", "d"]),
                      as_stored)
    assert view == ("A", "X", "C", "D") and converted == ["x", "d"]
    assert apply_diff(("A", "B", "C"), ["a"], diff_rows(["a", "b", "c"], ["a"]), as_stored) == ("A",)
    assert apply_diff((), ["p", "q"], diff_rows(None, ["p", "q"]), as_stored) == ("P", "Q")


def test_kept_rows_evict_least_recently_used_past_the_row_budget_and_forget_a_user():
    kept: KeptRows[str] = KeptRows(max_rows=10)
    kept.put((1, 1), "u1a1", rows=4)
    kept.put((1, 2), "u1a2", rows=4)
    kept.put((2, 1), "u2a1", rows=1)
    assert kept.get((1, 1)) == "u1a1"  # now the most recent
    kept.put((3, 1), "u3a1", rows=4)  # 13 rows: the least recent, (1, 2), goes
    assert kept.get((1, 2)) is None and kept.rows == 9 and len(kept) == 3
    kept.put((4, 1), "too big", rows=11)
    assert kept.get((4, 1)) is None and kept.rows == 9

    kept.forget_user(1)
    assert kept.get((1, 1)) is None and kept.get((2, 1)) == "u2a1" and kept.rows == 5


# --- snapshots ----------------------------------------------------------------------------------------


async def test_an_unchanged_snapshot_writes_nothing_but_moves_the_fetch_time(store, other_process):
    user_id, account_id = await given_user_with_account(store, "alice")
    orders = [a_broker_order(i) for i in range(1, 6)]
    await store.replace_broker_snapshot(user_id, account_id, orders, [a_position()], T0)
    before = await row_ids(store, "broker_order_book", account_id)

    await store.replace_broker_snapshot(user_id, account_id, list(orders), [a_position()], T0 + timedelta(minutes=1))

    assert await row_ids(store, "broker_order_book", account_id) == before
    assert await store.snapshot_time(user_id, account_id) == T0 + timedelta(minutes=1)
    kept = await store.broker_snapshot(user_id, account_id)
    await store.replace_broker_snapshot(user_id, account_id, list(orders), [a_position()], T0 + timedelta(minutes=2))
    assert (await store.broker_snapshot(user_id, account_id)).version == kept.version  # nothing changed
    # the database keeps the time the rows last changed: older, so Step 4 waits rather than judges early
    assert await other_process.snapshot_time(user_id, account_id) == T0
    assert await stored_rows(other_process, user_id, account_id) == await stored_rows(store, user_id, account_id)


async def test_a_changed_snapshot_rewrites_only_changed_new_and_vanished_rows(store, other_process):
    user_id, account_id = await given_user_with_account(store, "alice")
    orders = [a_broker_order(i) for i in range(1, 6)]
    await store.replace_broker_snapshot(user_id, account_id, orders, [a_position("A"), a_position("B")], T0)
    before = await row_ids(store, "broker_order_book", account_id)

    changed = [*orders[:2], a_broker_order(3, status="Cancelled", filled_qty=0, leaves_qty=0), *orders[3:],
               a_broker_order(6)]
    await store.replace_broker_snapshot(user_id, account_id, changed, [a_position("A")], T0 + timedelta(minutes=1))

    after = await row_ids(store, "broker_order_book", account_id)
    assert {ordinal: after[ordinal] for ordinal in (0, 1, 3, 4)} == {o: before[o] for o in (0, 1, 3, 4)}
    assert after[2] != before[2] and set(after) == {0, 1, 2, 3, 4, 5}
    assert await stored_rows(other_process, user_id, account_id) == await stored_rows(store, user_id, account_id)
    stored_orders, stored_positions = await stored_rows(other_process, user_id, account_id)
    assert [o.app_order_id for o in stored_orders] == [1, 2, 3, 4, 5, 6] and stored_orders[2].status == "Cancelled"
    assert [p.symbol for p in stored_positions] == ["A"]
    assert await other_process.snapshot_time(user_id, account_id) == T0 + timedelta(minutes=1)


async def test_kept_rows_read_exactly_as_the_database_returns_them(store, other_process):
    user_id, account_id = await given_user_with_account(store, "alice")
    ist = timezone(timedelta(hours=5, minutes=30))
    fetched = [a_broker_order(1, avg_price=Decimal("254.123456"), limit_price=Decimal("254.5"),
                              created_at=T0.astimezone(ist))]
    await store.replace_broker_snapshot(user_id, account_id, fetched, [], T0)

    kept, _ = await stored_rows(store, user_id, account_id)
    stored, _ = await stored_rows(other_process, user_id, account_id)
    assert kept == stored
    assert str(kept[0].avg_price) == str(stored[0].avg_price) == "254.1235"
    assert kept[0].created_at.utcoffset() == stored[0].created_at.utcoffset() == timedelta(0)


async def test_a_failed_write_forgets_the_kept_rows_so_the_next_one_rewrites_them(store):
    user_id, account_id = await given_user_with_account(store, "alice")
    orders = [a_broker_order(1), a_broker_order(2)]
    await store.replace_broker_snapshot(user_id, account_id, orders, [], T0)
    async with store.transaction() as tx:  # rows lost behind the store's back, as after a failed write
        await tx.execute("snapshot/delete_orders", (account_id, user_id))

    with pytest.raises(Exception):  # noqa: B017 - the database refuses the value, whatever its wording
        await store.replace_broker_snapshot(user_id, account_id, [a_broker_order(1, limit_price=Decimal(10) ** 15)],
                                            [], T0 + timedelta(minutes=1))
    await store.replace_broker_snapshot(user_id, account_id, orders, [], T0 + timedelta(minutes=2))

    assert sorted(await row_ids(store, "broker_order_book", account_id)) == [0, 1]


async def test_a_lease_taken_over_and_back_drops_what_was_kept(store, other_process):
    user_id, account_id = await given_user_with_account(store, "alice")
    mine = [a_broker_order(1)]
    assert (await store.acquire_lease(user_id, ttl_s=0.2)).held
    await store.replace_broker_snapshot(user_id, account_id, mine, [], T0)
    await asyncio.sleep(0.3)
    assert (await other_process.acquire_lease(user_id, ttl_s=0.2)).held
    await other_process.replace_broker_snapshot(user_id, account_id, [a_broker_order(7)], [], T0)
    await asyncio.sleep(0.3)

    assert (await store.acquire_lease(user_id, ttl_s=30)).held
    await store.replace_broker_snapshot(user_id, account_id, mine, [], T0 + timedelta(minutes=1))

    assert not (await other_process.acquire_lease(user_id, ttl_s=30)).held  # it learns it lost the lease
    stored, _ = await stored_rows(other_process, user_id, account_id)
    assert [o.app_order_id for o in stored] == [1]


# --- FIFO rows ------------------------------------------------------------------------------------


def a_match(exit_order_id: int, realized: str = "10") -> FifoMatch:
    return FifoMatch("TCS", 1, exit_order_id, "LONG", 1, Decimal("100"), Decimal(realized) + 100,
                     Decimal(realized))


async def test_fifo_rows_are_written_only_where_the_result_changed(store, other_process):
    user_id, account_id = await given_user_with_account(store, "alice")
    matches = [a_match(2), a_match(3), a_match(4)]
    lots = [FifoLot("TCS", 5, "LONG", 2, Decimal("101.123456"), Decimal("102"), Decimal("1.753088"))]
    await store.replace_live_history(user_id, account_id, matches, lots, T0)
    before = await row_ids(store, "bo_live_history", account_id)

    await store.replace_live_history(user_id, account_id, matches, lots, T0 + timedelta(minutes=1))
    assert await row_ids(store, "bo_live_history", account_id) == before
    assert (await store.live_history(user_id, account_id)).computed_at == T0

    remarked = [FifoLot("TCS", 5, "LONG", 2, Decimal("101.123456"), Decimal("103"), Decimal("3.753088"))]
    await store.replace_live_history(user_id, account_id, [*matches, a_match(6)], remarked, T0 + timedelta(minutes=2))

    after = await row_ids(store, "bo_live_history", account_id)
    assert {o: after[o] for o in (0, 1, 2)} == {o: before[o] for o in (0, 1, 2)} and after[3] != before[3]
    kept = await store.live_history(user_id, account_id)
    read = await other_process.live_history(user_id, account_id)
    assert (kept.matches, kept.open_lots, kept.computed_at) == (read.matches, read.open_lots, read.computed_at)
    assert kept.computed_at == T0 + timedelta(minutes=2)
    assert [m.exit_order_id for m in kept.matches] == [2, 3, 4, 6]
    assert str(kept.open_lots[0].unrealized_pnl) == "3.7531" and str(kept.open_lots[0].entry_price) == "101.1235"


# --- versions -------------------------------------------------------------------------------------


async def test_a_snapshot_keeps_its_version_while_its_rows_are_equal_and_gets_a_new_one_when_any_changes(store):
    user_id, account_id = await given_user_with_account(store, "alice")
    await store.replace_broker_snapshot(user_id, account_id, [a_broker_order(1), a_broker_order(2)], [a_position()], T0)
    first = await store.broker_snapshot(user_id, account_id)

    await store.replace_broker_snapshot(user_id, account_id, [a_broker_order(1), a_broker_order(2)], [a_position()],
                                        T0 + timedelta(minutes=1))
    assert (await store.broker_snapshot(user_id, account_id)).version == first.version

    await store.replace_broker_snapshot(user_id, account_id, [a_broker_order(1), a_broker_order(2)],
                                        [a_position(net_qty=5)], T0 + timedelta(minutes=2))
    moved = await store.broker_snapshot(user_id, account_id)
    await store.replace_broker_snapshot(user_id, account_id, [a_broker_order(1), a_broker_order(2, status="Cancelled")],
                                        [a_position(net_qty=5)], T0 + timedelta(minutes=3))
    cancelled = await store.broker_snapshot(user_id, account_id)
    assert len({first.version, moved.version, cancelled.version}) == 3


async def test_a_result_kept_by_version_is_reused_while_the_rows_are_equal_and_computed_again_when_they_change(store):
    user_id, account_id = await given_user_with_account(store, "alice")
    memo: AccountMemo[tuple[int, ...]] = AccountMemo()
    computed = []

    async def app_order_ids() -> tuple[int, ...]:
        snapshot = await store.broker_snapshot(user_id, account_id)

        def compute() -> tuple[int, ...]:
            computed.append(snapshot.version)
            return tuple(o.app_order_id for o in snapshot.orders)

        return memo.get(user_id, account_id, snapshot.version, None, compute)

    await store.replace_broker_snapshot(user_id, account_id, [a_broker_order(1)], [], T0)
    assert await app_order_ids() == (1,)
    await store.replace_broker_snapshot(user_id, account_id, [a_broker_order(1)], [], T0 + timedelta(minutes=1))
    assert await app_order_ids() == (1,) and len(computed) == 1
    await store.replace_broker_snapshot(user_id, account_id, [a_broker_order(1), a_broker_order(2)], [],
                                        T0 + timedelta(minutes=2))
    assert await app_order_ids() == (1, 2) and len(computed) == 2


async def test_rows_evicted_and_read_again_get_a_new_version_so_no_result_of_the_old_rows_is_reused(
        store, other_process):
    small = SqlStore(store.database, kept_rows=2)  # keeps one account's two rows at a time
    user_id, account_id = await given_user_with_account(store, "alice")
    bob, bobs = await given_user_with_account(store, "bob", client_id="C2")
    await small.replace_broker_snapshot(user_id, account_id, [a_broker_order(1), a_broker_order(2)], [], T0)
    kept = await small.broker_snapshot(user_id, account_id)
    assert book_index(user_id, account_id, kept).by_id.keys() == {1, 2}

    await small.replace_broker_snapshot(bob, bobs, [a_broker_order(8), a_broker_order(9)], [], T0)
    await other_process.replace_broker_snapshot(user_id, account_id, [a_broker_order(3)], [], T0)
    read = await small.broker_snapshot(user_id, account_id)

    assert read.version != kept.version
    assert book_index(user_id, account_id, read).by_id.keys() == {3}
    assert (await small.broker_snapshot(user_id, account_id)).version != read.version  # each read: a new version


async def test_two_stores_of_one_process_never_hand_out_one_version_so_a_shared_memo_never_mixes_their_rows(
        store, other_process):
    user_id, account_id = await given_user_with_account(store, "alice")
    await store.replace_broker_snapshot(user_id, account_id, [a_broker_order(1)], [], T0)
    await other_process.replace_broker_snapshot(user_id, account_id, [a_broker_order(2)], [], T0)
    here, there = await store.broker_snapshot(user_id, account_id), await other_process.broker_snapshot(
        user_id, account_id)

    assert here.version != there.version
    assert book_index(user_id, account_id, here).by_id.keys() == {1}
    assert book_index(user_id, account_id, there).by_id.keys() == {2}
    assert book_index(user_id, account_id, here).by_id.keys() == {1}


async def test_two_accounts_keep_their_own_versions_and_results(store):
    user_id, first = await given_user_with_account(store, "alice")
    second = await store.add_account(user_id, "paper", "http://127.0.0.1:9000", "C2")
    await store.replace_broker_snapshot(user_id, first, [a_broker_order(1)], [], T0)
    await store.replace_broker_snapshot(user_id, second, [a_broker_order(1)], [], T0)
    ones, twos = await store.broker_snapshot(user_id, first), await store.broker_snapshot(user_id, second)
    first_index = book_index(user_id, first, ones)

    await store.replace_broker_snapshot(user_id, second, [a_broker_order(2)], [], T0 + timedelta(minutes=1))
    second_index = book_index(user_id, second, await store.broker_snapshot(user_id, second))

    assert ones.version != twos.version
    assert second_index.by_id.keys() == {2}
    assert book_index(user_id, first, await store.broker_snapshot(user_id, first)) is first_index


async def test_fifo_rows_keep_their_version_while_equal_and_a_read_from_the_database_gets_a_new_one(
        store, other_process):
    user_id, account_id = await given_user_with_account(store, "alice")
    await store.replace_live_history(user_id, account_id, [a_match(2)], [], T0)
    first = await store.live_history(user_id, account_id)

    await store.replace_live_history(user_id, account_id, [a_match(2)], [], T0 + timedelta(minutes=1))
    assert (await store.live_history(user_id, account_id)).version == first.version
    await store.replace_live_history(user_id, account_id, [a_match(2, realized="11")], [], T0 + timedelta(minutes=2))
    assert (await store.live_history(user_id, account_id)).version != first.version

    read = await other_process.live_history(user_id, account_id)
    assert read.version != (await other_process.live_history(user_id, account_id)).version


# --- orders -----------------------------------------------------------------------------------------


async def test_kept_orders_are_served_until_any_process_writes_the_account(store, other_process):
    user_id, account_id = await given_user_with_account(store, "alice")
    _, other_account = await given_user_with_account(store, "bob", client_id="C2")
    first = await store.insert_order(an_order(user_id, account_id))
    second = await store.insert_order(an_order(user_id, account_id, symbol="TCS"))

    read = await store.orders_for_accounts(user_id, (account_id,))
    again = await store.orders_for_accounts(user_id, (account_id,))
    assert [o.id for o in read] == [first, second] and all(a is b for a, b in zip(read, again, strict=True))

    await other_process.apply_order_updates(user_id, account_id, [(first, 1, {"sl_tag": "from-b"})])
    fresh = await store.orders_for_accounts(user_id, (account_id,))
    assert [(o.id, o.version, o.sl_tag) for o in fresh] == [(first, 2, "from-b"), (second, 1, None)]

    await other_process.record_leg_intent(user_id, second, "tp", "TP-B", 1)
    assert (await store.orders_for_accounts(user_id, (account_id,)))[1].tp_tag == "TP-B"

    third = await other_process.insert_order(an_order(user_id, account_id, symbol="INFY"))
    assert [o.id for o in await store.orders_for_accounts(user_id, (account_id,))] == [first, second, third]

    await other_process.apply_order_updates(user_id, account_id, [(third, 1, {"status": "REJECTED"})])
    await other_process.archive_rejected(user_id, account_id, [(third, "no margin")])
    assert [o.id for o in await store.orders_for_accounts(user_id, (account_id,))] == [first, second]
    assert await store.orders_for_accounts(user_id, (other_account,)) == []


async def test_orders_of_several_accounts_come_in_id_order_whether_kept_or_read(store):
    user_id, first_account = await given_user_with_account(store, "alice")
    second_account = await store.add_account(user_id, "paper", "http://127.0.0.1:9000", "C2")
    ids = [await store.insert_order(an_order(user_id, account)) for account in
           (second_account, first_account, second_account, first_account)]
    both = (first_account, second_account)

    assert [o.id for o in await store.orders_for_accounts(user_id, both)] == sorted(ids)
    assert [o.id for o in await store.orders_for_accounts(user_id, both)] == sorted(ids)
    await store.apply_order_updates(user_id, first_account, [(ids[1], 1, {"sl_tag": "x"})])
    assert [o.id for o in await store.orders_for_accounts(user_id, both)] == sorted(ids)


async def test_orders_this_process_updated_are_kept_exactly_as_the_database_holds_them(store, other_process):
    user_id, account_id = await given_user_with_account(store, "alice")
    fill = ExitFill(app_order_id=9_000_000_002, qty=4, avg_price=Decimal("2450.0525"))
    running, marked, untouched = [await store.insert_order(an_order(user_id, account_id)) for _ in range(3)]
    await store.orders_for_accounts(user_id, (account_id,))

    await store.apply_order_updates(user_id, account_id, [
        (running, 1, {"status": "RUNNING", "filled_qty": 10, "avg_entry_price": Decimal("2500.123456"),
                      "sl_stop_price": Decimal("2450"), "sl_tag": "ML1-sl-1", "reject_reason": None,
                      "exit_fills": (fill,), "legs_changed_at": datetime(2026, 12, 7, 9, 15, 0, 123456, tzinfo=IST)}),
        (marked, 1, {"ltp": Decimal("2501.00005"), "unrealized_pnl": Decimal("-0.00005")}),
    ])
    before = store.database.statements
    kept = await store.orders_for_accounts(user_id, (account_id,))
    statements = store.database.statements - before

    read = await other_process.orders_for_accounts(user_id, (account_id,))
    assert msgspec.json.encode(kept) == msgspec.json.encode(read)
    assert kept == read and [type(o.status) for o in kept] == [type(o.status) for o in read]
    assert [(o.id, o.version) for o in kept] == [(running, 2), (marked, 2), (untouched, 1)]
    assert statements == 1, "kept: only the orders revision is read"


async def test_orders_kept_before_another_process_wrote_are_read_again_after_this_ones_write(store, other_process):
    user_id, account_id = await given_user_with_account(store, "alice")
    first, second = [await store.insert_order(an_order(user_id, account_id)) for _ in range(2)]
    await store.orders_for_accounts(user_id, (account_id,))

    await other_process.apply_order_updates(user_id, account_id, [(first, 1, {"sl_tag": "from-b"})])
    await store.apply_order_updates(user_id, account_id, [(second, 1, {"ltp": Decimal("7")})])

    assert [(o.version, o.sl_tag, o.ltp) for o in await store.orders_for_accounts(user_id, (account_id,))] == [
        (2, "from-b", None), (2, None, Decimal("7"))]


async def test_a_refused_update_leaves_the_kept_orders_as_the_database_still_holds_them(store, other_process):
    user_id, account_id = await given_user_with_account(store, "alice")
    first, second = [await store.insert_order(an_order(user_id, account_id)) for _ in range(2)]
    await store.orders_for_accounts(user_id, (account_id,))

    with pytest.raises(StaleVersion):
        await store.apply_order_updates(user_id, account_id, [(first, 1, {"ltp": Decimal("1")}),
                                                              (second, 9, {"ltp": Decimal("2")})])

    kept = await store.orders_for_accounts(user_id, (account_id,))
    assert kept == await other_process.orders_for_accounts(user_id, (account_id,))
    assert [(o.version, o.ltp) for o in kept] == [(1, None), (1, None)]
