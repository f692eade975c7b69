"""The OrderSyncer's handlers: sync `orders`, archive rejected orders, create the regeneration rows.
Each account is its own transaction and its own outcome.

A sync plan is a pure function of the account's orders, its book and what it can see of the fair prices,
so the step keeps each account's last plan and plans again only when one of them changed: a cycle in
which nothing moved costs a comparison, not a pass over every order (a plan whose updates were written
changes the orders, so it is never applied twice; one that failed to apply is simply applied again).
"""

from __future__ import annotations

from datetime import timedelta

from actors.account_memo import AccountMemo
from actors.book_indexes import book_index
from actors.order_syncer.port import SyncerStore
from actors.order_syncer.sync import SyncPlan, fresh_fair_prices, plan_order_sync
from actors.per_account import for_each_account, orders_by_account
from domain.ports.clock import Clock
from domain.status import TradeStatus
from messages.commands import ArchiveRejected, RegenerateEntries, SyncOrders
from messages.events import ArchivedOrder, EntriesRegenerated, Event, OrdersSynced, RegeneratedEntry, RejectedArchived


class SyncOrdersStep:
    def __init__(self, store: SyncerStore, clock: Clock, fair_price_max_age: timedelta) -> None:
        self._store = store
        self._clock = clock
        self._fair_price_max_age = fair_price_max_age
        self._plans: AccountMemo[SyncPlan] = AccountMemo()

    async def __call__(self, command: SyncOrders) -> tuple[Event, ...]:
        orders_of = await orders_by_account(self._store, command)
        symbols = sorted({o.symbol for orders in orders_of.values() for o in orders})
        fair = await self._store.fair_prices(symbols) if symbols else {}

        async def sync(account_id: int) -> Event:
            orders = orders_of[account_id]
            snapshot = await self._store.broker_snapshot(command.user_id, account_id)
            now = self._clock.now()
            fresh = fresh_fair_prices(fair, (o.symbol for o in orders), now, self._fair_price_max_age)
            plan = self._plans.get(
                command.user_id, account_id, snapshot.version, (tuple(orders), fresh),
                lambda: plan_order_sync(orders, book_index(command.user_id, account_id, snapshot), fair, now,
                                        self._fair_price_max_age))
            if plan.updates:
                await self._store.apply_order_updates(command.user_id, account_id, plan.updates)
            return OrdersSynced(user_id=command.user_id, cycle_id=command.cycle_id, at=self._clock.now(),
                                account_ids=(account_id,), changes=plan.changes)

        return await for_each_account(command, sync, self._clock)


class ArchiveRejectedStep:
    def __init__(self, store: SyncerStore, clock: Clock) -> None:
        self._store = store
        self._clock = clock

    async def __call__(self, command: ArchiveRejected) -> tuple[Event, ...]:
        orders_of = await orders_by_account(self._store, command)

        async def archive(account_id: int) -> Event:
            rejected = [(o.id, o.reject_reason or "rejected by the broker") for o in orders_of[account_id]
                        if o.status == TradeStatus.REJECTED]
            rows = await self._store.archive_rejected(command.user_id, account_id, rejected) if rejected else []
            reasons = dict(rejected)
            return RejectedArchived(
                user_id=command.user_id, cycle_id=command.cycle_id, at=self._clock.now(), account_ids=(account_id,),
                archived=tuple(ArchivedOrder(order_id=row["id"], account_id=account_id, reason=reasons[row["id"]],
                                             row=row) for row in rows))

        return await for_each_account(command, archive, self._clock)


class RegenerateEntriesStep:
    def __init__(self, store: SyncerStore, clock: Clock, max_regenerations: int, backoff_s: float) -> None:
        self._store = store
        self._clock = clock
        self._max_regenerations = max_regenerations
        self._backoff_s = backoff_s

    async def __call__(self, command: RegenerateEntries) -> tuple[Event, ...]:
        async def regenerate(account_id: int) -> Event:
            rows = await self._store.create_regenerations(command.user_id, (account_id,), command.strategies,
                                                          self._max_regenerations, self._backoff_s)
            return EntriesRegenerated(user_id=command.user_id, cycle_id=command.cycle_id, at=self._clock.now(),
                                      account_ids=(account_id,),
                                      regenerated_order_ids=tuple(r.archived_order_id for r in rows),
                                      regenerated=tuple(RegeneratedEntry(archived_order_id=r.archived_order_id,
                                                                         account_id=account_id, symbol=r.symbol,
                                                                         attempt=r.attempt) for r in rows))

        return await for_each_account(command, regenerate, self._clock)
