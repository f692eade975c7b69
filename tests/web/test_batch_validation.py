"""The batch API's entry validation: an order decodes within the bounds of its columns, each order type's
prices, every price above zero, within DECIMAL(18,4) and on the tick, and the stop-loss and take-profit on
their sides of the entry, for BUY and SELL, at each boundary."""

from decimal import Decimal

import msgspec
import pytest

from messages.api import BatchOrder
from service.web.batch_validation import decode_order, order_problem

D = Decimal


def an_entry(**overrides) -> BatchOrder:
    """A valid BUY LIMIT entry at 100 with its stop-loss at 95 and take-profit at 110, changed by `overrides`."""
    fields = dict(account_id=1, strategy="breakout", symbol="SBIN", exchange_segment="NSECM", instrument_id=3045,
                  side="BUY", quantity=10, entry_type="LIMIT", entry_limit_price=D("100"), sl_stop_price=D("95"),
                  tp_price=D("110"))
    return BatchOrder(**{**fields, **overrides})


def a_sell(**overrides) -> BatchOrder:
    """A valid SELL LIMIT entry at 100 with its stop-loss at 105 and take-profit at 90."""
    return an_entry(**{"side": "SELL", "sl_stop_price": D("105"), "tp_price": D("90"), **overrides})


# --- an order decodes within the bounds of the columns it is stored in -----------------------------------

VALID_JSON = {"account_id": 1, "strategy": "breakout", "symbol": "SBIN", "exchange_segment": "NSECM",
              "instrument_id": 3045, "side": "BUY", "quantity": 10, "entry_type": "LIMIT",
              "entry_limit_price": "100"}


def decoded(**overrides) -> BatchOrder | str:
    return decode_order(msgspec.json.encode({**VALID_JSON, **overrides}))


@pytest.mark.parametrize(("field", "largest"), [("quantity", 2**31 - 1), ("instrument_id", 2**63 - 1),
                                                 ("account_id", 2**63 - 1)])
def test_a_whole_number_up_to_its_columns_largest_value_decodes(field, largest):
    order = decoded(**{field: largest})

    assert isinstance(order, BatchOrder) and getattr(order, field) == largest


@pytest.mark.parametrize(("field", "value", "problem"), [
    ("quantity", 2**31, "Expected `int` <= 2147483647 - at `$.quantity`"),
    ("quantity", 3_000_000_000, "Expected `int` <= 2147483647 - at `$.quantity`"),
    ("quantity", 2**70, "Expected `int` <= 2147483647 - at `$.quantity`"),
    ("quantity", 0, "Expected `int` >= 1 - at `$.quantity`"),
    ("instrument_id", 2**63, "Expected `int` <= 9223372036854775807 - at `$.instrument_id`"),
    ("instrument_id", 0, "Expected `int` >= 1 - at `$.instrument_id`"),
    ("account_id", 2**63, "Expected `int` <= 9223372036854775807 - at `$.account_id`"),
    ("quantity", 1e9, "Expected `int`, got `float` - at `$.quantity`"),
], ids=["quantity-2^31", "quantity-3e9", "quantity-2^70", "quantity-0", "instrument-2^63", "instrument-0",
        "account-2^63", "quantity-float"])
def test_a_whole_number_outside_its_column_is_not_a_valid_order(field, value, problem):
    assert decoded(**{field: value}) == f"not a valid order: {problem}"


@pytest.mark.parametrize("field", ["strategy", "symbol"])
def test_a_name_of_64_characters_decodes_and_65_do_not(field):
    assert isinstance(decoded(**{field: "S" * 64}), BatchOrder)
    assert decoded(**{field: "S" * 65}) == f"not a valid order: Expected `str` of length <= 64 - at `${'.' + field}`"


@pytest.mark.parametrize(("overrides", "problem"), [
    ({"exchange_segment": "NSECM" * 4}, "Invalid enum value 'NSECMNSECMNSECMNSECM' - at `$.exchange_segment`"),
    ({"product_type": "NRMLX"}, "Invalid enum value 'NRMLX' - at `$.product_type`"),
    ({"colour": "red"}, "Object contains unknown field `colour`"),
    ({"entry_limit_price": [1]}, "Expected `decimal | null`, got `array` - at `$.entry_limit_price`"),
], ids=["segment", "product", "unknown-field", "price-type"])
def test_an_order_outside_the_schema_is_not_a_valid_order_and_says_where(overrides, problem):
    assert decoded(**overrides) == f"not a valid order: {problem}"


def test_something_that_is_not_an_object_is_not_a_valid_order():
    assert decode_order(b"42") == "not a valid order: Expected `object`, got `int`"


