"""The order and trade books' fast decoding (rows decoded together straight from their bytes) gives exactly what
the reference conversion gives (parse the JSON, blanks as None, convert row by row), row for row, and refuses
exactly what it refuses, naming the same field: for every spelling XTS uses and the shapes it should not send."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import msgspec
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from adapters.broker import xts_wire as wire
from adapters.broker.json_rows import decode_json

money = st.one_of(
    st.decimals(min_value=0, max_value=10**7, places=2).map(str),
    st.decimals(min_value=0, max_value=10**7, places=2).map(lambda d: msgspec.Raw(str(d).encode())),
    st.sampled_from(["", "0", "NaN", "Infinity", "-1.5", "12a", "1e3"]),
    st.integers(min_value=0, max_value=10**9),
)
quantity = st.one_of(st.integers(min_value=-2, max_value=10**6), st.integers(0, 99).map(str), st.just(""))
EARLIEST, LATEST = datetime(1940, 1, 1), datetime(2100, 1, 1)  # noqa: DTZ001 - exchange local times, no zone
times = st.one_of(
    st.just(""), st.just(" "), st.just("yesterday"),
    st.datetimes(min_value=EARLIEST, max_value=LATEST).map(lambda t: t.strftime("%d-%m-%Y %H:%M:%S")),
    st.datetimes(min_value=EARLIEST, max_value=LATEST).map(lambda t: t.strftime("%Y-%m-%dT%H:%M:%S.%f") + "7"),
    st.datetimes(min_value=EARLIEST, max_value=LATEST,
                 timezones=st.sampled_from([UTC, ZoneInfo("Asia/Kolkata")])).map(datetime.isoformat),
)
statuses = st.sampled_from(["New", "Filled", "Cancelled", "Rejected", "PartiallyFilled", "Trigger Pending",
                            "Expired", "Parked", "new"])
order_types = st.sampled_from(["Limit", "LIMIT", "limit", "StopLimit", "STOPMARKET", "Stop Market", "SL-M", "SL",
                               "Market", "Iceberg"])
sides = st.sampled_from(["BUY", "SELL", "Buy", "sell", " BUY ", "SHORT"])


order_rows = st.fixed_dictionaries(
    {"AppOrderID": st.one_of(st.integers(1, 2**63 - 1), st.just("77"), st.just("x")),
     "ExchangeSegment": st.just("NSECM"), "ExchangeInstrumentID": st.integers(1, 10**6),
     "OrderSide": sides, "OrderType": order_types, "OrderQuantity": quantity, "OrderStatus": statuses},
    optional={"OrderPrice": money, "OrderStopPrice": money, "OrderAverageTradedPrice": money,
              "LeavesQuantity": quantity, "CumulativeQuantity": quantity, "OrderGeneratedDateTime": times,
              "LastUpdateDateTime": times, "ExchangeOrderID": st.one_of(st.integers(0, 10**17), st.text()),
              "LoginID": st.text(), "TradingSymbol": st.text()},
)
trade_rows = st.fixed_dictionaries(
    {"AppOrderID": st.integers(1, 2**63 - 1), "ExchangeSegment": st.just("NSECM"),
     "ExchangeInstrumentID": st.integers(1, 10**6), "OrderSide": sides, "LastTradedPrice": money,
     "LastTradedQuantity": quantity},
    optional={"ExecutionID": st.one_of(st.integers(0, 10**9), st.text()), "LastExecutionTransactTime": times,
              "OrderUniqueIdentifier": st.text(max_size=20)},
)


def encoded(row: dict) -> bytes:
    return b"{" + b",".join(msgspec.json.encode(key) + b":" + (value if isinstance(value, msgspec.Raw) else
                                                                msgspec.json.encode(value))
                            for key, value in row.items()) + b"}"


def reference(rows: list[bytes], row_type, to_port):
    """Parse, then convert row by row: what the adapter did before rows were kept by their bytes."""
    try:
        return [to_port(wire.convert(decode_json(row), row_type, f"book row {index}"))
                for index, row in enumerate(rows)]
    except wire.WireError as exc:
        return ("refused", exc.field)


def fast(rows: list[bytes], decode_new):
    try:
        return decode_new(list(enumerate(rows)), "book")
    except wire.WireError as exc:
        return ("refused", exc.field)


@settings(max_examples=200, deadline=None)
@given(st.lists(order_rows, min_size=1, max_size=6))
def test_order_rows_decode_as_the_reference_does(rows):
    raw = [encoded(row) for row in rows]
    assert fast(raw, wire.order_rows) == reference(raw, wire.XtsOrderRow, wire.to_order)


@settings(max_examples=200, deadline=None)
@given(st.lists(trade_rows, min_size=1, max_size=6))
def test_trade_rows_decode_as_the_reference_does(rows):
    raw = [encoded(row) for row in rows]
    assert fast(raw, wire.trade_rows) == reference(raw, wire.XtsTradeRow, wire.to_trade)


GOOD = {"AppOrderID": 1, "ExchangeSegment": "NSECM", "ExchangeInstrumentID": 3045, "OrderSide": "BUY",
        "OrderType": "Limit", "OrderQuantity": 10, "OrderStatus": "New", "OrderPrice": 790.5,
        "OrderAverageTradedPrice": ""}


@pytest.mark.parametrize(("field", "value"), [("OrderPrice", "NaN"), ("OrderStopPrice", "-Infinity"),
                                              ("OrderAverageTradedPrice", "Infinity")])
def test_a_money_field_that_is_not_finite_is_refused_naming_the_field_and_the_row(field, value):
    rows = [(0, encoded(GOOD)), (5, encoded({**GOOD, field: value}))]
    with pytest.raises(wire.WireError) as raised:
        wire.order_rows(rows, "order book")
    assert raised.value.field == field
    assert "row 5" in raised.value.detail


def test_one_row_the_fast_decoding_cannot_read_falls_back_alone_and_keeps_the_others_exact():
    odd = {**GOOD, "AppOrderID": 2, "LeavesQuantity": "", "OrderPrice": "790.50"}
    [plain, blank] = wire.order_rows([(0, encoded(GOOD)), (1, encoded(odd))], "order book")
    assert plain.limit_price == blank.limit_price and str(blank.limit_price) == "790.50"
    assert (plain.leaves_qty, blank.leaves_qty, blank.avg_price) == (10, 10, None)


@pytest.mark.parametrize("local", [(1945, 10, 15, 0, 0, 0), (1945, 10, 14, 23, 59, 59), (1942, 9, 1, 12, 0, 0),
                                   (2026, 12, 6, 9, 15, 0)])
def test_exchange_local_times_follow_the_zone_rules_either_side_of_the_fixed_offset(local):
    expected = datetime(*local, tzinfo=ZoneInfo("Asia/Kolkata")).astimezone(UTC)
    local = expected.astimezone(ZoneInfo("Asia/Kolkata"))
    assert wire.parse_time(local.strftime("%d-%m-%Y %H:%M:%S"), "t") == expected
    assert wire.parse_time(local.strftime("%Y-%m-%dT%H:%M:%S.0000000"), "t") == expected
    assert expected.utcoffset() == timedelta(0)


def test_a_time_read_again_is_the_same_and_a_bad_one_is_refused_every_time():
    assert wire.parse_time("06-12-2026 09:15:00", "t") == wire.parse_time("06-12-2026 09:15:00", "t")
    for _ in range(2):
        with pytest.raises(wire.WireError):
            wire.parse_time("31-02-2026 09:15:00", "LastUpdateDateTime")


@pytest.mark.parametrize("text", ["06-12-2026 09:15+00", "06-12-2026 09-15-00", "06-12-2026 +9:15:00",
                                  "06/12/2026 09:15:00", "2026-12-06T09:15:00.123456x", "06-12-2026 09:15:00 "[:-2]])
def test_a_time_nearly_in_an_xts_format_is_refused(text):
    with pytest.raises(wire.WireError) as raised:
        wire.parse_time(text, "LastUpdateDateTime")
    assert raised.value.field == "LastUpdateDateTime"
