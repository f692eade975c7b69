"""The Kite adapter against Zerodha's example payloads (zerodha/kiteconnect-mocks) and written error bodies,
served verbatim over real HTTP by the recorded-response broker: decoding, empty lists, each error's typed
failure and ambiguity, the refusals that send nothing, and the exact requests the adapter sends."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import aiohttp
import msgspec
import pytest

from adapters.broker.kite import KiteBroker, KitePacing
from domain.broker import BrokerAccount, ModifyRequest, OrderRequest
from domain.broker_errors import (
    BrokerError,
    BrokerMisconfigured,
    BrokerProtocolError,
    BrokerRejected,
    BrokerTimeout,
    BrokerUnavailable,
    SessionExpired,
)
from domain.status import OPEN_STATUSES, OrderStatus
from tests.broker.recorded import RecordedBroker

TOKEN = "recorded-access-token"
API_KEY = "kiteapikey"
SECRET = "apisecret"
ACK_ID = 151220000000000
FORM = "application/x-www-form-urlencoded"


@pytest.fixture
def kite(http: aiohttp.ClientSession) -> KiteBroker:
    return KiteBroker(http, timeout_s=0.5, pacing=KitePacing(reads=None, orders=None))


@pytest.fixture
def zr1(recorded: RecordedBroker) -> BrokerAccount:
    return BrokerAccount(account_id=1, user_id=1, broker="kite", base_url=recorded.url, client_id="ZR1", token=TOKEN,
                         app_key=API_KEY, secret_key=SECRET)


def ist(*parts: int) -> datetime:
    """An Asia/Kolkata wall time as aware UTC (IST is UTC+05:30, no daylight saving)."""
    return datetime(*parts, tzinfo=UTC) - timedelta(hours=5, minutes=30)


def new_order(order_type: str = "LIMIT", side: str = "BUY", tag: str = "M1E1", **fields: object) -> OrderRequest:
    terms = {"exchange_segment": "NSECM", "instrument_id": 779521, "symbol": "SBIN", "side": side,
             "order_type": order_type, "quantity": 10, "tag": tag, "product_type": "MIS", **fields}
    return OrderRequest(**terms)


def assert_authenticated(request: dict) -> None:
    assert request["headers"]["X-Kite-Version"] == "3"
    assert request["authorization"] == f"token {API_KEY}:{TOKEN}"


def assert_secret_free(error: BrokerError) -> None:
    assert all(secret not in str(error) for secret in (TOKEN, API_KEY, SECRET))


async def test_the_order_book_decodes_every_row_of_kites_example(kite, recorded, zr1):
    recorded.answer("GET", "/orders", 200, "kite/mocks_orders.json")
    orders = await kite.order_book(zr1)

    assert len(orders) == 10 and {order.client_id for order in orders} == {"ZR1"}
    cancelled, bought, sold, rejected = orders[:4]
    assert (cancelled.app_order_id, cancelled.exchange_order_id, cancelled.exchange_segment) == (
        100000000000000, "200000000000000", "NSECD")
    assert (cancelled.status, cancelled.filled_qty, cancelled.leaves_qty) == ("Cancelled", 0, 0)
    assert (cancelled.symbol, cancelled.instrument_id, cancelled.product_type, cancelled.limit_price) == (
        "USDINR21JUNFUT", 412675, "NRML", Decimal(72))
    assert cancelled.avg_price is None and cancelled.tag == ""
    assert cancelled.created_at == ist(2021, 5, 31, 9, 18, 57)
    assert cancelled.updated_at == ist(2021, 5, 31, 9, 18, 58)

    assert (bought.side, bought.order_type, bought.status, bought.avg_price) == (
        "BUY", "LIMIT", "Filled", Decimal("109.4"))
    assert (sold.side, sold.order_type, sold.limit_price, sold.avg_price) == (
        "SELL", "MARKET", Decimal(0), Decimal("109.35"))

    assert (rejected.status, rejected.tag, rejected.exchange_order_id) == ("Rejected", "icebergord", "")
    assert rejected.reject_reason.startswith("Insufficient funds. Required margin is 95417.84")
    assert rejected.updated_at == rejected.created_at == ist(2022, 5, 24, 12, 26, 52)

    assert orders[4].tag == "connect test order1" and orders[4].exchange_segment == "MCXFO"
    assert [order.app_order_id for order in orders[-2:]] == [1953341975595868160, 1953367517686685697]
    assert (orders[-1].exchange_segment, orders[-1].quantity, orders[-1].filled_qty) == ("NSEFO", 150, 150)

    [request] = recorded.received
    assert (request["method"], request["path"], request["query"], request["body"]) == ("GET", "/orders", {}, None)
    assert_authenticated(request)


async def test_an_orders_history_decodes_as_order_book_rows_each_pending_state_open(kite, recorded, zr1):
    recorded.answer("GET", "/orders", 200, "kite/mocks_order_info.json")
    states = await kite.order_book(zr1)
    assert [state.status for state in states] == [
        OrderStatus.PENDING_NEW, OrderStatus.PENDING_NEW, OrderStatus.PENDING_NEW, OrderStatus.NEW,
        OrderStatus.PENDING_REPLACE, OrderStatus.PENDING_REPLACE, OrderStatus.REPLACED, OrderStatus.NEW]
    assert all(state.status in OPEN_STATUSES and state.leaves_qty == 1 for state in states)
    assert {state.app_order_id for state in states} == {171229000724687}
    assert states[-1].limit_price == Decimal("300.1")


async def test_the_trade_book_decodes_kites_example_without_tags(kite, recorded, zr1):
    recorded.answer("GET", "/trades", 200, "kite/mocks_trades.json")
    first, second, *_ = trades = await kite.trade_book(zr1)
    assert len(trades) == 4
    assert (first.client_id, first.app_order_id, first.execution_id) == ("ZR1", 200000000000000, "10000000")
    assert (first.exchange_segment, first.instrument_id, first.symbol, first.side, first.product_type) == (
        "NSECM", 779521, "SBIN", "BUY", "CNC")
    assert (first.quantity, first.price, first.tag) == (1, Decimal("420.65"), "")
    assert first.traded_at == ist(2021, 5, 31, 9, 16, 39)
    assert (second.exchange_segment, second.price) == ("NSECD", Decimal("72.755"))
    [request] = recorded.received
    assert (request["method"], request["path"]) == ("GET", "/trades")
    assert_authenticated(request)


async def test_net_positions_are_data_net(kite, recorded, zr1):
    recorded.answer("GET", "/portfolio/positions", 200, "kite/mocks_positions.json")
    lead, gold, sbin = await kite.positions(zr1, "NetWise")
    assert (lead.client_id, lead.symbol, lead.exchange_segment, lead.instrument_id, lead.product_type) == (
        "ZR1", "LEADMINI17DECFUT", "MCXFO", 53496327, "NRML")
    assert (lead.net_qty, lead.multiplier, lead.buy_avg_price, lead.net_amount) == (
        1, Decimal(1000), Decimal("161.05"), Decimal(-161050))
    assert (gold.net_qty, gold.open_buy_qty, gold.open_sell_qty) == (0, 4, 4)
    assert (gold.buy_avg_price, gold.sell_avg_price) == (Decimal("23139.75"), Decimal(23340))
    assert (gold.mtm, gold.realized_mtm, gold.unrealized_mtm) == (Decimal(276), Decimal(0), Decimal(801))
    assert (sbin.product_type, sbin.mtm) == ("CO", Decimal(-2))
    [request] = recorded.received
    assert (request["method"], request["path"], request["query"]) == ("GET", "/portfolio/positions", {})
    assert_authenticated(request)


async def test_day_positions_are_data_day(kite, recorded, zr1):
    recorded.answer("GET", "/portfolio/positions", 200, "kite/mocks_positions.json")
    gold, lead, sbin = await kite.positions(zr1, "DayWise")
    assert (gold.symbol, gold.net_qty, gold.net_amount, gold.mtm) == (
        "GOLDGUINEA17DECFUT", -3, Decimal(69972), Decimal(-93))
    assert (lead.symbol, sbin.symbol) == ("LEADMINI17DECFUT", "SBIN")


@pytest.mark.parametrize(("path", "fixture", "call"), [
    ("/orders", "kite/written_empty_list.json", "order_book"),
    ("/trades", "kite/written_empty_list.json", "trade_book"),
    ("/portfolio/positions", "kite/written_positions_empty.json", "positions"),
])
async def test_nothing_to_list_is_an_empty_list(kite, recorded, zr1, path, fixture, call):
    recorded.answer("GET", path, 200, fixture)
    assert await getattr(kite, call)(zr1) == []


async def test_empty_day_positions_are_an_empty_list(kite, recorded, zr1):
    recorded.answer("GET", "/portfolio/positions", 200, "kite/written_positions_empty.json")
    assert await kite.positions(zr1, "DayWise") == []


@pytest.mark.parametrize(("order_type", "side", "kite_type", "price", "trigger", "protected"), [
    ("LIMIT", "BUY", "LIMIT", "254.55", "0", False),
    ("LIMIT", "SELL", "LIMIT", "254.55", "0", False),
    ("STOPLIMIT", "BUY", "SL", "255", "254.9", False),
    ("STOPLIMIT", "SELL", "SL", "254", "254.1", False),
    ("MARKET", "BUY", "MARKET", "0", "0", True),
    ("MARKET", "SELL", "MARKET", "0", "0", True),
    ("STOPMARKET", "BUY", "SL-M", "0", "255.5", True),
    ("STOPMARKET", "SELL", "SL-M", "0", "253.5", True),
])
async def test_place_posts_the_documented_form_and_reads_the_ack(
    kite, recorded, zr1, order_type, side, kite_type, price, trigger, protected
):
    recorded.answer("POST", "/orders/regular", 200, "kite/mocks_order_response.json")
    ack = await kite.place(zr1, new_order(order_type, side, limit_price=Decimal(price), stop_price=Decimal(trigger)))
    assert (ack.app_order_id, ack.tag) == (ACK_ID, "M1E1")
    [request] = recorded.received
    assert (request["method"], request["path"], request["content_type"]) == ("POST", "/orders/regular", FORM)
    assert_authenticated(request)
    assert request["body"] == {
        "exchange": "NSE", "tradingsymbol": "SBIN", "transaction_type": side, "quantity": "10",
        "order_type": kite_type, "price": price, "trigger_price": trigger, "validity": "DAY",
        "disclosed_quantity": "0", "product": "MIS", "tag": "M1E1",
        **({"market_protection": "-1"} if protected else {})}


@pytest.mark.parametrize(("segment", "exchange"), [("NSEFO", "NFO"), ("BSECM", "BSE"), ("MCXFO", "MCX")])
async def test_place_names_the_kite_exchange_of_the_segment(kite, recorded, zr1, segment, exchange):
    recorded.answer("POST", "/orders/regular", 200, "kite/mocks_order_response.json")
    await kite.place(zr1, new_order(exchange_segment=segment, limit_price=Decimal(1)))
    assert recorded.received[0]["body"]["exchange"] == exchange


@pytest.mark.parametrize(("order_type", "kite_type", "protected"), [
    ("LIMIT", "LIMIT", False), ("STOPLIMIT", "SL", False), ("MARKET", "MARKET", True),
    ("STOPMARKET", "SL-M", True)])
async def test_modify_puts_the_new_terms_to_the_orders_path_without_the_tag(
    kite, recorded, zr1, order_type, kite_type, protected
):
    recorded.answer("PUT", f"/orders/regular/{ACK_ID}", 200, "kite/mocks_order_modify.json")
    ack = await kite.modify(zr1, ModifyRequest(app_order_id=ACK_ID, order_type=order_type, quantity=15,
                                               tag="M1E2", limit_price=Decimal("255.05"),
                                               stop_price=Decimal("254.9"), disclosed_qty=5))
    assert (ack.app_order_id, ack.tag) == (ACK_ID, "M1E2")
    [request] = recorded.received
    assert (request["method"], request["content_type"]) == ("PUT", FORM)
    assert_authenticated(request)
    assert request["body"] == {
        "quantity": "15", "order_type": kite_type, "price": "255.05", "trigger_price": "254.9",
        "validity": "DAY", "disclosed_quantity": "5", **({"market_protection": "-1"} if protected else {})}


async def test_cancel_deletes_the_orders_path_with_nothing_else(kite, recorded, zr1):
    recorded.answer("DELETE", f"/orders/regular/{ACK_ID}", 200, "kite/mocks_order_cancel.json")
    ack = await kite.cancel(zr1, ACK_ID, "M1E1")
    assert (ack.app_order_id, ack.tag) == (ACK_ID, "M1E1")
    [request] = recorded.received
    assert (request["method"], request["query"], request["body"]) == ("DELETE", {}, None)
    assert_authenticated(request)


async def test_open_session_posts_the_key_request_token_and_checksum_and_reads_the_access_token(
    kite, recorded, zr1
):
    recorded.answer("POST", "/session/token", 200, "kite/mocks_generate_session.json")
    assert await kite.open_session(msgspec.structs.replace(zr1, token=""), "req0token1") == "XXXXXX"
    [request] = recorded.received
    assert request["content_type"] == FORM and request["authorization"] is None
    assert request["headers"]["X-Kite-Version"] == "3"
    assert request["body"] == {  # checksum: printf '%s' 'kiteapikeyreq0token1apisecret' | sha256sum
        "api_key": API_KEY, "request_token": "req0token1",
        "checksum": "f4b31f593c9708e8e765c20318c097ecfc38850ef199c0143c7507fb639f3407"}


@pytest.mark.parametrize(("app_key", "secret_key", "request_token"), [
    ("", SECRET, "req0token1"), (API_KEY, "", "req0token1"), (API_KEY, SECRET, "")])
async def test_open_session_without_the_keys_or_a_request_token_sends_nothing(
    kite, recorded, zr1, app_key, secret_key, request_token
):
    account = msgspec.structs.replace(zr1, app_key=app_key, secret_key=secret_key)
    with pytest.raises(BrokerRejected):
        await kite.open_session(account, request_token)
    assert recorded.received == []


async def test_a_refused_request_token_is_a_session_to_start_again(kite, recorded, zr1):
    recorded.answer("POST", "/session/token", 403, "kite/written_token_exception.json")
    with pytest.raises(SessionExpired) as raised:
        await kite.open_session(zr1, "req0token1")
    assert_secret_free(raised.value)


async def test_login_sends_nothing_and_asks_for_the_daily_login_by_hand(kite, recorded, zr1):
    with pytest.raises(SessionExpired) as raised:
        await kite.login(zr1)
    assert "login by hand once a day" in str(raised.value) and raised.value.message.startswith("login for ZR1: ")
    assert recorded.received == []


def test_the_login_page_is_kites_for_the_real_api_host(kite, zr1):
    for base_url in ("https://api.kite.trade", "https://api.kite.trade/"):
        account = msgspec.structs.replace(zr1, base_url=base_url)
        assert kite.login_url(account) == f"https://kite.zerodha.com/connect/login?api_key={API_KEY}&v=3"


def test_the_login_page_of_any_other_base_url_is_under_it(kite, recorded, zr1):
    assert kite.login_url(zr1) == f"{recorded.url}/connect/login?api_key={API_KEY}&v=3"
    sandbox = msgspec.structs.replace(zr1, base_url="https://sandbox.example:8443/")
    assert kite.login_url(sandbox) == f"https://sandbox.example:8443/connect/login?api_key={API_KEY}&v=3"


CALLS = {
    "order_book": ("GET", "/orders", lambda kite, account: kite.order_book(account)),
    "place": ("POST", "/orders/regular", lambda kite, account: kite.place(account, new_order(
        limit_price=Decimal("254.55")))),
    "modify": ("PUT", f"/orders/regular/{ACK_ID}", lambda kite, account: kite.modify(account, ModifyRequest(
        app_order_id=ACK_ID, order_type="LIMIT", quantity=1, tag="M1E1", limit_price=Decimal(1)))),
    "cancel": ("DELETE", f"/orders/regular/{ACK_ID}", lambda kite, account: kite.cancel(account, ACK_ID, "M1E1")),
}


async def failure(kite: KiteBroker, recorded: RecordedBroker, account: BrokerAccount, call: str, status: int,
                  fixture: str, expected: type[BrokerError]) -> BrokerError:
    method, path, make = CALLS[call]
    recorded.answer(method, path, status, fixture)
    with pytest.raises(expected) as raised:
        await make(kite, account)
    assert type(raised.value) is expected
    assert_secret_free(raised.value)
    return raised.value


@pytest.mark.parametrize("status", [403, 200])
@pytest.mark.parametrize("call", ["order_book", "place"])
async def test_a_token_exception_is_a_session_expiry_whatever_the_status(kite, recorded, zr1, call, status):
    error = await failure(kite, recorded, zr1, call, status, "kite/written_token_exception.json", SessionExpired)
    assert not error.ambiguous
    assert "Incorrect `api_key` or `access_token`." in error.message


@pytest.mark.parametrize(("status", "fixture"), [
    (403, "kite/written_permission_exception.json"), (400, "kite/written_input_exception.json"),
    (404, "kite/written_input_exception.json"), (200, "kite/written_input_exception.json")])
@pytest.mark.parametrize("call", ["order_book", "place", "cancel"])
async def test_a_refusal_with_kites_error_envelope_is_a_definitive_rejection_in_kites_words(
    kite, recorded, zr1, call, status, fixture
):
    error = await failure(kite, recorded, zr1, call, status, fixture, BrokerRejected)
    assert not error.ambiguous
    assert isinstance(error, BrokerRejected) and error.reason in error.message


async def test_an_input_exception_gives_kites_message_as_the_reason(kite, recorded, zr1):
    error = await failure(kite, recorded, zr1, "place", 400, "kite/written_input_exception.json", BrokerRejected)
    assert isinstance(error, BrokerRejected)
    assert error.reason.startswith("Tick size for this script is 0.05.")
    assert error.message.startswith("place M1E1 for ZR1: rejected by Kite (InputException): Tick size")


@pytest.mark.parametrize(("status", "fixture"), [
    (429, "kite/written_network_exception.json"), (429, "kite/written_proxy_429.html"),
    (400, "kite/written_network_exception.json")])
@pytest.mark.parametrize("call", ["order_book", "place"])
async def test_rate_limiting_is_unavailable_and_never_ambiguous(kite, recorded, zr1, call, status, fixture):
    error = await failure(kite, recorded, zr1, call, status, fixture, BrokerUnavailable)
    assert not error.ambiguous


@pytest.mark.parametrize(("status", "fixture"), [
    (500, "kite/written_order_exception.json"), (500, "kite/written_general_exception.json"),
    (503, "kite/written_network_exception.json"), (502, "kite/written_proxy_429.html")])
@pytest.mark.parametrize(("call", "ambiguous"), [
    ("order_book", False), ("place", True), ("modify", True), ("cancel", True)])
async def test_a_5xx_is_unavailable_and_ambiguous_only_for_an_order_route(
    kite, recorded, zr1, call, ambiguous, status, fixture
):
    error = await failure(kite, recorded, zr1, call, status, fixture, BrokerUnavailable)
    assert error.ambiguous is ambiguous
    assert ("may have reached Kite" in error.message) is ambiguous


@pytest.mark.parametrize("fixture", ["kite/written_not_found.txt", "kite/written_route_not_found.json"])
@pytest.mark.parametrize("call", ["order_book", "place"])
async def test_a_404_without_kites_envelope_or_with_its_route_not_found_is_a_configuration_error_naming_the_url(
        kite, recorded, zr1, call, fixture):
    error = await failure(kite, recorded, zr1, call, 404, fixture, BrokerMisconfigured)
    method, path, _ = CALLS[call]
    assert not error.ambiguous
    assert f"HTTP 404 for {method} {recorded.url}{path}" in error.message
    assert "must be the host alone (e.g. https://api.kite.trade)" in error.message


@pytest.mark.parametrize(("call", "ambiguous"), [("order_book", False), ("place", True), ("cancel", True)])
async def test_an_undecodable_body_is_a_protocol_error_ambiguous_on_an_order_route(
    kite, recorded, zr1, call, ambiguous
):
    error = await failure(kite, recorded, zr1, call, 200, "kite/written_truncated.json", BrokerProtocolError)
    assert isinstance(error, BrokerProtocolError) and error.field == "body"
    assert error.ambiguous is ambiguous


async def test_an_ack_whose_order_id_is_a_number_is_a_protocol_error_naming_it(kite, recorded, zr1):
    error = await failure(kite, recorded, zr1, "place", 200, "kite/written_ack_numeric_order_id.json",
                          BrokerProtocolError)
    assert isinstance(error, BrokerProtocolError) and error.field == "order_id" and error.ambiguous


async def test_null_data_for_a_list_is_a_protocol_error_not_an_empty_book(kite, recorded, zr1):
    error = await failure(kite, recorded, zr1, "order_book", 200, "kite/written_null_data.json", BrokerProtocolError)
    assert isinstance(error, BrokerProtocolError) and error.field == "data" and not error.ambiguous


async def test_an_order_book_with_the_postback_status_update_fails_naming_status_and_order(kite, recorded, zr1):
    error = await failure(kite, recorded, zr1, "order_book", 200, "kite/written_orders_update_status.json",
                          BrokerProtocolError)
    assert isinstance(error, BrokerProtocolError) and error.field == "status"
    assert "'UPDATE'" in error.message and "171229000724687" in error.message


@pytest.mark.parametrize(("request_", "said"), [
    (new_order(tag="M" * 21), "tag 'MMMMMMMMMMMMMMMMMMMMM' is not 1 to 20 letters and digits"),
    (new_order(tag="entry-1"), "tag 'entry-1' is not 1 to 20 letters and digits"),
    (new_order(tag="tag one"), "tag 'tag one' is not 1 to 20 letters and digits"),
    (new_order(tag=""), "tag '' is not 1 to 20 letters and digits"),
    (new_order(symbol=""), "no trading symbol"),
    (new_order(exchange_segment="NSECO"), "no Kite exchange for segment 'NSECO'"),
])
async def test_a_request_kite_cannot_take_is_refused_before_sending(kite, recorded, zr1, request_, said):
    with pytest.raises(BrokerRejected) as raised:
        await kite.place(zr1, request_)
    assert said in raised.value.message and not raised.value.ambiguous
    assert recorded.received == []


async def test_a_twenty_character_alphanumeric_tag_is_sent(kite, recorded, zr1):
    recorded.answer("POST", "/orders/regular", 200, "kite/mocks_order_response.json")
    await kite.place(zr1, new_order(tag="M" * 19 + "9", limit_price=Decimal(1)))
    assert recorded.received[0]["body"]["tag"] == "M" * 19 + "9"


@pytest.mark.parametrize("call", list(CALLS))
async def test_an_account_without_an_api_key_is_refused_and_without_a_token_expired_sending_nothing(
    kite, recorded, zr1, call
):
    _, _, make = CALLS[call]
    with pytest.raises(BrokerRejected, match="no Kite api key stored"):
        await make(kite, msgspec.structs.replace(zr1, app_key=""))
    with pytest.raises(SessionExpired, match="no access token"):
        await make(kite, msgspec.structs.replace(zr1, token=""))
    assert recorded.received == []


async def test_place_batch_answers_each_request_in_order(kite, recorded, zr1):
    recorded.answer("POST", "/orders/regular", 200, "kite/mocks_order_response.json")
    placed, refused = await kite.place_batch(zr1, [new_order(limit_price=Decimal(1)), new_order(tag="a-b")])
    assert placed.app_order_id == ACK_ID and isinstance(refused, BrokerRejected)
    assert len(recorded.received) == 1


async def test_every_call_is_observed_by_route_without_the_order_id(http, recorded, zr1):
    observed: list[tuple[str, str]] = []
    kite = KiteBroker(http, pacing=KitePacing(reads=None, orders=None),
                      observe=lambda endpoint, outcome, seconds: observed.append((endpoint, outcome)))
    recorded.answer("GET", "/orders", 200, "kite/mocks_orders.json")
    recorded.answer("DELETE", f"/orders/regular/{ACK_ID}", 500, "kite/written_order_exception.json")
    await kite.order_book(zr1)
    with pytest.raises(BrokerUnavailable):
        await kite.cancel(zr1, ACK_ID)
    assert observed == [("GET /orders", "200"), ("DELETE /orders/regular/{order_id}", "500")]


async def test_a_place_unanswered_in_time_is_an_ambiguous_timeout_and_a_read_a_plain_one(kite, recorded, zr1):
    recorded.answer("POST", "/orders/regular", 200, "kite/mocks_order_response.json", delay_s=2)
    recorded.answer("GET", "/orders", 200, "kite/mocks_orders.json", delay_s=2)
    with pytest.raises(BrokerTimeout) as placed:
        await kite.place(zr1, new_order(limit_price=Decimal(1)))
    with pytest.raises(BrokerTimeout) as read:
        await kite.order_book(zr1)
    assert placed.value.ambiguous and not read.value.ambiguous


async def test_a_broker_that_cannot_be_reached_is_unavailable_and_surely_not_placed(kite, zr1):
    unreachable = msgspec.structs.replace(zr1, base_url="http://127.0.0.1:9")
    with pytest.raises(BrokerUnavailable) as raised:
        await kite.place(unreachable, new_order(limit_price=Decimal(1)))
    assert not raised.value.ambiguous and "cannot connect" in raised.value.message
