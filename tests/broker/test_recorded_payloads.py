"""The XTS adapter against payloads written from BROKER_XTS.md's examples, served verbatim over real HTTP
by a tiny recorded-response server: decoding, "no data", session expiry signals, and the exact requests
the adapter sends."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import msgspec
import pytest

from adapters.broker import xts_wire as wire
from adapters.broker.xts import XtsBroker
from domain.broker import BrokerAccount, ModifyRequest, OrderRequest
from domain.broker_errors import BrokerMisconfigured, BrokerProtocolError, BrokerRejected, SessionExpired
from domain.status import OPEN_STATUSES
from tests.broker.recorded import FIXTURES, RecordedBroker

TOKEN = "recorded-session-token"


@pytest.fixture
def rm1(recorded: RecordedBroker) -> BrokerAccount:
    return BrokerAccount(account_id=1, user_id=1, broker="xts", base_url=recorded.url, client_id="RM1", token=TOKEN,
                         app_key="recorded-app-key", secret_key="recorded-secret-key")


def ist(*parts: int) -> datetime:
    """An Asia/Kolkata wall time as aware UTC (IST is UTC+05:30, no daylight saving)."""
    return datetime(*parts, tzinfo=UTC) - timedelta(hours=5, minutes=30)


async def test_login_posts_the_keys_and_reads_the_token(broker: XtsBroker, recorded, rm1):
    recorded.answer("POST", "/interactive/user/session", 200, "login.json")
    assert await broker.login(rm1) == "eyJhbGciOiJIUzI1NiIsInR5cCI6IkpXVCJ9.recorded"
    [request] = recorded.received
    assert request["body"] == {"appKey": "recorded-app-key", "secretKey": "recorded-secret-key",
                               "source": "WEBAPI"}
    assert request["authorization"] is None


async def test_order_book_rows_decode_strings_blanks_mixed_case_and_both_time_formats(
    broker: XtsBroker, recorded, rm1
):
    recorded.answer("GET", "/interactive/orders", 200, "order_book.json")
    resting, stop, rejected = await broker.order_book(rm1)

    assert (resting.app_order_id, resting.instrument_id, resting.quantity) == (2190766863, 3045, 15)
    assert resting.limit_price == Decimal("254.55")
    assert resting.avg_price is None
    assert (resting.order_type, resting.side, resting.status) == ("LIMIT", "BUY", "New")
    assert resting.tag == "123abc"
    assert (resting.filled_qty, resting.leaves_qty) == (0, 15)
    assert resting.created_at == ist(2021, 5, 19, 10, 15, 32)

    assert (stop.order_type, stop.side, stop.status) == ("STOPLIMIT", "SELL", "Filled")
    assert (stop.limit_price, stop.stop_price, stop.avg_price) == (
        Decimal("2890.05"), Decimal("2891.1"), Decimal("2890.35"))
    assert stop.exchange_order_id == "1100000012345678"
    assert stop.created_at == ist(2021, 5, 19, 10, 16, 5, 123456)
    assert stop.updated_at == ist(2021, 5, 19, 10, 17, 41, 987654)

    assert (rejected.order_type, rejected.side, rejected.status) == ("STOPMARKET", "BUY", "Rejected")
    assert rejected.reject_reason.startswith("RMS:Margin Exceeds")

    [request] = recorded.received
    assert request["authorization"] == TOKEN  # the raw token, no "Bearer"
    assert request["query"] == {"clientID": "RM1"}


async def test_trade_book_rows_decode(broker: XtsBroker, recorded, rm1):
    recorded.answer("GET", "/interactive/orders/trades", 200, "trade_book.json")
    [trade] = await broker.trade_book(rm1)
    assert (trade.app_order_id, trade.execution_id, trade.instrument_id) == (2190766871, "51234", 2885)
    assert (trade.side, trade.quantity, trade.price) == ("SELL", 10, Decimal("2890.35"))
    assert trade.traded_at == ist(2021, 5, 19, 10, 17, 41, 987654)


@pytest.mark.parametrize("fixture", ["positions.json", "positions_instrument_id_capital_d.json"])
async def test_positions_read_the_capitalised_keys_and_numbers_as_strings(broker: XtsBroker, recorded, rm1, fixture):
    """`ExchangeInstrumentId` as the answers carry it, or `ExchangeInstrumentID` as the Java SDK's model names it."""
    recorded.answer("GET", "/interactive/portfolio/positions", 200, fixture)
    closed, short = await broker.positions(rm1, "DayWise")
    assert (closed.symbol, closed.instrument_id, closed.net_qty) == ("RELIANCE", 2885, 0)
    assert (closed.buy_avg_price, closed.sell_avg_price) == (Decimal("2880.10"), Decimal("2890.35"))
    assert (closed.realized_mtm, closed.net_amount) == (Decimal("102.50"), Decimal("102.50"))
    assert (short.instrument_id, short.net_qty, short.open_sell_qty) == (3045, -15, 15)
    assert (short.buy_avg_price, short.sell_avg_price) == (Decimal(0), Decimal("254.55"))
    assert short.unrealized_mtm == Decimal("-12.75")
    assert recorded.received[0]["query"] == {"dayOrNet": "DayWise", "clientID": "RM1"}


