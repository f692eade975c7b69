"""The handler of the batch API's `PlaceEntries`: one account's new entries, placed with a session (logged in
with the account's stored keys when it has none) through `place_entries`, each answered with what became of it.
An account without a session has nothing of its entries written or sent."""

from __future__ import annotations

import logging

import msgspec

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
    def __init__(self, store: PlacerStore, broker: Broker, clock: Clock) -> None:
        self._store = store
        self._broker = broker
        self._clock = clock

    async def __call__(self, command: PlaceEntries) -> tuple[EntriesPlaced]:
        account = await self._session(command.user_id, command.account_id)
        if isinstance(account, str):
            results = [EntryResult(order_id=None, tag="", outcome="not_placed",
                                   reason=f"account {command.account_id}: {account}") for _ in command.entries]
        else:
            results = await place_entries(self._store, self._broker, account, command.user_id, command.entries,
                                          self._clock.now)
        return (EntriesPlaced(user_id=command.user_id, account_id=command.account_id, results=tuple(results)),)

    async def _session(self, user_id: int, account_id: int) -> BrokerAccount | str:
        """The account with a session token, or why not."""
        extra = {"user_id": user_id, "account_id": account_id, "step": "place_batch"}
        try:
            accounts = await self._store.broker_accounts(user_id, (account_id,))
        except AdapterError as error:
            log.warning("batch: account %s could not be read: %s", account_id, error.message, extra=extra)
            return f"not sent: the account could not be read ({error.message})"
        if not accounts:
            return "not sent: the account is no longer active"
        account = accounts[0]
        if account.token:
            return account
        try:
            token = await self._broker.login(account)
        except BrokerError as error:
            log.warning("batch: broker login for account %s failed: %s", account_id, error.message, extra=extra)
            return f"not sent: broker login failed ({error.message})"
        try:
            await self._store.set_account_token(user_id, account_id, token)
        except AdapterError as error:
            log.warning("batch: the new session of account %s could not be stored: %s", account_id, error.message,
                        extra=extra)
        return msgspec.structs.replace(account, token=token)
