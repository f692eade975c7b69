"""Step 1's broker side: N accounts fetched at once against the paper broker over HTTP, each account's
failure kept to itself."""

from __future__ import annotations

import time
from datetime import UTC, datetime

import msgspec

from actors.broker_fetcher.fetch import AccountSnapshot, fetch_accounts
from adapters.broker.xts import XtsBroker
from domain.broker import BrokerAccount
from domain.broker_errors import BrokerTimeout, BrokerUnavailable, SessionExpired
from domain.errors import ErrorKind
from tests.broker.conftest import UNPACED, SimControl, limit_buy, paper_account, traced_session


async def logged_in(broker: XtsBroker, paper, client_id: str, account_id: int) -> BrokerAccount:
    account = paper_account(paper, client_id=client_id, account_id=account_id)
    return msgspec.structs.replace(account, token=await broker.login(account))


async def test_three_accounts_one_expired_one_timing_out(http, paper, sim: SimControl):
    broker = XtsBroker(http, timeout_s=5, pacing=UNPACED)  # the fetch's own per-call timeout must fire first
    healthy = await logged_in(broker, paper, "ACC1", 1)
    expired = await logged_in(broker, paper, "ACC2", 2)
    slow = await logged_in(broker, paper, "ACC3", 3)
    await sim.price("SBIN", "800")
    await broker.place(healthy, limit_buy("h-1", quantity=4, price="805"))
    await broker.place(healthy, limit_buy("h-2", quantity=3, price="700"))
    await sim.post("expire", account="ACC2")
    await sim.fault("positions", "timeout", account="ACC3")

    started = time.monotonic()
    results = await fetch_accounts(broker, [healthy, expired, slow], timeout_s=0.4)
    elapsed = time.monotonic() - started

    assert set(results) == {1, 2, 3}
    assert results[1].new_token == ""
    snapshot = results[1].outcome
    assert isinstance(snapshot, AccountSnapshot)
    assert [order.tag for order in snapshot.orders] == ["h-1", "h-2"]
    assert [(p.symbol, p.net_qty) for p in snapshot.positions] == [("SBIN", 4)]
    assert snapshot.fetched_at.tzinfo is not None
    expired_outcome, slow_outcome = results[2].outcome, results[3].outcome
    assert isinstance(expired_outcome, SessionExpired)
    assert expired_outcome.kind is ErrorKind.SESSION_EXPIRED
    assert isinstance(slow_outcome, BrokerTimeout)
    assert slow_outcome.kind is ErrorKind.TIMEOUT
    assert "ACC3" in slow_outcome.message
    assert elapsed < 1.0


async def test_the_calls_of_all_accounts_run_at_the_same_time(broker: XtsBroker, paper, sim: SimControl):
    accounts = [await logged_in(broker, paper, f"ACC{n}", n) for n in (1, 2, 3)]
    await sim.post("latency", min_ms=200, max_ms=200)
    async with traced_session() as (http, calls):
        results = await fetch_accounts(XtsBroker(http, timeout_s=5, pacing=UNPACED), accounts, timeout_s=2)
    assert all(isinstance(result.outcome, AccountSnapshot) for result in results.values())
    assert len(calls) == 6
    assert max(c.started for c in calls) < min(c.ended for c in calls), "one round of six calls, all in flight at once"


async def test_an_account_without_a_token_logs_in_once_and_hands_back_the_token(broker: XtsBroker, paper):
    account = paper_account(paper, client_id="FRESH", account_id=9)
    moment = datetime(2024, 5, 2, 4, 0, tzinfo=UTC)
    results = await fetch_accounts(broker, [account], timeout_s=1, now=lambda: moment)
    fetch = results[9]
    assert isinstance(fetch.outcome, AccountSnapshot)
    assert fetch.new_token
    assert fetch.outcome.fetched_at == moment
    assert fetch.new_token not in repr(fetch)
    renewed = msgspec.structs.replace(account, token=fetch.new_token)
    assert await broker.order_book(renewed) == []


async def test_an_account_without_a_token_or_keys_needs_a_session(broker: XtsBroker, paper):
    account = msgspec.structs.replace(paper_account(paper), app_key="", secret_key="")
    results = await fetch_accounts(broker, [account], timeout_s=1)
    assert isinstance(results[1].outcome, SessionExpired)


async def test_a_login_that_times_out_is_a_timeout_not_a_session_problem(broker, paper, sim: SimControl):
    await sim.fault("login", "timeout", account="PAPER1")
    results = await fetch_accounts(broker, [paper_account(paper)], timeout_s=0.3)
    assert isinstance(results[1].outcome, BrokerTimeout)


async def test_an_expired_session_outranks_another_failure_of_the_same_account(broker, account, sim):
    await sim.fault("order_book", "http_500")
    await sim.fault("positions", "session_expired")
    results = await fetch_accounts(broker, [account], timeout_s=1)
    assert isinstance(results[1].outcome, SessionExpired)


async def test_an_unavailable_broker_is_recorded_for_that_account_only(broker, account, paper, sim):
    other = await logged_in(broker, paper, "ACC2", 2)
    await sim.fault("order_book", "http_500", account="ACC2")
    results = await fetch_accounts(broker, [account, other], timeout_s=1)
    assert isinstance(results[1].outcome, AccountSnapshot)
    assert type(results[2].outcome) is BrokerUnavailable
    assert not results[2].outcome.ambiguous
