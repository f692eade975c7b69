"""User A's token never reads, places or changes anything of user B: one test per route, each checking both
the answer A gets and that B's rows, broker orders and state are untouched."""

from __future__ import annotations

import json

import pytest

from tests.security.conftest import Pair, ws_frames
from tests.web.conftest import Served

ORDER = {"strategy": "momentum", "symbol": "SBIN", "exchange_segment": "NSECM", "instrument_id": 3045,
         "side": "BUY", "quantity": 5, "entry_type": "LIMIT", "entry_limit_price": "99.50",
         "sl_stop_price": "95", "tp_price": "110"}


@pytest.fixture
def pair(guarded: Served) -> Pair:
    alice_id, alice, [alice_account] = guarded.user("alice", "A1")
    bob_id, bob, [bob_account] = guarded.user("bob", "B1")
    _, body = guarded.request("POST", "/api/algo-place-batch-orders", bob,
                              json={"orders": [{**ORDER, "account_id": bob_account}]})
    frames = ws_frames(guarded, bob, [{"type": "run_cycle"}], until="cycle_summary")
    return Pair(alice_id=alice_id, alice=alice, alice_account=alice_account, bob_id=bob_id, bob=bob,
                bob_account=bob_account, bob_order=body["results"][0]["order_id"],
                bob_cycle=frames[-1]["summary"]["cycle_id"])


def bob_orders(guarded: Served, pair: Pair) -> list[dict]:
    return guarded.request("GET", "/api/orders", pair.bob)[1]["orders"]


def test_a_batch_for_anothers_account_places_nothing(guarded: Served, pair: Pair):
    before = bob_orders(guarded, pair)
    status, body = guarded.request("POST", "/api/algo-place-batch-orders", pair.alice,
                                   json={"orders": [{**ORDER, "account_id": pair.bob_account}]})
    assert status == 200 and body["results"][0]["outcome"] == "invalid"
    assert bob_orders(guarded, pair) == before
    assert guarded.request("GET", "/api/orders", pair.alice)[1]["orders"] == []


def test_orders_show_only_ones_own(guarded: Served, pair: Pair):
    assert guarded.request("GET", "/api/orders", pair.alice)[1]["orders"] == []
    assert [o["id"] for o in bob_orders(guarded, pair)] == [pair.bob_order]


def test_pnl_shows_only_ones_own(guarded: Served, pair: Pair):
    rows = guarded.request("GET", "/api/pnl", pair.alice)[1]["rows"]
    assert all(row["account_id"] == pair.alice_account for row in rows)


def test_the_cycle_list_shows_only_ones_own(guarded: Served, pair: Pair):
    cycles = guarded.request("GET", "/api/cycles?limit=500", pair.alice)[1]["cycles"]
    assert pair.bob_cycle not in json.dumps(cycles)
    assert pair.bob_cycle in json.dumps(guarded.request("GET", "/api/cycles", pair.bob)[1]["cycles"])


def test_anothers_cycle_is_not_found(guarded: Served, pair: Pair):
    assert guarded.request("GET", f"/api/cycles/{pair.bob_cycle}", pair.alice)[0] == 404
    assert guarded.request("GET", f"/api/cycles/{pair.bob_cycle}", pair.bob)[0] == 200


def test_anothers_broker_session_cannot_be_set(guarded: Served, pair: Pair):
    [before] = guarded.io.call(guarded.store.broker_accounts(pair.bob_id, (pair.bob_account,)))
    status, _ = guarded.request("POST", f"/api/accounts/{pair.bob_account}/session", pair.alice,
                                json={"token": "planted-by-alice"})
    [after] = guarded.io.call(guarded.store.broker_accounts(pair.bob_id, (pair.bob_account,)))
    assert status == 404 and after.token == before.token != "planted-by-alice"


def test_pausing_pauses_only_the_caller(guarded: Served, pair: Pair):
    assert guarded.request("POST", "/api/pause", pair.alice, json={"reason": "mine"})[0] == 200
    assert not guarded.io.call(guarded.store.load_cycle_context(pair.bob_id)).paused
    assert guarded.io.call(guarded.store.load_cycle_context(pair.alice_id)).paused


def test_resuming_resumes_only_the_caller(guarded: Served, pair: Pair):
    guarded.io.call(guarded.store.set_paused(pair.bob_id, True, "bob's own"))
    assert guarded.request("POST", "/api/resume", pair.alice)[0] == 200
    assert guarded.io.call(guarded.store.load_cycle_context(pair.bob_id)).paused


def test_websocket_frames_carry_only_the_callers_data_and_act_only_on_the_caller(guarded: Served, pair: Pair):
    bob_cycles = len(guarded.request("GET", "/api/cycles", pair.bob)[1]["cycles"])
    frames = ws_frames(guarded, pair.alice, [{"type": "subscribe"}, {"type": "pause", "reason": "alice"},
                                             {"type": "run_cycle"}], until="cycle_summary")
    assert frames[0]["type"] == "hello" and frames[0]["user_id"] == pair.alice_id
    assert pair.bob_cycle not in json.dumps(frames)
    assert [o for f in frames if f["type"] == "orders" for o in f["orders"]] == []
    assert {r["account_id"] for f in frames if f["type"] == "pnl" for r in f["rows"]} <= {pair.alice_account}
    assert all(f["summary"]["user_id"] == pair.alice_id for f in frames if f["type"] == "cycle_summary")
    assert not guarded.io.call(guarded.store.load_cycle_context(pair.bob_id)).paused
    assert len(guarded.request("GET", "/api/cycles", pair.bob)[1]["cycles"]) == bob_cycles
