"""The fetch step's broker side: fetch every account's order book and positions at once, one outcome per account.

Owns the concurrency and failure scoping of the fetch: for N accounts it makes the 2N calls together
(`asyncio.gather(..., return_exceptions=True)`), each under its own timeout, and reports per account
either a snapshot or the typed failure that stopped it. An account without a session token is logged in
once with its stored app key and secret key first (`actors/broker_session.py`). With a `SessionRenewal`, an
account whose token the broker calls expired is logged in once more with its stored keys and read again with
the new token; without one, or when that login fails, the expiry is the user's `session_needed`, except a
login the broker refused: a configuration error. Whenever a login gave a token, it comes back with the
outcome, whatever the read did, for the caller to store.
It writes nothing (the caller stores the token, replaces the account's rows and flags `session_needed`).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime

import msgspec

from actors.broker_session import SessionRenewal, first_session, renewed_session, within
from domain.broker import BrokerAccount, BrokerOrder, BrokerPosition
from domain.broker_errors import SessionExpired
from domain.errors import AdapterError
from domain.ports.broker import Broker
from domain.time import UtcDateTime


class AccountSnapshot(msgspec.Struct, frozen=True, kw_only=True):
    """One account's broker state as fetched."""

    account_id: int
    orders: tuple[BrokerOrder, ...]
    positions: tuple[BrokerPosition, ...]
    fetched_at: UtcDateTime


@dataclass(frozen=True)
class AccountFetch:
    """One account's fetch: its snapshot or the failure that stopped it, and `new_token` (a secret, never in
    the repr) when a login gave one, whether or not the read after it succeeded."""

    outcome: AccountSnapshot | AdapterError
    new_token: str = field(default="", repr=False)


def _utc_now() -> datetime:
    return datetime.now(UTC)


async def fetch_accounts(
    broker: Broker,
    accounts: Sequence[BrokerAccount],
    timeout_s: float,
    *,
    now: Callable[[], datetime] = _utc_now,
    renewal: SessionRenewal | None = None,
) -> dict[int, AccountFetch]:
    """Every account's fetch, keyed by account id.

    Each broker call (login, order book, positions) gets `timeout_s`; running out is a `BrokerTimeout`.
    When both calls of an account fail, a session expiry is reported over any other failure.
    """
    outcomes = await asyncio.gather(
        *(_fetch_account(broker, account, timeout_s, now, renewal) for account in accounts),
        return_exceptions=True,
    )
    results: dict[int, AccountFetch] = {}
    for account, outcome in zip(accounts, outcomes, strict=True):
        if isinstance(outcome, BaseException):
            raise outcome
        results[account.account_id] = outcome
    return results


async def _fetch_account(
    broker: Broker, account: BrokerAccount, timeout_s: float, now: Callable[[], datetime],
    renewal: SessionRenewal | None,
) -> AccountFetch:
    if not account.token:
        token = await first_session(broker, account, timeout_s)
    else:
        outcome = await _read_account(broker, account, timeout_s, now)
        if not isinstance(outcome, SessionExpired):
            return AccountFetch(outcome)
        token = await renewed_session(broker, account, timeout_s, renewal, now)
        if token is None:
            return AccountFetch(outcome)
    if isinstance(token, AdapterError):
        return AccountFetch(token)
    logged_in = msgspec.structs.replace(account, token=token)
    return AccountFetch(await _read_account(broker, logged_in, timeout_s, now), new_token=token)


async def _read_account(
    broker: Broker, account: BrokerAccount, timeout_s: float, now: Callable[[], datetime]
) -> AccountSnapshot | AdapterError:
    """The account's book and positions, read with its token."""
    orders, positions = await asyncio.gather(
        within(broker.order_book(account), timeout_s, f"order book for {account.client_id}"),
        within(broker.positions(account), timeout_s, f"positions for {account.client_id}"),
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
    )


def _reported_failure(failures: list[BaseException]) -> AdapterError:
    expected: list[AdapterError] = []
    for failure in failures:
        if not isinstance(failure, AdapterError):
            raise failure
        expected.append(failure)
    return next((f for f in expected if isinstance(f, SessionExpired)), expected[0])
