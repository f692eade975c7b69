"""A MariaDB server of the test's own on one address, as a context manager, that counts what each client wrote.

Owns the server's process and files: a datadir under a temporary directory, listening on `host` (an address
of this machine, say the host side of a network namespace's veth pair) and a free port, so the machine's own
MariaDB (127.0.0.1:3306) is never touched. Root may connect from any address without a password. The binary
log and the server's per-client statistics (`userstat`) are on, so `writes_from(address)` says what the
clients connected from one address committed: the bytes of their transactions in the binary log (a
transaction that rolled back, a write the fence refused, writes nothing there). Leaving the block, or any
failure on the way in, kills the server and removes its files.
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
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType

import pymysql

from tests.cluster.galera import INSTALL_DB, MARIADBD, NODE_USER

DATADIR_PREFIX = "monitor-mariadb-"
"""The temporary directory of every such server: how `stray_servers` recognises one."""


def mariadb_missing_reason() -> str | None:
    """Why a MariaDB server of the test's own cannot run here, or None when it can."""
    for needed in (Path(MARIADBD), Path(INSTALL_DB)):
        if not needed.exists():
            return f"{needed} is missing (Debian: mariadb-server)"
    return None


@dataclass(frozen=True)
class ClientWrites:
    """What the clients from one address did, as the server counts it (`CLIENT_STATISTICS`)."""

    binlog_bytes: int
    """Bytes of their committed transactions in the binary log: what they wrote."""
    rows_changed: int
    """Rows they inserted, updated or deleted, in transactions that rolled back too."""


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

    def writes_from(self, address: str) -> ClientWrites:
        """What every connection from `address` committed since the server started (zeros if none came)."""
        with contextlib.closing(self.connect()) as connection, connection.cursor() as cursor:
            cursor.execute("SELECT BINLOG_BYTES_WRITTEN, ROWS_INSERTED + ROWS_UPDATED + ROWS_DELETED "
                           "FROM information_schema.CLIENT_STATISTICS WHERE CLIENT = %s", (address,))
            row = cursor.fetchone()
        return ClientWrites(int(row[0]), int(row[1])) if row else ClientWrites(0, 0)

    # --- the process ---------------------------------------------------------------------------------------

    def start(self) -> None:
        reason = mariadb_missing_reason()
        if reason is not None:
            raise RuntimeError(f"cannot start a MariaDB server: {reason}")
        self.root = Path(tempfile.mkdtemp(prefix=DATADIR_PREFIX))
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
            "server_id=1",
            f"log_bin={self.root / 'binlog'}",
            "binlog_format=ROW",
            "userstat=1",
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


def stray_servers() -> list[str]:
    """The mariadbd processes of such servers that still run (none, when all is well)."""
    found = subprocess.run(["pgrep", "-a", "mariadbd"], capture_output=True, text=True, check=False).stdout
    return [line for line in found.splitlines() if DATADIR_PREFIX in line]