# --- each order type's entry prices -------------------------------------------------------------------


@pytest.mark.parametrize("entry", [
    an_entry(entry_type="MARKET", entry_limit_price=None),
    an_entry(entry_type="LIMIT"),
    an_entry(entry_type="STOPLIMIT", entry_stop_price=D("99.50")),
    an_entry(entry_type="STOPMARKET", entry_limit_price=None, entry_stop_price=D("100")),
    a_sell(entry_type="MARKET", entry_limit_price=None),
    a_sell(entry_type="LIMIT"),
    a_sell(entry_type="STOPLIMIT", entry_stop_price=D("100.50")),
    a_sell(entry_type="STOPMARKET", entry_limit_price=None, entry_stop_price=D("100")),
], ids=lambda entry: f"{entry.side}-{entry.entry_type}")
def test_an_entry_with_exactly_its_order_types_prices_is_valid(entry):
    assert order_problem(entry) is None


@pytest.mark.parametrize(("entry", "problem"), [
    (an_entry(entry_type="LIMIT", entry_limit_price=None), "LIMIT entry needs entry_limit_price"),
    (an_entry(entry_type="STOPLIMIT", entry_limit_price=None, entry_stop_price=D("100")),
     "STOPLIMIT entry needs entry_limit_price"),
    (an_entry(entry_type="STOPLIMIT"), "STOPLIMIT entry needs entry_stop_price"),
    (an_entry(entry_type="STOPMARKET", entry_limit_price=None), "STOPMARKET entry needs entry_stop_price"),
], ids=["LIMIT", "STOPLIMIT-limit", "STOPLIMIT-stop", "STOPMARKET"])
def test_an_entry_missing_a_price_its_order_type_needs_is_refused(entry, problem):
    assert order_problem(entry) == problem


@pytest.mark.parametrize(("entry", "problem"), [
    (an_entry(entry_type="MARKET"), "MARKET entry takes no entry_limit_price"),
    (an_entry(entry_type="STOPMARKET", entry_stop_price=D("100")), "STOPMARKET entry takes no entry_limit_price"),
    (an_entry(entry_type="MARKET", entry_limit_price=None, entry_stop_price=D("100")),
     "MARKET entry takes no entry_stop_price"),
    (an_entry(entry_type="LIMIT", entry_stop_price=D("100")), "LIMIT entry takes no entry_stop_price"),
], ids=["MARKET-limit", "STOPMARKET-limit", "MARKET-stop", "LIMIT-stop"])
def test_an_entry_with_a_price_its_order_type_takes_no_is_refused(entry, problem):
    assert order_problem(entry) == problem


# --- every price above zero and on the tick -----------------------------------------------------------

ONE_PRICE_EACH = {
    "entry_stop_price": lambda price: an_entry(entry_type="STOPMARKET", entry_limit_price=None,
                                               entry_stop_price=price, sl_stop_price=None, tp_price=None),
    "entry_limit_price": lambda price: an_entry(entry_limit_price=price, sl_stop_price=None, tp_price=None),
    "sl_stop_price": lambda price: an_entry(entry_type="MARKET", entry_limit_price=None, sl_stop_price=price,
                                            tp_price=None),
    "tp_price": lambda price: an_entry(entry_type="MARKET", entry_limit_price=None, sl_stop_price=None,
                                       tp_price=price),
}
"""For each price of an entry, a valid entry whose only price is that one."""


@pytest.mark.parametrize("name", ONE_PRICE_EACH)
def test_one_tick_is_the_smallest_price_an_entry_may_carry(name):
    assert order_problem(ONE_PRICE_EACH[name](D("0.05"))) is None


@pytest.mark.parametrize("price", ["0", "-0.05", "NaN", "Infinity", "-Infinity"])
@pytest.mark.parametrize("name", ONE_PRICE_EACH)
def test_a_price_that_is_not_above_zero_is_refused(name, price):
    assert order_problem(ONE_PRICE_EACH[name](D(price))) == f"{name} must be a price above zero"


@pytest.mark.parametrize("name", ONE_PRICE_EACH)
def test_a_price_off_the_tick_is_refused_with_the_price(name):
    assert order_problem(ONE_PRICE_EACH[name](D("100.02"))) == f"{name} 100.02 is not a multiple of the 0.05 tick"


@pytest.mark.parametrize("name", ONE_PRICE_EACH)
def test_a_price_off_the_tick_is_named_without_its_trailing_zeros(name):
    assert order_problem(ONE_PRICE_EACH[name](D("100.0200"))) == \
        f"{name} 100.02 is not a multiple of the 0.05 tick"


