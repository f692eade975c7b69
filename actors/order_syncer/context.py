"""What a cycle needs to know before it starts, read from the store and answered as CycleContextLoaded.

It also enforces the daily loss limit: when the day's PnL (as the last cycle computed it) has fallen to
minus the user's limit, automation is paused with the reason, exactly as if the user had pressed pause.
"""

from __future__ import annotations

import msgspec

from adapters.store.port import Store
from messages.commands import LoadCycleContext
from messages.events import CycleContextLoaded, Event
from service.clock import Clock


class LoadContext:
    def __init__(self, store: Store, clock: Clock) -> None:
        self._store = store
        self._clock = clock

    async def __call__(self, command: LoadCycleContext) -> tuple[Event, ...]:
        context = await self._store.load_cycle_context(command.user_id)
        if context.daily_loss_limit is not None and not context.paused:
            pnl = await self._store.day_pnl(command.user_id)
            if pnl <= -context.daily_loss_limit:
                reason = f"daily loss limit {context.daily_loss_limit:.2f} reached (day PnL {pnl:.2f})"
                await self._store.set_paused(command.user_id, True, reason)
                context = msgspec.structs.replace(context, paused=True, pause_reason=reason)
        return (CycleContextLoaded(
            user_id=command.user_id, cycle_id=command.cycle_id, at=self._clock.now(),
            account_ids=context.account_ids, awaiting_session=context.awaiting_session,
            regeneration_strategies=context.regeneration_strategies, paused=context.paused,
            pause_reason=context.pause_reason,
        ),)
