"""Replica leases on one database: one owner at a time, takeover after expiry with a new fencing token,
and a stale owner's cycle writes refused — two store instances standing for two service processes."""

import asyncio
from datetime import UTC, datetime

import pytest

from adapters.errors import LeaseLost
from adapters.store.event_log import open_event_log
from adapters.store.factory import connect_store
from messages.events import CycleStarted
from tests.storage.conftest import an_order, given_user_with_account


@pytest.fixture
async def second_store(database_url, store):
    other = await connect_store(database_url, timeout_s=10, owner="replica-b")
    try:
        yield other
    finally:
        await other.close()


async def test_only_one_replica_holds_a_users_lease_and_renews_it(store, second_store):
    user_id, _ = await given_user_with_account(store, "alice")
    first = await store.acquire_lease(user_id, ttl_s=30)
    assert first.held and first.fencing_token == 1
    refused = await second_store.acquire_lease(user_id, ttl_s=30)
    assert not refused.held and refused.owner == store.owner
    renewed = await store.acquire_lease(user_id, ttl_s=30)
    assert renewed.held and renewed.fencing_token == 1


async def test_an_expired_lease_is_taken_over_and_the_stale_owners_writes_are_refused(store, second_store):
    user_id, account_id = await given_user_with_account(store, "bob")
    order_id = await store.insert_order(an_order(user_id, account_id))
    assert (await store.acquire_lease(user_id, ttl_s=0.2)).held
    await asyncio.sleep(0.3)

    taken = await second_store.acquire_lease(user_id, ttl_s=30)
    assert taken.held and taken.fencing_token == 2 and taken.owner == "replica-b"

    with pytest.raises(LeaseLost, match="lost the lease"):
        await store.apply_order_updates(user_id, account_id, [(order_id, 1, {"sl_tag": "stale"})])
    with pytest.raises(LeaseLost):
        await store.replace_live_history(user_id, account_id, [], [], datetime.now(UTC))
    assert not (await store.acquire_lease(user_id, ttl_s=30)).held
    versions = await second_store.apply_order_updates(user_id, account_id, [(order_id, 1, {"sl_tag": "fresh"})])
    assert versions == {order_id: 2}
    assert (await store.order(user_id, order_id)).sl_tag == "fresh"


async def test_a_replica_without_the_lease_may_not_write_for_a_user_another_live_replica_monitors(store, second_store):
    user_id, account_id = await given_user_with_account(store, "carol")
    assert (await second_store.acquire_lease(user_id, ttl_s=30)).held
    with pytest.raises(LeaseLost, match="monitored by replica replica-b"):
        await store.insert_order(an_order(user_id, account_id))


async def test_a_released_lease_is_free_at_once_with_a_new_token_and_users_without_leases_are_not_fenced(
        store, second_store):
    user_id, _ = await given_user_with_account(store, "dave")
    assert (await store.acquire_lease(user_id, ttl_s=30)).held
    await store.release_lease(user_id)
    taken = await second_store.acquire_lease(user_id, ttl_s=30)
    assert taken.held and taken.fencing_token == 2, "a token is never given twice"
    other_user, other_account = await given_user_with_account(store, "erin", "E1")
    assert await store.insert_order(an_order(other_user, other_account)) > 0


async def test_events_written_after_the_lease_came_back_follow_the_other_replicas_events(store, second_store):
    user_id, _ = await given_user_with_account(store, "carol")
    logs = []
    for replica in (store, second_store):
        event_log = await open_event_log(replica.database, window_s=0.01, max_backoff_s=0.05)
        replica.on_lease_changed(event_log.forget_sequence)
        logs.append(event_log)
    mine, theirs = logs

    async def cycle_on(event_log, cycle_id: str) -> None:
        event_log.append(CycleStarted(user_id=user_id, cycle_id=cycle_id, at=datetime.now(UTC)))
        await event_log.flush(timeout=5)

    try:
        assert (await store.acquire_lease(user_id, ttl_s=0.2)).held
        await cycle_on(mine, "a-1")
        await asyncio.sleep(0.3)
        assert (await second_store.acquire_lease(user_id, ttl_s=30)).held
        await cycle_on(theirs, "b-1")
        await cycle_on(theirs, "b-2")
        await second_store.release_lease(user_id)
        assert (await store.acquire_lease(user_id, ttl_s=30)).held
        await cycle_on(mine, "a-2")

        stored = await mine.read_events(user_id, datetime(2000, 1, 1, tzinfo=UTC), datetime(2100, 1, 1, tzinfo=UTC))
        assert [(e.seq, e.event.cycle_id) for e in stored] == [(1, "a-1"), (2, "b-1"), (3, "b-2"), (4, "a-2")]
    finally:
        for event_log in logs:
            await event_log.close(timeout=5)