@pytest.mark.parametrize(("path", "fixture", "call"), [
    ("/interactive/orders", "orders_no_data.json", "order_book"),
    ("/interactive/orders/trades", "trades_no_data.json", "trade_book"),
    ("/interactive/orders/trades", "trades_no_data_lower_case.json", "trade_book"),
    ("/interactive/portfolio/positions", "positions_no_data.json", "positions"),
])
async def test_no_data_codes_are_empty_lists(broker: XtsBroker, recorded, rm1, path, fixture, call):
    recorded.answer("GET", path, 400, fixture)
    assert await getattr(broker, call)(rm1) == []


async def test_a_no_data_code_is_read_in_any_letter_case_without_its_description(broker: XtsBroker, recorded, rm1):
    recorded.answer("GET", "/interactive/orders", 400, "orders_no_data_code_only.json")
    assert await broker.order_book(rm1) == []


async def test_data_not_available_is_no_data_whatever_the_code(broker: XtsBroker, recorded, rm1):
    recorded.answer("GET", "/interactive/portfolio/positions", 400, "positions_no_data_by_description.json")
    assert await broker.positions(rm1) == []


async def test_another_error_of_a_list_route_is_not_mistaken_for_no_data(broker: XtsBroker, recorded, rm1):
    recorded.answer("GET", "/interactive/orders/trades", 400, "bad_request.json")
    with pytest.raises(BrokerRejected):
        await broker.trade_book(rm1)


async def test_a_no_data_answer_to_an_order_request_is_a_rejection_not_an_empty_success(
    broker: XtsBroker, recorded, rm1
):
    recorded.answer("DELETE", "/interactive/orders", 400, "orders_no_data.json")
    with pytest.raises(BrokerRejected):
        await broker.cancel(rm1, 2190766863, "123abc")


@pytest.mark.parametrize("status", [400, 200, 404])
async def test_invalid_token_is_a_session_expiry_at_any_status(broker: XtsBroker, recorded, rm1, status):
    recorded.answer("GET", "/interactive/orders", status, "invalid_token.json")
    with pytest.raises(SessionExpired) as raised:
        await broker.order_book(rm1)
    assert TOKEN not in str(raised.value)


@pytest.mark.parametrize("fixture", ["invalid_token_code_other_case.json", "invalid_token_description_only.json"])
async def test_the_invalid_session_answer_is_read_by_its_code_in_any_case_or_by_its_description(
    broker: XtsBroker, recorded, rm1, fixture
):
    recorded.answer("GET", "/interactive/orders", 400, fixture)
    with pytest.raises(SessionExpired):
        await broker.order_book(rm1)


async def test_a_404_without_the_invalid_session_answer_is_a_configuration_error_naming_the_url(
    broker: XtsBroker, recorded, rm1
):
    recorded.answer("GET", "/interactive/portfolio/positions", 404, "not_found.txt")
    with pytest.raises(BrokerMisconfigured) as raised:
        await broker.positions(rm1)
    assert raised.value.kind == "configuration" and not raised.value.ambiguous
    assert f"GET {recorded.url}/interactive/portfolio/positions" in raised.value.message
    assert "check the account's base_url" in raised.value.message
    assert "session" not in raised.value.message


