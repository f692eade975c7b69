"""A MariaDB server of a benchmark's or a test's own, as a context manager: its global counters (SHOW GLOBAL STATUS)
count its client's statements and nobody else's, and it may listen on any address of this machine (the host side
of a test's network namespace, say).

Owns the server's process and files: a datadir under a temporary directory, listening on `host` and a free port
(the machine's own MariaDB is not touched), root from any address without a password, the server's default
settings but for a small buffer pool and the caller's `settings` (`{root}` in them stands for the temporary
directory). Leaving the block, or a failure on the way in, kills the server and removes its files. Needs Debian's
`mariadb-server` (mariadbd, mariadb-install-db).
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
from collections.abc import Sequence
from pathlib import Path
from types import TracebackType

import pymysql

MARIADBD = shutil.which("mariadbd", path="/usr/sbin:/usr/bin") or "/usr/sbin/mariadbd"
INSTALL_DB = shutil.which("mariadb-install-db", path="/usr/bin:/usr/sbin") or "/usr/bin/mariadb-install-db"
SERVER_USER = "mysql"
"""The server's user when run as root (mariadbd refuses to run as root unless told to)."""
ROW_BINARY_LOG = ("server_id=1", "log_bin={root}/binlog", "binlog_format=ROW", "binlog_annotate_row_events=OFF")
"""The binary log in ROW format, as a Galera node or a replication source writes it, without each statement's text
beside its rows: its bytes are the row events a cluster carries of each write."""


def missing_reason() -> str | None:
    """Why a server of one's own cannot run here, or None when it can."""
    for needed in (MARIADBD, INSTALL_DB):
        if not Path(needed).exists():
            return f"{needed} is missing (Debian: mariadb-server)"
    return None


class OwnServer:
    """`with OwnServer() as server:` a running MariaDB at `server.host`:`server.port`, user root, no password."""

    user = "root"

    def __init__(self, host: str = "127.0.0.1", *, settings: Sequence[str] = ("innodb_buffer_pool_size=64M",),
                 start_timeout_s: float = 60.0) -> None:
        self.host = host
        self.settings = tuple(settings)
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

    @property
    def config(self) -> Path:
        assert self.root is not None
        return self.root / "server.cnf"

    @property
    def error_log(self) -> Path:
        assert self.root is not None
        return self.root / "server.err"

    def start(self) -> None:
        reason = missing_reason()
        if reason is not None:
            raise RuntimeError(f"cannot start a MariaDB server of one's own: {reason}")
        self.root = Path(tempfile.mkdtemp(prefix="own-mariadb-"))
        self.root.chmod(0o755)
        with contextlib.closing(socket.socket()) as probe:
            probe.bind((self.host, 0))
            self.port = probe.getsockname()[1]
        (self.root / "data").mkdir()
        self.config.write_text(self._config())
        if os.geteuid() == 0:
            owner = pwd.getpwnam(SERVER_USER)
            for path in (self.root, *self.root.iterdir()):
                os.chown(path, owner.pw_uid, owner.pw_gid)
        subprocess.run([INSTALL_DB, f"--defaults-file={self.config}", "--skip-test-db",
                        "--auth-root-authentication-method=normal"], check=True, capture_output=True, timeout=120)
        self.process = subprocess.Popen([MARIADBD, f"--defaults-file={self.config}"], stdin=subprocess.DEVNULL,
                                        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)
        deadline = time.monotonic() + self.start_timeout_s
        while True:
            try:
                connection = pymysql.connect(unix_socket=str(self.root / "server.sock"), user="root", autocommit=True)
                break
            except pymysql.err.OperationalError:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"mariadbd did not start on {self.host}:{self.port}: "
                                       f"{self._log_tail()}") from None
                time.sleep(0.1)
        with contextlib.closing(connection), connection.cursor() as cursor:
            cursor.execute("CREATE USER IF NOT EXISTS 'root'@'%'")
            cursor.execute("GRANT ALL ON *.* TO 'root'@'%' WITH GRANT OPTION")

    def stop(self) -> None:
        """Kill the server (its data goes with it) and remove its files."""
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
            *([f"user={SERVER_USER}"] if os.geteuid() == 0 else []),
            "skip-name-resolve",
            "character-set-server=utf8mb4",
            "collation-server=utf8mb4_general_ci",
            "performance_schema=OFF",
            *(setting.format(root=self.root) for setting in self.settings),
            "",
        ))

    def _log_tail(self, lines: int = 10) -> str:
        with contextlib.suppress(OSError):
            return " / ".join(self.error_log.read_text(errors="replace").splitlines()[-lines:])
        return "(no log)"
