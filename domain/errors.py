"""The failure kinds, and the one exception family adapters raise for expected failures, each with its kind.

Workers turn these into failure events with the kind and a message a trader can read. Anything else an
adapter raises is a bug and is reported as `internal`. Messages must never contain a secret.
"""

from __future__ import annotations

from enum import StrEnum


class ErrorKind(StrEnum):
    """Machine-readable failure classes carried by failure events."""

    SESSION_EXPIRED = "session_expired"
    CONFIGURATION = "configuration"
    """An account's settings are wrong (a broker address without the routes): a person must correct them."""
    UNAVAILABLE = "unavailable"
    REJECTED = "rejected"
    PROTOCOL = "protocol"
    TIMEOUT = "timeout"
    DB = "db"
    LEASE = "lease"
    """This replica does not hold the user's lease, or holds it too briefly to send: nothing was sent."""
    INTERNAL = "internal"


class AdapterError(Exception):
    """An expected failure of an outside system (broker, database), with a user-readable message."""

    kind: ErrorKind = ErrorKind.INTERNAL

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message


class DatabaseError(AdapterError):
    """The database refused or lost a statement; the transaction it belonged to was rolled back."""

    kind = ErrorKind.DB


class TransactionAborted(DatabaseError):
    """The database gave the transaction up to resolve a conflict with another one (MySQL deadlock 1213, which
    is also how MariaDB Galera reports a certification failure, or lock wait timeout 1205; SQLite's write lock
    still held by another process after the busy timeout): nothing of it was written, and it may be run
    again whole."""


class DuplicateKey(DatabaseError):
    """The statement would have written a row whose key another row already holds (MySQL 1062, SQLite's PRIMARY
    KEY or UNIQUE constraint): nothing of the statement was written."""


class StaleVersion(DatabaseError):
    """An optimistic `version` check failed: someone else changed the row since it was read."""


class LeaseLost(DatabaseError):
    """This replica does not hold the user's lease (another replica took over): the write was refused."""