async def test_a_base_url_written_with_interactive_is_a_configuration_error_that_says_so(
    broker: XtsBroker, recorded, rm1
):
    recorded.answer("GET", "/interactive/interactive/orders", 404, "no_such_route.html")
    suffixed = msgspec.structs.replace(rm1, base_url=recorded.url + "/interactive/")
    with pytest.raises(BrokerMisconfigured) as raised:
        await broker.order_book(suffixed)
    assert f"GET {recorded.url}/interactive/interactive/orders" in raised.value.message
    assert "this one ends in /interactive, which every route already starts with" in raised.value.message


async def test_a_place_answered_404_is_a_configuration_error_and_surely_not_placed(broker: XtsBroker, recorded, rm1):
    recorded.answer("POST", "/interactive/orders", 404, "not_found.txt")
    with pytest.raises(BrokerMisconfigured) as raised:
        await broker.place(rm1, OrderRequest(exchange_segment="NSECM", instrument_id=3045, symbol="SBIN", side="BUY",
                                             order_type="LIMIT", quantity=15, tag="t", limit_price=Decimal("254.55")))
    assert not raised.value.ambiguous


async def test_place_sends_the_documented_body_and_reads_the_ack(broker: XtsBroker, recorded, rm1):
    recorded.answer("POST", "/interactive/orders", 200, "place_ack.json")
    ack = await broker.place(rm1, OrderRequest(
        exchange_segment="NSECM", instrument_id=3045, symbol="SBIN", side="BUY", order_type="LIMIT", quantity=15,
        tag="123abc", limit_price=Decimal("254.55")))
    assert (ack.app_order_id, ack.tag) == (2190766863, "123abc")
    [request] = recorded.received
    assert request["content_type"] == "application/json"
    assert request["body"] == {
        "exchangeSegment": "NSECM", "exchangeInstrumentID": 3045, "productType": "NRML", "orderType": "LIMIT",
        "orderSide": "BUY", "timeInForce": "DAY", "disclosedQuantity": 0, "orderQuantity": 15,
        "limitPrice": 254.55, "stopPrice": 0, "apiOrderSource": "WEBAPI", "orderUniqueIdentifier": "123abc",
        "clientID": "RM1"}


async def test_modify_sends_the_documented_body(broker: XtsBroker, recorded, rm1):
    recorded.answer("PUT", "/interactive/orders", 200, "place_ack.json")
    await broker.modify(rm1, ModifyRequest(
        app_order_id=2190766863, order_type="STOPLIMIT", quantity=15, tag="123abc",
        limit_price=Decimal("255"), stop_price=Decimal("254.9")))
    assert recorded.received[0]["body"] == {
        "appOrderID": 2190766863, "modifiedProductType": "NRML", "modifiedOrderType": "STOPLIMIT",
        "modifiedOrderQuantity": 15, "modifiedDisclosedQuantity": 0, "modifiedLimitPrice": 255,
        "modifiedStopPrice": 254.9, "modifiedTimeInForce": "DAY", "orderUniqueIdentifier": "123abc",
        "clientID": "RM1"}


async def test_cancel_sends_query_parameters(broker: XtsBroker, recorded, rm1):
    recorded.answer("DELETE", "/interactive/orders", 200, "place_ack.json")
    ack = await broker.cancel(rm1, 2190766863, "123abc")
    assert ack.app_order_id == 2190766863
    [request] = recorded.received
    assert request["query"] == {"appOrderID": "2190766863", "clientID": "RM1", "orderUniqueIdentifier": "123abc"}
    assert request["body"] is None


async def test_a_cancel_without_a_tag_still_sends_an_empty_order_unique_identifier(broker: XtsBroker, recorded, rm1):
    recorded.answer("DELETE", "/interactive/orders", 200, "place_ack.json")
    await broker.cancel(rm1, 2190766863)
    [request] = recorded.received
    assert request["query"] == {"appOrderID": "2190766863", "clientID": "RM1", "orderUniqueIdentifier": ""}


