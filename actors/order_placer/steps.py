"""The OrderPlacer's handlers: SL/TP with OCO, entry and SL modifications by fair price, placing regenerated
entries. Each account runs on its own; every request is recorded in the step's event, and any failure makes the
account's outcome a failure carrying what was done anyway.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from actors.account_memo import AccountMemo
from actors.book_indexes import book_index
from actors.order_placer.entries import place_entries
from actors.order_placer.execution import AccountExecutor
from actors.order_placer.exposure import entries_not_seen, unprotected_trades
from actors.order_placer.port import PlacerStore
from actors.order_placer.rules import (
    FairPriceCheck,
    ModifyLeg,
    carried_exit_limits,
    plan_entry_modification,
    plan_protection,
    plan_stop_loss_modification,
    protection_clock_view,
    usable_fair_price,
)
from actors.per_account import for_each_account, orders_by_account
from domain.book import BookIndex
from domain.entries import NewEntry
from domain.errors import ErrorKind
from domain.ports.broker import Broker
from domain.ports.clock import Clock
from domain.records import leg_fields, plan_fields
from messages import events as ev
from messages.commands import Command, ModifyEntries, ModifyStopLosses, PlaceProtectiveOrders, PlaceRegenerated
from messages.events import Event, OrderAction, RegeneratedEntry

_STEP_ACTION = {"placed": "place", "rejected": "rejected", "in_flight": "in_flight", "not_placed": "rejected"}
"""How a regenerated entry's outcome is recorded in the step's event (a request the broker surely did not take
is recorded as refused, as the protect and modify steps record theirs)."""


class _PlacerStep:
    success: type
    failure: type

    def __init__(self, store: PlacerStore, broker: Broker, clock: Clock) -> None:
        self._store = store
        self._broker = broker
        self._clock = clock

    def _executor(self, user_id: int, account_id: int) -> AccountExecutor:
        return AccountExecutor(self._store, self._broker, account_id, user_id, self._clock.now)

    def _outcome(self, command: Command, account_id: int, actions: list[OrderAction],
                 problems: list[tuple[Any, str]], **fields: Any) -> Event:
        """The step's success event, or its failure when there were problems; `fields` go in either."""
        common = {"user_id": command.user_id, "cycle_id": command.cycle_id, "at": self._clock.now(),
                  "account_ids": (account_id,), "actions": tuple(actions), **fields}
        if problems:
            return self.failure(**common, kind=problems[0][0], message="; ".join(m for _, m in problems))
        return self.success(**common)


class PlaceProtectiveOrdersStep(_PlacerStep):
    success, failure = ev.ProtectiveOrdersPlaced, ev.ProtectiveOrdersFailed

    def __init__(self, store: PlacerStore, broker: Broker, clock: Clock, max_attempts: int, settle: timedelta) -> None:
        super().__init__(store, broker, clock)
        self._max_attempts = max_attempts
        self._settle = settle
        # a plan is pure in the memo key (with `protection_clock_view` for the fetch time), and carrying it out
        # changes the orders it acts on (or fails and is due again): a kept plan never repeats a request
        self._plans: AccountMemo[list[tuple[Any, Any]]] = AccountMemo()

    async def __call__(self, command: PlaceProtectiveOrders) -> tuple[Event, ...]:
        orders_of = await orders_by_account(self._store, command)

        async def protect(account_id: int) -> Event:
            executor = self._executor(command.user_id, account_id)
            orders = orders_of[account_id]
            snapshot = await self._store.broker_snapshot(command.user_id, account_id)
            fetched_at = await self._store.snapshot_time(command.user_id, account_id)
            clock_view = tuple(protection_clock_view(order, fetched_at, self._settle) for order in orders)

            def plan() -> list[tuple[Any, Any]]:
                book = book_index(command.user_id, account_id, snapshot)
                limits = carried_exit_limits(orders, book, snapshot.positions)
                return [(order, action) for order in orders
                        for action in plan_protection(order, book, oco_cancels_only=command.oco_cancels_only,
                                                      max_attempts=self._max_attempts,
                                                      book_fetched_at=fetched_at, settle=self._settle,
                                                      carried=order.id in limits, exit_limit=limits.get(order.id),
                                                      cancel_open_entries=command.cancel_open_entries)]

            planned = self._plans.get(command.user_id, account_id, snapshot.version,
                                      (tuple(orders), command.oco_cancels_only, command.cancel_open_entries,
                                       clock_view), plan)
            for order, action in planned:
                on_success = leg_fields(action.leg, qty=action.request.quantity) if isinstance(action, ModifyLeg) \
                    else None
                await executor.run(order, action, on_success)
            return self._outcome(command, account_id, executor.actions, executor.problems,
                                 unprotected=unprotected_trades(orders, planned, executor.actions,
                                                                oco_cancels_only=command.oco_cancels_only),
                                 entries_not_seen=entries_not_seen(planned))

        return await for_each_account(command, protect, self._clock)


