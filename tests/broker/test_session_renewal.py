"""An expired session renewed by Step 1's broker side: a login with the stored keys, once per expiry (shared by
the steps that meet it), its token handed back whatever the read after it did, and a backoff after the broker
refused one; against the paper broker over HTTP."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta

import msgspec

from actors.broker_fetcher.fetch import AccountSnapshot, fetch_accounts
from actors.broker_session import SessionRenewal
from adapters.broker.xts import XtsBroker
from domain.broker import BrokerAccount
from domain.broker_errors import BrokerUnavailable, KeysRefused, SessionExpired
from domain.errors import ErrorKind
from tests.broker.conftest import UNPACED, SimControl, TracedRequest, limit_buy, paper_account, traced_session

LOGIN = "/interactive/user/session"


class Clock:
    def __init__(self) -> None:
        self.at = datetime(2026, 3, 2, 4, 0, tzinfo=UTC)

    def __call__(self) -> datetime:
        return self.at


@contextlib.asynccontextmanager
async def traced_login(paper) -> AsyncIterator[tuple[XtsBroker, BrokerAccount, list[TracedRequest]]]:
    """An unpaced adapter over a traced client session, the paper account logged in through it, and the requests."""
    async with traced_session() as (http, calls):
        broker = XtsBroker(http, timeout_s=5, pacing=UNPACED)
        account = paper_account(paper)
        yield broker, msgspec.structs.replace(account, token=await broker.login(account)), calls


async def test_an_expired_session_is_logged_in_again_and_the_account_fetched(broker: XtsBroker, paper,
                                                                             sim: SimControl):
    account = paper_account(paper)
    account = msgspec.structs.replace(account, token=await broker.login(account))
    await sim.price("SBIN", "800")
    await broker.place(account, limit_buy("r-1", quantity=2, price="700"))
    await sim.post("expire", account="PAPER1")

    [fetch] = (await fetch_accounts(broker, [account], 2, renewal=SessionRenewal(900))).values()

    assert isinstance(fetch.outcome, AccountSnapshot)
    assert [o.tag for o in fetch.outcome.orders] == ["r-1"]
    assert fetch.new_token and fetch.new_token != account.token


async def test_each_expiry_is_renewed_by_one_login(paper, sim: SimControl):
    renewal = SessionRenewal(900)
    async with traced_login(paper) as (broker, account, calls):
        for _ in range(2):
            await sim.post("expire", account="PAPER1")
            calls.clear()
            [fetch] = (await fetch_accounts(broker, [account], 2, renewal=renewal)).values()
            assert isinstance(fetch.outcome, AccountSnapshot)
            assert [c.path for c in calls].count(LOGIN) == 1
            account = msgspec.structs.replace(account, token=fetch.new_token)


async def test_a_refused_login_is_a_configuration_error_not_tried_again_before_the_backoff(paper, sim: SimControl):
    clock, renewal = Clock(), SessionRenewal(900)
    async with traced_login(paper) as (broker, account, calls):
        await sim.post("expire", account="PAPER1", secret_key="regenerated")
        calls.clear()

        [refused] = [f.outcome for f in (await fetch_accounts(broker, [account], 2, now=clock,
                                                               renewal=renewal)).values()]
        clock.at += timedelta(seconds=899)
        [held] = [f.outcome for f in (await fetch_accounts(broker, [account], 2, now=clock,
                                                            renewal=renewal)).values()]
        logins_within_the_backoff = [c.path for c in calls].count(LOGIN)
        clock.at += timedelta(seconds=1)
        await fetch_accounts(broker, [account], 2, now=clock, renewal=renewal)

    assert isinstance(refused, KeysRefused) and refused.kind is ErrorKind.CONFIGURATION
    assert "Invalid appKey or secretKey" in refused.message and "check the account's keys" in refused.message
    assert isinstance(held, KeysRefused) and "no new login before 04:15:00 UTC" in held.message
    assert logins_within_the_backoff == 1
    assert [c.path for c in calls].count(LOGIN) == 2
    assert "paper-secret" not in refused.message + held.message and account.token not in held.message


async def test_without_renewal_an_expired_session_stays_expired(broker: XtsBroker, paper, sim: SimControl):
    account = paper_account(paper)
    account = msgspec.structs.replace(account, token=await broker.login(account))
    await sim.post("expire", account="PAPER1")

    [fetch] = (await fetch_accounts(broker, [account], 2)).values()

    assert isinstance(fetch.outcome, SessionExpired) and not fetch.new_token


async def test_an_account_without_stored_keys_is_not_logged_in(broker: XtsBroker, paper, sim: SimControl):
    account = paper_account(paper)
    account = msgspec.structs.replace(account, token=await broker.login(account), secret_key="")
    await sim.post("expire", account="PAPER1")

    [fetch] = (await fetch_accounts(broker, [account], 2, renewal=SessionRenewal(900))).values()

    assert isinstance(fetch.outcome, SessionExpired) and not fetch.new_token


async def test_steps_meeting_the_same_expiry_at_once_share_one_login_and_its_token(paper, sim: SimControl):
    renewal = SessionRenewal(900)
    async with traced_login(paper) as (broker, account, calls):
        await sim.post("expire", account="PAPER1")
        calls.clear()

        first, second = await asyncio.gather(*(fetch_accounts(broker, [account], 2, renewal=renewal)
                                               for _ in range(2)))
        later = await fetch_accounts(broker, [account], 2, renewal=renewal)

    tokens = {fetch.new_token for results in (first, second, later) for fetch in results.values()}
    assert len(tokens) == 1 and "" not in tokens
    assert [c.path for c in calls].count(LOGIN) == 1, "one login for the expiry, however many steps meet it"


async def test_the_token_a_renewal_gave_comes_back_when_the_read_after_it_fails(broker: XtsBroker, paper,
                                                                               sim: SimControl):
    account = paper_account(paper)
    account = msgspec.structs.replace(account, token=await broker.login(account))
    await sim.post("expire", account="PAPER1")
    await sim.fault("order_book", "http_500", account="PAPER1")

    [fetch] = (await fetch_accounts(broker, [account], 2, renewal=SessionRenewal(900))).values()

    assert isinstance(fetch.outcome, BrokerUnavailable)
    assert fetch.new_token and fetch.new_token != account.token
    assert await broker.order_book(msgspec.structs.replace(account, token=fetch.new_token)) == []
    assert fetch.new_token not in repr(fetch)
