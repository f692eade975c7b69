"""A client's `run_cycle` on the replica that monitors the user: at most one manual cycle per user per
`manual_cycle_every_s`, over all of the user's connections (also those forwarded from other replicas)."""

from __future__ import annotations

from service.web.context import WebContext


def start_manual_cycle(context: WebContext, user_id: int) -> str | None:
    """Start a cycle now; None when started, else why not (nothing was started)."""
    if not context.cycle_limiter.allow(user_id):
        return (f"run_cycle refused: one manual cycle per {context.settings.manual_cycle_every_s:g} s; "
                "the next scheduled cycle runs as usual")
    context.system.run_cycle_now(user_id)
    return None
