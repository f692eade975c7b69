"""API tokens are stored only as their SHA-256 (the raw token is nowhere in `users`) and the stored hash is
no credential; the lookup compares digests with hmac.compare_digest. The WebSocket Origin is checked
against the configured list before the upgrade. The batch API is rate-limited per user."""

from __future__ import annotations

import hashlib
import inspect

import pytest

from adapters.store.repository import SqlStore
from adapters.store.tokens import row_of_token
from tests.security.conftest import DESK_ORIGIN
from tests.web.conftest import Served

ORDER = {"strategy": "s", "symbol": "SBIN", "exchange_segment": "NSECM", "instrument_id": 3045, "side": "BUY",
         "quantity": 0, "entry_type": "MARKET"}


def test_only_the_hash_of_an_api_token_is_stored_and_the_hash_is_no_credential(guarded: Served):
    _, token, _ = guarded.user("alice", "A1")

    async def users_table() -> list[dict]:
        async with guarded.store.transaction() as tx:
            return await tx.fetch_all("users/by_name", ("alice",))
    [row] = guarded.io.call(users_table())
    assert token not in repr(dict(row))
    digest = hashlib.sha256(token.encode()).hexdigest()
    assert guarded.io.call(guarded.store.user_for_token(digest)) is None
    assert guarded.io.call(guarded.store.user_for_token(token)) is not None


def test_the_token_lookups_compare_digests_in_constant_time():
    assert "hmac.compare_digest(" in inspect.getsource(row_of_token)
    for lookup in (SqlStore.user_for_token, SqlStore.admin_for_token):
        assert "row_of_token(" in inspect.getsource(lookup)


def ws_status(guarded: Served, token: str, origin: str | None) -> int:
    return guarded.upgrade_status(f"?token={token}", {"Origin": origin} if origin else {})


@pytest.mark.parametrize(("origin", "status"), [
    ("https://evil.example", 403), ("http://127.0.0.1:1", 403), ("null", 403),
    (DESK_ORIGIN, 101), (None, 101),
])
def test_a_websocket_from_a_foreign_origin_is_refused_before_the_upgrade(guarded: Served, origin, status):
    _, token, _ = guarded.user("alice", "A1")
    assert ws_status(guarded, token, origin) == status


def test_the_servers_own_origin_is_accepted(guarded: Served):
    _, token, _ = guarded.user("alice", "A1")
    assert ws_status(guarded, token, guarded.url) == 101


def test_a_refused_origin_starts_no_monitoring(guarded: Served):
    user_id, token, _ = guarded.user("alice", "A1")
    assert ws_status(guarded, token, "https://evil.example") == 403
    assert user_id not in guarded.service.runtime.system.registry.user_ids()


def test_the_batch_api_is_limited_per_user_and_one_users_burst_does_not_limit_another(guarded: Served):
    _, alice, [alice_account] = guarded.user("alice", "A1")
    _, bob, [bob_account] = guarded.user("bob", "B1")
    statuses = [guarded.request("POST", "/api/algo-place-batch-orders", alice,
                                json={"orders": [{**ORDER, "account_id": alice_account}]})[0] for _ in range(31)]
    assert statuses[-1] == 429 and 429 not in statuses[:30]
    assert guarded.request("POST", "/api/algo-place-batch-orders", bob,
                           json={"orders": [{**ORDER, "account_id": bob_account}]})[0] != 429
