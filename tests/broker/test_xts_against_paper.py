"""The XTS adapter against the paper broker over real HTTP: every route, fills, stops and reject rules."""

from __future__ import annotations

from decimal import Decimal

import msgspec
import pytest

from adapters.broker.xts import XtsBroker
from domain.broker import BrokerAccount, ModifyRequest, OrderRequest, PlaceAck
from domain.broker_errors import BrokerMisconfigured, BrokerRejected, SessionExpired
from tests.broker.conftest import SimControl, limit_buy, paper_account


async def test_login_returns_a_token_that_opens_the_account(broker: XtsBroker, paper):
    account = paper_account(paper)
    token = await broker.login(account)
    assert token
    assert await broker.order_book(msgspec.structs.replace(account, token=token)) == []


async def test_login_without_a_secret_key_is_rejected_without_revealing_the_key(broker: XtsBroker, paper):
    account = msgspec.structs.replace(paper_account(paper), secret_key="")
    with pytest.raises(BrokerRejected):
        await broker.login(account)
    account = msgspec.structs.replace(paper_account(paper), app_key="", secret_key="")
    with pytest.raises(BrokerRejected) as raised:
        await broker.login(account)
    assert "paper-secret" not in str(raised.value)


async def test_a_call_without_a_token_is_a_session_expiry_not_a_request(broker: XtsBroker, paper):
    with pytest.raises(SessionExpired):
        await broker.order_book(paper_account(paper))


async def test_a_base_url_written_with_interactive_is_a_configuration_error_not_an_expired_session(
    broker: XtsBroker, account: BrokerAccount, paper
):
    suffixed = msgspec.structs.replace(account, base_url=paper.url + "/interactive")
    with pytest.raises(BrokerMisconfigured) as raised:
        await broker.login(suffixed)
    assert f"POST {paper.url}/interactive/interactive/user/session" in raised.value.message
    with pytest.raises(BrokerMisconfigured) as raised:
        await broker.order_book(suffixed)
    assert f"GET {paper.url}/interactive/interactive/orders" in raised.value.message
    assert await broker.order_book(account) == []  # the session itself is fine


async def test_empty_books_and_positions_are_empty_lists(broker: XtsBroker, account: BrokerAccount):
    assert await broker.order_book(account) == []
    assert await broker.trade_book(account) == []
    assert await broker.positions(account) == []
    assert await broker.positions(account, "DayWise") == []


async def test_a_resting_limit_order_is_in_the_book_with_its_tag(broker: XtsBroker, account: BrokerAccount):
    ack = await broker.place(account, limit_buy("e-1-0", quantity=15, price="790.55"))
    assert ack.tag == "e-1-0"
    [order] = await broker.order_book(account)
    assert order.app_order_id == ack.app_order_id
    assert order.tag == "e-1-0"
    assert order.status == "New"
    assert order.order_type == "LIMIT"
    assert order.side == "BUY"
    assert order.symbol == "SBIN"
    assert order.limit_price == Decimal("790.55")
    assert (order.quantity, order.filled_qty, order.leaves_qty) == (15, 0, 15)
    assert order.avg_price is None
    assert order.created_at is not None and order.created_at.utcoffset().total_seconds() == 0


async def test_a_market_order_fills_at_the_last_price_into_trades_and_positions(
    broker: XtsBroker, account: BrokerAccount, sim: SimControl
):
    await sim.price("SBIN", "801.35")
    request = OrderRequest(exchange_segment="NSECM", instrument_id=3045, symbol="SBIN", side="BUY", order_type="MARKET",
                           quantity=20, tag="m-1", product_type="MIS")
    await broker.place(account, request)
    [order] = await broker.order_book(account)
    assert (order.status, order.filled_qty, order.avg_price) == ("Filled", 20, Decimal("801.35"))
    [trade] = await broker.trade_book(account)
    assert (trade.quantity, trade.price, trade.side, trade.tag) == (20, Decimal("801.35"), "BUY", "m-1")
    for view in ("NetWise", "DayWise"):
        [position] = await broker.positions(account, view)
        assert (position.symbol, position.instrument_id, position.product_type) == ("SBIN", 3045, "MIS")
        assert position.net_qty == 20
        assert position.buy_avg_price == Decimal("801.35")
        assert position.net_amount == Decimal("-16027.00")


