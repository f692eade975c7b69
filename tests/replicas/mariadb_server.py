"""A MariaDB server of the test's own on one address (`bench/_own_server.py`'s `OwnServer`, tuned small), as a
context manager, that can say who wrote what.

It listens on `host` (an address of this machine, say the host side of a network namespace's veth pair) and a
free port, so the machine's own MariaDB (127.0.0.1:3306) is never touched; root may connect from any address
without a password. `record_writes(database)` adds triggers to every table of a database that log each row
inserted, changed or deleted with the address of the client that did it, inside the writing transaction: a
write that rolled back, or that the fence refused, leaves no trace, and one that committed always does.
`writes(database, client, after)` counts them per table.
"""

from __future__ import annotations

import contextlib
import uuid

import pymysql

from bench._own_server import OwnServer, missing_reason

WRITE_LOG = "row_writes"
"""The table `record_writes` logs into (a table of the test's database, which the service never reads)."""


def mariadb_missing_reason() -> str | None:
    """Why a MariaDB server of the test's own cannot run here, or None when it can."""
    return missing_reason()


class MariaDbServer(OwnServer):
    """`with MariaDbServer(host) as server:` a running server at `server.url(database)`."""

    def __init__(self, host: str, *, start_timeout_s: float = 60.0) -> None:
        super().__init__(host, settings=_SETTINGS, start_timeout_s=start_timeout_s)

    def url(self, database: str = "") -> str:
        return f"mysql://root@{self.host}:{self.port}/{database}"

    def connect(self, database: str = "") -> pymysql.Connection:
        return pymysql.connect(host=self.host, port=self.port, user="root", database=database or None,
                               autocommit=True, connect_timeout=5, read_timeout=10, write_timeout=10)

    def create_database(self) -> str:
        """A fresh database's URL (the server lives for one test, so it is never dropped)."""
        name = f"monitor_test_{uuid.uuid4().hex[:16]}"
        with contextlib.closing(self.connect()) as connection, connection.cursor() as cursor:
            cursor.execute(f"CREATE DATABASE `{name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_bin")
        return self.url(name)

    def record_writes(self, database_url: str) -> None:
        """From now on, log every row any client inserts, changes (a column's value, not a rewrite of the same
        values) or deletes in the database's tables, in `row_writes`, with the client's address."""
        database = database_url.rsplit("/", 1)[1]
        with contextlib.closing(self.connect(database)) as connection, connection.cursor() as cursor:
            cursor.execute(f"CREATE TABLE `{WRITE_LOG}` (id BIGINT AUTO_INCREMENT PRIMARY KEY, "
                           "client VARCHAR(64) NOT NULL, table_name VARCHAR(64) NOT NULL)")
            cursor.execute("SELECT TABLE_NAME, GROUP_CONCAT(COLUMN_NAME) FROM information_schema.COLUMNS "
                           "WHERE TABLE_SCHEMA = %s AND TABLE_NAME <> %s GROUP BY TABLE_NAME", (database, WRITE_LOG))
            for table, columns in cursor.fetchall():
                log_row = (f"INSERT INTO `{WRITE_LOG}` (client, table_name) "
                           f"VALUES (SUBSTRING_INDEX(USER(), '@', -1), '{table}')")
                unchanged = " AND ".join(f"OLD.`{column}` <=> NEW.`{column}`" for column in columns.split(","))
                cursor.execute(f"CREATE TRIGGER `{table}_inserted` AFTER INSERT ON `{table}` FOR EACH ROW {log_row}")
                cursor.execute(f"CREATE TRIGGER `{table}_changed` AFTER UPDATE ON `{table}` FOR EACH ROW "
                               f"IF NOT ({unchanged}) THEN {log_row}; END IF")
                cursor.execute(f"CREATE TRIGGER `{table}_deleted` AFTER DELETE ON `{table}` FOR EACH ROW {log_row}")

    def last_write(self, database_url: str) -> int:
        """A mark in the write log: `writes(..., after=mark)` counts only what was logged since."""
        with contextlib.closing(self.connect(database_url.rsplit("/", 1)[1])) as connection, \
                connection.cursor() as cursor:
            cursor.execute(f"SELECT COALESCE(MAX(id), 0) FROM `{WRITE_LOG}`")
            return int(cursor.fetchone()[0])

    def writes(self, database_url: str, client: str, after: int = 0) -> dict[str, int]:
        """Rows the clients from address `client` wrote since the mark `after` and committed, per table."""
        with contextlib.closing(self.connect(database_url.rsplit("/", 1)[1])) as connection, \
                connection.cursor() as cursor:
            cursor.execute(f"SELECT table_name, COUNT(*) FROM `{WRITE_LOG}` WHERE client = %s AND id > %s "
                           "GROUP BY table_name ORDER BY table_name", (client, after))
            return {table: int(count) for table, count in cursor.fetchall()}


_SETTINGS = ("innodb_buffer_pool_size=32M", "innodb_log_file_size=16M", "innodb_flush_log_at_trx_commit=2",
             "max_connections=200")
