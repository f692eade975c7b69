"""The send guard at its boundaries, through the real adapters to the paper broker over HTTP: a place, modify or
cancel goes out when the user's lease has exactly the call timeout plus the clock-drift margin left, and not a
hair less, nor once it has run out, nor for a user whose lease this replica never held; a withheld request
reaches nothing (the broker's journal) and says why; reads are not guarded; a request waiting for its pacer
turn is judged when the turn comes. The lease is counted from before the renewal that gave it."""

from __future__ import annotations

import logging
import time
from decimal import Decimal

import msgspec
import pytest

from adapters.broker.kite import KiteBroker
from adapters.broker.pacing import Rate
from adapters.broker.xts import XtsBroker, XtsPacing
from domain.broker import BrokerAccount, ModifyRequest
from domain.broker_errors import SendWithheld
from domain.errors import ErrorKind
from service.send_guard import STOP_BEFORE_SENDING_ENV, LeaseGuard, lease_length_s, shortest_lease_s, stop_point
from tests.broker.conftest import UNPACED, SimControl, limit_buy, paper_account

LEASE_S, TIMEOUT_S, MARGIN_S = 20.0, 2.0, 0.5
SENT_AT = 1000.0
VALID_UNTIL = SENT_AT + LEASE_S - MARGIN_S
LAST_SEND = VALID_UNTIL - (TIMEOUT_S + MARGIN_S)
"""The last moment a request goes out under the lease renewed at SENT_AT: exactly timeout + margin left."""
USER = 1


class ManualClock:
    """A monotonic clock the test sets."""

    def __init__(self, t: float) -> None:
        self.t = t

    def __call__(self) -> float:
        return self.t


def held_lease(at: float) -> tuple[LeaseGuard, ManualClock]:
    clock = ManualClock(at)
    guard = LeaseGuard(lease_s=LEASE_S, call_timeout_s=TIMEOUT_S, drift_margin_s=MARGIN_S, monotonic=clock)
    guard.held(USER, SENT_AT)
    return guard, clock


async def logged_in(broker: XtsBroker, account: BrokerAccount) -> BrokerAccount:
    return msgspec.structs.replace(account, token=await broker.login(account))


async def tags_at_the_broker(sim: SimControl) -> list[str]:
    return [entry["tag"] for entry in await sim.orders()]


def test_a_lease_counts_from_before_its_renewal_was_sent_less_the_margin():
    guard, _ = held_lease(SENT_AT + 7.0)  # its answer came 7 s after the renewal went out
    assert guard.valid_until(USER) == SENT_AT + LEASE_S - MARGIN_S
    assert guard.held(USER, SENT_AT + 1.0) == SENT_AT + 1.0 + LEASE_S - MARGIN_S, "a later renewal moves it on"


async def test_a_place_goes_out_with_exactly_the_call_timeout_plus_the_margin_left(http, paper, sim: SimControl):
    guard, _ = held_lease(LAST_SEND)
    broker = XtsBroker(http, pacing=UNPACED, send_guard=guard)
    account = await logged_in(broker, paper_account(paper))
    await sim.price("SBIN", "800")

    ack = await broker.place(account, limit_buy("g-1", price="790"))

    assert ack.tag == "g-1" and await tags_at_the_broker(sim) == ["g-1"]


@pytest.mark.parametrize(("now", "why"), [
    (LAST_SEND + 0.001, "has 2.499 s left"),
    (VALID_UNTIL + 0.25, "run out 0.250 s ago"),
], ids=["a hair less than timeout + margin left", "lease run out"])
async def test_a_place_with_less_left_is_withheld_and_reaches_nothing(http, paper, sim: SimControl, caplog, now, why):
    guard, _ = held_lease(now)
    broker = XtsBroker(http, pacing=UNPACED, send_guard=guard)
    account = await logged_in(broker, paper_account(paper))
    await sim.price("SBIN", "800")

    with caplog.at_level(logging.WARNING), pytest.raises(SendWithheld) as withheld:
        await broker.place(account, limit_buy("g-2", price="790"))

    assert not withheld.value.ambiguous and withheld.value.kind is ErrorKind.LEASE
    message = withheld.value.message
    assert message.startswith("place g-2 for PAPER1: withheld, not sent: this replica's lease of the user ")
    assert why in message and "under the 2.5 s a request needs (call timeout 2 s + clock-drift margin 0.5 s)" \
        in message
    assert message in caplog.text, "the log says it as the error does"
    assert await tags_at_the_broker(sim) == []


async def test_a_place_for_a_user_whose_lease_was_never_held_here_is_withheld(http, paper, sim: SimControl):
    guard, _ = held_lease(SENT_AT)
    broker = XtsBroker(http, pacing=UNPACED, send_guard=guard)
    someone_else = msgspec.structs.replace(paper_account(paper), user_id=USER + 1)
    account = await logged_in(broker, someone_else)
    await sim.price("SBIN", "800")

    with pytest.raises(SendWithheld, match="withheld, not sent: this replica does not hold the user's lease"):
        await broker.place(account, limit_buy("g-3", price="790"))

    assert await tags_at_the_broker(sim) == []


async def test_a_dropped_lease_withholds_as_one_never_held(http, paper, sim: SimControl):
    guard, _ = held_lease(SENT_AT)
    guard.dropped(USER)
    broker = XtsBroker(http, pacing=UNPACED, send_guard=guard)
    account = await logged_in(broker, paper_account(paper))

    with pytest.raises(SendWithheld, match="does not hold the user's lease"):
        await broker.place(account, limit_buy("g-4", price="790"))
    assert await tags_at_the_broker(sim) == []


