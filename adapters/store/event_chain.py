"""The hash chain of monitor_events: what each row's `hash` is, computed by the writer and checked by the audit.

`hash = SHA-256(previous hash || canonical bytes of the row)`, stored as 64 lowercase hex characters; the
previous hash enters as its 32 raw bytes. The canonical bytes are the JSON array
`[user_id, seq, cycle_id, at, type, version]` (`at` in UTC as `2026-12-07T09:15:00.000000Z`), a newline, and
the payload's UTF-8 bytes as stored: the array ends unambiguously, so two different rows never share them.
A user's first event chains from GENESIS, and so does its first hashed event after rows written before the
chain existed (hash NULL) or after a stored hash that is not one (tampered). Pure: no I/O.
"""

from __future__ import annotations

import hashlib
import re
from datetime import UTC, datetime

import msgspec

GENESIS = bytes(32)
"""What a user's first hashed event chains from."""
_encoder = msgspec.json.Encoder()
_HASH = re.compile(r"[0-9a-f]{64}")


def canonical_bytes(user_id: int, seq: int, cycle_id: str, at: datetime, type_: str, version: int,
                    payload: bytes) -> bytes:
    """The bytes a row's hash covers (`at` must be timezone-aware)."""
    moment = at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return _encoder.encode([user_id, seq, cycle_id, moment, type_, version]) + b"\n" + payload


def chain_hash(previous: str | None, canonical: bytes) -> str:
    """The hash of a row whose predecessor's hash is `previous` (None: the row starts its user's chain)."""
    return hashlib.sha256((GENESIS if previous is None else bytes.fromhex(previous)) + canonical).hexdigest()


def is_hash(value: object) -> bool:
    """Whether a stored value is a hash this chain could have written (64 lowercase hex characters)."""
    return isinstance(value, str) and _HASH.fullmatch(value) is not None
