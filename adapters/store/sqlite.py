"""The SQLite database, the embedded default: one connection on one dedicated thread, WAL, foreign keys on.

Owns the connection and transactions only (domain logic is `repository.SqlStore`); an asyncio lock gives the
connection to one transaction (BEGIN IMMEDIATE) or `autocommit()` block at a time. MONEYTEXT reads back as
`Decimal`, UTCTEXT as aware datetimes. Errors never carry parameters; "database is locked" (the write lock held
past the busy timeout) becomes `TransactionAborted`, which the store reruns; a PRIMARY KEY or UNIQUE constraint
failed, `DuplicateKey`.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator, Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any, TypeVar

from adapters.store.sql_loader import Query, load_queries
from adapters.store.url import DatabaseUrl
from adapters.store.values import JsonDocument, common_param, utc
from domain.errors import DatabaseError, DuplicateKey, TransactionAborted

T = TypeVar("T")
_TIME_FORMAT = "%Y-%m-%d %H:%M:%S.%f"

sqlite3.register_converter("MONEYTEXT", lambda raw: Decimal(raw.decode("ascii")))
sqlite3.register_converter(
    "UTCTEXT", lambda raw: datetime.strptime(raw.decode("ascii"), _TIME_FORMAT).replace(tzinfo=UTC)
)


_BUSY = frozenset({sqlite3.SQLITE_BUSY, sqlite3.SQLITE_LOCKED})
_DUPLICATE_KEY = frozenset({sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY, sqlite3.SQLITE_CONSTRAINT_UNIQUE})


def _error(what: str, exc: sqlite3.Error) -> DatabaseError:
    code = getattr(exc, "sqlite_errorcode", 0)
    kind = (TransactionAborted if code & 0xFF in _BUSY  # the primary code of an extended one
            else DuplicateKey if code in _DUPLICATE_KEY else DatabaseError)
    return kind(f"{what} failed: SQLite {type(exc).__name__}: {str(exc)[:300]}")


def _param(value: Any) -> Any:
    if isinstance(value, datetime):
        return utc(value).strftime(_TIME_FORMAT)
    if isinstance(value, JsonDocument):
        return value.utf8.decode("utf-8")
    value = common_param(value)
    if isinstance(value, Decimal):
        return format(value, "f")
    return value


class SqliteTransaction:
    """One open transaction on the database's connection; every call hops to its thread."""

    def __init__(self, database: SqliteDatabase) -> None:
        self._db = database

    async def execute(self, name: str, params: Sequence[Any] = (), counts: Sequence[int] = ()) -> int:
        sql = self._db.queries[name].sql(*counts)
        return await self._db.call(name, lambda c: c.execute(sql, [_param(p) for p in params]).rowcount)

    async def insert(self, name: str, params: Sequence[Any] = ()) -> int:
        sql = self._db.queries[name].sql()
        return await self._db.call(name, lambda c: c.execute(sql, [_param(p) for p in params]).lastrowid)

    async def fetch_all(
        self, name: str, params: Sequence[Any] = (), counts: Sequence[int] = ()
    ) -> list[dict[str, Any]]:
        sql = self._db.queries[name].sql(*counts)

        def fetch(conn: sqlite3.Connection) -> list[dict[str, Any]]:
            cursor = conn.execute(sql, [_param(p) for p in params])
            names = [d[0] for d in cursor.description]
            return [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]

        return await self._db.call(name, fetch)

    async def execute_ddl(self, statement: str, what: str) -> None:
        await self._db.call(what, lambda c: c.execute(statement))


class SqliteDatabase:
    dialect = "sqlite"

    def __init__(self, url: DatabaseUrl) -> None:
        self.url = url
        self.queries: dict[str, Query] = dict(load_queries("sqlite"))
        self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sqlite")
        self._conn: sqlite3.Connection | None = None
        self._lock = asyncio.Lock()
        self.statements = 0
        """Statements run so far, BEGIN and COMMIT included."""

    @classmethod
    async def open(cls, url: DatabaseUrl) -> SqliteDatabase:
        """Open (creating if missing) the database file; DatabaseError if it cannot be opened."""
        database = cls(url)
        try:
            await database.call("open", database._connect)
        except DatabaseError:
            database._executor.shutdown(wait=False)
            raise
        return database

    def _connect(self, _: sqlite3.Connection | None) -> None:
        path = self.url.database
        if path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(
            path,
            detect_types=sqlite3.PARSE_DECLTYPES | sqlite3.PARSE_COLNAMES,
            isolation_level=None,
            check_same_thread=False,
        )
        conn.executescript(self.queries["session/init"].sql())
        self._conn = conn

    async def call(self, what: str, work: Callable[[sqlite3.Connection], T]) -> T:
        """Run `work(connection)` on the database thread; SQLite errors become DatabaseError."""
        self.statements += 1

        def run() -> T:
            try:
                return work(self._conn)  # type: ignore[arg-type]
            except sqlite3.Error as exc:
                raise _error(what, exc) from None

        return await asyncio.get_running_loop().run_in_executor(self._executor, run)

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[SqliteTransaction]:
        async with self._lock:
            begin, commit, rollback = (
                self.queries[f"session/{n}"].sql() for n in ("begin", "commit", "rollback")
            )
            try:
                await self.call("BEGIN", lambda c: c.execute(begin))
                yield SqliteTransaction(self)
                await self.call("COMMIT", lambda c: c.execute(commit))
            except BaseException:
                # shielded: even if this task is cancelled, the rollback is queued on the database thread
                # behind whatever statement was running (BEGIN too, when the task was cancelled while BEGIN
                # waited for another process's write lock), so the connection never stays in a transaction
                await asyncio.shield(
                    self.call("ROLLBACK", lambda c: c.execute(rollback) if c.in_transaction else None)
                )
                raise

    @asynccontextmanager
    async def autocommit(self) -> AsyncIterator[SqliteTransaction]:
        async with self._lock:
            yield SqliteTransaction(self)

    async def close(self) -> None:
        if self._conn is not None:
            await self.call("close", lambda c: c.close())
            self._conn = None
        self._executor.shutdown(wait=True)