async def test_modify_and_cancel_are_guarded_and_reads_are_not(http, paper, sim: SimControl):
    guard, clock = held_lease(SENT_AT)
    broker = XtsBroker(http, pacing=UNPACED, send_guard=guard)
    account = await logged_in(broker, paper_account(paper))
    await sim.price("SBIN", "800")
    ack = await broker.place(account, limit_buy("g-5", quantity=10, price="790"))

    clock.t = LAST_SEND + 0.001
    with pytest.raises(SendWithheld):
        await broker.modify(account, ModifyRequest(app_order_id=ack.app_order_id, order_type="LIMIT", quantity=5,
                                                   tag="g-5", limit_price=Decimal("795")))
    with pytest.raises(SendWithheld):
        await broker.cancel(account, ack.app_order_id, "g-5")

    [order] = await broker.order_book(account)
    assert (order.quantity, order.limit_price, order.status) == (10, Decimal("790"), "New")
    assert [entry["route"] for entry in await sim.orders()] == ["place"], "nothing but the place reached it"
    clock.t = LAST_SEND
    await broker.cancel(account, ack.app_order_id, "g-5")
    assert [entry["route"] for entry in await sim.orders()] == ["place", "cancel"]


async def test_a_kite_place_is_guarded_too(http, paper, sim: SimControl):
    guard, clock = held_lease(LAST_SEND + 0.001)
    kite = KiteBroker(http, send_guard=guard)
    account = msgspec.structs.replace(paper_account(paper, client_id="KITE1"), broker="kite", app_key="KITE1")
    request_token = (await sim.post("kite_request_token", api_key="KITE1"))["request_token"]
    account = msgspec.structs.replace(account, token=await kite.open_session(account, request_token))
    await sim.price("SBIN", "800")

    with pytest.raises(SendWithheld, match="place G6 for KITE1: withheld"):
        await kite.place(account, limit_buy("G6", price="790"))
    assert await tags_at_the_broker(sim) == []
    clock.t = LAST_SEND
    assert (await kite.place(account, limit_buy("G6", price="790"))).tag == "G6"


async def test_a_request_waiting_for_its_pacer_turn_is_judged_when_the_turn_comes(http, paper, sim: SimControl):
    # given a lease (on the real clock) that lets requests out for 0.5 s more, and one order request in 1.5 s
    guard = LeaseGuard(lease_s=LEASE_S, call_timeout_s=TIMEOUT_S, drift_margin_s=MARGIN_S)
    guard.held(USER, time.monotonic() - (LEASE_S - MARGIN_S - TIMEOUT_S - MARGIN_S) + 0.5)
    broker = XtsBroker(http, pacing=XtsPacing(reads=None, orders=Rate(1, 1.5)), send_guard=guard)
    account = await logged_in(broker, paper_account(paper))
    await sim.price("SBIN", "800")

    # when two are placed at once: the second's turn comes 1.5 s after the first's end
    first, second = await broker.place_batch(account, [limit_buy("g-7", price="790"), limit_buy("g-8", price="790")])

    # then the first went out and the second, asked while the lease still let it, was withheld at its turn
    assert first.tag == "g-7" and isinstance(second, SendWithheld)
    assert await tags_at_the_broker(sim) == ["g-7"]


def test_a_process_without_a_guard_is_not_guarded_and_the_pause_point_is_off_unless_set(caplog):
    with caplog.at_level(logging.WARNING):
        assert stop_point({}) is None and stop_point({STOP_BEFORE_SENDING_ENV: ""}) is None
        assert caplog.text == ""
        assert stop_point({STOP_BEFORE_SENDING_ENV: "place M1S1"}) == "place M1S1"
    assert "stops itself (SIGSTOP) before sending 'place M1S1'" in caplog.text and "never set it in production" \
        in caplog.text


def test_the_lease_is_chosen_so_that_the_guard_holds_until_half_a_lease_after_a_renewal():
    # 2 x (timeout + 2 x margin): half a lease after a renewal was sent, exactly timeout + margin is left
    shortest = shortest_lease_s(TIMEOUT_S, MARGIN_S)
    assert shortest == 6.0
    guard = LeaseGuard(lease_s=shortest, call_timeout_s=TIMEOUT_S, drift_margin_s=MARGIN_S,
                       monotonic=ManualClock(SENT_AT + shortest / 2))
    guard.held(USER, SENT_AT)
    assert guard.lets_out(USER)
    guard.now = ManualClock(SENT_AT + shortest / 2 + 0.001)
    assert not guard.lets_out(USER)
    # one interval when that is longer; the default call timeout and margin need 22 s
    assert lease_length_s(0, 60, 10, 0.5) == 60 and lease_length_s(0, 5, 10, 0.5) == 22
    assert lease_length_s(0, 1, 0.5, 0.1) == 3.0, "never under 3 s"
    assert lease_length_s(22, 60, 10, 0.5) == 22, "a lease set long enough is taken as set"
    with pytest.raises(ValueError, match=r"\[leases\] lease_s = 21.9 is too short: .* at least 22 s"):
        lease_length_s(21.9, 60, 10, 0.5)


def test_a_cycle_may_begin_until_the_lease_counted_here_runs_out_and_not_at_that_instant():
    valid_until = SENT_AT + LEASE_S - MARGIN_S
    guard, clock = held_lease(valid_until - 0.001)
    assert guard.holds(USER) and not guard.holds(USER + 1)
    clock.t = valid_until
    assert not guard.holds(USER)
    guard.dropped(USER)
    clock.t = SENT_AT
    assert not guard.holds(USER)
