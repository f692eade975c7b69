"""A broker that answers garbage or never answers costs only the account it serves: the cycle finishes in
bounded time with a clear, typed error for that account, the user's other account is fetched, synced and
protected as usual, and nothing already in `orders` is lost or changed by the garbage."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator

import pytest

from domain.errors import ErrorKind
from messages.common import Step
from tests.cycle.conftest import CycleRig


@pytest.fixture
def silent_broker() -> Iterator[str]:
    """A base URL whose socket completes the TCP handshake and then never answers a byte."""
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(64)
        yield f"http://127.0.0.1:{silent.getsockname()[1]}"


def running_order(rig: CycleRig, client_id: str) -> int:
    return rig.place_entry(client_id, side="BUY", quantity=10, entry_type="MARKET",
                           sl_stop_price="780", tp_price="820")


def fetch_outcomes(summary) -> dict[int, str]:
    return {s.account_id: s.outcome for s in summary.steps if s.step is Step.FETCH}


@pytest.mark.parametrize(("route", "shape"), [
    ("order_book", "wrong_types"), ("order_book", "invalid_json"),
    ("positions", "wrong_types"), ("positions", "invalid_json"),
])
def test_malformed_or_truncated_answers_fail_only_that_account_with_a_protocol_error(rig: CycleRig, route, shape):
    rig.given_user("PAPER1", "PAPER2")
    rig.price("800")
    good = running_order(rig, "PAPER2")
    hit = running_order(rig, "PAPER1")
    before = rig.order(hit)
    rig.sim("faults", route=route, account="PAPER1", kind="malformed", shape=shape)
    summary = rig.run_cycle()
    assert fetch_outcomes(summary) == {rig.accounts["PAPER1"]: "failed", rig.accounts["PAPER2"]: "ok"}
    [error] = rig.errors()
    assert error.kind is ErrorKind.PROTOCOL and error.account_id == rig.accounts["PAPER1"]
    assert "PAPER1" in error.message
    assert rig.order(hit) == before
    protected = rig.order(good)
    assert protected.sl_order_id and protected.tp_order_id
    summary = rig.run_cycle()
    assert set(fetch_outcomes(summary).values()) == {"ok"}
    assert rig.order(hit).sl_order_id and rig.order(hit).tp_order_id


def test_a_broker_that_never_answers_times_out_its_account_and_the_cycle_goes_on(rig: CycleRig, silent_broker):
    rig.given_user("PAPER1")
    rig.price("800")
    good = running_order(rig, "PAPER1")
    silent_account = rig.io.call(rig.store.add_account(rig.user_id, "paper", silent_broker, "SILENT",
                                                       app_key="SILENT", secret_key="s3cret"))
    rig.io.call(rig.store.set_account_token(rig.user_id, silent_account, "a-token"))
    started = time.monotonic()
    summary = rig.run_cycle()
    assert time.monotonic() - started < 10
    assert fetch_outcomes(summary) == {silent_account: "failed", rig.accounts["PAPER1"]: "ok"}
    [error] = rig.errors()
    assert error.kind is ErrorKind.TIMEOUT and error.account_id == silent_account
    assert rig.order(good).sl_order_id and rig.order(good).tp_order_id
