"""All SQL is parameterised: symbols and strategy names written to break out of a string literal go through
the batch API, a cycle (sync, archive) and the regeneration permissions on SQLite and MariaDB, and come back
verbatim, with every table still there and nobody else's rows touched."""

from __future__ import annotations

import pytest

from tests.security.conftest import ws_frames
from tests.web.conftest import Served

HOSTILE = [
    "x'); DROP TABLE orders; --",
    'x"); DELETE FROM users; --',
    "' OR '1'='1",
    "SBIN`; DROP TABLE accounts; #",
    "\\'; UPDATE users SET active=0; --",
    "名前\u0000; --",
]


@pytest.mark.parametrize("hostile", HOSTILE)
def test_hostile_symbols_and_strategies_are_stored_verbatim_and_harm_nothing(served: Served, hostile: str):
    _, token, [account] = served.user("mallory", "M1")
    _, other, [other_account] = served.user("victim", "V1")
    order = {"account_id": account, "strategy": hostile, "symbol": hostile, "exchange_segment": "NSECM",
             "instrument_id": 3045, "side": "BUY", "quantity": 1, "entry_type": "MARKET"}
    victim_order = {**order, "account_id": other_account, "strategy": "plain", "symbol": "SBIN"}
    assert served.request("POST", "/api/algo-place-batch-orders", other, json={"orders": [victim_order]})[0] == 200
    served.io.call(served.store.set_permissions(served.io.call(served.store.user_id("mallory")), [hostile]))

    status, body = served.request("POST", "/api/algo-place-batch-orders", token, json={"orders": [order]})
    assert status == 200, body
    [result] = body["results"]
    stored = served.io.call(served.store.order(served.io.call(served.store.user_id("mallory")), result["order_id"]))
    assert stored is not None and stored.strategy == hostile and stored.symbol == hostile

    frames = ws_frames(served, token, [{"type": "run_cycle"}], until="cycle_summary")
    assert frames[-1]["type"] == "cycle_summary"
    [mine] = served.request("GET", "/api/orders", token)[1]["orders"]
    assert mine["strategy"] == hostile and mine["symbol"] == hostile
    [victims] = served.request("GET", "/api/orders", other)[1]["orders"]
    assert victims["strategy"] == "plain" and victims["symbol"] == "SBIN"
    assert served.io.call(served.store.user_for_token(other)) is not None
