"""The XTS adapter does not decode a read answer twice: against the paper broker over HTTP, an order book
whose body is unchanged comes back as the rows already mapped, a changed one decodes only the rows whose bytes
changed, and an error answer is never kept and never hidden by a kept one."""

from __future__ import annotations

from decimal import Decimal

import aiohttp
import msgspec
import pytest

from adapters.broker.paper import RunningPaperBroker
from adapters.broker.paper.simulator import OrderTicket
from adapters.broker.xts import ReadReuse, XtsBroker
from domain.broker import BrokerAccount, ModifyRequest
from domain.broker_errors import BrokerProtocolError, BrokerUnavailable, SessionExpired
from tests.broker.conftest import UNPACED, SimControl, limit_buy, paper_account


async def logged_in(broker: XtsBroker, paper: RunningPaperBroker, client_id: str, account_id: int
                    ) -> BrokerAccount:
    unlogged = paper_account(paper, client_id, account_id)
    return msgspec.structs.replace(unlogged, token=await broker.login(unlogged))


async def test_an_unchanged_order_book_comes_back_without_being_decoded_again(
    broker: XtsBroker, account: BrokerAccount
):
    await broker.place(account, limit_buy("r-1"))
    await broker.place(account, limit_buy("r-2", price="789"))
    first = await broker.order_book(account)
    second = await broker.order_book(account)
    assert second == first
    assert all(again is kept for again, kept in zip(second, first, strict=True))
    assert broker.read_reuse() == ReadReuse(accounts=1, reused=1, decoded=1)


async def test_the_caller_gets_its_own_list_and_cannot_change_the_kept_rows(
    broker: XtsBroker, account: BrokerAccount
):
    await broker.place(account, limit_buy("r-1"))
    first = await broker.order_book(account)
    second = await broker.order_book(account)
    assert second is not first
    first.clear()
    second.append(second[0])
    [order] = await broker.order_book(account)
    assert order.tag == "r-1"
    assert broker.read_reuse().reused == 2


async def test_a_changed_order_book_decodes_only_its_new_rows(broker: XtsBroker, account: BrokerAccount):
    await broker.place(account, limit_buy("r-1"))
    [only] = await broker.order_book(account)
    await broker.place(account, limit_buy("r-2", price="789"))
    book = await broker.order_book(account)
    assert [order.tag for order in book] == ["r-1", "r-2"]
    assert book[0] is only, "the row whose bytes did not change is the one already mapped"
    assert broker.read_reuse() == ReadReuse(accounts=1, reused=0, decoded=2)
    assert (broker.row_reuse().reused, broker.row_reuse().decoded) == (1, 2)


async def test_a_row_whose_bytes_changed_is_decoded_again_and_the_others_are_kept(
    broker: XtsBroker, account: BrokerAccount, paper: RunningPaperBroker
):
    for tag in ("r-1", "r-2", "r-3"):
        await broker.place(account, limit_buy(tag))
    first = await broker.order_book(account)
    paper.simulator.restamp(account.client_id, first[1].app_order_id)
    second = await broker.order_book(account)
    assert (second[0] is first[0], second[1] is first[1], second[2] is first[2]) == (True, False, True)
    assert second[1].updated_at > first[1].updated_at
    assert msgspec.structs.replace(second[1], updated_at=first[1].updated_at) == first[1]
    await broker.cancel(account, first[2].app_order_id, "r-3")
    third = await broker.order_book(account)
    assert [o.status for o in third] == [first[0].status, first[1].status, "Cancelled"]
    assert third[0] is first[0] and third[1] is second[1]
    assert (broker.row_reuse().reused, broker.row_reuse().decoded) == (4, 5)


async def test_a_change_anywhere_in_a_book_of_many_chunks_is_decoded_fresh(
    broker: XtsBroker, account: BrokerAccount, paper: RunningPaperBroker
):
    for index in range(1_500):
        paper.simulator.place(OrderTicket(
            client_id=account.client_id, segment="NSECM", instrument_id=3045, side="BUY", order_type="LIMIT",
            product_type="NRML", quantity=10, limit_price=Decimal("700.00"), stop_price=Decimal(0),
            tag=f"many-{index}"))
    book = await broker.order_book(account)
    assert await broker.order_book(account) == book
    for changed in (book[-1], book[0], book[700]):
        await broker.modify(account, ModifyRequest(app_order_id=changed.app_order_id, order_type="LIMIT",
                                                   quantity=10, tag=changed.tag, limit_price=Decimal("700.05")))
        again = await broker.order_book(account)
        assert [o.limit_price for o in again if o.app_order_id == changed.app_order_id] == [Decimal("700.05")]
        assert len(again) == 1_500
    assert broker.read_reuse() == ReadReuse(accounts=1, reused=1, decoded=4)


