"""Every fault kind of the paper broker, on every route, through the real adapter: the typed failure, its
ambiguity, and what the broker actually received."""

from __future__ import annotations

import socket
import time
from decimal import Decimal
from typing import Any

import msgspec
import pytest

from adapters.broker.xts import XtsBroker
from domain.broker import BrokerAccount, ModifyRequest
from domain.broker_errors import BrokerError, BrokerProtocolError, BrokerTimeout, BrokerUnavailable, SessionExpired
from domain.errors import ErrorKind
from tests.broker.conftest import SimControl, limit_buy, paper_account

READ_ROUTES = ("order_book", "trade_book", "positions")
ORDER_ROUTES = ("place", "modify", "cancel")
ALL_ROUTES = READ_ROUTES + ORDER_ROUTES


async def call_route(broker: XtsBroker, account: BrokerAccount, route: str, tag: str = "f-1") -> Any:
    """Call `route`; modify and cancel act on an order placed first (the fault is on their route only)."""
    if route == "order_book":
        return await broker.order_book(account)
    if route == "trade_book":
        return await broker.trade_book(account)
    if route == "positions":
        return await broker.positions(account)
    if route == "place":
        return await broker.place(account, limit_buy(tag))
    ack = await broker.place(account, limit_buy(f"{tag}-base"))
    if route == "modify":
        return await broker.modify(account, ModifyRequest(
            app_order_id=ack.app_order_id, order_type="LIMIT", quantity=10, tag=tag,
            limit_price=Decimal(791)))
    return await broker.cancel(account, ack.app_order_id, tag)


async def failure_of(broker: XtsBroker, account: BrokerAccount, route: str) -> BrokerError:
    with pytest.raises(BrokerError) as raised:
        await call_route(broker, account, route)
    assert account.token not in str(raised.value)
    return raised.value


@pytest.mark.parametrize("route", ALL_ROUTES)
async def test_an_injected_session_expiry_is_session_expired(broker, account, sim: SimControl, route):
    await sim.fault(route, "session_expired")
    failure = await failure_of(broker, account, route)
    assert isinstance(failure, SessionExpired)
    assert failure.kind is ErrorKind.SESSION_EXPIRED
    assert not failure.ambiguous


@pytest.mark.parametrize("route", ALL_ROUTES)
async def test_a_500_is_unavailable_and_ambiguous_only_for_order_routes(broker, account, sim, route):
    await sim.fault(route, "http_500")
    failure = await failure_of(broker, account, route)
    assert type(failure) is BrokerUnavailable
    assert failure.kind is ErrorKind.UNAVAILABLE
    assert failure.ambiguous is (route in ORDER_ROUTES)


@pytest.mark.parametrize("route", ALL_ROUTES)
async def test_a_held_response_times_out_within_the_call_timeout(broker, account, sim: SimControl, route):
    await sim.fault(route, "timeout")
    started = time.monotonic()
    failure = await failure_of(broker, account, route)
    assert isinstance(failure, BrokerTimeout)
    assert failure.kind is ErrorKind.TIMEOUT
    assert failure.ambiguous is (route in ORDER_ROUTES)
    assert time.monotonic() - started < 2


@pytest.mark.parametrize("route", ALL_ROUTES)
async def test_a_reset_connection_is_unavailable(broker, account, sim: SimControl, route):
    # count 2: aiohttp retries an idempotent request once when a pooled connection drops
    await sim.fault(route, "reset", count=2)
    failure = await failure_of(broker, account, route)
    assert type(failure) is BrokerUnavailable
    assert failure.ambiguous is (route in ORDER_ROUTES)


@pytest.mark.parametrize(("route", "field"), [
    ("order_book", "AppOrderID"), ("trade_book", "AppOrderID"), ("positions", "Quantity"),
    ("place", "AppOrderID"), ("modify", "AppOrderID"), ("cancel", "AppOrderID"),
])
async def test_a_wrongly_typed_field_is_a_protocol_error_naming_it(broker, account, sim, route, field):
    await sim.fault(route, "malformed")
    failure = await failure_of(broker, account, route)
    assert isinstance(failure, BrokerProtocolError)
    assert failure.kind is ErrorKind.PROTOCOL
    assert failure.field == field
    assert field in failure.message
    assert failure.ambiguous is (route in ORDER_ROUTES)


