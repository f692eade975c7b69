"""A batch meeting an expired session, over real sockets against the paper broker, on SQLite and MariaDB: with
`session_renewal` the session is renewed once with the stored keys (the fetch's `SessionRenewal`: its backoff
after a refusal, one login per expiry), the new token is stored, and exactly the orders the expiry refused are
sent again under their tags; each order is placed once (the broker's journal), an ambiguous failure never
twice. Without renewal, or with keys the broker refuses, the refused orders are `not_placed`, saying why."""

from __future__ import annotations

from collections import defaultdict
from typing import Any

import pytest

from tests import paper_sim
from tests.web.conftest import Served
from tests.web.test_service_over_sockets import ORDER

BATCH = "/api/algo-place-batch-orders"


def place(served: Served, token: str, account: int, *symbols: str) -> list[dict[str, Any]]:
    status, body = served.request("POST", BATCH, token, json={"orders": [
        {**ORDER, "account_id": account, "symbol": symbol} for symbol in symbols]})
    assert status == 200
    return body["results"]


def place_requests(served: Served) -> dict[str, list[str]]:
    """What the broker did with each place request it received, by tag, in order."""
    requests: dict[str, list[str]] = defaultdict(list)
    for entry in served.io.call(paper_sim.journal(served.service.runtime.http, served.paper.url)):
        if entry["route"] == "place":
            requests[entry["tag"]].append(entry["outcome"])
    return requests


def stored_token(served: Served, user_id: int, account: int) -> str:
    [stored] = served.io.call(served.store.broker_accounts(user_id, (account,)))
    return stored.token


def given_an_expired_session(served: Served, **expiry: str) -> tuple[int, str, int, str]:
    """A user whose first order was placed (a login with the stored keys gave the account its token), then the
    broker ended that session (`expiry`: with `secret_key`, the keys changed too): the user, her API token,
    the account and its expired broker token."""
    user_id, token, [account] = served.user("uma", "U1")
    assert [r["outcome"] for r in place(served, token, account, "SBIN")] == ["placed"]
    expired = stored_token(served, user_id, account)
    served.sim("expire", account="U1", **expiry)
    return user_id, token, account, expired


@pytest.mark.session_renewal
def test_orders_refused_for_an_expired_session_are_placed_once_with_the_renewed_session(served: Served):
    user_id, token, account, expired = given_an_expired_session(served)

    results = place(served, token, account, "SBIN2", "SBIN3")

    assert [r["outcome"] for r in results] == ["placed", "placed"]
    requests = place_requests(served)
    assert [requests[r["tag"]] for r in results] == [["session_expired", "accepted"]] * 2
    renewed = stored_token(served, user_id, account)
    assert renewed and renewed != expired
    assert [r["outcome"] for r in place(served, token, account, "SBIN4")] == ["placed"]
    assert stored_token(served, user_id, account) == renewed, "the renewed session serves the next batch"


@pytest.mark.session_renewal
def test_an_ambiguous_failure_beside_the_expiry_is_in_flight_and_never_sent_again(served: Served):
    _, token, account, _ = given_an_expired_session(served)
    served.sim("faults", route="place", kind="accept_then_500", count=1)

    results = place(served, token, account, "SBIN2", "SBIN3")

    by_outcome = {r["outcome"]: r for r in results}
    assert set(by_outcome) == {"in_flight", "placed"}
    requests = place_requests(served)
    assert len(requests[by_outcome["in_flight"]["tag"]]) == 1
    assert requests[by_outcome["placed"]["tag"]] == ["session_expired", "accepted"]


def test_without_renewal_the_orders_an_expiry_refused_are_not_placed_and_the_token_is_kept(served: Served):
    user_id, token, account, expired = given_an_expired_session(served)

    results = place(served, token, account, "SBIN2", "SBIN3")

    assert [r["outcome"] for r in results] == ["not_placed", "not_placed"]
    assert all("session expired" in r["reason"] for r in results)
    assert [place_requests(served)[r["tag"]] for r in results] == [["session_expired"]] * 2
    assert stored_token(served, user_id, account) == expired


@pytest.mark.session_renewal
def test_keys_the_broker_refuses_are_a_configuration_error_and_no_login_is_tried_within_the_backoff(
        served: Served):
    user_id, token, account, expired = given_an_expired_session(served, secret_key="regenerated")

    refused = place(served, token, account, "SBIN2")
    held = place(served, token, account, "SBIN3")

    [first], [second] = refused, held
    assert (first["outcome"], second["outcome"]) == ("not_placed", "not_placed")
    assert "refused a new login" in first["reason"] and "check the account's keys" in first["reason"]
    assert "no new login before" in second["reason"]
    assert [place_requests(served)[r["tag"]] for r in (first, second)] == [["session_expired"]] * 2
    assert stored_token(served, user_id, account) == expired
    assert "s3cret" not in first["reason"] + second["reason"] and expired not in first["reason"] + second["reason"]
