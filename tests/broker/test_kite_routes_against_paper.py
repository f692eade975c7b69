"""The paper broker's Kite face over raw HTTP, for what the SDK hides: exact JSON types, `[]` on empty lists,
the Content-Type, the version header, the journal of Kite order requests, and faults rendered Kite's way;
where both faces behave alike (sessions ended by `/_sim/expire`, faults, the journal) one test runs on each."""

from __future__ import annotations

import dataclasses
import hashlib
import json
import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

import aiohttp
import pytest

from adapters.broker.paper import RunningPaperBroker
from adapters.broker.paper.kite_rows import order_row
from tests.broker.conftest import SimControl

API_KEY = "KITE1"
KITE_TIME = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d")


@dataclass
class Reply:
    status: int
    content_type: str
    body: Any


async def kite_call(http: aiohttp.ClientSession, paper: RunningPaperBroker, method: str, path: str,
                    session: str | None = None, /, *, version: str | None = "3", **fields: Any) -> Reply:
    """A Kite request as the SDK makes it: version and token headers; a form for POST and PUT, else a query."""
    headers = {"X-Kite-Version": version} if version else {}
    if session:
        headers["Authorization"] = f"token {API_KEY}:{session}"
    values = {name: str(value) for name, value in fields.items()}
    form = method in ("POST", "PUT")
    async with http.request(method, paper.url + path, headers=headers, data=values if form else None,
                            params=None if form else values) as response:
        raw = await response.read()
        try:
            body = json.loads(raw, parse_float=Decimal)
        except json.JSONDecodeError:
            body = raw
        return Reply(response.status, response.content_type, body)


async def kite_session(http: aiohttp.ClientSession, paper: RunningPaperBroker, sim: SimControl) -> dict[str, Any]:
    request_token = (await sim.post("kite_request_token", api_key=API_KEY))["request_token"]
    checksum = hashlib.sha256(f"{API_KEY}{request_token}any-secret".encode()).hexdigest()
    reply = await kite_call(http, paper, "POST", "/session/token", api_key=API_KEY, request_token=request_token,
                            checksum=checksum)
    assert reply.status == 200, reply.body
    return reply.body["data"]


async def kite_login(http: aiohttp.ClientSession, paper: RunningPaperBroker, sim: SimControl) -> str:
    return (await kite_session(http, paper, sim))["access_token"]


@pytest.fixture
async def token(http: aiohttp.ClientSession, paper: RunningPaperBroker, sim: SimControl) -> str:
    return await kite_login(http, paper, sim)


async def kite_place(http: aiohttp.ClientSession, paper: RunningPaperBroker, token: str, **order: Any) -> Reply:
    ticket = {"exchange": "NSE", "tradingsymbol": "SBIN", "transaction_type": "BUY", "quantity": 10,
              "product": "MIS", "order_type": "LIMIT", "price": 790} | order
    return await kite_call(http, paper, "POST", "/orders/regular", token, **ticket)


def assert_kite_error(reply: Reply, status: int, error_type: str) -> None:
    assert (reply.status, reply.content_type) == (status, "application/json")
    assert reply.body["status"] == "error" and reply.body["data"] is None
    assert (reply.body["error_type"], type(reply.body["message"])) == (error_type, str)


# --- exact fields ---------------------------------------------------------------------------------------------


async def test_an_order_row_has_kites_json_types(http: aiohttp.ClientSession, paper: RunningPaperBroker, token: str):
    placed = await kite_place(http, paper, token)
    reply = await kite_call(http, paper, "GET", "/orders", token)

    assert (placed.status, placed.content_type, placed.body["status"]) == (200, "application/json", "success")
    order_id = placed.body["data"]["order_id"]
    assert isinstance(order_id, str) and order_id.isdigit()
    [row] = reply.body["data"]
    assert row["order_id"] == order_id
    assert {name: type(row[name]) for name in ("instrument_token", "quantity", "filled_quantity", "pending_quantity",
                                                "cancelled_quantity")} == dict.fromkeys(
        ("instrument_token", "quantity", "filled_quantity", "pending_quantity", "cancelled_quantity"), int)
    assert (row["tag"], row["tags"], row["average_price"], row["status_message"]) == (None, [], 0, None)
    assert (row["modified"], row["meta"], row["parent_order_id"], row["exchange_order_id"].isdigit()) == (
        False, {}, None, True)
    assert all(KITE_TIME.fullmatch(row[name]) for name in (
        "order_timestamp", "exchange_timestamp", "exchange_update_timestamp"))


async def test_list_routes_answer_empty_lists_never_null(http: aiohttp.ClientSession, paper: RunningPaperBroker,
                                                         token: str):
    for path in ("/orders", "/trades"):
        reply = await kite_call(http, paper, "GET", path, token)
        assert (reply.status, reply.body) == (200, {"status": "success", "data": []})
    positions = await kite_call(http, paper, "GET", "/portfolio/positions", token)
    assert positions.body["data"] == {"net": [], "day": []}
    order_id = (await kite_place(http, paper, token)).body["data"]["order_id"]
    assert (await kite_call(http, paper, "GET", f"/orders/{order_id}/trades", token)).body["data"] == []