async def test_a_limit_order_fills_in_slices_as_the_price_keeps_reaching_it(
    broker: XtsBroker, account: BrokerAccount, sim: SimControl
):
    await sim.post("liquidity", max_fill_qty=5)
    await broker.place(account, limit_buy("p-1", quantity=12, price="795"))
    await sim.price("SBIN", "795")
    [order] = await broker.order_book(account)
    assert (order.status, order.filled_qty, order.leaves_qty) == ("PartiallyFilled", 5, 7)
    await sim.price("SBIN", "794.50")
    await sim.price("SBIN", "796")
    [order] = await broker.order_book(account)
    assert (order.status, order.filled_qty) == ("PartiallyFilled", 10)
    await sim.price("SBIN", "795")
    [order] = await broker.order_book(account)
    assert (order.status, order.filled_qty, order.leaves_qty) == ("Filled", 12, 0)
    trades = await broker.trade_book(account)
    assert [t.quantity for t in trades] == [5, 5, 2]
    assert order.avg_price == Decimal("794.79")  # (5*795 + 5*794.50 + 2*795) / 12, to the paisa


async def test_a_stop_market_sell_waits_in_trigger_pending_until_the_price_falls_to_it(
    broker: XtsBroker, account: BrokerAccount, sim: SimControl
):
    await sim.price("SBIN", "800")
    stop = OrderRequest(exchange_segment="NSECM", instrument_id=3045, symbol="SBIN", side="SELL",
                        order_type="STOPMARKET", quantity=10, tag="sl-1", stop_price=Decimal("790"))
    await broker.place(account, stop)
    await sim.price("SBIN", "791")
    [order] = await broker.order_book(account)
    assert (order.status, order.order_type) == ("Trigger Pending", "STOPMARKET")
    assert order.stop_price == Decimal(790)
    await sim.price("SBIN", "789.95")
    [order] = await broker.order_book(account)
    assert (order.status, order.avg_price) == ("Filled", Decimal("789.95"))


async def test_a_stop_limit_buy_triggers_then_rests_as_a_limit(
    broker: XtsBroker, account: BrokerAccount, sim: SimControl
):
    await sim.price("SBIN", "800")
    stop = OrderRequest(exchange_segment="NSECM", instrument_id=3045, symbol="SBIN", side="BUY", order_type="STOPLIMIT",
                        quantity=10, tag="sb-1", stop_price=Decimal("805"), limit_price=Decimal("806"))
    await broker.place(account, stop)
    await sim.price("SBIN", "807")
    [order] = await broker.order_book(account)
    assert (order.status, order.order_type) == ("New", "STOPLIMIT")
    await sim.price("SBIN", "806")
    [order] = await broker.order_book(account)
    assert (order.status, order.avg_price) == ("Filled", Decimal("806"))


async def test_reject_rules_leave_a_rejected_order_with_its_reason(
    broker: XtsBroker, account: BrokerAccount, sim: SimControl
):
    await sim.post("reject", rule={"rule": "max_quantity", "quantity": 100})
    await sim.post("reject", rule={"rule": "symbol", "symbol": "TCS", "reason": "RMS:Blocked scrip TCS"})
    await broker.place(account, limit_buy("big", quantity=101))
    await broker.place(account, limit_buy("tcs", instrument_id=11536, symbol="TCS", price="4000"))
    await broker.place(account, limit_buy("fine", quantity=100))
    rows = {order.tag: order for order in await broker.order_book(account)}
    assert rows["big"].status == "Rejected"
    assert "Quantity" in rows["big"].reject_reason
    assert (rows["tcs"].status, rows["tcs"].reject_reason) == ("Rejected", "RMS:Blocked scrip TCS")
    assert rows["fine"].status == "New"


async def test_a_batch_answers_each_row_in_order_and_one_bad_row_does_not_spoil_it(
    broker: XtsBroker, account: BrokerAccount, sim: SimControl
):
    bad = OrderRequest(exchange_segment="NSECM", instrument_id=3045, symbol="SBIN", side="BUY", order_type="LIMIT",
                       quantity=10, tag="b-bad")  # a LIMIT order without a limit price
    too_long = limit_buy("t" * 21)
    requests = [limit_buy("b-0"), bad, limit_buy("b-2"), too_long, limit_buy("b-4")]
    results = await broker.place_batch(account, requests)
    assert [type(r).__name__ for r in results] == [
        "PlaceAck", "BrokerRejected", "PlaceAck", "BrokerRejected", "PlaceAck"]
    assert [r.tag for r in results if isinstance(r, PlaceAck)] == ["b-0", "b-2", "b-4"]
    assert "limitPrice" in results[1].reason
    assert not results[1].ambiguous
    sent = [entry["tag"] for entry in await sim.orders(account.client_id)]
    assert sorted(sent) == ["b-0", "b-2", "b-4", "b-bad"]  # the over-long tag never left the adapter


