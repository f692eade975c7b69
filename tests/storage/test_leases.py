"""Replica leases on one database: one owner at a time, takeover after expiry with a new fencing token,
and a stale owner's cycle writes refused — two store instances standing for two service processes."""

import asyncio
import subprocess
import sys
from datetime import UTC, datetime
from pathlib import Path

import pytest

from adapters.store.event_log import open_event_log
from adapters.store.factory import connect_store
from domain.errors import LeaseLost
from messages.events import CycleStarted
from tests.storage.conftest import an_order, given_user_with_account

ROOT = Path(__file__).resolve().parents[2]
ROUNDS = ("frank", "grace", "heidi", "ivan", "judy")
"""Users raced for one after another: a race lost once in a while shows up in one of them."""


async def test_only_one_replica_holds_a_users_lease_and_renews_it(store, other_process):
    user_id, _ = await given_user_with_account(store, "alice")
    first = await store.acquire_lease(user_id, ttl_s=30)
    assert first.held and first.fencing_token == 1
    refused = await other_process.acquire_lease(user_id, ttl_s=30)
    assert not refused.held and refused.owner == store.owner
    renewed = await store.acquire_lease(user_id, ttl_s=30)
    assert renewed.held and renewed.fencing_token == 1


async def test_an_expired_lease_is_taken_over_and_the_stale_owners_writes_are_refused(store, other_process):
    user_id, account_id = await given_user_with_account(store, "bob")
    order_id = await store.insert_order(an_order(user_id, account_id))
    assert (await store.acquire_lease(user_id, ttl_s=0.2)).held
    await asyncio.sleep(0.3)

    taken = await other_process.acquire_lease(user_id, ttl_s=30)
    assert taken.held and taken.fencing_token == 2 and taken.owner == "replica-b"

    with pytest.raises(LeaseLost, match="lost the lease"):
        await store.apply_order_updates(user_id, account_id, [(order_id, 1, {"sl_tag": "stale"})])
    with pytest.raises(LeaseLost):
        await store.replace_live_history(user_id, account_id, [], [], datetime.now(UTC))
    assert not (await store.acquire_lease(user_id, ttl_s=30)).held
    versions = await other_process.apply_order_updates(user_id, account_id, [(order_id, 1, {"sl_tag": "fresh"})])
    assert versions == {order_id: 2}
    assert (await store.order(user_id, order_id)).sl_tag == "fresh"


async def test_a_replica_without_the_lease_may_not_write_for_a_user_another_live_replica_monitors(store, other_process):
    user_id, account_id = await given_user_with_account(store, "carol")
    assert (await other_process.acquire_lease(user_id, ttl_s=30)).held
    with pytest.raises(LeaseLost, match="monitored by replica replica-b"):
        await store.insert_order(an_order(user_id, account_id))


async def test_a_stale_replicas_account_writes_are_refused_but_a_login_by_hand_is_stored_from_any(
        store, other_process):
    user_id, account_id = await given_user_with_account(store, "frank")
    await store.record_fetch_outcome(user_id, account_id, datetime.now(UTC), "HTTP 500")
    assert (await other_process.acquire_lease(user_id, ttl_s=30)).held

    with pytest.raises(LeaseLost):
        await store.record_fetch_outcome(user_id, account_id, datetime.now(UTC), None)
    with pytest.raises(LeaseLost):
        await store.set_session_needed(user_id, account_id)
    with pytest.raises(LeaseLost):
        await store.set_account_token(user_id, account_id, "from-a-stale-replica")
    (status,) = await other_process.account_statuses(user_id)
    assert (status.fetch_error, status.session_needed) == ("HTTP 500", False)

    await store.set_account_token(user_id, account_id, "logged-in-by-hand", fenced=False)
    await other_process.record_fetch_outcome(user_id, account_id, datetime.now(UTC), None)
    await other_process.set_session_needed(user_id, account_id)
    (status,) = await other_process.account_statuses(user_id)
    assert (status.fetch_error, status.session_needed) == (None, True)
    (account,) = await other_process.broker_accounts(user_id, [account_id])
    assert account.token == "logged-in-by-hand"


