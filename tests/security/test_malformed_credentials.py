"""Credentials the columns and the token format cannot hold are clear refusals, never a 500: an
`Authorization` header that is not UTF-8, a broker session token longer than `accounts.token`, an account
id beyond BIGINT. On SQLite and MariaDB, over real sockets."""

from __future__ import annotations

import asyncio

import pytest

from tests.web.conftest import Served


def raw_request(served: Served, head: bytes) -> int:
    """Send `head` (request line and headers, as bytes) on a new connection; the answer's status."""
    host, port = served.url.removeprefix("http://").split(":")

    async def send() -> int:
        reader, writer = await asyncio.open_connection(host, int(port))
        try:
            writer.write(head)
            await writer.drain()
            return int((await reader.readline()).split()[1])
        finally:
            writer.close()
    return served.io.call(send())


@pytest.mark.parametrize("path", ["/api/orders", "/ws"])
def test_an_authorization_header_that_is_not_utf8_is_a_401(served: Served, path: str):
    served.user("alice", "A1")

    status = raw_request(served, b"GET " + path.encode() + b" HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
                                  b"Authorization: Bearer \xed\xa0\x80\r\n\r\n")

    assert status == 401


def test_a_valid_token_in_the_same_raw_request_is_accepted(served: Served):
    _, token, _ = served.user("alice", "A1")

    status = raw_request(served, b"GET /api/orders HTTP/1.1\r\nHost: x\r\nConnection: close\r\n"
                                  b"Authorization: Bearer " + token.encode() + b"\r\n\r\n")

    assert status == 200


def test_a_token_query_that_is_not_utf8_is_a_401(served: Served):
    served.user("alice", "A1")

    assert served.request("GET", "/api/orders?token=%ED%A0%80")[0] == 401


def test_a_session_token_longer_than_its_column_is_a_clear_400_and_nothing_changes(served: Served):
    user_id, token, [account] = served.user("bob", "B1")

    status, body = served.request("POST", f"/api/accounts/{account}/session", token, json={"token": "t" * 2000})

    assert status == 400
    assert body == {"error": "invalid request: Expected `str` of length <= 1024 - at `$.token`"}
    [stored] = served.io.call(served.store.broker_accounts(user_id, (account,)))
    assert stored.token == ""


def test_a_session_token_of_1024_characters_is_stored(served: Served):
    user_id, token, [account] = served.user("carol", "C1")

    status, body = served.request("POST", f"/api/accounts/{account}/session", token, json={"token": "t" * 1024})

    assert (status, body) == (200, {"account_id": account, "session_needed": False})
    [stored] = served.io.call(served.store.broker_accounts(user_id, (account,)))
    assert stored.token == "t" * 1024


@pytest.mark.parametrize("account", [str(2**63), str(2**64), "0", "-1"])
def test_an_account_id_beyond_bigint_or_below_one_is_no_such_account(served: Served, account: str):
    _, token, _ = served.user("dave", "D1")

    assert served.request("POST", f"/api/accounts/{account}/session", token, json={})[0] == 404