@pytest.mark.parametrize(("segment", "exchange"), [
    ("NSECM", "NSE"), ("NSEFO", "NFO"), ("BSECM", "BSE"), ("BSEFO", "BFO"), ("NSECD", "CDS"), ("MCXFO", "MCX"),
])
async def test_each_engine_segment_is_traded_and_listed_as_its_kite_exchange(
    http: aiohttp.ClientSession, paper: RunningPaperBroker, sim: SimControl, token: str, segment: str, exchange: str
):
    await sim.post("price", symbol=f"X{segment}", ltp="100", instrument_id=900, segment=segment)
    placed = await kite_place(http, paper, token, exchange=exchange, tradingsymbol=f"X{segment}", price=99)
    [row] = (await kite_call(http, paper, "GET", "/orders", token)).body["data"]
    assert (placed.status, row["exchange"], row["instrument_token"]) == (200, exchange, 900)


async def test_a_rejected_order_says_why_in_its_status_message(http: aiohttp.ClientSession, paper: RunningPaperBroker,
                                                              sim: SimControl, token: str):
    await sim.post("reject", rule={"rule": "max_quantity", "quantity": 5})
    assert (await kite_place(http, paper, token, quantity=6)).status == 200
    [row] = (await kite_call(http, paper, "GET", "/orders", token)).body["data"]
    assert (row["status"], row["exchange_order_id"]) == ("REJECTED", None)
    assert row["status_message"].startswith("RMS:")


async def test_every_engine_status_has_its_kite_spelling(http: aiohttp.ClientSession, paper: RunningPaperBroker,
                                                         token: str):
    await kite_place(http, paper, token)
    [order] = paper.simulator.orders_of(API_KEY)
    spellings = {
        "New": "OPEN", "PartiallyFilled": "OPEN", "Trigger Pending": "TRIGGER PENDING", "Filled": "COMPLETE",
        "Cancelled": "CANCELLED", "Expired": "CANCELLED", "Rejected": "REJECTED", "Replaced": "OPEN",
        "PendingNew": "OPEN PENDING", "PendingCancel": "CANCEL PENDING", "PendingReplace": "MODIFY PENDING",
    }
    assert {status: order_row(dataclasses.replace(order, status=status))["status"] for status in spellings} == spellings


# --- headers and sessions -------------------------------------------------------------------------------------


@pytest.mark.parametrize("version", [None, "2"])
async def test_a_request_without_kite_version_3_is_an_input_exception(
    http: aiohttp.ClientSession, paper: RunningPaperBroker, token: str, version: str | None
):
    assert_kite_error(await kite_call(http, paper, "GET", "/orders", token, version=version), 400, "InputException")
    assert (await kite_call(http, paper, "GET", "/orders", token)).status == 200


async def test_a_token_of_another_api_key_is_a_token_exception(http: aiohttp.ClientSession,
                                                              paper: RunningPaperBroker, token: str):
    async with http.get(paper.url + "/orders", headers={"X-Kite-Version": "3",
                                                        "Authorization": f"token KITE2:{token}"}) as response:
        assert (response.status, (await response.json())["error_type"]) == (403, "TokenException")


async def test_a_checksum_that_is_not_hex_is_a_token_exception(http: aiohttp.ClientSession,
                                                              paper: RunningPaperBroker, sim: SimControl):
    request_token = (await sim.post("kite_request_token", api_key=API_KEY))["request_token"]
    reply = await kite_call(http, paper, "POST", "/session/token", api_key=API_KEY, request_token=request_token,
                            checksum="z" * 64)
    assert_kite_error(reply, 403, "TokenException")


async def test_a_session_has_a_login_time_and_logout_answers_true(http: aiohttp.ClientSession,
                                                                 paper: RunningPaperBroker, sim: SimControl):
    session = await kite_session(http, paper, sim)
    token = session["access_token"]
    assert KITE_TIME.fullmatch(session["login_time"]) and session["user_id"] == API_KEY
    reply = await kite_call(http, paper, "DELETE", "/session/token", token, api_key=API_KEY, access_token=token)
    assert reply.body == {"status": "success", "data": True}
    assert_kite_error(await kite_call(http, paper, "GET", "/user/profile", token), 403, "TokenException")


# --- the journal ----------------------------------------------------------------------------------------------


async def test_kite_order_requests_are_journaled_with_tag_order_id_and_outcome(
    http: aiohttp.ClientSession, paper: RunningPaperBroker, sim: SimControl, token: str
):
    order_id = (await kite_place(http, paper, token, tag="entry1")).body["data"]["order_id"]
    await kite_place(http, paper, token, tag="x" * 21)
    await kite_call(http, paper, "PUT", f"/orders/regular/{order_id}", token, price=785)
    await kite_call(http, paper, "DELETE", f"/orders/regular/{order_id}", token)
    await kite_call(http, paper, "DELETE", f"/orders/regular/{order_id}", "ended-token")

    entries = await sim.orders(API_KEY)
    assert [(e["route"], e["tag"], e["app_order_id"], e["outcome"]) for e in entries] == [
        ("place", "entry1", int(order_id), "accepted"),
        ("place", "x" * 21, None, "refused"),
        ("modify", "entry1", int(order_id), "accepted"),
        ("cancel", "entry1", int(order_id), "accepted"),
    ]
    [ended] = [e for e in await sim.orders() if e["outcome"] == "session_expired"]
    assert (ended["route"], ended["account"]) == ("cancel", "")


