"""Multi-row statements: rows sent as one INSERT (or IN-list) with the placeholder group repeated per row, split
only where the bound-parameter limit of SQLite (32,766) or MySQL's packet would be passed."""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from adapters.store.port import Transaction

MAX_PARAMS_PER_STATEMENT = 30_000
"""Multi-row statements are split to stay under SQLite's 32,766 bound parameters (and MySQL's packet)."""


def chunks(rows: Sequence[Sequence[Any]]) -> Iterator[Sequence[Sequence[Any]]]:
    if not rows:
        return
    size = max(1, MAX_PARAMS_PER_STATEMENT // len(rows[0]))
    for start in range(0, len(rows), size):
        yield rows[start : start + size]


async def insert_rows(tx: Transaction, name: str, rows: Sequence[Sequence[Any]]) -> None:
    """One multi-row INSERT (split only past the bound-parameter limit), placeholders repeated per row."""
    for chunk in chunks(rows):
        await tx.execute(name, [value for row in chunk for value in row], counts=(len(chunk),))
