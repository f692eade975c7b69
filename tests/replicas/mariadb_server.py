"""A MariaDB server of the test's own on one address, as a context manager, that can say who wrote what.

Owns the server's process and files: a datadir under a temporary directory, listening on `host` (an address
of this machine, say the host side of a network namespace's veth pair) and a free port, so the machine's own
MariaDB (127.0.0.1:3306) is never touched. Root may connect from any address without a password.
`record_writes(database)` adds triggers to every table of a database that log each row inserted, changed or
deleted with the address of the client that did it, inside the writing transaction: a write that rolled
back, or that the fence refused, leaves no trace, and one that committed always does. `writes(database,
client, after)` counts them per table. Leaving the block, or any failure on the way in, kills the server and
removes its files.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
import uuid
from pathlib import Path
from types import TracebackType

import pymysql

from tests.cluster.galera import INSTALL_DB, MARIADBD, NODE_USER

WRITE_LOG = "row_writes"
"""The table `record_writes` logs into (a table of the test's database, which the service never reads)."""


def mariadb_missing_reason() -> str | None:
    """Why a MariaDB server of the test's own cannot run here, or None when it can."""
    for needed in (Path(MARIADBD), Path(INSTALL_DB)):
        if not needed.exists():
            return f"{needed} is missing (Debian: mariadb-server)"
    return None


class MariaDbServer:
    """`with MariaDbServer(host) as server:` a running server at `server.url(database)`."""

    def __init__(self, host: str, *, start_timeout_s: float = 60.0) -> None:
        self.host = host
        self.start_timeout_s = start_timeout_s
        self.port = 0
        self.root: Path | None = None
        self.process: subprocess.Popen | None = None

    def __enter__(self) -> MariaDbServer:
        try:
            self.start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 traceback: TracebackType | None) -> None:
        self.stop()

    @property
    def config(self) -> Path:
        assert self.root is not None
        return self.root / "server.cnf"

    @property
    def error_log(self) -> Path:
        assert self.root is not None
        return self.root / "server.err"

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

    # --- the process ---------------------------------------------------------------------------------------

    def start(self) -> None:
        reason = mariadb_missing_reason()
        if reason is not None:
            raise RuntimeError(f"cannot start a MariaDB server: {reason}")
        self.root = Path(tempfile.mkdtemp(prefix="monitor-mariadb-"))
        self.root.chmod(0o755)
        self.port = _free_port(self.host)
        (self.root / "data").mkdir()
        self.config.write_text(self._config())
        if os.geteuid() == 0:
            owner = pwd.getpwnam(NODE_USER)
            for path in (self.root, *self.root.iterdir()):
                os.chown(path, owner.pw_uid, owner.pw_gid)
        subprocess.run([INSTALL_DB, f"--defaults-file={self.config}", "--skip-test-db",
                        "--auth-root-authentication-method=normal"], check=True, capture_output=True, timeout=120)
        self.process = subprocess.Popen([MARIADBD, f"--defaults-file={self.config}"], stdin=subprocess.DEVNULL,
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                        start_new_session=True)
        deadline = time.monotonic() + self.start_timeout_s
        while True:
            try:
                connection = pymysql.connect(unix_socket=str(self.root / "server.sock"), user="root",
                                             autocommit=True)
                break
            except pymysql.err.OperationalError:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"mariadbd did not start on {self.host}:{self.port}: "
                                       f"{_tail(self.error_log)}") from None
                time.sleep(0.1)
        with contextlib.closing(connection), connection.cursor() as cursor:
            cursor.execute("CREATE USER IF NOT EXISTS 'root'@'%'")
            cursor.execute("GRANT ALL ON *.* TO 'root'@'%' WITH GRANT OPTION")

    def stop(self) -> None:
        """Kill the server (its data is the test's and goes with it) and remove its files."""
        if self.process is not None:
            with contextlib.suppress(ProcessLookupError):
                self.process.kill()
            self.process.wait(timeout=30)
            self.process = None
        if self.root is not None:
            shutil.rmtree(self.root, ignore_errors=True)
            self.root = None

    def _config(self) -> str:
        assert self.root is not None
        return "\n".join((
            "[mysqld]",
            f"datadir={self.root / 'data'}",
            f"socket={self.root / 'server.sock'}",
            f"pid-file={self.root / 'server.pid'}",
            f"log-error={self.error_log}",
            f"port={self.port}",
            f"bind-address={self.host}",
            *([f"user={NODE_USER}"] if os.geteuid() == 0 else []),
            "skip-name-resolve",
            "character-set-server=utf8mb4",
            "collation-server=utf8mb4_general_ci",
            "performance_schema=OFF",
            "innodb_buffer_pool_size=32M",
            "innodb_log_file_size=16M",
            "innodb_flush_log_at_trx_commit=2",
            "max_connections=200",
            "",
        ))


def _free_port(host: str) -> int:
    with socket.socket() as probe:
        probe.bind((host, 0))
        return probe.getsockname()[1]


def _tail(path: Path, lines: int = 10) -> str:
    with contextlib.suppress(OSError):
        return " / ".join(path.read_text(errors="replace").splitlines()[-lines:])
    return "(no log)"
