"""Which alerts go out, as pure code: each condition once, and at most a few messages a minute per user.

Dedup: an alert whose key was sent and not cleared since is a duplicate, until `realert_after` has passed
since it was sent (then it goes again; None: never while the condition lasts). Rate limit: at most
`per_minute` messages about a user in any `window` (a send exactly `window` ago no longer counts); an
alert over it is held back, counted, and not remembered as sent, so a condition reported again later still
gets out. One note of the alerts held back goes when the window has room again, and counts as a message.
No I/O and no clock: callers pass the time.
"""

from __future__ import annotations

from collections import Counter, deque
from datetime import datetime, timedelta
from typing import Literal

import msgspec

from service.alerts.alert import Alert, AlertKey, AlertKind, Cleared

Verdict = Literal["send", "duplicate", "held_back"]


class HeldBack(msgspec.Struct, frozen=True, kw_only=True):
    """The alerts about a user that the rate limit held back since the last note, by kind."""

    user_id: int
    kinds: dict[AlertKind, int]

    @property
    def count(self) -> int:
        return sum(self.kinds.values())

    def alert(self, at: datetime, per_minute: int) -> Alert:
        """The note that says so."""
        kinds = ", ".join(f"{kind.value} {count}" for kind, count in sorted(self.kinds.items()))
        plural = "s" if self.count > 1 else ""
        return Alert(kind=AlertKind.ALERTS_HELD_BACK, user_id=self.user_id, at=at,
                     message=f"{self.count} alert{plural} held back by the limit of {per_minute} a minute ({kinds})")


class AlertPolicy:
    def __init__(self, *, per_minute: int, realert_after: timedelta | None,
                 window: timedelta = timedelta(minutes=1)) -> None:
        if per_minute <= 0:
            raise ValueError(f"per_minute must be positive, got {per_minute}")
        self._per_minute = per_minute
        self._realert_after = realert_after
        self._window = window
        self._sent: dict[AlertKey, datetime] = {}
        self._sends: dict[int, deque[datetime]] = {}
        self._held: dict[int, Counter[AlertKind]] = {}

    def offer(self, alert: Alert, now: datetime) -> Verdict:
        """Judge `alert` at `now`; "send" counts it as sent."""
        last = self._sent.get(alert.key)
        if last is not None and (self._realert_after is None or now - last < self._realert_after):
            return "duplicate"
        if not self._has_room(alert.user_id, now):
            self._held.setdefault(alert.user_id, Counter())[alert.kind] += 1
            return "held_back"
        self._count_send(alert.user_id, now)
        self._sent[alert.key] = now
        return "send"

    def clear(self, cleared: Cleared) -> None:
        """Forget the sent alerts whose conditions `cleared` covers: the next one of each goes out."""
        for key in [key for key in self._sent if cleared.covers(key)]:
            del self._sent[key]

    def room_at(self, user_id: int, now: datetime) -> datetime:
        """When the user's window next has room for a message (`now` if it has)."""
        sends = self._pruned(user_id, now)
        return now if len(sends) < self._per_minute else sends[0] + self._window

    def take_held_back(self, user_id: int, now: datetime) -> HeldBack | None:
        """The user's held-back alerts, counted as one message sent now, if there are any and the window has
        room for it; None otherwise (see `room_at`)."""
        held = self._held.get(user_id)
        if not held or not self._has_room(user_id, now):
            return None
        del self._held[user_id]
        self._count_send(user_id, now)
        return HeldBack(user_id=user_id, kinds=dict(held))

    def holds_back(self, user_id: int) -> bool:
        return bool(self._held.get(user_id))

    def _has_room(self, user_id: int, now: datetime) -> bool:
        return len(self._pruned(user_id, now)) < self._per_minute

    def _count_send(self, user_id: int, now: datetime) -> None:
        self._sends.setdefault(user_id, deque()).append(now)

    def _pruned(self, user_id: int, now: datetime) -> deque[datetime]:
        sends = self._sends.get(user_id)
        if sends is None:
            return deque()
        while sends and sends[0] <= now - self._window:
            sends.popleft()
        if not sends:
            del self._sends[user_id]
        return sends
