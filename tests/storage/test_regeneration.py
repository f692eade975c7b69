"""Step 8 and 9's rows: rejected entries of permitted strategies become entry_regenerate rows once, for
the user's own archive only, capped by attempt; each is settled as PLACED or FAILED."""

from __future__ import annotations

import pytest

from domain.errors import StaleVersion
from tests.storage.conftest import an_order, given_user_with_account


async def given_rejected_and_archived(store, user_id, account_id, **overrides) -> int:
    order_id = await store.insert_order(
        an_order(user_id, account_id, status="REJECTED", entry_orderstatus="Rejected", **overrides)
    )
    await store.archive_rejected(user_id, account_id, [(order_id, "RMS rejected")])
    return order_id


async def test_rejected_entries_of_permitted_strategies_become_pending_rows(store):
    user_id, account_id = await given_user_with_account(store, "alice")
    breakout = await given_rejected_and_archived(store, user_id, account_id, strategy="breakout")
    await given_rejected_and_archived(store, user_id, account_id, strategy="not-permitted")

    [row] = await store.create_regenerations(user_id, [account_id], ["breakout"], max_regenerations=3)

    assert (row.archived_order_id, row.strategy, row.attempt, row.status, row.entry_orderstatus) == (
        breakout,
        "breakout",
        1,
        None,
        "Rejected",
    )
    assert (row.symbol, row.side, row.quantity, row.entry_stop_price) == (
        "RELIANCE",
        "BUY",
        10,
        an_order(1, 1).entry_stop_price,
    )
    assert await store.pending_regenerations(user_id, account_id) == [row]


async def test_an_archived_order_is_regenerated_only_once(store):
    user_id, account_id = await given_user_with_account(store, "alice")
    await given_rejected_and_archived(store, user_id, account_id)

    first = await store.create_regenerations(user_id, [account_id], ["breakout"], 3)
    again = await store.create_regenerations(user_id, [account_id], ["breakout"], 3)

    assert len(first) == 1 and again == []


async def test_regeneration_never_touches_another_users_archive(store):
    alice, alices = await given_user_with_account(store, "alice")
    bob, bobs = await given_user_with_account(store, "bob")
    await given_rejected_and_archived(store, bob, bobs)

    assert await store.create_regenerations(alice, [alices, bobs], ["breakout"], 3) == []
    assert await store.pending_regenerations(bob, bobs) == []
    assert len(await store.create_regenerations(bob, [bobs], ["breakout"], 3)) == 1


async def test_regeneration_stops_at_the_attempt_cap(store):
    user_id, account_id = await given_user_with_account(store, "alice")
    await given_rejected_and_archived(store, user_id, account_id, regeneration_attempt=2)
    below_cap = await given_rejected_and_archived(store, user_id, account_id, regeneration_attempt=1)

    rows = await store.create_regenerations(user_id, [account_id], ["breakout"], max_regenerations=2)

    assert [(r.archived_order_id, r.attempt) for r in rows] == [(below_cap, 2)]


async def test_a_placed_row_records_its_new_order_and_leaves_the_pending_list(store):
    user_id, account_id = await given_user_with_account(store, "alice")
    await given_rejected_and_archived(store, user_id, account_id)
    await given_rejected_and_archived(store, user_id, account_id)
    placed, failed = await store.create_regenerations(user_id, [account_id], ["breakout"], 3)
    new_order = await store.insert_order(
        an_order(
            user_id,
            account_id,
            regenerated_from=placed.archived_order_id,
            regeneration_attempt=placed.attempt,
        )
    )

    await store.mark_regeneration(user_id, placed.id, "PLACED", new_order)
    await store.mark_regeneration(user_id, failed.id, "FAILED", "broker said: 'no margin'")

    assert await store.pending_regenerations(user_id, account_id) == []
    with pytest.raises(StaleVersion):
        await store.mark_regeneration(user_id, placed.id, "FAILED", "second outcome")
    assert (await store.order(user_id, new_order)).regenerated_from == placed.archived_order_id


async def test_another_user_cannot_settle_a_regeneration(store):
    alice, alices = await given_user_with_account(store, "alice")
    bob, _ = await given_user_with_account(store, "bob")
    await given_rejected_and_archived(store, alice, alices)
    [row] = await store.create_regenerations(alice, [alices], ["breakout"], 3)

    with pytest.raises(StaleVersion):
        await store.mark_regeneration(bob, row.id, "FAILED", "not yours")

    assert await store.pending_regenerations(alice, alices) == [row]


async def test_the_order_made_from_a_regeneration_claims_it_before_anything_is_sent(store):
    user_id, account_id = await given_user_with_account(store, "alice")
    await given_rejected_and_archived(store, user_id, account_id)
    [row] = await store.create_regenerations(user_id, [account_id], ["breakout"], 3)
    regenerated = an_order(user_id, account_id, regenerated_from=row.archived_order_id, regeneration_attempt=1)

    first = await store.insert_order(regenerated)

    assert await store.pending_regenerations(user_id, account_id) == [], "claimed: a retry does not place it again"
    with pytest.raises(StaleVersion):
        await store.insert_order(regenerated)
    assert [o.id for o in await store.orders_for_accounts(user_id, [account_id])] == [first]
    await store.mark_regeneration(user_id, row.id, "FAILED", "rejected again")
    async with store.database.autocommit() as tx:
        [settled] = await tx.fetch_all("regenerations/by_archived_ids", (user_id, row.archived_order_id), counts=(1,))
    assert (settled["status"], settled["new_order_id"]) == ("FAILED", first), "a failed one keeps its order"
