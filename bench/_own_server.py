"""A MariaDB server of the benchmark's own, so that the server's global counters (SHOW GLOBAL STATUS) count the
benchmark's statements and nobody else's.

Owns the server's process and files: a datadir under a temporary directory, listening on 127.0.0.1 on a free port
(the machine's own MariaDB is not touched), root without a password, the server's default settings but for a
smaller buffer pool, and the binary log on in ROW format, as a Galera node or a replication source writes it, but
without each statement's text beside its rows (`binlog_annotate_row_events`, on by default): its bytes are the row
events a cluster carries of each write. Leaving the block, or a failure on the way in, kills the server
and removes its files. Needs Debian's `mariadb-server` (mariadbd, mariadb-install-db).
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
from pathlib import Path
from types import TracebackType

import pymysql

MARIADBD = shutil.which("mariadbd", path="/usr/sbin:/usr/bin") or "/usr/sbin/mariadbd"
INSTALL_DB = shutil.which("mariadb-install-db", path="/usr/bin:/usr/sbin") or "/usr/bin/mariadb-install-db"
SERVER_USER = "mysql"
"""The server's user when the benchmark runs as root (mariadbd refuses to run as root unless told to)."""


def missing_reason() -> str | None:
    """Why a server of the benchmark's own cannot run here, or None when it can."""
    for needed in (MARIADBD, INSTALL_DB):
        if not Path(needed).exists():
            return f"{needed} is missing (Debian: mariadb-server)"
    return None


class OwnServer:
    """`with OwnServer() as server:` a running MariaDB at 127.0.0.1:`server.port`, user root, no password."""

    host = "127.0.0.1"
    user = "root"

    def __init__(self, start_timeout_s: float = 60.0) -> None:
        self.start_timeout_s = start_timeout_s
        self.port = 0
        self.root: Path | None = None
        self.process: subprocess.Popen | None = None

    def __enter__(self) -> OwnServer:
        try:
            self.start()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 traceback: TracebackType | None) -> None:
        self.stop()

    def start(self) -> None:
        reason = missing_reason()
        if reason is not None:
            raise RuntimeError(f"cannot start a MariaDB server of the benchmark's own: {reason}")
        self.root = Path(tempfile.mkdtemp(prefix="bench-mariadb-"))
        self.root.chmod(0o755)
        with contextlib.closing(socket.socket()) as probe:
            probe.bind((self.host, 0))
            self.port = probe.getsockname()[1]
        (self.root / "data").mkdir()
        config = self.root / "server.cnf"
        config.write_text("\n".join((
            "[mysqld]",
            f"datadir={self.root / 'data'}",
            f"socket={self.root / 'server.sock'}",
            f"pid-file={self.root / 'server.pid'}",
            f"log-error={self.root / 'server.err'}",
            f"port={self.port}",
            f"bind-address={self.host}",
            *([f"user={SERVER_USER}"] if os.geteuid() == 0 else []),
            "skip-name-resolve",
            "character-set-server=utf8mb4",
            "collation-server=utf8mb4_general_ci",
            "performance_schema=OFF",
            "innodb_buffer_pool_size=64M",
            "server_id=1",
            f"log_bin={self.root / 'binlog'}",
            "binlog_format=ROW",
            "binlog_annotate_row_events=OFF",
            "",
        )))
        if os.geteuid() == 0:
            owner = pwd.getpwnam(SERVER_USER)
            for path in (self.root, *self.root.iterdir()):
                os.chown(path, owner.pw_uid, owner.pw_gid)
        subprocess.run([INSTALL_DB, f"--defaults-file={config}", "--skip-test-db",
                        "--auth-root-authentication-method=normal"], check=True, capture_output=True, timeout=120)
        self.process = subprocess.Popen([MARIADBD, f"--defaults-file={config}"], stdin=subprocess.DEVNULL,
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        deadline = time.monotonic() + self.start_timeout_s
        while True:
            try:
                connection = pymysql.connect(unix_socket=str(self.root / "server.sock"), user="root", autocommit=True)
                break
            except pymysql.err.OperationalError:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    log = (self.root / "server.err").read_text(errors="replace").splitlines()[-5:]
                    raise RuntimeError(f"mariadbd did not start: {' / '.join(log)}") from None
                time.sleep(0.1)
        with contextlib.closing(connection), connection.cursor() as cursor:
            cursor.execute(f"CREATE USER IF NOT EXISTS 'root'@'{self.host}'")
            cursor.execute(f"GRANT ALL ON *.* TO 'root'@'{self.host}' WITH GRANT OPTION")

    def stop(self) -> None:
        if self.process is not None:
            with contextlib.suppress(ProcessLookupError):
                self.process.kill()
            self.process.wait(timeout=30)
            self.process = None
        if self.root is not None:
            shutil.rmtree(self.root, ignore_errors=True)
            self.root = None