class _FairPriceModificationStep(_PlacerStep):
    def __init__(self, store: PlacerStore, broker: Broker, clock: Clock, fair_price_max_age: timedelta) -> None:
        super().__init__(store, broker, clock)
        self._fair_price_max_age = fair_price_max_age
        # planned again only when the orders, the book or a usable fair price changed (see the protect step's memo)
        self._plans: AccountMemo[list[tuple[Any, ModifyLeg | FairPriceCheck]]] = AccountMemo()

    def _plan(self, order: Any, book: BookIndex, fair: Any) -> ModifyLeg | FairPriceCheck | None:
        raise NotImplementedError

    def _on_success(self, order: Any, action: ModifyLeg) -> dict[str, Any] | None:
        return None

    async def __call__(self, command: ModifyEntries | ModifyStopLosses) -> tuple[Event, ...]:
        orders_of = await orders_by_account(self._store, command)
        symbols = sorted({o.symbol for orders in orders_of.values() for o in orders})
        fair = await self._store.fair_prices(symbols) if symbols else {}

        async def modify(account_id: int) -> Event:
            executor = self._executor(command.user_id, account_id)
            orders = orders_of[account_id]
            snapshot = await self._store.broker_snapshot(command.user_id, account_id)
            now, unjudged = self._clock.now(), 0
            usable = {symbol: usable_fair_price(fair.get(symbol), now, self._fair_price_max_age)
                      for symbol in sorted({order.symbol for order in orders})}

            def plan() -> list[tuple[Any, ModifyLeg | FairPriceCheck]]:
                book = book_index(command.user_id, account_id, snapshot)
                return [(order, planned) for order in orders
                        if (planned := self._plan(order, book, usable[order.symbol])) is not None]

            for order, planned in self._plans.get(command.user_id, account_id, snapshot.version,
                                                  (tuple(orders), tuple(usable.items())), plan):
                if isinstance(planned, FairPriceCheck):
                    unjudged += 1
                else:
                    await executor.run(order, planned, self._on_success(order, planned))
            return self._outcome(command, account_id, executor.actions, executor.problems,
                                 stale_fair_prices=unjudged)

        return await for_each_account(command, modify, self._clock)


class ModifyEntriesStep(_FairPriceModificationStep):
    success, failure = ev.EntriesModified, ev.EntryModificationFailed

    def __init__(self, store: PlacerStore, broker: Broker, clock: Clock, fair_price_max_age: timedelta,
                 max_entry_modifications: int) -> None:
        super().__init__(store, broker, clock, fair_price_max_age)
        self._max_entry_modifications = max_entry_modifications

    def _plan(self, order: Any, book: BookIndex, fair: Any) -> ModifyLeg | FairPriceCheck | None:
        return plan_entry_modification(order, book, fair, max_entry_modifications=self._max_entry_modifications)

    def _on_success(self, order: Any, action: ModifyLeg) -> dict[str, Any]:
        return {"entry_type": "LIMIT", "entry_limit_price": action.request.limit_price,
                "entry_modifications": order.entry_modifications + 1}


class ModifyStopLossesStep(_FairPriceModificationStep):
    success, failure = ev.StopLossesModified, ev.StopLossModificationFailed

    def _plan(self, order: Any, book: BookIndex, fair: Any) -> ModifyLeg | FairPriceCheck | None:
        return plan_stop_loss_modification(order, book, fair)


class PlaceRegeneratedStep(_PlacerStep):
    success, failure = ev.RegeneratedPlaced, ev.RegeneratedPlacementFailed

    async def __call__(self, command: PlaceRegenerated) -> tuple[Event, ...]:
        async def place(account_id: int) -> Event:
            pending = await self._store.pending_regenerations(command.user_id, account_id)
            if not pending:
                return self._outcome(command, account_id, [], [])
            executor = self._executor(command.user_id, account_id)
            entries = [NewEntry(**plan_fields(r), regenerated_from=r.archived_order_id, regeneration_attempt=r.attempt)
                       for r in pending]
            results = await place_entries(self._store, self._broker, await executor.account(), command.user_id, entries,
                                          self._clock.now)
            actions, problems, regenerated = [], [], []
            for row, result in zip(pending, results, strict=True):
                if result.order_id is None:
                    problems.append((ErrorKind.DB, f"regenerated entry of order {row.archived_order_id} not placed, "
                                                   f"tried again next cycle: {result.reason}"))
                    continue
                regenerated.append(RegeneratedEntry(archived_order_id=row.archived_order_id, account_id=account_id,
                                                    symbol=row.symbol, attempt=row.attempt, order_id=result.order_id))
                if result.outcome in ("rejected", "not_placed"):
                    await self._store.mark_regeneration(command.user_id, row.id, "FAILED", result.reason)
                    problems.append((ErrorKind.REJECTED, f"regenerated entry of order {row.archived_order_id} "
                                                         f"{result.outcome.replace('_', ' ')}: {result.reason}"))
                else:
                    await self._store.mark_regeneration(command.user_id, row.id, "PLACED", result.order_id)
                actions.append(OrderAction(order_id=result.order_id, account_id=account_id, leg="entry",
                                           action=_STEP_ACTION[result.outcome],
                                           tag=result.tag, broker_order_id=result.broker_order_id,
                                           detail=result.reason))
            return self._outcome(command, account_id, actions, problems, regenerated=tuple(regenerated))

        return await for_each_account(command, place, self._clock)
