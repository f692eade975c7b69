"""The handler of the batch API's `PlaceEntries`: one account's new entries, placed with a session through
`place_entries`, each answered with what became of it.

The session is the account's token, or a login with its stored keys when it has none; an account without a
session has nothing of its entries written or sent. With a `SessionRenewal` (the one the fetch step uses: the
same backoff, one login per expiry), a token the broker calls expired is renewed once with the stored keys, and
the entries the expiry refused are sent again under the same tags. Every token a login gives is stored
(`actors/broker_session.py` has the logins).
"""

from __future__ import annotations

import functools
import logging

import msgspec

from actors.broker_session import SessionRenewal, first_session, renewed_session
from actors.order_placer.entries import place_entries
from actors.order_placer.port import PlacerStore
from domain.broker import BrokerAccount
from domain.broker_errors import BrokerError
from domain.entries import EntryResult
from domain.errors import AdapterError
from domain.ports.broker import Broker
from domain.ports.clock import Clock
from messages.commands import PlaceEntries
from messages.events import EntriesPlaced

log = logging.getLogger(__name__)


class PlaceEntriesStep:
    def __init__(self, store: PlacerStore, broker: Broker, clock: Clock, call_timeout_s: float,
                 renewal: SessionRenewal | None = None) -> None:
        self._store = store
        self._broker = broker
        self._clock = clock
        self._call_timeout_s = call_timeout_s
        self._renewal = renewal

    async def __call__(self, command: PlaceEntries) -> tuple[EntriesPlaced]:
        account = await self._session(command.user_id, command.account_id)
        if isinstance(account, str):
            results = [EntryResult(order_id=None, tag="", outcome="not_placed",
                                   reason=f"account {command.account_id}: {account}") for _ in command.entries]
        else:
            results = await place_entries(self._store, self._broker, account, command.user_id, command.entries,
                                          self._clock.now, functools.partial(self._renewed, command.user_id))
        return (EntriesPlaced(user_id=command.user_id, account_id=command.account_id, results=tuple(results)),)

    async def _session(self, user_id: int, account_id: int) -> BrokerAccount | str:
        """The account with a session token, or why not."""
        try:
            accounts = await self._store.broker_accounts(user_id, (account_id,))
        except AdapterError as error:
            log.warning("batch: account %s could not be read: %s", account_id, error.message,
                        extra=_extra(user_id, account_id))
            return f"not sent: the account could not be read ({error.message})"
        if not accounts:
            return "not sent: the account is no longer active"
        account = accounts[0]
        if account.token:
            return account
        token = await first_session(self._broker, account, self._call_timeout_s)
        if isinstance(token, BrokerError):
            log.warning("batch: broker login for account %s failed: %s", account_id, token.message,
                        extra=_extra(user_id, account_id))
            return f"not sent: broker login failed ({token.message})"
        return await self._stored(user_id, account, token)

    async def _renewed(self, user_id: int, expired: BrokerAccount) -> BrokerAccount | BrokerError | None:
        """The account with the token of the login that renewed its expired session, why there is none, or None
        when the expiry stands (renewal off, no stored keys)."""
        token = await renewed_session(self._broker, expired, self._call_timeout_s, self._renewal, self._clock.now)
        if isinstance(token, BrokerError):
            log.warning("batch: the expired session of account %s was not renewed: %s", expired.account_id,
                        token.message, extra=_extra(user_id, expired.account_id))
        if not isinstance(token, str):
            return token
        return await self._stored(user_id, expired, token)

    async def _stored(self, user_id: int, account: BrokerAccount, token: str) -> BrokerAccount:
        """The account with `token`, which is stored (a failed write is logged: the placement goes on)."""
        try:
            await self._store.set_account_token(user_id, account.account_id, token)
        except AdapterError as error:
            log.warning("batch: the new session of account %s could not be stored: %s", account.account_id,
                        error.message, extra=_extra(user_id, account.account_id))
        return msgspec.structs.replace(account, token=token)


def _extra(user_id: int, account_id: int) -> dict[str, object]:
    return {"user_id": user_id, "account_id": account_id, "step": "place_batch"}
