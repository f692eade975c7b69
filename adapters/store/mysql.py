"""The MySQL / MariaDB database: one aiomysql pool per process and explicit, short transactions.

Owns connections and transactions only (domain logic is `repository.SqlStore`): `transaction()` (READ COMMITTED)
for writes, `autocommit()` for reads and one-statement idempotent writes. Every statement has a deadline; a broken
connection raises `DatabaseError` and is closed, not pooled. Errors carry the server's code and text, never
parameters; a lock-conflict abort raises `TransactionAborted`, at a statement or at COMMIT, and a taken key
`DuplicateKey`. On a node of a Galera
cluster every connection reads causally (`session/causal_reads`); elsewhere nothing about it is sent.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any, TypeVar

import aiomysql
import pymysql
from pymysql.constants import CLIENT

from adapters.store.sql_loader import Query, load_queries
from adapters.store.url import DatabaseUrl
from adapters.store.values import JsonDocument, common_param, utc
from domain.errors import DatabaseError, DuplicateKey, TransactionAborted

log = logging.getLogger(__name__)
T = TypeVar("T")

_CONNECTION_LOST = frozenset({1053, 1927, 2006, 2013, 2055})
"""Server shutdown, connection killed, server gone away, lost during query, lost at handshake."""
_ABORTED = frozenset({1205, 1213})
"""Lock wait timeout; deadlock (MariaDB Galera reports a certification failure with the same code). The
transaction is then rolled back whole (1205 alone undoes only the statement), so it may be run again."""
_DUPLICATE_KEY = 1062


def _param(value: Any) -> Any:
    if isinstance(value, datetime):
        return utc(value).replace(tzinfo=None)
    return common_param(value)


def _hex_literal(value: JsonDocument, mapping: Any = None) -> str:
    """The driver's encoder for a JsonDocument: X'...', only hex digits between the quotes."""
    return f"X'{value.utf8.hex()}'"


pymysql.converters.encoders[JsonDocument] = _hex_literal
"""aiomysql escapes every parameter that is not a str or bytes with PyMySQL's encoder table (it ignores a
connection's own), so a JsonDocument's encoder is registered there, once, for this one project type."""


