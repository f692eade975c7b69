"""Step failures in the service log: each failure the decider records is logged once, at WARNING.

`evolve` records a failure in the cycle's `errors` exactly once per step and account (a failure event or
a deadline that passed) and ignores what comes too late (a reply after the deadline, an event of another
cycle); logging what it just recorded, rather than every failure event, keeps the log to one line per
failed account per step. The message is the event's own, which carries no secret.
"""

from __future__ import annotations

import logging

from actors.user_monitor.cycle import CycleState

log = logging.getLogger(__name__)


def log_new_failures(before: CycleState, after: CycleState) -> None:
    """Log the failures `evolve` recorded in going from `before` to `after`, with the user, cycle, step and
    account (None for a user-level step) as structured fields, and the failure's kind."""
    if after.cycle_id != before.cycle_id or after.errors is before.errors:
        return
    for error in after.errors[len(before.errors):]:
        step, kind = error.step.value, error.kind.value
        log.warning("step %s failed for user %s, account %s (%s): %s", step, after.user_id, error.account_id,
                    kind, error.message,
                    extra={"user_id": after.user_id, "cycle_id": after.cycle_id, "step": step,
                           "account_id": error.account_id, "error_kind": kind})
