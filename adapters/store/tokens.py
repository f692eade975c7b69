"""API tokens, the users' and the admin tokens alike: made at random, shown once, and stored only as their SHA-256,
which is what a presented token is looked up by and compared to (in constant time)."""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Iterable, Mapping
from typing import Any


def new_token() -> str:
    """A fresh token: 32 random bytes, URL-safe base64 (visible ASCII only)."""
    return secrets.token_urlsafe(32)


def hash_token(token: str) -> str:
    """The SHA-256 hex digest stored in place of an API token."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()


def row_of_token(rows: Iterable[Mapping[str, Any]], digest: str) -> Mapping[str, Any] | None:
    """The row, among those read by `digest`, whose `token_hash` is it (compared in constant time)."""
    for row in rows:
        if hmac.compare_digest(row["token_hash"], digest):
            return row
    return None
