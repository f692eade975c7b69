"""An account's broker session for the steps that need one (the fetch, the batch's placement): a login with
the account's stored app key and secret key when it has no token, and, with a `SessionRenewal`, one new login
when the broker calls its token expired.

`SessionRenewal` is one per process, shared by those steps. After a login the broker refused it holds the
account's next login back for a backoff (an account with wrong keys does not call the login route every
cycle); and it makes one login per expiry: every step that meets the same expired token shares one login and
its new token. It keeps account ids, times, messages, a digest of each expired token and the login that
replaced it (its new token, until the next expiry of the account), never a key. Each login gets the caller's
timeout; messages name the account's client id, never a token or a key.
"""

from __future__ import annotations

import asyncio
import hashlib
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import TypeVar

from domain.broker import BrokerAccount
from domain.broker_errors import BrokerError, BrokerRejected, BrokerTimeout, KeysRefused, SessionExpired
from domain.ports.broker import Broker

T = TypeVar("T")

Login = asyncio.Future[str | BrokerError]


class SessionRenewal:
    def __init__(self, backoff_s: float) -> None:
        self._backoff = timedelta(seconds=backoff_s)
        self._refused: dict[int, tuple[datetime, str]] = {}
        self._renewals: dict[int, tuple[bytes, Login]] = {}

    async def renew(self, broker: Broker, account: BrokerAccount, timeout_s: float,
                    now: Callable[[], datetime]) -> str | BrokerError:
        """The new token of the one login that renews `account.token`, or why there is none: the refusal that
        holds a login back, `KeysRefused` when the broker refused this one, or a `SessionExpired` saying why
        the login failed. A login in flight or done for the same expired token is shared, not made again."""
        expired = hashlib.sha256(account.token.encode()).digest()
        kept = self._renewals.get(account.account_id)
        if kept is None or kept[0] != expired or _failed(kept[1]):
            held = self._held(account.account_id, now())
            if held is not None:
                return held
            kept = (expired, asyncio.ensure_future(self._logged_in(broker, account, timeout_s, now)))
            self._renewals[account.account_id] = kept
        return await asyncio.shield(kept[1])

    def _held(self, account_id: int, now: datetime) -> KeysRefused | None:
        """The refusal that holds back a new login of this account, or None when one may be tried."""
        refused = self._refused.get(account_id)
        if refused is None or now >= refused[0]:
            return None
        until, message = refused
        return KeysRefused(f"{message}; no new login before {until:%H:%M:%S} UTC")

    async def _logged_in(self, broker: Broker, account: BrokerAccount, timeout_s: float,
                     now: Callable[[], datetime]) -> str | BrokerError:
        try:
            token = await _login(broker, account, timeout_s)
        except BrokerRejected as exc:
            refused = KeysRefused(f"{account.client_id}: the session expired and the broker refused a new login "
                                  f"with the stored app key and secret key ({exc.reason}); check the account's keys")
            self._refused[account.account_id] = (now() + self._backoff, refused.message)
            return refused
        except BrokerError as exc:
            return SessionExpired(f"{account.client_id}: the session expired and a new login failed: {exc.message}")
        self._refused.pop(account.account_id, None)
        return token


def _failed(login: Login) -> bool:
    return login.done() and (login.cancelled() or login.exception() is not None
                             or not isinstance(login.result(), str))


async def renewed_session(broker: Broker, account: BrokerAccount, timeout_s: float,
                          renewal: SessionRenewal | None, now: Callable[[], datetime]) -> str | BrokerError | None:
    """The token of the login that renews the account's expired session, why it failed, or None when the expiry
    stands: renewal is off, or the account has no stored keys to log in with."""
    if renewal is None or not (account.app_key and account.secret_key):
        return None
    return await renewal.renew(broker, account, timeout_s, now)


async def first_session(broker: Broker, account: BrokerAccount, timeout_s: float) -> str | BrokerError:
    """The token of a login of an account that has none, or why there is none; a login the broker refused is
    a `SessionExpired` (the account needs a session)."""
    try:
        return await _login(broker, account, timeout_s)
    except BrokerRejected as exc:
        return SessionExpired(f"{account.client_id} has no session and could not log in: {exc.reason}")
    except BrokerError as exc:
        return exc


async def _login(broker: Broker, account: BrokerAccount, timeout_s: float) -> str:
    return await within(broker.login(account), timeout_s, f"login for {account.client_id}")


async def within(call: Awaitable[T], timeout_s: float, what: str) -> T:
    """`call`'s result; running out of `timeout_s` is a `BrokerTimeout` naming `what`."""
    try:
        async with asyncio.timeout(timeout_s):
            return await call
    except TimeoutError:
        raise BrokerTimeout(f"{what}: no answer within {timeout_s:g} s") from None
