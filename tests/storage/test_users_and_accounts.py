"""Users, tokens, accounts, permissions and the cycle context, on both dialects."""

from __future__ import annotations

import pytest

from adapters.store.tokens import hash_token
from domain.errors import DatabaseError
from tests.storage.conftest import given_user_with_account


async def test_a_new_users_token_finds_the_user_and_only_its_hash_is_stored(store):
    user_id, token = await store.add_user("alice")

    assert await store.user_for_token(token) == user_id
    assert await store.user_for_token(token + "x") is None
    async with store.transaction() as tx:
        rows = await tx.fetch_all("users/by_token_hash", (hash_token(token),))
    assert [r["token_hash"] for r in rows] == [hash_token(token)]
    assert token not in rows[0].values()


async def test_two_users_get_different_tokens_and_a_name_is_taken_once(store):
    _, first = await store.add_user("alice")
    _, second = await store.add_user("bob")

    assert first != second and len(first) >= 40
    with pytest.raises(DatabaseError, match="already exists"):
        await store.add_user("alice")


async def test_cycle_context_splits_live_accounts_from_those_awaiting_a_session(store):
    user_id, live = await given_user_with_account(store, "alice", "C1")
    expired = await store.add_account(user_id, "xts", "https://xts.example", "C2", "app", "secret")
    other_user, _ = await given_user_with_account(store, "bob", "C1")
    await store.set_session_needed(user_id, expired)
    await store.set_permissions(user_id, ["momentum", "breakout"])
    await store.set_paused(user_id, True, "daily loss limit reached")

    context = await store.load_cycle_context(user_id)

    assert context.account_ids == (live,)
    assert context.awaiting_session == (expired,)
    assert context.regeneration_strategies == ("breakout", "momentum")
    assert context.paused is True
    assert context.pause_reason == "daily loss limit reached"
    assert context.loaded_at is not None and context.loaded_at.tzinfo is not None
    assert (await store.load_cycle_context(other_user)).regeneration_strategies == ()


async def test_a_user_without_accounts_has_a_context_and_an_unknown_user_has_none(store):
    user_id, _ = await store.add_user("carol")
    await store.set_permissions(user_id, ["momentum"])
    await given_user_with_account(store, "dave")

    context = await store.load_cycle_context(user_id)

    assert (context.account_ids, context.awaiting_session) == ((), ())
    assert context.regeneration_strategies == ("momentum",)
    assert (context.paused, context.pause_reason, context.daily_loss_limit) == (False, "", None)
    with pytest.raises(DatabaseError, match="does not exist"):
        await store.load_cycle_context(user_id + 1000)


async def test_a_new_session_token_clears_session_needed(store):
    user_id, account_id = await given_user_with_account(store, "alice")
    await store.set_session_needed(user_id, account_id)

    await store.set_account_token(user_id, account_id, "session-token-1")

    assert (await store.load_cycle_context(user_id)).account_ids == (account_id,)
    [account] = await store.broker_accounts(user_id, [account_id])
    assert account.token == "session-token-1"


async def test_broker_accounts_returns_secrets_of_the_users_own_accounts_only(store):
    alice, alice_account = await given_user_with_account(store, "alice")
    bob, _ = await given_user_with_account(store, "bob")
    bob_account = await store.add_account(bob, "xts", "https://xts.example", "B2", "bob-app", "bob-secret")

    assert await store.broker_accounts(alice, [alice_account, bob_account]) == await store.broker_accounts(
        alice, [alice_account]
    )
    [account] = await store.broker_accounts(bob, [bob_account])
    assert (account.broker, account.client_id, account.app_key, account.secret_key) == (
        "xts",
        "B2",
        "bob-app",
        "bob-secret",
    )
    assert "bob-secret" not in repr(account)


async def test_an_account_of_another_user_cannot_be_touched(store):
    alice, _ = await given_user_with_account(store, "alice")
    _, bob_account = await given_user_with_account(store, "bob")

    with pytest.raises(DatabaseError, match="not an account of user"):
        await store.set_account_token(alice, bob_account, "stolen")
    with pytest.raises(DatabaseError, match="not an account of user"):
        await store.set_session_needed(alice, bob_account)


async def test_turning_permissions_off_clears_the_strategies(store):
    user_id, _ = await given_user_with_account(store, "alice")
    await store.set_permissions(user_id, ["a", "b"])

    await store.set_permissions(user_id, [])

    assert (await store.load_cycle_context(user_id)).regeneration_strategies == ()


async def test_hostile_names_are_stored_and_read_back_verbatim(store):
    hostile = 'x\'); DROP TABLE users; -- "quoted" \\ back'
    user_id, token = await store.add_user(hostile)
    await store.set_permissions(user_id, [hostile, "O'Brien"])

    assert await store.user_id(hostile) == user_id
    assert await store.user_for_token(token) == user_id
    assert (await store.load_cycle_context(user_id)).regeneration_strategies == tuple(
        sorted([hostile, "O'Brien"])
    )
