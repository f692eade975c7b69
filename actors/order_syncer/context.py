"""What a cycle needs to know before it starts, read from the store and answered as CycleContextLoaded."""

from __future__ import annotations

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
        return (CycleContextLoaded(
            user_id=command.user_id, cycle_id=command.cycle_id, at=self._clock.now(),
            account_ids=context.account_ids, awaiting_session=context.awaiting_session,
            regeneration_strategies=context.regeneration_strategies, paused=context.paused,
            pause_reason=context.pause_reason,
        ),)
