"""The fetch step's handler: fetch every account at once, store each snapshot, flag expired sessions.

The broker side (2N concurrent calls, timeouts, a login when a token is missing or, with a `SessionRenewal`,
has expired) is `fetch.py`; this module owns what follows for each account: a token a login gave is saved
(whatever the read after it did), a snapshot replaces the account's `broker_order_book` / `broker_position`
rows in one transaction, a session expiry sets `session_needed`, and the account's failing streak is kept
with the kind of its last failure (`record_fetch_outcome`).
Each account's outcome is its own event.
"""

from __future__ import annotations

import asyncio

from actors.broker_fetcher.fetch import AccountFetch, fetch_accounts
from actors.broker_fetcher.port import FetchStore
from actors.broker_session import SessionRenewal
from actors.worker import failure_event
from domain.errors import AdapterError, ErrorKind
from domain.ports.broker import Broker
from domain.ports.clock import Clock
from messages.commands import FetchSnapshots
from messages.events import Event, FetchFailed, SnapshotFetched


class FetchSnapshotsStep:
    def __init__(self, broker: Broker, store: FetchStore, clock: Clock, call_timeout_s: float,
                 renewal: SessionRenewal | None = None) -> None:
        self._broker = broker
        self._renewal = renewal
        self._store = store
        self._clock = clock
        self._call_timeout_s = call_timeout_s

    async def __call__(self, command: FetchSnapshots) -> tuple[Event, ...]:
        accounts = await self._store.broker_accounts(command.user_id, command.account_ids)
        known = {account.account_id for account in accounts}
        events: list[Event] = [
            FetchFailed(user_id=command.user_id, cycle_id=command.cycle_id, at=self._clock.now(),
                        account_ids=(account_id,), kind=ErrorKind.DB,
                        message="the account is no longer active for this user")
            for account_id in command.account_ids if account_id not in known
        ]
        results = await fetch_accounts(self._broker, accounts, self._call_timeout_s, now=self._clock.now,
                                       renewal=self._renewal)
        events.extend(await asyncio.gather(*(self._settle(command, account_id, result)
                                             for account_id, result in results.items())))
        return tuple(events)

    async def _settle(self, command: FetchSnapshots, account_id: int, fetch: AccountFetch) -> Event:
        """Store what the account's fetch gave: its new token whatever the read did, then its snapshot, or its
        failure (flagging `session_needed` last, so an account is flagged exactly when its event is the expiry)."""
        one = FetchSnapshots(user_id=command.user_id, cycle_id=command.cycle_id, account_ids=(account_id,))
        result = fetch.outcome
        try:
            if fetch.new_token:
                await self._store.set_account_token(command.user_id, account_id, fetch.new_token)
            if isinstance(result, AdapterError):
                await self._store.record_fetch_outcome(command.user_id, account_id, self._clock.now(),
                                                       result.message, result.kind)
                if result.kind is ErrorKind.SESSION_EXPIRED:
                    await self._store.set_session_needed(command.user_id, account_id)
                return failure_event(one, result, self._clock)
            await self._store.replace_broker_snapshot(command.user_id, account_id, result.orders,
                                                      result.positions, result.fetched_at)
            await self._store.record_fetch_outcome(command.user_id, account_id, result.fetched_at, None)
        except Exception as error:  # a failed write fails this account only
            return failure_event(one, error, self._clock)
        return SnapshotFetched(user_id=command.user_id, cycle_id=command.cycle_id, at=self._clock.now(),
                               account_ids=(account_id,), order_rows=len(result.orders),
                               position_rows=len(result.positions))
