"""The accounts' stored secrets as a whole: what `serve` checks before it starts, and re-sealing under the current
key (`seal_clear` for values left in clear, by the migration; `reseal_all` for `secrets encrypt` and `rotate`).

`serve` does not start while an account exists and no key is given, a value names a key the keyring lacks, or
(without migrating) a clear value remains. No value is ever printed or logged; only counts and key ids are.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from adapters.store.repository import Database
from adapters.store.secrets import NO_KEY, Keyring, sealed_key_id

SECRET_COLUMNS = ("app_key", "secret_key", "token")


@dataclass(frozen=True)
class SecretsState:
    """What the accounts table holds, without a single value: how many accounts, how many values are still
    in clear, and which keys sealed the others (key id -> values)."""

    accounts: int
    clear: int
    sealed_by_key: Mapping[str, int]


def _state(rows: list[dict[str, Any]]) -> SecretsState:
    by_key: dict[str, int] = {}
    clear = 0
    for row in rows:
        for column in SECRET_COLUMNS:
            clear += bool(row[column])
            if row[f"{column}_sealed"]:
                wanted = sealed_key_id(row[f"{column}_sealed"])
                by_key[wanted] = by_key.get(wanted, 0) + 1
    return SecretsState(accounts=len(rows), clear=clear, sealed_by_key=by_key)


async def secrets_state(database: Database) -> SecretsState:
    async with database.autocommit() as tx:
        return _state(await tx.fetch_all("accounts/secrets"))


def refusal(state: SecretsState, keyring: Keyring | None) -> str | None:
    """Why `serve` must not start with this keyring, or None. Every account needs a key (its session token
    is written sealed), every sealed value's key must be in the keyring, and no value may be left in clear."""
    if state.accounts and keyring is None:
        return f"{state.accounts} broker account(s) are stored and {NO_KEY}"
    if keyring is not None:
        unknown = sorted(set(state.sealed_by_key) - set(keyring.keys))
        if unknown:
            return (f"stored secrets are sealed under key(s) {', '.join(unknown)}, not in the keyring (given: "
                    f"{', '.join(sorted(keyring.keys))}); give that key as MONITOR_SECRET_KEY or, while "
                    "rotating, in MONITOR_SECRET_OLD_KEYS")
    if state.clear:
        return (f"{state.clear} broker secret(s) are stored in clear (written before migration 010): run "
                "`python3 run.py migrate` (or `secrets encrypt`) with MONITOR_SECRET_KEY set, then start again")
    return None


async def seal_clear(database: Database, keyring: Keyring, now: datetime) -> int:
    """Seal the values left in clear (written before migration 010) under the keyring's current key, in one
    transaction, and empty their clear columns; accounts with nothing in clear are not touched. The number of
    clear values sealed. An account's sealed values are opened and written again beside its clear ones, so
    one with a value under a key the keyring lacks fails whole (SecretKeyError) and nothing is written."""
    return await _reseal(database, keyring, now, only_clear=True)


async def reseal_all(database: Database, keyring: Keyring, now: datetime) -> int:
    """Seal every account's secrets under the keyring's current key, in one transaction: a clear value as it
    is, a sealed one once opened (with any key of the keyring). The number of values written; an account
    whose values are all sealed under the current key already is left as it is."""
    return await _reseal(database, keyring, now, only_clear=False)


async def _reseal(database: Database, keyring: Keyring, now: datetime, *, only_clear: bool) -> int:
    written = 0
    async with database.transaction() as tx:
        for row in await tx.fetch_all("accounts/secrets"):
            account_id = row["id"]
            if only_clear and not any(row[c] for c in SECRET_COLUMNS):
                continue
            values = [row[c] or keyring.open(row[f"{c}_sealed"], account_id, c) for c in SECRET_COLUMNS]
            current = all(
                not row[c] and (not row[f"{c}_sealed"] or sealed_key_id(row[f"{c}_sealed"]) == keyring.current_id)
                for c in SECRET_COLUMNS)
            if current:
                continue
            sealed = [keyring.seal(value, account_id, c) for value, c in zip(values, SECRET_COLUMNS, strict=True)]
            await tx.execute("accounts/set_secrets", (*sealed, now, account_id))
            written += sum(bool(row[c]) if only_clear else bool(value)
                           for value, c in zip(values, SECRET_COLUMNS, strict=True))
    return written