def _value(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.replace(tzinfo=UTC)
    return value


def _describe(exc: BaseException) -> str:
    if isinstance(exc, pymysql.err.MySQLError) and len(exc.args) >= 2:
        return f"MySQL error {exc.args[0]}: {str(exc.args[1])[:300]}"
    return f"{type(exc).__name__}: {str(exc)[:300]}"


def _is_connection_failure(exc: BaseException) -> bool:
    if isinstance(exc, pymysql.err.InterfaceError | OSError | asyncio.TimeoutError):
        return True
    return isinstance(exc, pymysql.err.MySQLError) and bool(exc.args) and exc.args[0] in _CONNECTION_LOST


class _DeadConnection(DatabaseError):
    """BEGIN failed because the pooled connection was already gone."""


class MySqlTransaction:
    """One open transaction (or, for `autocommit()`, a run of autocommitted statements) on one pooled connection.

    `reconnect`, given only for autocommitted statements, replaces a connection that fails before its first
    statement was answered (the server dropped it while it was idle in the pool): the statement is run once
    more on a fresh connection. Those statements are safe to send twice (reads, idempotent writes); a write in
    a transaction never is, and never gets it.
    """

    def __init__(self, conn: aiomysql.Connection, queries: dict[str, Query], timeout_s: float,
                 count: Callable[[], None],
                 reconnect: Callable[[aiomysql.Connection], Awaitable[aiomysql.Connection]] | None = None) -> None:
        self._conn = conn
        self._count = count
        self._queries = queries
        self._timeout_s = timeout_s
        self._reconnect = reconnect
        self.broken = False
        self.connection_lost = False

    @property
    def connection(self) -> aiomysql.Connection:
        return self._conn

    async def _send(self, work: Awaitable[T], what: str) -> T:
        """`work` is one statement's round trip: counted, then guarded."""
        self._count()
        return await self._guard(work, what)

    async def _guard(self, work: Awaitable[T], what: str) -> T:
        try:
            async with asyncio.timeout(self._timeout_s):  # no task per statement, unlike wait_for
                return await work
        except TimeoutError:
            self.broken = True
            raise DatabaseError(f"{what}: the database did not answer within {self._timeout_s:g} s") from None
        except (pymysql.err.MySQLError, OSError) as exc:
            self.connection_lost = _is_connection_failure(exc)
            self.broken = self.broken or self.connection_lost
            code = exc.args[0] if isinstance(exc, pymysql.err.MySQLError) and exc.args else None
            kind = TransactionAborted if code in _ABORTED else DuplicateKey if code == _DUPLICATE_KEY else DatabaseError
            raise kind(f"{what} failed: {_describe(exc)}") from None

    async def _run(self, name: str, params: Sequence[Any], counts: Sequence[int]) -> aiomysql.DictCursor:
        sql = self._queries[name].sql(*counts)
        values = [_param(p) for p in params]
        cursor = await self._conn.cursor(aiomysql.DictCursor)
        reconnect, self._reconnect = self._reconnect, None
        try:
            await self._send(cursor.execute(sql, values), name)
        except DatabaseError:
            if reconnect is None or not self.connection_lost:
                raise
            log.warning("discarded a dead pooled MySQL connection")
            self._conn = await reconnect(self._conn)
            self.broken = self.connection_lost = False
            cursor = await self._conn.cursor(aiomysql.DictCursor)
            await self._send(cursor.execute(sql, values), name)
        return cursor

    async def execute(self, name: str, params: Sequence[Any] = (), counts: Sequence[int] = ()) -> int:
        cursor = await self._run(name, params, counts)
        rowcount = cursor.rowcount
        await cursor.close()
        return rowcount

    async def insert(self, name: str, params: Sequence[Any] = ()) -> int:
        cursor = await self._run(name, params, ())
        row_id = cursor.lastrowid
        await cursor.close()
        return row_id

    async def fetch_all(
        self, name: str, params: Sequence[Any] = (), counts: Sequence[int] = ()
    ) -> list[dict[str, Any]]:
        cursor = await self._run(name, params, counts)
        rows = await cursor.fetchall()  # a buffered cursor: the rows came with execute, no round trip here
        await cursor.close()
        return [{k: _value(v) for k, v in row.items()} for row in rows]

    async def execute_ddl(self, statement: str, what: str) -> None:
        cursor = await self._conn.cursor()
        await self._send(cursor.execute(statement), what)
        await cursor.close()

    async def begin(self) -> None:
        if not getattr(self._conn, "monitor_isolation_set", False):
            await self._send(self._conn.query(self._queries["session/isolation"].sql()), "session/isolation")
            self._conn.monitor_isolation_set = True
        await self._send(self._conn.begin(), "BEGIN")

    async def commit(self) -> None:
        await self._send(self._conn.commit(), "COMMIT")

    async def rollback(self) -> None:
        await self._send(self._conn.rollback(), "ROLLBACK")


class MySqlDatabase:
    dialect = "mysql"

    def __init__(self, pool: aiomysql.Pool, url: DatabaseUrl, timeout_s: float, *, galera: bool = False) -> None:
        self._pool = pool
        self._queries = dict(load_queries("mysql"))
        self._timeout_s = timeout_s
        self.url = url
        self.galera = galera
        """The server is a node of a Galera cluster (`wsrep_on`): each connection is set to read causally."""
        self.statements = 0
        """Statements sent so far, BEGIN and COMMIT included."""

    def _count_statement(self) -> None:
        self.statements += 1

    @classmethod
    async def connect(
        cls,
        url: DatabaseUrl,
        *,
        pool_size: int = 10,
        timeout_s: float = 30.0,
        connect_timeout_s: float = 10.0,
    ) -> MySqlDatabase:
        """Create the process's pool on the running loop; DatabaseError if the server cannot be reached."""
        init_command = load_queries("mysql")["session/init"].sql()
        try:
            pool = await asyncio.wait_for(aiomysql.create_pool(
                host=url.host,
                port=url.port,
                user=url.user,
                password=url.password,
                db=url.database or None,
                minsize=1,
                maxsize=pool_size,
                autocommit=True,
                charset="utf8mb4",
                init_command=init_command,
                connect_timeout=connect_timeout_s,
                client_flag=CLIENT.FOUND_ROWS,
                pool_recycle=3600,
            ), connect_timeout_s)  # aiomysql's connect_timeout bounds the TCP connect, not the server's greeting
        except TimeoutError:
            raise DatabaseError(f"cannot connect to {url.redacted()}: no answer within {connect_timeout_s:g} s"
                                ) from None
        except (pymysql.err.MySQLError, OSError) as exc:
            raise DatabaseError(f"cannot connect to {url.redacted()}: {_describe(exc)}") from None
        database = cls(pool, url, timeout_s)
        try:
            async with database.autocommit() as tx:
                wsrep = await tx.fetch_all("session/wsrep_on")
        except BaseException:
            await database.close()
            raise
        database.galera = any(str(row.get("Value", "")).upper() == "ON" for row in wsrep)
        return database

    async def _acquire(self) -> aiomysql.Connection:
        try:
            async with asyncio.timeout(self._timeout_s):
                conn = await self._pool.acquire()
        except TimeoutError:
            raise DatabaseError(f"no database connection within {self._timeout_s:g} s") from None
        except (pymysql.err.MySQLError, OSError) as exc:
            raise DatabaseError(f"cannot connect to {self.url.redacted()}: {_describe(exc)}") from None
        if self.galera and not getattr(conn, "monitor_causal_reads_set", False):
            try:
                await MySqlTransaction(conn, self._queries, self._timeout_s, self._count_statement).execute(
                    "session/causal_reads")
            except BaseException:
                conn.close()
                self._pool.release(conn)
                raise
            conn.monitor_causal_reads_set = True
        return conn

    async def _begin_once(self) -> tuple[aiomysql.Connection, MySqlTransaction]:
        conn = await self._acquire()
        tx = MySqlTransaction(conn, self._queries, self._timeout_s, self._count_statement)
        try:
            await tx.begin()
        except BaseException as exc:  # a cancelled BEGIN too: the connection goes back, closed, never lost
            conn.close()
            self._pool.release(conn)
            if isinstance(exc, DatabaseError) and tx.broken:
                raise _DeadConnection(exc.message) from None
            raise
        return conn, tx

    async def _begin(self) -> tuple[aiomysql.Connection, MySqlTransaction]:
        """A connection inside BEGIN. A pooled connection the server dropped while idle fails here, before
        any work was done: it is discarded and one more is tried."""
        try:
            return await self._begin_once()
        except _DeadConnection:
            log.warning("discarded a dead pooled MySQL connection")
            return await self._begin_once()

    @asynccontextmanager
    async def transaction(self) -> AsyncIterator[MySqlTransaction]:
        conn, tx = await self._begin()
        try:
            yield tx
            await tx.commit()
        except asyncio.CancelledError:
            tx.broken = True  # state unknown mid-statement: closing the connection rolls it back
            raise
        except BaseException:
            if not tx.broken:
                try:
                    await tx.rollback()
                except DatabaseError:
                    tx.broken = True
            raise
        finally:
            if tx.broken:
                conn.close()
            self._pool.release(conn)

    @asynccontextmanager
    async def autocommit(self) -> AsyncIterator[MySqlTransaction]:
        """Statements each autocommitted and safe to send twice (reads, idempotent writes); a connection found
        dead at the first is replaced once."""
        tx = MySqlTransaction(await self._acquire(), self._queries, self._timeout_s, self._count_statement,
                              self._replace_dead)
        try:
            yield tx
        except asyncio.CancelledError:
            tx.broken = True  # a statement may still be in flight on the connection: it cannot be reused
            raise
        finally:
            if tx.broken:
                tx.connection.close()
            self._pool.release(tx.connection)

    async def _replace_dead(self, dead: aiomysql.Connection) -> aiomysql.Connection:
        """A fresh connection in place of `dead`, which is released only once the fresh one is held (if the
        wait fails, the caller still holds `dead` and releases it as it would any broken connection)."""
        fresh = await self._acquire()
        dead.close()
        self._pool.release(dead)
        return fresh

    async def close(self) -> None:
        self._pool.close()
        await self._pool.wait_closed()