async def test_a_validation_error_is_a_definitive_rejection_with_the_details(broker, recorded, rm1):
    recorded.answer("POST", "/interactive/orders", 400, "bad_request.json")
    with pytest.raises(BrokerRejected) as raised:
        await broker.place(rm1, OrderRequest(
            exchange_segment="NSECM", instrument_id=3045, symbol="SBIN", side="BUY", order_type="LIMIT",
            quantity=15, tag="t", limit_price=Decimal("1.01")))
    assert not raised.value.ambiguous
    assert "Bad Request" in raised.value.reason and "tick size" in raised.value.reason


async def protocol_error(broker: XtsBroker, recorded: RecordedBroker, rm1: BrokerAccount, read: str,
                         fixture: str) -> BrokerProtocolError:
    """What reading `fixture` (answered with HTTP 200) through the adapter's `read` route raises."""
    path = {"order_book": "/interactive/orders", "positions": "/interactive/portfolio/positions"}[read]
    recorded.answer("GET", path, 200, fixture)
    with pytest.raises(BrokerProtocolError) as raised:
        await getattr(broker, read)(rm1)
    return raised.value


async def test_a_field_that_does_not_decode_is_named(broker: XtsBroker, recorded, rm1):
    error = await protocol_error(broker, recorded, rm1, "order_book", "order_book_bad_quantity.json")
    assert error.field == "OrderQuantity"
    assert "OrderQuantity" in str(error)


@pytest.mark.parametrize(("status", "quantity", "filled"), [
    ("PendingNew", 15, 0), ("PendingReplace", 15, 5), ("Replaced", 20, 0), ("PendingCancel", 10, 4)])
async def test_each_pending_status_decodes_as_an_open_order_with_the_rest_still_to_fill(
    broker: XtsBroker, recorded, rm1, status, quantity, filled
):
    """The rows leave `LeavesQuantity` blank, so what is left is computed from whether the status is open."""
    recorded.answer("GET", "/interactive/orders", 200, "order_book_pending.json")
    [order] = [order for order in await broker.order_book(rm1) if order.status == status]
    assert order.status in OPEN_STATUSES
    assert (order.quantity, order.filled_qty, order.leaves_qty) == (quantity, filled, quantity - filled)


async def test_an_order_status_xts_does_not_document_fails_the_book_naming_the_status_and_order(
    broker: XtsBroker, recorded, rm1
):
    error = await protocol_error(broker, recorded, rm1, "order_book", "order_book_unknown_status.json")
    assert error.field == "OrderStatus"
    assert "'Parked'" in str(error) and "2190766872" in str(error)
    assert not error.ambiguous


async def test_a_position_without_an_instrument_id_under_either_spelling_names_the_field(
    broker: XtsBroker, recorded, rm1
):
    error = await protocol_error(broker, recorded, rm1, "positions", "positions_without_instrument.json")
    assert error.field == "ExchangeInstrumentId"
    assert "ExchangeInstrumentId or ExchangeInstrumentID" in str(error) and "SBIN" in str(error)


async def test_a_success_without_a_position_list_is_not_mistaken_for_no_positions(broker, recorded, rm1):
    error = await protocol_error(broker, recorded, rm1, "positions", "positions_without_list.json")
    assert error.field == "positionList"


def test_an_order_history_is_one_orders_states_oldest_first_each_an_order_book_row():
    envelope = wire.decode_envelope((FIXTURES / "order_history.json").read_bytes())
    rows = [wire.to_order(row) for row in wire.convert_rows(envelope.result, wire.XtsOrderRow, "order history")]
    assert {row.app_order_id for row in rows} == {2190766863}
    assert [(row.status, row.filled_qty, row.leaves_qty) for row in rows] == [
        ("PendingNew", 0, 15), ("New", 0, 15), ("PartiallyFilled", 5, 10), ("Filled", 15, 0)]
    assert rows[-1].avg_price == Decimal("254.53")
