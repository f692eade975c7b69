"""`mainapp_fairprice` as `SqlStore` reads and writes it (mixed into it): the fair prices by symbol, each marked
with who wrote it. The desk's prices take precedence: `upsert_desk_prices` always wins and marks `desk`, while
`upsert_feed_prices` (the market-data feed's writer) never overwrites a `desk` row, in its SQL, so that a desk
write and a feed write crossing on one symbol leave the desk's price whichever commits last.
`clear_desk_price` hands a symbol back to the feed. Writers lock rows in symbol order. `watched_instruments`
names what the feed prices."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import TYPE_CHECKING

import msgspec

from adapters.store.batched_read import ReadBatcher
from adapters.store.multi_row import insert_rows
from adapters.store.rerun import RerunPolicy, rerun_when_aborted
from domain.quotes import WatchedInstrument
from domain.records import FairPrice

if TYPE_CHECKING:
    from adapters.store.repository import Database


WATCHED_USERS_PER_QUERY = 1_000
"""Users per `fair_prices/watched_instruments` statement (each is named twice in it)."""


class FairPriceRows:
    database: Database
    rerun_policy: RerunPolicy
    _now: Callable[[], datetime]
    _fair_prices: ReadBatcher[str, FairPrice]

    async def fair_prices(self, symbols: Sequence[str]) -> dict[str, FairPrice]:
        return await self._fair_prices.read(sorted(set(symbols)))

    async def _read_fair_prices(self, symbols: Sequence[str]) -> dict[str, FairPrice]:
        async with self.database.autocommit() as tx:
            rows = await tx.fetch_all("fair_prices/select", symbols, counts=(len(symbols),))
        return {row["symbol"]: FairPrice(**row) for row in rows}

    async def list_fair_prices(self) -> list[FairPrice]:
        async with self.database.autocommit() as tx:
            return [FairPrice(**row) for row in await tx.fetch_all("fair_prices/list")]

    @rerun_when_aborted
    async def upsert_desk_prices(self, prices: Sequence[FairPrice]) -> None:
        await self._upsert("fair_prices/upsert_desk", prices)

    @rerun_when_aborted
    async def upsert_feed_prices(self, prices: Sequence[FairPrice]) -> None:
        await self._upsert("fair_prices/upsert_feed", prices)

    async def _upsert(self, statement: str, prices: Sequence[FairPrice]) -> None:
        """One transaction; of a symbol given twice the last price counts."""
        latest = {price.symbol: price for price in prices}
        rows = [(p.symbol, p.buy_fair_price, p.sell_fair_price, p.updated_at) for _, p in sorted(latest.items())]
        async with self.database.transaction() as tx:
            await insert_rows(tx, statement, rows)

    @rerun_when_aborted
    async def clear_desk_price(self, symbol: str) -> bool:
        async with self.database.autocommit() as tx:  # one idempotent DELETE
            return await tx.execute("fair_prices/clear_desk", (symbol,)) > 0

    async def watched_instruments(self, user_ids: Sequence[int], brokers: Sequence[str]
                                  ) -> list[WatchedInstrument]:
        users, names = sorted(set(user_ids)), sorted(set(brokers))
        if not users or not names:
            return []
        found: set[WatchedInstrument] = set()
        async with self.database.autocommit() as tx:
            for start in range(0, len(users), WATCHED_USERS_PER_QUERY):
                chunk = users[start:start + WATCHED_USERS_PER_QUERY]
                rows = await tx.fetch_all("fair_prices/watched_instruments", (*chunk, *names, *chunk, *names),
                                          counts=(len(chunk), len(names), len(chunk), len(names)))
                found.update(msgspec.convert(row, WatchedInstrument) for row in rows)
        return sorted(found, key=lambda i: (i.exchange_segment, i.instrument_id, i.symbol))