@pytest.mark.parametrize("route", ALL_ROUTES)
async def test_invalid_json_is_a_protocol_error_on_the_body(broker, account, sim: SimControl, route):
    await sim.fault(route, "malformed", shape="invalid_json")
    failure = await failure_of(broker, account, route)
    assert isinstance(failure, BrokerProtocolError)
    assert failure.field == "body"


async def test_a_malformed_login_answer_names_the_missing_token(broker, paper, sim: SimControl):
    await sim.fault("login", "malformed")
    with pytest.raises(BrokerProtocolError) as raised:
        await broker.login(paper_account(paper))
    assert raised.value.field == "token"


@pytest.mark.parametrize("route", ALL_ROUTES)
async def test_a_slow_answer_within_the_timeout_succeeds(broker, account, sim: SimControl, route):
    await sim.fault(route, "slow", delay_ms=150)
    started = time.monotonic()
    await call_route(broker, account, route)
    assert time.monotonic() - started >= 0.15


async def test_injected_latency_delays_every_call(broker, account, sim: SimControl):
    await sim.post("latency", min_ms=60, max_ms=80)
    started = time.monotonic()
    await broker.order_book(account)
    await broker.positions(account)
    assert time.monotonic() - started >= 0.12


async def test_a_fault_for_one_account_leaves_the_others_alone(broker, account, paper, sim: SimControl):
    other = paper_account(paper, client_id="PAPER2", account_id=2)
    other = msgspec.structs.replace(other, token=await broker.login(other))
    await sim.fault("order_book", "http_500", account="PAPER2")
    assert await broker.order_book(account) == []
    with pytest.raises(BrokerUnavailable):
        await broker.order_book(other)


async def test_an_order_accepted_then_answered_500_exists_once_and_is_reported_ambiguous(
    broker, account, sim: SimControl
):
    await sim.fault("place", "accept_then_500")
    with pytest.raises(BrokerUnavailable) as raised:
        await broker.place(account, limit_buy("amb-1"))
    assert raised.value.ambiguous
    received = [entry for entry in await sim.orders(account.client_id) if entry["tag"] == "amb-1"]
    assert len(received) == 1
    assert (received[0]["outcome"], received[0]["fault"], received[0]["status"]) == (
        "accepted", "accept_then_500", "New")
    [order] = await broker.order_book(account)
    assert (order.tag, order.app_order_id) == ("amb-1", received[0]["app_order_id"])


async def test_an_order_answered_500_before_acceptance_is_not_at_the_broker(broker, account, sim: SimControl):
    await sim.fault("place", "http_500")
    with pytest.raises(BrokerUnavailable):
        await broker.place(account, limit_buy("lost-1"))
    [entry] = await sim.orders(account.client_id)
    assert (entry["tag"], entry["outcome"], entry["app_order_id"]) == ("lost-1", "faulted", None)
    assert await broker.order_book(account) == []


async def test_an_expired_session_stays_expired_until_a_new_login(broker, account, sim: SimControl):
    await sim.post("expire", account=account.client_id)
    with pytest.raises(SessionExpired):
        await broker.positions(account)
    with pytest.raises(SessionExpired):
        await broker.place(account, limit_buy("after-expiry"))
    renewed = msgspec.structs.replace(account, token=await broker.login(account))
    assert await broker.positions(renewed) == []


async def test_a_broker_that_is_not_listening_is_unavailable_and_not_ambiguous(broker, account):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        closed_port = probe.getsockname()[1]
    nowhere = msgspec.structs.replace(account, base_url=f"http://127.0.0.1:{closed_port}")
    with pytest.raises(BrokerUnavailable) as raised:
        await broker.place(nowhere, limit_buy("never"))
    assert not raised.value.ambiguous


async def test_reset_forgets_orders_faults_and_latency(broker, account, sim: SimControl):
    await broker.place(account, limit_buy("r-1"))
    await sim.fault("order_book", "http_500", count=5)
    await sim.post("reset")
    assert await broker.order_book(account) == []
    assert await sim.orders() == []
