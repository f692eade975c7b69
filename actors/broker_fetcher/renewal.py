"""Renewing an expired broker session with the account's stored keys: whether a login may be tried now.

Owns the per-account backoff after a login the broker refused: until it has passed, the account's expired
session is answered with that refusal and no login is tried, so an account with wrong keys does not call
the broker's login route every cycle. Holds account ids, times and messages, never a token or a key.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from domain.broker_errors import KeysRefused


class SessionRenewal:
    def __init__(self, backoff_s: float) -> None:
        self._backoff = timedelta(seconds=backoff_s)
        self._refused: dict[int, tuple[datetime, str]] = {}

    def held(self, account_id: int, now: datetime) -> KeysRefused | None:
        """The refusal that holds back a new login of this account, or None when one may be tried."""
        refused = self._refused.get(account_id)
        if refused is None or now >= refused[0]:
            return None
        until, message = refused
        return KeysRefused(f"{message}; no new login before {until:%H:%M:%S} UTC")

    def refused(self, account_id: int, now: datetime, error: KeysRefused) -> None:
        self._refused[account_id] = (now + self._backoff, error.message)

    def renewed(self, account_id: int) -> None:
        self._refused.pop(account_id, None)
