"""The send guard (README.md, Running the service: replicas): a request that changes a user's orders at the broker
goes out only while this replica's lease of the user has at least the broker call timeout plus the clock-drift
margin left. The lease is measured here, on this process's monotonic clock, from before the renewal that gave
it: it counts as valid until (when that renewal was sent) + lease - margin, never from when its answer came.
Also the lease length rule: the shortest lease with which the guard lets requests out in normal operation.

Owns the lease times the LeaseKeeper tells it, per user; it reads no database and sends nothing. All on the
I/O loop.
"""

from __future__ import annotations

import logging
import signal
import threading
import time
from collections.abc import Callable, Mapping

from domain.broker_errors import SendWithheld

log = logging.getLogger(__name__)

MIN_LEASE_S = 3.0
"""No lease is shorter, whatever the interval: renewals are a third of it apart."""

STOP_BEFORE_SENDING_ENV = "MONITOR_TEST_ONLY_SIGSTOP_BEFORE_SENDING"
"""Test-only pause point (tests/replicas/test_frozen_replica.py). Set to a request as the guard names it up to
" for", e.g. "place M1S1", the process stops itself once (SIGSTOP to the calling thread, so not one more
instruction runs there, and the whole process stops), when that request is about to be put to the guard: after
the order's intent was written, before the guard decides. Read once, when the guard is made; a process that
has it set says so in a WARNING at start. Never set it in production."""


def shortest_lease_s(call_timeout_s: float, drift_margin_s: float) -> float:
    """2 x (call timeout + 2 x margin). Renewals are a third of a lease apart; with this lease, requests go out
    until half a lease after the last renewal was sent (so a renewal may land half a renewal period late), when
    the lease, counted valid until that send + lease - margin, has exactly the call timeout plus the margin
    left."""
    return 2 * (call_timeout_s + 2 * drift_margin_s)


def lease_length_s(configured_s: float, interval_s: float, call_timeout_s: float, drift_margin_s: float) -> float:
    """The lease replicas take: `configured_s`, or when it is 0 one cycle interval, lengthened to MIN_LEASE_S and
    to the shortest the send guard allows. ValueError (naming the fields) for a configured lease shorter than
    either."""
    shortest = max(MIN_LEASE_S, shortest_lease_s(call_timeout_s, drift_margin_s))
    if configured_s == 0:
        return max(interval_s, shortest)
    if configured_s < shortest:
        raise ValueError(
            f"[leases] lease_s = {configured_s:g} is too short: a replica sends an order request only while its "
            f"lease has [broker] call_timeout_s ({call_timeout_s:g}) plus clock_drift_margin_s ({drift_margin_s:g}) "
            f"left, and with renewals every third of a lease that holds only for a lease of at least "
            f"{shortest:g} s (2 x (call_timeout_s + 2 x clock_drift_margin_s), and at least {MIN_LEASE_S:g}); "
            f"set lease_s to {shortest:g} or more, or to 0 to have it chosen")
    return configured_s


def stop_point(environ: Mapping[str, str]) -> str | None:
    """The test-only pause point's request (STOP_BEFORE_SENDING_ENV), said in a WARNING when set."""
    request = environ.get(STOP_BEFORE_SENDING_ENV) or None
    if request is not None:
        log.warning("%s is set: this process stops itself (SIGSTOP) before sending %r. A test-only pause "
                    "point: never set it in production", STOP_BEFORE_SENDING_ENV, request)
    return request


class LeaseGuard:
    """The `SendGuard` port from the leases this replica holds; `monotonic` is the clock lease times are on."""

    def __init__(self, *, lease_s: float, call_timeout_s: float, drift_margin_s: float,
                 monotonic: Callable[[], float] = time.monotonic, stop_before: str | None = None) -> None:
        self.lease_s = lease_s
        self.call_timeout_s = call_timeout_s
        self.drift_margin_s = drift_margin_s
        self.now = monotonic
        self._valid_until: dict[int, float] = {}
        self._stop_before = stop_before

    @property
    def needed_s(self) -> float:
        """What a lease must have left for a request to go out: the call timeout plus the margin."""
        return self.call_timeout_s + self.drift_margin_s

    def held(self, user_id: int, renewal_sent_at: float) -> float:
        """The user's lease was taken or renewed by a request sent at `renewal_sent_at` (on `now`'s clock, read
        before it was sent); when it is valid until here, which is returned."""
        valid_until = self._valid_until[user_id] = renewal_sent_at + self.lease_s - self.drift_margin_s
        return valid_until

    def dropped(self, user_id: int) -> None:
        """This replica no longer holds the user's lease (lost, given up, or run out)."""
        self._valid_until.pop(user_id, None)

    def valid_until(self, user_id: int) -> float | None:
        """Until when (on `now`'s clock) this replica counts the user's lease as its own; None: it does not."""
        return self._valid_until.get(user_id)

    def holds(self, user_id: int) -> bool:
        valid_until = self._valid_until.get(user_id)
        return valid_until is not None and valid_until > self.now()

    def lets_out(self, user_id: int) -> bool:
        """Whether a request for the user would go out now."""
        valid_until = self._valid_until.get(user_id)
        return valid_until is not None and valid_until - self.now() >= self.needed_s

    def check(self, user_id: int, request: str) -> None:
        if self._stop_before is not None and request.startswith(f"{self._stop_before} for "):
            self._stop_before = None
            log.warning("test-only pause point: stopping this process (SIGSTOP) before sending %s", request,
                        extra={"user_id": user_id})
            signal.pthread_kill(threading.get_ident(), signal.SIGSTOP)  # this thread stops at once, then all
        valid_until = self._valid_until.get(user_id)
        if valid_until is None:
            self._withhold(user_id, request, "this replica does not hold the user's lease")
        left_s = valid_until - self.now()
        if left_s < self.needed_s:
            held = f"{left_s:.3f} s left" if left_s > 0 else f"run out {-left_s:.3f} s ago"
            self._withhold(user_id, request, f"this replica's lease of the user has {held} (measured here, from "
                                             f"before its last renewal), under the {self.needed_s:g} s a request "
                                             f"needs (call timeout {self.call_timeout_s:g} s + clock-drift margin "
                                             f"{self.drift_margin_s:g} s)")

    def _withhold(self, user_id: int, request: str, why: str) -> None:
        message = (f"{request}: withheld, not sent: {why}; the order is left for the replica that holds the user "
                   f"to settle")
        log.warning("%s", message, extra={"user_id": user_id})
        raise SendWithheld(message)