async def test_a_released_lease_is_free_at_once_with_a_new_token_and_users_without_leases_are_not_fenced(
        store, other_process):
    user_id, _ = await given_user_with_account(store, "dave")
    assert (await store.acquire_lease(user_id, ttl_s=30)).held
    await store.release_lease(user_id)
    taken = await other_process.acquire_lease(user_id, ttl_s=30)
    assert taken.held and taken.fencing_token == 2, "a token is never given twice"
    other_user, other_account = await given_user_with_account(store, "erin", "E1")
    assert await store.insert_order(an_order(other_user, other_account)) > 0


async def test_events_written_after_the_lease_came_back_follow_the_other_replicas_events(store, other_process):
    user_id, _ = await given_user_with_account(store, "carol")
    logs = []
    for replica in (store, other_process):
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
        assert (await other_process.acquire_lease(user_id, ttl_s=30)).held
        await cycle_on(theirs, "b-1")
        await cycle_on(theirs, "b-2")
        await other_process.release_lease(user_id)
        assert (await store.acquire_lease(user_id, ttl_s=30)).held
        await cycle_on(mine, "a-2")

        stored = await mine.read_events(user_id, datetime(2000, 1, 1, tzinfo=UTC), datetime(2100, 1, 1, tzinfo=UTC))
        assert [(e.seq, e.event.cycle_id) for e in stored] == [(1, "a-1"), (2, "b-1"), (3, "b-2"), (4, "a-2")]
    finally:
        for event_log in logs:
            await event_log.close(timeout=5)


def owner_of_a_finished_process() -> str:
    """The lease owner name a process of this host had, once that process has exited."""
    done = subprocess.run([sys.executable, "-c", "from adapters.store.lease_owner import process_owner; "
                           "print(process_owner())"], capture_output=True, text=True, check=True, cwd=ROOT)
    return done.stdout.strip()


async def test_simultaneous_takes_of_a_new_lease_in_one_process_all_hold_it_with_the_first_token(store):
    for name in ROUNDS:
        user_id, _ = await given_user_with_account(store, name)
        leases = await asyncio.gather(*(store.acquire_lease(user_id, ttl_s=30) for _ in range(20)))
        assert {(lease.held, lease.owner, lease.fencing_token) for lease in leases} == {(True, store.owner, 1)}


async def test_simultaneous_takes_by_two_replicas_leave_one_holder_that_every_answer_names(store, other_process):
    askers = [replica for _ in range(10) for replica in (store, other_process)]
    for name in ROUNDS:
        user_id, _ = await given_user_with_account(store, name)
        leases = await asyncio.gather(*(replica.acquire_lease(user_id, ttl_s=30) for replica in askers))
        [holder] = {lease.owner for lease in leases}
        assert [lease.held for lease in leases] == [replica.owner == holder for replica in askers]
        assert [lease.fencing_token for lease in leases] == [1] * 20


async def test_a_lease_of_a_dead_process_of_this_host_is_free_at_once_for_writes_and_a_take_over(
        database_url, store):
    user_id, account_id = await given_user_with_account(store, "heidi")
    dead = await connect_store(database_url, timeout_s=10, owner=owner_of_a_finished_process())
    try:
        assert (await dead.acquire_lease(user_id, ttl_s=3600)).held
    finally:
        await dead.close()
    assert await store.lease_elsewhere(user_id) is None
    assert await store.insert_order(an_order(user_id, account_id)) > 0
    taken = await store.acquire_lease(user_id, ttl_s=30)
    assert taken.held and taken.fencing_token == 2


async def test_a_live_replicas_lease_is_reported_elsewhere_until_it_is_released(store, other_process):
    user_id, _ = await given_user_with_account(store, "ivan")
    assert await store.lease_elsewhere(user_id) is None
    held = await other_process.acquire_lease(user_id, ttl_s=30)
    elsewhere = await store.lease_elsewhere(user_id)
    assert elsewhere is not None and elsewhere.owner == "replica-b" and elsewhere.expires_at == held.expires_at
    assert await other_process.lease_elsewhere(user_id) is None, "the holder itself may write"
    await other_process.release_lease(user_id)
    assert await store.lease_elsewhere(user_id) is None