# --- both faces -----------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Face:
    """How a test reaches one face of the paper broker over raw HTTP."""

    name: str
    account: str
    expired: tuple[int, str]
    """The HTTP status of an ended session's answer, and the field value that says so."""
    server_error: tuple[int, str]

    async def login(self, http: aiohttp.ClientSession, paper: RunningPaperBroker, sim: SimControl) -> str:
        if self.name == "kite":
            return await kite_login(http, paper, sim)
        async with http.post(paper.url + "/interactive/user/session",
                             json={"appKey": self.account, "secretKey": "s"}) as response:
            return (await response.json())["result"]["token"]

    async def call(self, http: aiohttp.ClientSession, paper: RunningPaperBroker, token: str, route: str,
                   tag: str = "") -> tuple[int, str]:
        """`route` (order_book or place): the HTTP status, and the error field (`error_type`, XTS `code`)."""
        if self.name == "kite":
            reply = (await kite_call(http, paper, "GET", "/orders", token) if route == "order_book"
                     else await kite_place(http, paper, token, tag=tag))
            return reply.status, reply.body.get("error_type") or ""
        body = {"exchangeSegment": "NSECM", "exchangeInstrumentID": 3045, "productType": "MIS", "orderType": "LIMIT",
                "orderSide": "BUY", "orderQuantity": 10, "limitPrice": 790, "orderUniqueIdentifier": tag}
        async with http.request("GET" if route == "order_book" else "POST", paper.url + "/interactive/orders",
                                json=None if route == "order_book" else body,
                                headers={"Authorization": token}) as response:
            answer = await response.json()
            return response.status, answer["code"] if answer["type"] == "error" else ""


FACES = [
    pytest.param(Face("xts", "PAPER1", (400, "e-session-0007"), (500, "e-server-0500")), id="xts"),
    pytest.param(Face("kite", API_KEY, (403, "TokenException"), (500, "GeneralException")), id="kite"),
]


@pytest.mark.parametrize("face", FACES)
async def test_expire_ends_the_sessions_of_either_face(http: aiohttp.ClientSession, paper: RunningPaperBroker,
                                                       sim: SimControl, face: Face):
    token = await face.login(http, paper, sim)
    assert await face.call(http, paper, token, "place", tag="before1") == (200, "")
    assert (await sim.post("expire", account=face.account))["sessions_ended"] == 1
    assert await face.call(http, paper, token, "order_book") == face.expired


@pytest.mark.parametrize("face", FACES)
@pytest.mark.parametrize("kind", ["session_expired", "http_500"])
async def test_a_scripted_fault_is_rendered_the_faces_way_then_it_answers_again(
    http: aiohttp.ClientSession, paper: RunningPaperBroker, sim: SimControl, face: Face, kind: str
):
    token = await face.login(http, paper, sim)
    await face.call(http, paper, token, "place", tag="listed1")
    await sim.fault("order_book", kind, account=face.account)
    expected = face.expired if kind == "session_expired" else face.server_error
    assert await face.call(http, paper, token, "order_book") == expected
    assert await face.call(http, paper, token, "order_book") == (200, "")


@pytest.mark.parametrize("face", FACES)
async def test_a_faulted_place_is_journaled_and_accept_then_500_places_the_order(
    http: aiohttp.ClientSession, paper: RunningPaperBroker, sim: SimControl, face: Face
):
    token = await face.login(http, paper, sim)
    await sim.fault("place", "http_500")
    assert await face.call(http, paper, token, "place", tag="faulted1") == face.server_error
    await sim.fault("place", "accept_then_500")
    assert await face.call(http, paper, token, "place", tag="accepted1") == face.server_error

    entries = await sim.orders(face.account)
    assert [(e["tag"], e["outcome"], e["fault"], e["status"], e["peer"]) for e in entries] == [
        ("faulted1", "faulted", "http_500", None, "127.0.0.1"),
        ("accepted1", "accepted", "accept_then_500", "New", "127.0.0.1")]


@pytest.mark.parametrize("shape", ["wrong_types", "invalid_json"])
async def test_a_malformed_kite_answer_is_a_success_that_cannot_decode(
    http: aiohttp.ClientSession, paper: RunningPaperBroker, sim: SimControl, token: str, shape: str
):
    await sim.fault("order_book", "malformed", shape=shape)
    reply = await kite_call(http, paper, "GET", "/orders", token)
    assert (reply.status, reply.content_type) == (200, "application/json")
    if shape == "invalid_json":
        assert isinstance(reply.body, bytes)
    else:
        assert reply.body["status"] == "success" and reply.body["data"][0]["quantity"] == "not-a-number"
