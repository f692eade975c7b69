"""Each account's fetch streak as stored (SQLite and MariaDB): a failing streak starts at its first failure and
keeps that time through later failures, its error and the error's kind are the latest, a success ends it; the
account strip's read never carries keys or tokens."""

from __future__ import annotations

from datetime import timedelta

from adapters.store.factory import connect_store
from domain.errors import ErrorKind
from tests.storage.conftest import T0


async def test_a_failing_streak_keeps_its_first_failure_time_and_the_latest_error(store):
    user_id, _ = await store.add_user("alice")
    account_id = await store.add_account(user_id, "paper", "http://127.0.0.1:9000", "C1", app_key="K", secret_key="S")
    [fresh] = await store.account_statuses(user_id)
    assert (fresh.fetch_failing_since, fresh.fetch_error, fresh.session_needed) == (None, None, False)

    await store.record_fetch_outcome(user_id, account_id, T0, "HTTP 500 from the broker", ErrorKind.UNAVAILABLE)
    await store.record_fetch_outcome(user_id, account_id, T0 + timedelta(minutes=1), "the broker timed out",
                                     ErrorKind.TIMEOUT)
    [failing] = await store.account_statuses(user_id)
    assert failing.fetch_failing_since == T0
    assert (failing.fetch_error, failing.fetch_error_kind) == ("the broker timed out", ErrorKind.TIMEOUT)


async def test_the_same_error_of_another_kind_is_written_and_a_success_clears_the_kind(store):
    user_id, _ = await store.add_user("alice")
    account_id = await store.add_account(user_id, "paper", "http://127.0.0.1:9000", "C1")
    await store.record_fetch_outcome(user_id, account_id, T0, "login for C1: refused", ErrorKind.SESSION_EXPIRED)
    await store.record_fetch_outcome(user_id, account_id, T0, "login for C1: refused", ErrorKind.CONFIGURATION)
    [misconfigured] = await store.account_statuses(user_id)
    assert misconfigured.fetch_error_kind is ErrorKind.CONFIGURATION

    await store.record_fetch_outcome(user_id, account_id, T0 + timedelta(minutes=1), None)
    [recovered] = await store.account_statuses(user_id)
    assert (recovered.fetch_failing_since, recovered.fetch_error, recovered.fetch_error_kind) == (None, None, None)


async def test_a_success_ends_the_streak_and_the_next_failure_starts_a_new_one(store):
    user_id, _ = await store.add_user("alice")
    account_id = await store.add_account(user_id, "paper", "http://127.0.0.1:9000", "C1")
    await store.record_fetch_outcome(user_id, account_id, T0, "HTTP 500 from the broker")
    await store.record_fetch_outcome(user_id, account_id, T0 + timedelta(minutes=1), None)
    [recovered] = await store.account_statuses(user_id)
    assert (recovered.fetch_failing_since, recovered.fetch_error) == (None, None)

    await store.record_fetch_outcome(user_id, account_id, T0 + timedelta(minutes=2), "HTTP 500 from the broker")
    [again] = await store.account_statuses(user_id)
    assert again.fetch_failing_since == T0 + timedelta(minutes=2)


async def test_the_stored_streak_is_what_another_process_reads(store, database_url):
    user_id, _ = await store.add_user("alice")
    account_id = await store.add_account(user_id, "paper", "http://127.0.0.1:9000", "C1")
    await store.set_session_needed(user_id, account_id)
    await store.record_fetch_outcome(user_id, account_id, T0, "x" * 300, ErrorKind.CONFIGURATION)
    other = await connect_store(database_url, timeout_s=10)
    try:
        [seen] = await other.account_statuses(user_id)
    finally:
        await other.close()
    assert seen.session_needed is True
    assert seen.fetch_failing_since == T0
    assert seen.fetch_error == "x" * 255, "the error is cut to the column's 255 characters, not refused"
    assert seen.fetch_error_kind is ErrorKind.CONFIGURATION


async def test_the_account_strip_lists_only_the_users_active_accounts_without_secrets(store):
    alice, _ = await store.add_user("alice")
    bob, _ = await store.add_user("bob")
    first = await store.add_account(alice, "paper", "http://127.0.0.1:9000", "C1", app_key="KEY1", secret_key="SEC1")
    second = await store.add_account(alice, "paper", "http://127.0.0.1:9000", "C2", app_key="KEY2", secret_key="SEC2")
    third = await store.add_account(alice, "paper", "http://127.0.0.1:9000", "C3")
    await store.add_account(bob, "paper", "http://127.0.0.1:9000", "B1")
    await store.set_account_token(alice, first, "TOKEN-OF-C1")
    await store.set_account_active(third, False)
    statuses = await store.account_statuses(alice)
    assert [(s.account_id, s.client_id, s.broker) for s in statuses] == [
        (first, "C1", "paper"), (second, "C2", "paper")]
    assert not any(secret in repr(statuses) for secret in ("KEY1", "SEC1", "TOKEN-OF-C1"))
