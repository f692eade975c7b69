"""What a cycle needs to know before it starts, read from the store and answered as CycleContextLoaded.

It also applies the daily loss limit (its rule is in limits.py): when the day's PnL (as the last cycle
computed it) has fallen to minus the user's limit, automation is paused with the reason, exactly as if the
user had pressed pause: stored, and told to the user's clients as a `paused` frame; the event says so
(`paused_by_loss_limit`).
"""

from __future__ import annotations

import msgspec

from actors.notifier import Notifier
from adapters.store.port import CycleContextStore
from domain.limits import daily_loss_pause_reason, watched_loss_limit
from domain.ports.clock import Clock
from messages.commands import LoadCycleContext
from messages.events import CycleContextLoaded, Event
from messages.frames import PausedFrame


class LoadContext:
    def __init__(self, store: CycleContextStore, clock: Clock, notifier: Notifier | None = None) -> None:
        self._store = store
        self._clock = clock
        self._notifier = notifier

    async def __call__(self, command: LoadCycleContext) -> tuple[Event, ...]:
        context = await self._store.load_cycle_context(command.user_id)
        limit = watched_loss_limit(context.daily_loss_limit, context.paused)
        tripped = False
        if limit is not None:
            reason = daily_loss_pause_reason(limit, await self._store.day_pnl(command.user_id))
            if reason is not None:
                reason = await self._store.set_paused(command.user_id, True, reason)
                context = msgspec.structs.replace(context, paused=True, pause_reason=reason)
                tripped = True
                if self._notifier is not None:
                    await self._notifier.send(command.user_id, PausedFrame(paused=True, reason=reason))
        return (CycleContextLoaded(
            user_id=command.user_id, cycle_id=command.cycle_id, at=self._clock.now(),
            account_ids=context.account_ids, awaiting_session=context.awaiting_session,
            regeneration_strategies=context.regeneration_strategies, paused=context.paused,
            pause_reason=context.pause_reason, paused_by_loss_limit=tripped,
        ),)
