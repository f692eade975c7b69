"""Kite's wire conversions alone: every status spelling to its member (OPEN by its fills), order types and
exchanges both ways, order ids as BIGINTs, Asia/Kolkata wall times, Decimal money and the session checksum."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal

import pytest

from adapters.broker import kite_wire as wire
from adapters.broker.json_rows import convert, decode_json
from domain.status import OPEN_STATUSES, OrderStatus

ROW = {"order_id": "171229000724687", "exchange_order_id": None, "status": "OPEN", "exchange": "NSE",
       "tradingsymbol": "SBIN", "instrument_token": 779521, "order_type": "LIMIT", "transaction_type": "BUY",
       "validity": "DAY", "product": "CNC", "quantity": 10, "price": 300, "trigger_price": 0,
       "average_price": 0, "filled_quantity": 0, "pending_quantity": 10, "tag": None,
       "order_timestamp": "2017-12-29 11:06:52", "exchange_timestamp": None, "exchange_update_timestamp": None}


def order(**fields: object):
    return wire.to_order(convert({**ROW, **fields}, wire.KiteOrderRow, "row"), "ZR1")


@pytest.mark.parametrize(("spelling", "status"), [
    ("COMPLETE", OrderStatus.FILLED), ("CANCELLED", OrderStatus.CANCELLED), ("REJECTED", OrderStatus.REJECTED),
    ("TRIGGER PENDING", OrderStatus.TRIGGER_PENDING),
    ("PUT ORDER REQ RECEIVED", OrderStatus.PENDING_NEW), ("AMO REQ RECEIVED", OrderStatus.PENDING_NEW),
    ("VALIDATION PENDING", OrderStatus.PENDING_NEW), ("OPEN PENDING", OrderStatus.PENDING_NEW),
    ("MODIFY VALIDATION PENDING", OrderStatus.PENDING_REPLACE), ("MODIFY PENDING", OrderStatus.PENDING_REPLACE),
    ("MODIFIED", OrderStatus.REPLACED), ("CANCEL PENDING", OrderStatus.PENDING_CANCEL),
])
def test_every_status_kite_spells_decodes_to_its_member(spelling, status):
    assert order(status=spelling).status is status


@pytest.mark.parametrize("spelling", [
    "TRIGGER PENDING", "PUT ORDER REQ RECEIVED", "AMO REQ RECEIVED", "VALIDATION PENDING", "OPEN PENDING",
    "MODIFY VALIDATION PENDING", "MODIFY PENDING", "MODIFIED", "CANCEL PENDING", "OPEN",
])
def test_every_in_flight_status_is_open_with_the_pending_quantity_left(spelling):
    decoded = order(status=spelling, filled_quantity=4, pending_quantity=6)
    assert decoded.status in OPEN_STATUSES
    assert decoded.leaves_qty == 6


@pytest.mark.parametrize("spelling", ["COMPLETE", "CANCELLED", "REJECTED"])
def test_a_final_status_leaves_nothing_whatever_pending_quantity_says(spelling):
    """Kite's cancelled rows keep `pending_quantity` non-zero: the status decides."""
    decoded = order(status=spelling, filled_quantity=4, pending_quantity=6)
    assert decoded.status not in OPEN_STATUSES
    assert (decoded.filled_qty, decoded.leaves_qty) == (4, 0)


@pytest.mark.parametrize(("filled", "status"), [
    (0, OrderStatus.NEW), (1, OrderStatus.PARTIALLY_FILLED), (9, OrderStatus.PARTIALLY_FILLED),
    (10, OrderStatus.NEW),
])
def test_open_is_partially_filled_only_while_some_but_not_all_is_filled(filled, status):
    assert order(status="OPEN", quantity=10, filled_quantity=filled).status is status


@pytest.mark.parametrize("spelling", ["UPDATE", "open", "PUT ORDER REQUEST RECEIVED", "Filled", "PendingSubmit", ""])
def test_a_status_kite_does_not_spell_in_an_order_book_is_refused_naming_it_and_the_order(spelling):
    with pytest.raises(wire.WireError) as raised:
        order(status=spelling, order_id="220524001859672")
    assert raised.value.field == "status"
    assert repr(spelling) in raised.value.detail and "order_id 220524001859672" in raised.value.detail


@pytest.mark.parametrize(("kite", "ours"), [
    ("MARKET", "MARKET"), ("LIMIT", "LIMIT"), ("SL", "STOPLIMIT"), ("SL-M", "STOPMARKET")])
def test_each_order_type_maps_both_ways(kite, ours):
    assert order(order_type=kite).order_type == ours
    assert wire.kite_order_type(ours) == kite


@pytest.mark.parametrize("spelling", ["SLM", "sl-m", "STOPLIMIT", "ICEBERG"])
def test_an_unknown_order_type_or_side_names_its_field(spelling):
    with pytest.raises(wire.WireError) as raised:
        order(order_type=spelling)
    assert raised.value.field == "order_type"
    with pytest.raises(wire.WireError) as raised:
        order(transaction_type="buy")
    assert raised.value.field == "transaction_type"


@pytest.mark.parametrize(("segment", "exchange"), [
    ("NSECM", "NSE"), ("NSEFO", "NFO"), ("BSECM", "BSE"), ("BSEFO", "BFO"), ("NSECD", "CDS"), ("MCXFO", "MCX")])
