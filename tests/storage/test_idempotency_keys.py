"""The batch API's idempotency keys in the store, on both dialects: a key is claimed once until it is answered,
released or a day old; only the claim's holder keeps an answer or frees the key."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from domain.errors import DatabaseError

DIGEST = "a" * 64
OTHER_DIGEST = "b" * 64
LONG_AGO = datetime(2000, 1, 1, tzinfo=UTC)


async def test_a_new_key_is_claimed_and_a_second_claim_sees_the_first_holder(store):
    user_id, _ = await store.add_user("alice")

    first = await store.claim_idempotency_key(user_id, "k1", DIGEST, LONG_AGO)
    second = await store.claim_idempotency_key(user_id, "k1", OTHER_DIGEST, LONG_AGO)

    assert first.claimed and not second.claimed
    assert (second.claim_token, second.request_sha256, second.answer) == (first.claim_token, DIGEST, None)


async def test_the_answer_of_the_holder_is_what_a_later_claim_reads(store):
    user_id, _ = await store.add_user("alice")
    claim = await store.claim_idempotency_key(user_id, "k1", DIGEST, LONG_AGO)

    await store.answer_idempotency_key(user_id, claim, 200, b'{"results": []}')

    later = await store.claim_idempotency_key(user_id, "k1", DIGEST, LONG_AGO)
    assert (later.claimed, later.answer_status, later.answer) == (False, 200, b'{"results": []}')


async def test_only_the_holder_of_a_claim_keeps_an_answer(store):
    user_id, _ = await store.add_user("alice")
    claim = await store.claim_idempotency_key(user_id, "k1", DIGEST, LONG_AGO)
    await store.answer_idempotency_key(user_id, claim, 200, b"{}")

    with pytest.raises(DatabaseError, match="no longer held by this request"):
        await store.answer_idempotency_key(user_id, claim, 200, b'{"again": 1}')

    assert (await store.idempotency_key(user_id, "k1")).answer == b"{}"


async def test_a_released_key_is_free_and_claimed_anew(store):
    user_id, _ = await store.add_user("alice")
    claim = await store.claim_idempotency_key(user_id, "k1", DIGEST, LONG_AGO)

    await store.release_idempotency_key(user_id, claim)

    assert await store.idempotency_key(user_id, "k1") is None
    assert (await store.claim_idempotency_key(user_id, "k1", OTHER_DIGEST, LONG_AGO)).claimed


async def test_an_answered_key_is_not_released(store):
    user_id, _ = await store.add_user("alice")
    claim = await store.claim_idempotency_key(user_id, "k1", DIGEST, LONG_AGO)
    await store.answer_idempotency_key(user_id, claim, 200, b"{}")

    await store.release_idempotency_key(user_id, claim)

    assert (await store.idempotency_key(user_id, "k1")).answer == b"{}"


async def test_a_key_claimed_before_the_expiry_is_claimed_anew_and_its_answer_forgotten(store):
    user_id, _ = await store.add_user("alice")
    old = await store.claim_idempotency_key(user_id, "k1", DIGEST, LONG_AGO)
    await store.answer_idempotency_key(user_id, old, 200, b"{}")

    renewed = await store.claim_idempotency_key(user_id, "k1", OTHER_DIGEST, old.claimed_at + timedelta(microseconds=1))

    assert renewed.claimed and renewed.claim_token != old.claim_token
    assert (renewed.request_sha256, renewed.answer) == (OTHER_DIGEST, None)


async def test_a_key_claimed_at_the_expiry_itself_is_still_held(store):
    user_id, _ = await store.add_user("alice")
    old = await store.claim_idempotency_key(user_id, "k1", DIGEST, LONG_AGO)

    again = await store.claim_idempotency_key(user_id, "k1", OTHER_DIGEST, old.claimed_at)

    assert not again.claimed and again.claim_token == old.claim_token


async def test_keys_are_each_users_own(store):
    alice, _ = await store.add_user("alice")
    bob, _ = await store.add_user("bob")
    await store.claim_idempotency_key(alice, "k1", DIGEST, LONG_AGO)

    assert (await store.claim_idempotency_key(bob, "k1", DIGEST, LONG_AGO)).claimed
