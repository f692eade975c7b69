"""`POST /api/accounts/{id}/session` for each kind of broker login, over real sockets on SQLite and MariaDB,
against the paper broker's XTS and Kite faces: an XTS account logs in with its stored keys and has no request
token; a Kite account's session starts only with a login by hand, so an empty body is answered with the login
page and nothing is sent, and the request token that login gives is turned into the session."""

from __future__ import annotations

import pytest

from tests.web.conftest import Served


def account_state(served: Served, token: str, account_id: int) -> str:
    status, body = served.request("GET", "/api/accounts", token)
    assert status == 200, body
    return {view["account_id"]: view["state"] for view in body["accounts"]}[account_id]


def test_an_xts_account_logs_in_with_its_stored_keys_and_has_no_request_token(served: Served):
    _, token, [account] = served.user("alice", "X1")

    status, body = served.request("POST", f"/api/accounts/{account}/session", token, json={"request_token": "rt"})
    assert status == 400 and "XTS has no login by hand" in body["error"]
    status, body = served.request("POST", f"/api/accounts/{account}/session", token,
                                  json={"token": "t", "request_token": "rt"})
    assert status == 400 and body["error"] == "give a token or a request_token, not both"
    assert served.request("POST", f"/api/accounts/{account}/session", token, json={}) == (
        200, {"account_id": account, "session_needed": False})


def test_a_kite_account_without_a_request_token_is_answered_with_its_login_page_and_nothing_is_sent(
        served: Served):
    user_id, token, [account] = served.user("alice", "K1", broker="kite")
    served.io.call(served.store.set_session_needed(user_id, account))

    status, body = served.request("POST", f"/api/accounts/{account}/session", token, json={})
    assert status == 409
    assert body["login_url"] == f"{served.paper.url}/connect/login?api_key=K1&v=3"
    assert "log in at login_url" in body["error"]
    assert account_state(served, token, account) == "session_needed", "nothing was stored"


def test_the_request_token_of_a_kite_login_becomes_the_accounts_session_once(served: Served):
    user_id, token, [account] = served.user("alice", "K1", broker="kite")
    served.io.call(served.store.set_session_needed(user_id, account))
    request_token = served.sim("kite_request_token", api_key="K1")["request_token"]

    status, body = served.request("POST", f"/api/accounts/{account}/session", token,
                                  json={"request_token": request_token})
    assert (status, body) == (200, {"account_id": account, "session_needed": False})
    assert account_state(served, token, account) != "session_needed"
    [stored] = served.io.call(served.store.broker_accounts(user_id, (account,)))
    assert stored.token and stored.token != request_token

    status, body = served.request("POST", f"/api/accounts/{account}/session", token,
                                  json={"request_token": request_token})
    assert status == 400 and body["error"].startswith("the broker refused the request token")
    [after] = served.io.call(served.store.broker_accounts(user_id, (account,)))
    assert after.token == stored.token, "a refused request token leaves the session as it was"


@pytest.mark.parametrize("request_token", ["never-issued", "x" * 1024])
def test_a_request_token_the_broker_never_gave_is_refused(served: Served, request_token: str):
    _, token, [account] = served.user("alice", "K1", broker="kite")
    status, body = served.request("POST", f"/api/accounts/{account}/session", token,
                                  json={"request_token": request_token})
    assert status == 400 and body["error"].startswith("the broker refused the request token")


def test_a_kite_access_token_from_elsewhere_is_stored_as_it_is(served: Served):
    user_id, token, [account] = served.user("alice", "K1", broker="kite")
    status, _ = served.request("POST", f"/api/accounts/{account}/session", token, json={"token": "tok-from-kite"})
    assert status == 200
    [stored] = served.io.call(served.store.broker_accounts(user_id, (account,)))
    assert stored.token == "tok-from-kite"
