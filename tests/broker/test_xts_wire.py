"""The wire conversions alone: defaults XTS leaves out, statuses and unknown enums, time zones."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from adapters.broker import xts_wire as wire
from domain.status import OrderStatus

ROW = {"AppOrderID": 1, "ExchangeSegment": "NSECM", "ExchangeInstrumentID": 3045, "OrderSide": "SELL",
       "OrderType": "Market", "OrderQuantity": 10, "CumulativeQuantity": 4}


def order(**fields: object):
    return wire.to_order(wire.convert({**ROW, **fields}, wire.XtsOrderRow, "row"))


@pytest.mark.parametrize("status", ["PartiallyFilled", "PendingNew", "PendingReplace", "Replaced", "PendingCancel"])
def test_missing_leaves_are_the_rest_of_an_open_order(status):
    assert order(OrderStatus=status).leaves_qty == 6


@pytest.mark.parametrize("status", ["Filled", "Cancelled", "Rejected", "Expired"])
def test_missing_leaves_are_zero_for_an_order_that_can_no_longer_fill(status):
    assert order(OrderStatus=status).leaves_qty == 0


def test_an_unknown_order_type_or_side_names_its_field():
    with pytest.raises(wire.WireError) as raised:
        order(OrderStatus="New", OrderType="Iceberg")
    assert raised.value.field == "OrderType"
    with pytest.raises(wire.WireError) as raised:
        order(OrderStatus="New", OrderSide="SHORT")
    assert raised.value.field == "OrderSide"


@pytest.mark.parametrize(("spelling", "status"), [
    ("PendingNew", OrderStatus.PENDING_NEW), ("New", OrderStatus.NEW),
    ("Trigger Pending", OrderStatus.TRIGGER_PENDING), ("PartiallyFilled", OrderStatus.PARTIALLY_FILLED),
    ("PendingReplace", OrderStatus.PENDING_REPLACE), ("Replaced", OrderStatus.REPLACED),
    ("PendingCancel", OrderStatus.PENDING_CANCEL), ("Filled", OrderStatus.FILLED),
    ("Cancelled", OrderStatus.CANCELLED), ("Rejected", OrderStatus.REJECTED), ("Expired", OrderStatus.EXPIRED),
])
def test_every_status_xts_spells_decodes_to_its_member(spelling, status):
    assert order(OrderStatus=spelling).status is status


@pytest.mark.parametrize("spelling", ["Parked", "new", "TriggerPending", "PendingSubmit", "Unconfirmed", "NotSent"])
def test_a_status_xts_does_not_spell_is_refused_naming_it_and_the_order(spelling):
    with pytest.raises(wire.WireError) as raised:
        order(OrderStatus=spelling, AppOrderID=77)
    assert raised.value.field == "OrderStatus"
    assert repr(spelling) in raised.value.detail and "AppOrderID 77" in raised.value.detail


def test_times_are_exchange_local_unless_they_carry_an_offset():
    assert wire.parse_time("02-05-2024 09:15:00", "t") == datetime(2024, 5, 2, 3, 45, tzinfo=UTC)
    assert wire.parse_time("2024-05-02T09:15:00+00:00", "t") == datetime(2024, 5, 2, 9, 15, tzinfo=UTC)
    assert wire.parse_time(" ", "t") is None
    with pytest.raises(wire.WireError):
        wire.parse_time("yesterday", "OrderGeneratedDateTime")


def test_paper_time_formats_read_back_to_the_same_moment():
    moment = datetime(2024, 5, 2, 3, 45, 1, 123456, tzinfo=UTC)
    assert wire.parse_time(wire.format_iso7_time(moment), "t") == moment
    assert wire.parse_time(wire.format_dmy_time(moment), "t") == moment.replace(microsecond=0)


@pytest.mark.parametrize("amount", ["NaN", "sNaN", "Infinity", "-Infinity"])
def test_a_money_field_that_is_not_a_finite_number_is_refused_by_name(amount):
    with pytest.raises(wire.WireError) as raised:
        order(OrderStatus="Filled", OrderAverageTradedPrice=amount)
    assert raised.value.field == "OrderAverageTradedPrice"


def test_a_negative_filled_quantity_is_refused_by_name():
    with pytest.raises(wire.WireError) as raised:
        order(OrderStatus="Filled", CumulativeQuantity=-4)
    assert raised.value.field == "CumulativeQuantity"


POSITION = {"ExchangeSegment": "NSECM", "TradingSymbol": "SBIN", "Quantity": "5"}


def position(**fields: object):
    return wire.to_position(wire.convert({**POSITION, **fields}, wire.XtsPositionRow, "row"))


def test_a_positions_instrument_is_read_under_either_spelling_or_both_when_they_agree():
    assert position(ExchangeInstrumentId="3045").instrument_id == 3045
    assert position(ExchangeInstrumentID=3045).instrument_id == 3045
    assert position(ExchangeInstrumentId=3045, ExchangeInstrumentID="3045").instrument_id == 3045


@pytest.mark.parametrize(("fields", "has"), [
    ({}, "neither"), ({"ExchangeInstrumentId": ""}, "neither"),
    ({"ExchangeInstrumentId": 3045, "ExchangeInstrumentID": 2885}, "both, 3045 and 2885"),
])
def test_a_position_without_one_instrument_id_is_refused_naming_the_field(fields, has):
    with pytest.raises(wire.WireError) as raised:
        position(**fields)
    assert raised.value.field == "ExchangeInstrumentId"
    assert raised.value.detail.endswith(f"it has {has}")
