"""The paper broker's market data sessions: a token per app key (a new login ends the old one) and the
subscriptions each token holds, capped per token. Plain Python, no I/O.

Subscriptions belong to the token, not to a socket: they last until its logout or the app key's next login.
A subscription is one (exchange segment code, instrument id, message code).
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable
from dataclasses import dataclass, field

DEFAULT_SUBSCRIPTION_CAP = 50
"""Subscriptions one market data token may hold (XTS shows about 50 per session on one broker)."""

Subscription = tuple[int, int, int]
"""(exchange segment code, exchange instrument id, xtsMessageCode)."""


class CapReached(Exception):
    """A subscription request would take the token past its cap; nothing was subscribed."""


@dataclass
class MdSession:
    token: str
    user_id: str
    subscriptions: set[Subscription] = field(default_factory=set)


class MarketDataSessions:
    def __init__(self, cap: int = DEFAULT_SUBSCRIPTION_CAP) -> None:
        self.cap = cap
        self._by_token: dict[str, MdSession] = {}
        self._token_of_key: dict[str, str] = {}
        self._subscribers: dict[Subscription, set[str]] = {}

    def open(self, app_key: str) -> tuple[MdSession, MdSession | None]:
        """A new session of `app_key` (its user id), and the one it ended (None: there was none)."""
        ended = self.close(self._token_of_key.get(app_key, ""))
        session = MdSession(secrets.token_urlsafe(24), app_key)
        self._by_token[session.token] = session
        self._token_of_key[app_key] = session.token
        return session, ended

    def session(self, token: str) -> MdSession | None:
        return self._by_token.get(token)

    def close(self, token: str) -> MdSession | None:
        """End the session of `token` and drop its subscriptions; the session ended (None: no such token)."""
        session = self._by_token.pop(token, None)
        if session is not None:
            self._token_of_key.pop(session.user_id, None)
            self.unsubscribe(session, list(session.subscriptions))
        return session

    def remaining(self, session: MdSession) -> int:
        return self.cap - len(session.subscriptions)

    def subscribe(self, session: MdSession, wanted: Iterable[Subscription]) -> list[Subscription]:
        """Subscribe what `session` does not hold yet; those, in order. Raises `CapReached` (nothing done) when
        they would not fit."""
        new = list(dict.fromkeys(s for s in wanted if s not in session.subscriptions))
        if len(new) > self.remaining(session):
            raise CapReached
        for subscription in new:
            session.subscriptions.add(subscription)
            self._subscribers.setdefault(subscription, set()).add(session.token)
        return new

    def unsubscribe(self, session: MdSession, unwanted: Iterable[Subscription]) -> list[Subscription]:
        """Drop those of `unwanted` that `session` holds; those, in order."""
        dropped = list(dict.fromkeys(s for s in unwanted if s in session.subscriptions))
        for subscription in dropped:
            session.subscriptions.discard(subscription)
            tokens = self._subscribers[subscription]
            tokens.discard(session.token)
            if not tokens:
                del self._subscribers[subscription]
        return dropped

    def subscribers(self, subscription: Subscription) -> frozenset[str]:
        """The tokens holding `subscription`."""
        return frozenset(self._subscribers.get(subscription, ()))
