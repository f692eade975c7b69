"""The fetch step's broker side: fetch every account's order book and positions at once, one outcome per account.

Owns the concurrency and failure scoping of the fetch: for N accounts it makes the 2N calls together
(`asyncio.gather(..., return_exceptions=True)`), each under its own timeout, and reports per account
either a snapshot or the typed failure that stopped it. An account without a session token is logged in
once with its stored app key and secret key first; the new token comes back in the snapshot for the
caller to store. With a `SessionRenewal`, an account whose token the broker calls expired is logged in
once more with its stored keys and read again with the new token; without one, or when that login fails,
the expiry is the user's `session_needed`, except a login the broker refused: a configuration error.
It writes nothing (the caller replaces the account's rows and flags `session_needed`).
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Sequence
from datetime import UTC, datetime
from typing import TypeVar

import msgspec

from actors.broker_fetcher.renewal import SessionRenewal
from domain.broker import BrokerAccount, BrokerOrder, BrokerPosition
from domain.broker_errors import BrokerRejected, BrokerTimeout, KeysRefused, SessionExpired
from domain.errors import AdapterError
from domain.ports.broker import Broker
from domain.time import UtcDateTime

T = TypeVar("T")


class AccountSnapshot(msgspec.Struct, frozen=True, kw_only=True):
    """One account's broker state as fetched. `new_token` is set (a secret) when this fetch logged in."""

    account_id: int
    orders: tuple[BrokerOrder, ...]
    positions: tuple[BrokerPosition, ...]
    fetched_at: UtcDateTime
    new_token: str = ""

    def __repr__(self) -> str:
        return (
            f"AccountSnapshot(account_id={self.account_id}, orders={len(self.orders)}, "
            f"positions={len(self.positions)}, fetched_at={self.fetched_at.isoformat()}, "
            f"logged_in={bool(self.new_token)})"
        )


def _utc_now() -> datetime:
    return datetime.now(UTC)


async def fetch_accounts(
    broker: Broker,
    accounts: Sequence[BrokerAccount],
    timeout_s: float,
    *,
    now: Callable[[], datetime] = _utc_now,
    renewal: SessionRenewal | None = None,
) -> dict[int, AccountSnapshot | AdapterError]:
    """Every account's snapshot or the failure that stopped it, keyed by account id.

    Each broker call (login, order book, positions) gets `timeout_s`; running out is a `BrokerTimeout`.
    When both calls of an account fail, a session expiry is reported over any other failure.
    """
    outcomes = await asyncio.gather(
        *(_fetch_account(broker, account, timeout_s, now, renewal) for account in accounts),
        return_exceptions=True,
    )
    results: dict[int, AccountSnapshot | AdapterError] = {}
    for account, outcome in zip(accounts, outcomes, strict=True):
        if isinstance(outcome, AccountSnapshot | AdapterError):
            results[account.account_id] = outcome
        else:
            raise outcome
    return results


async def _fetch_account(
    broker: Broker, account: BrokerAccount, timeout_s: float, now: Callable[[], datetime],
    renewal: SessionRenewal | None,
) -> AccountSnapshot | AdapterError:
    if not account.token:
        try:
            new_token = await _login(broker, account, timeout_s)
        except BrokerRejected as exc:
            return SessionExpired(f"{account.client_id} has no session and could not log in: {exc.reason}")
        except AdapterError as exc:
            return exc
        return await _read_account(broker, account, timeout_s, now, new_token)
    outcome = await _read_account(broker, account, timeout_s, now, "")
    if renewal is None or not isinstance(outcome, SessionExpired) or not (account.app_key and account.secret_key):
        return outcome
    return await _renewed(broker, account, timeout_s, now, renewal)


async def _renewed(
    broker: Broker, account: BrokerAccount, timeout_s: float, now: Callable[[], datetime],
    renewal: SessionRenewal,
) -> AccountSnapshot | AdapterError:
    """The account read again after one new login with its stored keys, or why the session stays expired."""
    held = renewal.held(account.account_id, now())
    if held is not None:
        return held
    try:
        new_token = await _login(broker, account, timeout_s)
    except BrokerRejected as exc:
        refused = KeysRefused(f"{account.client_id}: the session expired and the broker refused a new login with "
                              f"the stored app key and secret key ({exc.reason}); check the account's keys")
        renewal.refused(account.account_id, now(), refused)
        return refused
    except AdapterError as exc:
        return SessionExpired(f"{account.client_id}: the session expired and a new login failed: {exc.message}")
    renewal.renewed(account.account_id)
    return await _read_account(broker, account, timeout_s, now, new_token)


async def _login(broker: Broker, account: BrokerAccount, timeout_s: float) -> str:
    return await _within(broker.login(account), timeout_s, f"login for {account.client_id}")


async def _read_account(
    broker: Broker, account: BrokerAccount, timeout_s: float, now: Callable[[], datetime], new_token: str
) -> AccountSnapshot | AdapterError:
    """The account's book and positions, read with `new_token` when a login just gave one (it comes back in
    the snapshot for the caller to store)."""
    if new_token:
        account = msgspec.structs.replace(account, token=new_token)
    orders, positions = await asyncio.gather(
        _within(broker.order_book(account), timeout_s, f"order book for {account.client_id}"),
        _within(broker.positions(account), timeout_s, f"positions for {account.client_id}"),
        return_exceptions=True,
    )
    failures = [outcome for outcome in (orders, positions) if isinstance(outcome, BaseException)]
    if failures:
        return _reported_failure(failures)
    assert isinstance(orders, list) and isinstance(positions, list)
    return AccountSnapshot(
        account_id=account.account_id,
        orders=tuple(orders),
        positions=tuple(positions),
        fetched_at=now(),
        new_token=new_token,
    )


async def _within(call: Awaitable[T], timeout_s: float, what: str) -> T:
    try:
        async with asyncio.timeout(timeout_s):
            return await call
    except TimeoutError:
        raise BrokerTimeout(f"{what}: no answer within {timeout_s:g} s") from None


def _reported_failure(failures: list[BaseException]) -> AdapterError:
    expected: list[AdapterError] = []
    for failure in failures:
        if not isinstance(failure, AdapterError):
            raise failure
        expected.append(failure)
    return next((f for f in expected if isinstance(f, SessionExpired)), expected[0])