def test_each_exchange_segment_maps_both_ways(segment, exchange):
    assert wire.kite_exchange(segment) == exchange
    assert wire.segment(exchange) == segment
    assert order(exchange=exchange).exchange_segment == segment


def test_an_unknown_segment_or_exchange_is_refused():
    with pytest.raises(wire.WireError) as raised:
        wire.kite_exchange("NSE")
    assert raised.value.field == "exchange_segment"
    with pytest.raises(wire.WireError) as raised:
        order(exchange="BCD")
    assert raised.value.field == "exchange"


@pytest.mark.parametrize("text", ["100000000000000", "1953341975595868160", str(2**63 - 1), "1"])
def test_an_order_id_round_trips_as_a_bigint(text):
    assert str(wire.order_id(text)) == text


@pytest.mark.parametrize("text", [str(2**63), "99999999999999999999", "0100000000000000", "0", "",
                                  "12345a", "-5", "+5", " 5", "5 ", "1_000", "١٢٣"])
def test_an_order_id_that_is_not_a_bigint_written_plainly_is_refused(text):
    with pytest.raises(wire.WireError) as raised:
        wire.order_id(text)
    assert raised.value.field == "order_id"


def test_an_order_book_row_takes_the_account_and_kites_fields():
    decoded = order(order_id="1953341975595868160", exchange_order_id="1300000038792287", tag="M1E1",
                    status="COMPLETE", filled_quantity=10, pending_quantity=0, average_price=Decimal("300.05"),
                    exchange_timestamp="2017-12-29 11:06:53", status_message=None)
    assert (decoded.client_id, decoded.app_order_id, decoded.exchange_order_id) == (
        "ZR1", 1953341975595868160, "1300000038792287")
    assert (decoded.instrument_id, decoded.symbol, decoded.product_type, decoded.time_in_force) == (
        779521, "SBIN", "CNC", "DAY")
    assert (decoded.tag, decoded.reject_reason, decoded.avg_price) == ("M1E1", "", Decimal("300.05"))
    assert decoded.created_at == datetime(2017, 12, 29, 5, 36, 52, tzinfo=UTC)
    assert decoded.updated_at == datetime(2017, 12, 29, 5, 36, 53, tzinfo=UTC), "exchange_timestamp, when no update"


def test_blank_fields_default_and_the_latest_time_known_is_the_update_time():
    decoded = order()
    assert (decoded.exchange_order_id, decoded.tag, decoded.avg_price) == ("", "", None)
    assert decoded.updated_at == decoded.created_at, "order_timestamp, when the exchange has no time yet"
    updated = order(exchange_timestamp="2017-12-29 11:06:53", exchange_update_timestamp="2017-12-29 11:08:16")
    assert updated.updated_at == datetime(2017, 12, 29, 5, 38, 16, tzinfo=UTC)


def test_times_are_asia_kolkata_wall_times_and_null_is_none():
    assert wire.parse_time("2021-05-31 09:15:00", "t") == datetime(2021, 5, 31, 3, 45, tzinfo=UTC)
    assert wire.parse_time("2021-01-01 03:00:00", "t") == datetime(2020, 12, 31, 21, 30, tzinfo=UTC)
    assert wire.parse_time(None, "t") is None


@pytest.mark.parametrize("text", ["", "09:16:39", "2021-05-31T09:15:00", "2021-05-31 09:15:00+05:30",
                                  "31-05-2021 09:15:00", "2021-02-30 09:15:00"])
def test_a_time_not_written_as_kite_writes_it_is_refused_naming_the_field(text):
    with pytest.raises(wire.WireError) as raised:
        wire.parse_time(text, "fill_timestamp")
    assert raised.value.field == "fill_timestamp" and repr(text) in raised.value.detail


def test_a_binary_float_on_the_wire_stays_exactly_as_written():
    body = b'{"tradingsymbol": "X", "exchange": "NSE", "instrument_token": 1, "product": "MIS", "quantity": -3,' \
           b' "m2m": 3.5999999999999943, "value": 161050, "multiplier": 1000}'
    row = convert(decode_json(body), wire.KitePositionRow, "row")
    assert row.m2m == Decimal("3.5999999999999943") and str(row.m2m) == "3.5999999999999943"
    position = wire.to_position(row, "ZR1")
    assert (position.mtm, position.net_amount, position.multiplier) == (
        Decimal("3.5999999999999943"), Decimal(161050), Decimal(1000))
    assert position.net_qty == -3 and position.client_id == "ZR1"


@pytest.mark.parametrize("amount", ["NaN", "Infinity"])
def test_a_money_field_that_is_not_a_finite_number_is_refused_by_name(amount):
    with pytest.raises(wire.WireError) as raised:
        order(average_price=amount)
    assert raised.value.field == "average_price"


def test_the_checksum_is_the_hex_sha256_of_key_token_and_secret_concatenated():
    """The expected value is `printf '%s' 'kiteapikeyreq0token1apisecret' | sha256sum`."""
    assert wire.checksum("kiteapikey", "req0token1", "apisecret") == (
        "f4b31f593c9708e8e765c20318c097ecfc38850ef199c0143c7507fb639f3407")