async def test_modify_keeps_the_order_id_and_tag_and_can_make_it_fill(
    broker: XtsBroker, account: BrokerAccount, sim: SimControl
):
    await sim.price("SBIN", "800")
    ack = await broker.place(account, limit_buy("mod-1", quantity=10, price="790"))
    modified = await broker.modify(account, ModifyRequest(
        app_order_id=ack.app_order_id, order_type="LIMIT", quantity=12, tag="mod-1-m1",
        limit_price=Decimal("795.10")))
    assert modified.app_order_id == ack.app_order_id
    [order] = await broker.order_book(account)
    assert (order.app_order_id, order.tag, order.quantity, order.limit_price, order.status) == (
        ack.app_order_id, "mod-1", 12, Decimal("795.10"), "New")
    await broker.modify(account, ModifyRequest(
        app_order_id=ack.app_order_id, order_type="LIMIT", quantity=12, tag="mod-1-m2",
        limit_price=Decimal("800")))
    [order] = await broker.order_book(account)
    assert (order.status, order.filled_qty) == ("Filled", 12)


async def test_cancel_ends_an_open_order_and_a_second_cancel_is_rejected(
    broker: XtsBroker, account: BrokerAccount
):
    ack = await broker.place(account, limit_buy("c-1"))
    cancelled = await broker.cancel(account, ack.app_order_id, "c-1")
    assert cancelled.app_order_id == ack.app_order_id
    [order] = await broker.order_book(account)
    assert order.status == "Cancelled"
    with pytest.raises(BrokerRejected) as raised:
        await broker.cancel(account, ack.app_order_id, "c-1")
    assert "Cancelled" in raised.value.reason
    assert not raised.value.ambiguous


async def test_a_cancel_without_a_tag_sends_an_empty_identifier_the_paper_broker_takes(
    broker: XtsBroker, account: BrokerAccount, sim: SimControl
):
    ack = await broker.place(account, limit_buy("c-2"))
    assert (await broker.cancel(account, ack.app_order_id)).app_order_id == ack.app_order_id
    [order] = await broker.order_book(account)
    assert order.status == "Cancelled"
    cancel = [entry for entry in await sim.orders(account.client_id) if entry["route"] == "cancel"]
    assert [(entry["tag"], entry["outcome"]) for entry in cancel] == [("", "accepted")]


async def test_accounts_see_only_their_own_orders(broker: XtsBroker, account: BrokerAccount, paper):
    other = paper_account(paper, client_id="PAPER2", account_id=2)
    other = msgspec.structs.replace(other, token=await broker.login(other))
    await broker.place(account, limit_buy("mine"))
    assert await broker.order_book(other) == []
    assert [o.tag for o in await broker.order_book(account)] == ["mine"]


async def test_a_token_of_another_client_is_refused(broker: XtsBroker, account: BrokerAccount, paper):
    impostor = msgspec.structs.replace(paper_account(paper, client_id="PAPER2"), token=account.token)
    with pytest.raises(BrokerRejected):
        await broker.order_book(impostor)


async def test_positions_read_through_the_adapter_equal_the_sum_of_the_trade_book(
    broker: XtsBroker, account: BrokerAccount, sim: SimControl
):
    await sim.price("SBIN", "800")
    await sim.price("INFY", "1500")
    await sim.post("liquidity", max_fill_qty=4)
    for tag, side, quantity, instrument_id, symbol in (("a", "BUY", 10, 3045, "SBIN"), ("b", "SELL", 6, 3045, "SBIN"),
                                                       ("c", "SELL", 5, 1594, "INFY")):
        await broker.place(account, OrderRequest(exchange_segment="NSECM", instrument_id=instrument_id, symbol=symbol,
                                                 side=side, order_type="MARKET", quantity=quantity, tag=tag))
    for ltp in ("800.05", "799.95", "800.10"):
        await sim.price("SBIN", ltp)
        await sim.price("INFY", ltp.replace("80", "150", 1))
    trades = await broker.trade_book(account)
    positions = {p.instrument_id: p for p in await broker.positions(account)}
    for instrument_id in (3045, 1594):
        mine = [t for t in trades if t.instrument_id == instrument_id]
        net = sum(t.quantity if t.side == "BUY" else -t.quantity for t in mine)
        amount = sum((t.price * t.quantity * (-1 if t.side == "BUY" else 1) for t in mine), Decimal(0))
        assert (positions[instrument_id].net_qty, positions[instrument_id].net_amount) == (net, amount)
    assert positions[3045].net_qty == 4 and positions[1594].net_qty == -5