async def test_each_read_route_and_position_view_keeps_its_own_answer(
    broker: XtsBroker, account: BrokerAccount, sim: SimControl
):
    await sim.price("SBIN", "801.35")
    await broker.place(account, limit_buy("r-1", price="805"))
    orders, trades = await broker.order_book(account), await broker.trade_book(account)
    net, day = await broker.positions(account, "NetWise"), await broker.positions(account, "DayWise")
    assert (len(orders), len(trades), len(net), len(day)) == (1, 1, 1, 1)
    assert broker.read_reuse() == ReadReuse(accounts=1, reused=0, decoded=4)
    assert await broker.order_book(account) == orders
    assert await broker.trade_book(account) == trades
    assert await broker.positions(account, "NetWise") == net
    assert await broker.positions(account, "DayWise") == day
    assert broker.read_reuse() == ReadReuse(accounts=1, reused=4, decoded=4)


async def test_a_malformed_answer_after_a_good_one_still_raises_the_protocol_error(
    broker: XtsBroker, account: BrokerAccount, sim: SimControl
):
    await broker.place(account, limit_buy("r-1"))
    good = await broker.order_book(account)
    await sim.fault("order_book", "malformed", count=2)
    for _ in range(2):
        with pytest.raises(BrokerProtocolError) as raised:
            await broker.order_book(account)
        assert raised.value.field == "AppOrderID"
    await sim.fault("order_book", "malformed", shape="invalid_json")
    with pytest.raises(BrokerProtocolError):
        await broker.order_book(account)
    assert await broker.order_book(account) == good
    assert broker.read_reuse() == ReadReuse(accounts=1, reused=1, decoded=1)


async def test_a_session_expiry_after_a_good_answer_is_not_hidden(
    broker: XtsBroker, account: BrokerAccount, sim: SimControl
):
    await broker.place(account, limit_buy("r-1"))
    await broker.order_book(account)
    await sim.fault("order_book", "session_expired")
    with pytest.raises(SessionExpired):
        await broker.order_book(account)
    await sim.fault("order_book", "http_500")
    with pytest.raises(BrokerUnavailable, match="HTTP 500"):
        await broker.order_book(account)


async def test_a_new_session_token_reuses_the_account_answer(
    broker: XtsBroker, account: BrokerAccount, paper: RunningPaperBroker
):
    await broker.place(account, limit_buy("r-1"))
    first = await broker.order_book(account)
    renewed = msgspec.structs.replace(account, token=await broker.login(paper_account(paper)))
    assert renewed.token != account.token
    [again] = await broker.order_book(renewed)
    assert again is first[0]


async def test_accounts_keep_their_own_answers(broker: XtsBroker, paper: RunningPaperBroker):
    one = await logged_in(broker, paper, "PAPER1", 1)
    two = await logged_in(broker, paper, "PAPER2", 2)
    await broker.place(one, limit_buy("one-1"))
    await broker.place(two, limit_buy("two-1"))
    [order_one] = await broker.order_book(one)
    [order_two] = await broker.order_book(two)
    assert (order_one.tag, order_two.tag) == ("one-1", "two-1")
    assert [o.tag for o in await broker.order_book(one)] == ["one-1"]
    assert [o.tag for o in await broker.order_book(two)] == ["two-1"]
    assert broker.read_reuse() == ReadReuse(accounts=2, reused=2, decoded=2)


async def test_only_the_most_recently_read_accounts_are_kept(
    http: aiohttp.ClientSession, paper: RunningPaperBroker
):
    broker = XtsBroker(http, timeout_s=0.5, pacing=UNPACED, read_cache_accounts=1)
    one = await logged_in(broker, paper, "PAPER1", 1)
    two = await logged_in(broker, paper, "PAPER2", 2)
    await broker.place(one, limit_buy("one-1"))
    await broker.place(two, limit_buy("two-1"))
    await broker.order_book(one)
    await broker.order_book(one)
    await broker.order_book(two)
    await broker.order_book(one)
    assert broker.read_reuse() == ReadReuse(accounts=1, reused=1, decoded=3)
