"""Running one step's work for each account of a command at once, each account answered on its own.

A step handler hands `for_each_account` a coroutine function of one account id that returns the step's
success event for that account, or raises. One account's failure (an AdapterError, a timeout, a bug)
becomes that account's failure event and never touches the others. `orders_by_account` reads what every
account's work needs alike (their orders) in one round trip before they start; a failure of that read
fails the step for all of its accounts, as each would have failed on it.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

from actors.worker import failure_event
from adapters.store.port import OrderStore
from domain.ports.clock import Clock
from domain.records import OrderRow
from messages.commands import Command
from messages.events import Event


async def for_each_account(
    command: Command, work: Callable[[int], Awaitable[Event]], clock: Clock
) -> tuple[Event, ...]:
    outcomes = await asyncio.gather(*(work(a) for a in command.account_ids), return_exceptions=True)
    events: list[Event] = []
    for account_id, outcome in zip(command.account_ids, outcomes, strict=True):
        if isinstance(outcome, BaseException):
            if not isinstance(outcome, Exception):
                raise outcome
            one = type(command)(**{**_fields(command), "account_ids": (account_id,)})
            events.append(failure_event(one, outcome, clock))
        else:
            events.append(outcome)
    return tuple(events)


def _fields(command: Command) -> dict:
    return {name: getattr(command, name) for name in command.__struct_fields__}


async def orders_by_account(store: OrderStore, command: Command) -> dict[int, list[OrderRow]]:
    """The orders of all the command's accounts, read at once, by account (none: an empty list)."""
    grouped: dict[int, list[OrderRow]] = {account_id: [] for account_id in command.account_ids}
    for order in await store.orders_for_accounts(command.user_id, command.account_ids):
        grouped[order.account_id].append(order)
    return grouped
