"""What an alert is: its kind, whom it concerns, what it says and when; and the sign that its condition is over.

Values only: no channel, no clock. An alert's key (kind, user, account, order) names its condition, which
the policy announces once until a `Cleared` covering it arrives.
"""

from __future__ import annotations

from enum import StrEnum

import msgspec

from domain.time import UtcDateTime


class AlertKind(StrEnum):
    SESSION_NEEDED = "session_needed"
    STOP_LOSS_MISSING = "stop_loss_missing"
    PAUSED = "paused"
    RESUMED = "resumed"
    DAILY_LOSS_LIMIT = "daily_loss_limit"
    MONITOR_RESTARTED = "monitor_restarted"
    MONITOR_STOPPED = "monitor_stopped"
    ALERTS_HELD_BACK = "alerts_held_back"


TITLES: dict[AlertKind, str] = {
    AlertKind.SESSION_NEEDED: "Session needed",
    AlertKind.STOP_LOSS_MISSING: "Trade without stop-loss",
    AlertKind.PAUSED: "Automation paused",
    AlertKind.RESUMED: "Automation resumed",
    AlertKind.DAILY_LOSS_LIMIT: "Daily loss limit reached",
    AlertKind.MONITOR_RESTARTED: "Monitor restarted",
    AlertKind.MONITOR_STOPPED: "Monitoring stopped",
    AlertKind.ALERTS_HELD_BACK: "Alerts held back",
}

AlertKey = tuple[AlertKind, int, int | None, int | None]
"""(kind, user_id, account_id, order_id): one condition."""


class Alert(msgspec.Struct, frozen=True, kw_only=True):
    kind: AlertKind
    user_id: int
    account_id: int | None = None
    order_id: int | None = None
    message: str
    at: UtcDateTime

    @property
    def key(self) -> AlertKey:
        return (self.kind, self.user_id, self.account_id, self.order_id)

    def text(self) -> str:
        """The line a person reads: title, whom it concerns, what happened."""
        account = f", account {self.account_id}" if self.account_id is not None else ""
        return f"{TITLES[self.kind]} (user {self.user_id}{account}): {self.message}"


class Cleared(msgspec.Struct, frozen=True, kw_only=True):
    """The conditions of `kind` for the user (for one account, when given) are over, but for the orders in
    `keep_orders`, whose conditions persist."""

    kind: AlertKind
    user_id: int
    account_id: int | None = None
    keep_orders: frozenset[int] = frozenset()

    def covers(self, key: AlertKey) -> bool:
        kind, user_id, account_id, order_id = key
        return (kind is self.kind and user_id == self.user_id
                and (self.account_id is None or account_id == self.account_id)
                and order_id not in self.keep_orders)


Signal = Alert | Cleared
