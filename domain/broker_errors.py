"""The broker port's typed failures, each an `AdapterError` with its `ErrorKind`.

A failure says whether the request may still have taken effect at the broker (`ambiguous`): a place or
modify that timed out, was reset or got a 5xx might have created or changed the order, so the caller must
let the next order book settle it and never re-send blindly. Messages are for traders: they name the
route and the account's client id, never a token or a key.
"""

from __future__ import annotations

from domain.errors import AdapterError, ErrorKind


class BrokerError(AdapterError):
    """Any failure of a broker call; the base is used as is only for an unexpected failure (a bug)."""

    def __init__(self, message: str, *, ambiguous: bool = False) -> None:
        super().__init__(message)
        self.ambiguous = ambiguous


class SessionExpired(BrokerError):
    """The broker refused the session token (`e-session-0007`, "Invalid Token"): log in again."""

    kind = ErrorKind.SESSION_EXPIRED


class BrokerMisconfigured(BrokerError):
    """The account's broker settings are wrong: here, its address has no such route (HTTP 404 without the
    broker's invalid-session answer). Nothing was processed; logging in again cannot help, correcting the
    account can."""

    kind = ErrorKind.CONFIGURATION


class KeysRefused(BrokerMisconfigured):
    """The broker refused a login with the account's stored app key and secret key: the keys are what to
    correct."""


class BrokerRejected(BrokerError):
    """The broker definitively refused the request; nothing happened. `reason` is the broker's own words."""

    kind = ErrorKind.REJECTED

    def __init__(self, message: str, *, reason: str) -> None:
        super().__init__(message)
        self.reason = reason


class BrokerUnavailable(BrokerError):
    """The broker could not be reached or failed (network error, reset, HTTP 5xx, rate limit)."""

    kind = ErrorKind.UNAVAILABLE


class UnknownBroker(BrokerUnavailable):
    """The account names a broker (`broker`) that no adapter of this service serves; nothing was sent."""

    def __init__(self, message: str, *, broker: str) -> None:
        super().__init__(message)
        self.broker = broker


class BrokerTimeout(BrokerUnavailable):
    """No complete answer within the call's timeout."""

    kind = ErrorKind.TIMEOUT


class SendWithheld(BrokerError):
    """The send guard kept a request that changes orders from going out: this replica does not hold the
    user's lease, or holds it too briefly for the request to end before another replica may take the user.
    Nothing was sent; the order's intent is left for whichever replica holds the user."""

    kind = ErrorKind.LEASE


class BrokerProtocolError(BrokerError):
    """The broker answered something that does not decode; `field` names the offending field."""

    kind = ErrorKind.PROTOCOL

    def __init__(self, message: str, *, field: str, ambiguous: bool = False) -> None:
        super().__init__(message, ambiguous=ambiguous)
        self.field = field
