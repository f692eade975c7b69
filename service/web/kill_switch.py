"""The kill switch as the WebSocket and the API turn it: store the switch, tell every client of the user,
and start a cycle at once so that a pause takes effect now (open entries cancelled, see README) rather
than at the next tick (pauses start at most one cycle per `manual_cycle_every_s`, apart from `run_cycle`'s
budget; within it the next tick does it). A switch the store refuses is logged and answered as not applied,
never dropped; one it took is also told to the kill-switch observers (the alerts).

With the fan-out, on a replica that does not monitor the user while another live one does, the switch is
turned by that one (its cycle starts now; its `paused` frame reaches every client). If it gives no answer, this
replica stores the switch itself: the database is shared, so the holder applies it at its next cycle at the
latest, and a kill switch is never left unturned for want of the link.
"""

from __future__ import annotations

import logging

from domain.errors import AdapterError
from messages.frames import PausedFrame
from messages.replicas import SwitchAnswer
from service.web import forward
from service.web.context import WebContext

log = logging.getLogger(__name__)


class SwitchFailed(Exception):
    """The store did not take the switch; `message` says why, for the client."""

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


async def turn(context: WebContext, user_id: int, paused: bool, reason: str = "") -> str:
    """Pause (with `reason`) or resume the user's automation, by the replica monitoring the user; returns the
    reason as stored."""
    if context.fanout is not None and not context.leases.monitors(user_id):
        try:
            lease = await context.store.lease_elsewhere(user_id)
        except AdapterError:
            lease = None  # the switch is stored here, or its own failure says why not
        if lease is not None:
            answer = await forward.switch(context, context.fanout, lease, user_id, paused, reason)
            if isinstance(answer, SwitchAnswer):
                if not answer.applied:
                    raise SwitchFailed(answer.message)
                return answer.reason
            log.warning("kill switch of user %s: the replica monitoring them did not answer (%s); stored here, "
                        "it applies it at its next cycle", user_id, answer,
                        extra={"user_id": user_id, "step": "pause" if paused else "resume"})
    return await turn_here(context, user_id, paused, reason)


async def turn_here(context: WebContext, user_id: int, paused: bool, reason: str = "") -> str:
    """Store the switch, tell this replica's clients (and through the hub's relay every other one) and, for a
    pause, start a cycle; returns the reason as stored."""
    action = "pause" if paused else "resume"
    try:
        stored = await context.store.set_paused(user_id, paused, reason)
    except AdapterError as error:
        log.warning("kill switch of user %s: %s not applied: %s", user_id, action, error.message,
                    extra={"user_id": user_id, "step": action})
        raise SwitchFailed(f"{action} not applied: {error.message}") from None
    for observer in context.kill_switch_observers:
        try:
            observer(user_id, paused, stored)
        except Exception:
            log.exception("kill switch observer failed", extra={"user_id": user_id, "step": action})
    await context.hub.send(user_id, PausedFrame(paused=paused, reason=stored))
    if paused and context.cycle_limiter.allow(("pause", user_id)):
        context.system.run_cycle_now(user_id)
    return stored