@pytest.mark.parametrize("name", ONE_PRICE_EACH)
def test_the_largest_price_on_the_tick_that_decimal_18_4_holds_is_accepted(name):
    assert order_problem(ONE_PRICE_EACH[name](D("99999999999999.95"))) is None


@pytest.mark.parametrize("price", ["100000000000000", "1e15", "1e400", "1e1000000"])
@pytest.mark.parametrize("name", ONE_PRICE_EACH)
def test_a_price_of_10_to_the_14_or_more_is_refused_before_any_arithmetic(name, price):
    assert order_problem(ONE_PRICE_EACH[name](D(price))) == f"{name} must be below 100000000000000"


@pytest.mark.parametrize("price", ["100.0000", "100.00000000"])
@pytest.mark.parametrize("name", ONE_PRICE_EACH)
def test_trailing_zeros_past_the_fourth_place_do_not_count(name, price):
    assert order_problem(ONE_PRICE_EACH[name](D(price))) is None


@pytest.mark.parametrize("price", ["100.00001", "1e-1000000", "100." + "0" * 1_000_040 + "1"],
                         ids=["fifth-place", "tiny", "a-million-places"])
@pytest.mark.parametrize("name", ONE_PRICE_EACH)
def test_a_price_with_a_fifth_decimal_place_is_refused(name, price):
    assert order_problem(ONE_PRICE_EACH[name](D(price))) == f"{name} has more than 4 decimal places"


@pytest.mark.parametrize("name", ONE_PRICE_EACH)
def test_a_price_on_the_tick_is_accepted_however_it_is_written(name):
    assert order_problem(ONE_PRICE_EACH[name](D("100.150"))) is None


def test_each_price_is_checked_even_when_the_prices_before_it_are_absent():
    entry = an_entry(entry_type="MARKET", entry_limit_price=None, sl_stop_price=None, tp_price=D("0"))

    assert order_problem(entry) == "tp_price must be a price above zero"


# --- the stop-loss and take-profit on their sides of the entry -----------------------------------------


@pytest.mark.parametrize("entry", [
    pytest.param(an_entry(sl_stop_price=D("99.95")), id="BUY-SL-one-tick-below"),
    pytest.param(an_entry(tp_price=D("100.05")), id="BUY-TP-one-tick-above"),
    pytest.param(a_sell(tp_price=D("99.95")), id="SELL-TP-one-tick-below"),
    pytest.param(a_sell(sl_stop_price=D("100.05")), id="SELL-SL-one-tick-above"),
])
def test_a_stop_loss_or_take_profit_one_tick_on_its_side_of_the_entry_is_valid(entry):
    assert order_problem(entry) is None


@pytest.mark.parametrize(("entry", "problem"), [
    pytest.param(an_entry(sl_stop_price=D("100")), "the stop-loss must be below the entry 100", id="BUY-SL"),
    pytest.param(an_entry(tp_price=D("100")), "the take-profit must be above the entry 100", id="BUY-TP"),
    pytest.param(a_sell(tp_price=D("100")), "the take-profit must be below the entry 100", id="SELL-TP"),
    pytest.param(a_sell(sl_stop_price=D("100")), "the stop-loss must be above the entry 100", id="SELL-SL"),
])
def test_a_stop_loss_or_take_profit_at_the_entry_is_refused_naming_the_side_it_must_be_on(entry, problem):
    assert order_problem(entry) == problem


@pytest.mark.parametrize("entry", [
    an_entry(sl_stop_price=None), an_entry(tp_price=None), a_sell(sl_stop_price=None), a_sell(tp_price=None),
], ids=["BUY-no-SL", "BUY-no-TP", "SELL-no-SL", "SELL-no-TP"])
def test_an_entry_may_leave_out_its_stop_loss_or_its_take_profit(entry):
    assert order_problem(entry) is None


def test_a_stop_limit_entry_holds_its_exits_to_its_limit_price():
    entry = an_entry(entry_type="STOPLIMIT", entry_stop_price=D("100"), entry_limit_price=D("101"),
                     tp_price=D("100.50"))

    assert order_problem(entry) == "the take-profit must be above the entry 101"


def test_a_stop_market_entry_holds_its_exits_to_its_stop_price():
    entry = a_sell(entry_type="STOPMARKET", entry_limit_price=None, entry_stop_price=D("100"),
                   sl_stop_price=D("100"))

    assert order_problem(entry) == "the stop-loss must be above the entry 100"


@pytest.mark.parametrize("side", ["BUY", "SELL"])
def test_a_market_entry_has_no_price_to_hold_its_exits_to(side):
    entry = an_entry(side=side, entry_type="MARKET", entry_limit_price=None, sl_stop_price=D("120"),
                     tp_price=D("80"))

    assert order_problem(entry) is None
