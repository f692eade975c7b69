"""The batch API's answers are true, over real sockets, against the paper broker, on SQLite and MariaDB: every
order is checked before anything is written, an invalid order never affects the valid ones, numbers beyond
their columns are `invalid` with a reason (never a 500 or a database error), and an order that was not sent
is `not_placed` and leaves nothing pending."""

from __future__ import annotations

import json
from collections import Counter
from typing import Any

import pytest

from tests.web.conftest import Served
from tests.web.test_service_over_sockets import ORDER

BATCH = "/api/algo-place-batch-orders"


def rows_of(served: Served, user_id: int, account_id: int) -> list[tuple[str, str, str | None]]:
    """(symbol, status, entry status) of every order row of the account."""
    return [(row.symbol, row.status, row.entry_orderstatus)
            for row in served.io.call(served.store.orders_for_accounts(user_id, [account_id]))]


def post_text(served: Served, token: str, orders_json: list[str]) -> tuple[int, Any]:
    """POST a batch whose orders are given as JSON text (numbers Python's json cannot write, such as 1e400)."""
    return served.request("POST", BATCH, token, data=("{\"orders\": [" + ", ".join(orders_json) + "]}").encode())


def valid(account: int, **changes: Any) -> str:
    return json.dumps({**ORDER, "account_id": account, **changes})


def test_an_order_beyond_the_quantity_column_is_invalid_alone_and_the_orders_around_it_are_placed(served: Served):
    user_id, token, [account] = served.user("alice", "A1")

    status, body = post_text(served, token, [valid(account), valid(account, quantity=3_000_000_000),
                                             valid(account)])

    assert status == 200
    outcomes = [(r["index"], r["outcome"]) for r in body["results"]]
    assert outcomes == [(0, "placed"), (1, "invalid"), (2, "placed")]
    assert body["results"][1]["reason"] == "not a valid order: Expected `int` <= 2147483647 - at `$.quantity`"
    assert body["results"][1]["order_id"] is None
    assert served.placements_at_the_broker() == Counter({body["results"][0]["tag"]: 1, body["results"][2]["tag"]: 1})
    assert rows_of(served, user_id, account) == [("SBIN", "ENTRY_OPEN", "New")] * 2


@pytest.mark.parametrize(("field", "written", "reason"), [
    ("quantity", "1180591620717411303424", "not a valid order: Expected `int` <= 2147483647 - at `$.quantity`"),
    ("instrument_id", "9223372036854775808",
     "not a valid order: Expected `int` <= 9223372036854775807 - at `$.instrument_id`"),
    ("entry_limit_price", "\"1e1000000\"", "entry_limit_price must be below 100000000000000"),
    ("entry_limit_price", "1e400", "entry_limit_price must be below 100000000000000"),
    ("entry_limit_price", "1e15", "entry_limit_price must be below 100000000000000"),
    ("sl_stop_price", "1e15", "sl_stop_price must be below 100000000000000"),
    ("entry_limit_price", "\"NaN\"", "entry_limit_price must be a price above zero"),
    ("tp_price", "\"Infinity\"", "tp_price must be a price above zero"),
    ("entry_limit_price", "\"99.500001\"", "entry_limit_price has more than 4 decimal places"),
    ("symbol", json.dumps("S" * 65), "not a valid order: Expected `str` of length <= 64 - at `$.symbol`"),
], ids=["quantity-2^70", "instrument-2^63", "price-1e1000000", "price-1e400", "price-1e15", "sl-1e15",
        "price-NaN", "tp-Infinity", "price-fifth-place", "symbol-65"])
def test_a_number_or_name_beyond_its_column_is_invalid_with_a_reason_and_the_valid_order_is_placed(
        served: Served, field: str, written: str, reason: str):
    user_id, token, [account] = served.user("bob", "B1")
    beyond = valid(account).removesuffix("}") + f", \"{field}\": {written}}}" if field not in ORDER \
        else valid(account, **{field: "__BEYOND__"}).replace("\"__BEYOND__\"", written)

    status, body = post_text(served, token, [beyond, valid(account)])

    assert status == 200
    assert [(r["outcome"], r["reason"]) for r in body["results"]] == [("invalid", reason), ("placed", "")]
    assert sum(served.placements_at_the_broker().values()) == 1
    assert rows_of(served, user_id, account) == [("SBIN", "ENTRY_OPEN", "New")]


def test_an_order_whose_row_cannot_be_written_is_not_placed_and_the_others_are(served: Served):
    user_id, token, [account] = served.user("carol", "C1")
    served.refuse_writes("refuse_boom", "BEFORE INSERT ON orders", "NEW.symbol = 'BOOM'")

    status, body = post_text(served, token, [valid(account), valid(account, symbol="BOOM"), valid(account)])

    assert status == 200
    assert [r["outcome"] for r in body["results"]] == ["placed", "not_placed", "placed"]
    not_placed = body["results"][1]
    assert not_placed["reason"].startswith("not sent: the order could not be written (")
    assert "refused by the test trigger" in not_placed["reason"]
    assert (not_placed["order_id"], not_placed["tag"]) == (None, "")
    assert sum(served.placements_at_the_broker().values()) == 2
    assert rows_of(served, user_id, account) == [("SBIN", "ENTRY_OPEN", "New")] * 2


def test_a_failed_broker_login_leaves_the_accounts_orders_not_placed_and_nothing_written(served: Served):
    user_id, token, [account] = served.user("dave", "D1")
    served.sim("faults", route="login", kind="http_500")

    status, body = post_text(served, token, [valid(account), valid(account)])

    assert status == 200
    assert [r["outcome"] for r in body["results"]] == ["not_placed", "not_placed"]
    assert all(r["reason"].startswith(f"account {account}: not sent: broker login failed (")
               for r in body["results"])
    assert served.placements_at_the_broker() == Counter()
    assert rows_of(served, user_id, account) == []


def second_order_under_fault(served: Served, fault: str) -> tuple[int, int, dict[str, Any]]:
    """Given a user whose first order was placed, when the broker meets her next order (SBIN2) with `fault`
    (a `/_sim/faults` kind on the place route): the user, her account and that order's result."""
    user_id, token, [account] = served.user("erin", "E1")
    assert served.request("POST", BATCH, token, json={"orders": [{**ORDER, "account_id": account}]})[0] == 200
    served.sim("faults", route="place", kind=fault)

    status, body = served.request("POST", BATCH, token, json={"orders": [{**ORDER, "account_id": account,
                                                                            "symbol": "SBIN2"}]})

    assert status == 200
    [result] = body["results"]
    return user_id, account, result


def test_an_order_the_broker_surely_did_not_take_is_not_placed_and_its_row_cancelled_not_pending(served: Served):
    user_id, account, result = second_order_under_fault(served, "session_expired")

    assert result["outcome"] == "not_placed" and result["order_id"] is not None and result["tag"]
    assert ("SBIN2", "CANCELLED", "NotSent") in rows_of(served, user_id, account)


def test_an_order_the_broker_took_but_answered_with_an_error_is_in_flight(served: Served):
    user_id, account, result = second_order_under_fault(served, "accept_then_500")

    assert result["outcome"] == "in_flight" and result["tag"]
    assert served.placements_at_the_broker()[result["tag"]] == 1
    assert ("SBIN2", "PENDING", "Unconfirmed") in rows_of(served, user_id, account)
