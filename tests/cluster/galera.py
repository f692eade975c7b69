"""A real 3-node MariaDB Galera cluster on 127.0.0.1 for the cluster tests, as a context manager.

Owns its nodes' processes and files: three datadirs under one temporary directory, each node with its own
client, group-communication (gcomm), IST and SST ports on loopback, so the machine's own MariaDB (3306) is
never touched. The first node bootstraps the cluster (`--wsrep-new-cluster`), the others join it by state
transfer (rsync). A node can be killed (SIGKILL), restarted (its position recovered first, so it rejoins by
IST when the others still hold what it missed), paused (SIGSTOP) and resumed. Leaving the block, or any
failure on the way in, kills every node it started: no mariadbd is left behind.
"""

from __future__ import annotations

import contextlib
import os
import pwd
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType

import pymysql

GALERA_LIBRARY = Path("/usr/lib/galera/libgalera_smm.so")
MARIADBD = shutil.which("mariadbd", path="/usr/sbin:/usr/bin") or "/usr/sbin/mariadbd"
INSTALL_DB = shutil.which("mariadb-install-db", path="/usr/bin:/usr/sbin") or "/usr/bin/mariadb-install-db"
CLUSTER_SIZE = 3
NODE_USER = "mysql"
"""The nodes' user when the tests run as root: the rsync daemon of a state transfer started by root would
write as `nobody`, so the nodes drop to the server's own user, which owns their files."""
SYNCED = "Synced"


def galera_missing_reason() -> str | None:
    """Why a Galera cluster cannot run here, or None when it can."""
    for needed in (GALERA_LIBRARY, Path(MARIADBD), Path(INSTALL_DB)):
        if not needed.exists():
            return f"{needed} is missing (Debian: galera-4, mariadb-server)"
    if shutil.which("rsync") is None:
        return "rsync is missing (the nodes' state transfer)"
    return None


def _free_ports(count: int) -> list[int]:
    """`count` distinct ports that were free on 127.0.0.1 a moment ago."""
    probes = []
    try:
        for _ in range(count):
            probe = socket.socket()
            probe.bind(("127.0.0.1", 0))
            probes.append(probe)
        return [probe.getsockname()[1] for probe in probes]
    finally:
        for probe in probes:
            probe.close()


@dataclass
class GaleraNode:
    name: str
    datadir: Path
    port: int
    gcomm_port: int
    ist_port: int
    sst_port: int
    process: subprocess.Popen | None = field(default=None, repr=False)

    @property
    def config(self) -> Path:
        return self.datadir.parent / f"{self.name}.cnf"

    @property
    def error_log(self) -> Path:
        return self.datadir.parent / f"{self.name}.err"

    @property
    def socket_path(self) -> Path:
        return self.datadir.parent / f"{self.name}.sock"

    def url(self, database: str = "") -> str:
        return f"mysql://root@127.0.0.1:{self.port}/{database}"

    @property
    def running(self) -> bool:
        return self.process is not None and self.process.poll() is None

    def connect(self, database: str = "", timeout_s: float = 5.0) -> pymysql.Connection:
        return pymysql.connect(host="127.0.0.1", port=self.port, user="root", database=database or None,
                               autocommit=True, connect_timeout=timeout_s, read_timeout=timeout_s,
                               write_timeout=timeout_s)

    def status(self, *names: str) -> dict[str, str]:
        """The node's `wsrep_*` status variables named (all of them without names)."""
        with contextlib.closing(self.connect()) as connection, connection.cursor() as cursor:
            cursor.execute("SHOW GLOBAL STATUS LIKE 'wsrep%%'")
            rows = dict(cursor.fetchall())
        return {name: rows.get(name, "") for name in names} if names else rows

    def synced(self, cluster_size: int = CLUSTER_SIZE) -> bool:
        try:
            state = self.status("wsrep_local_state_comment", "wsrep_cluster_size", "wsrep_ready")
        except pymysql.err.MySQLError:
            return False
        return (state["wsrep_local_state_comment"] == SYNCED and state["wsrep_ready"] == "ON"
                and state["wsrep_cluster_size"] == str(cluster_size))


class GaleraCluster:
    """Three nodes on loopback; `with GaleraCluster() as cluster:` starts them all Synced in one cluster."""

    def __init__(self, *, start_timeout_s: float = 90.0) -> None:
        self.start_timeout_s = start_timeout_s
        self.root: Path | None = None
        self.nodes: list[GaleraNode] = []

    # --- the cluster ---------------------------------------------------------------------------------------

    def __enter__(self) -> GaleraCluster:
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
        reason = galera_missing_reason()
        if reason is not None:
            raise RuntimeError(f"cannot start a Galera cluster: {reason}")
        self.root = Path(tempfile.mkdtemp(prefix="galera-"))
        self.root.chmod(0o755)
        ports = _free_ports(4 * CLUSTER_SIZE)
        self.nodes = [GaleraNode(f"node{i + 1}", self.root / f"node{i + 1}", *ports[4 * i:4 * i + 4])
                      for i in range(CLUSTER_SIZE)]
        for node in self.nodes:
            node.datadir.mkdir()
            node.config.write_text(self._config(node))
        if os.geteuid() == 0:
            owner = pwd.getpwnam(NODE_USER)
            for path in (self.root, *self.root.iterdir()):
                os.chown(path, owner.pw_uid, owner.pw_gid)
        first = self.nodes[0]
        subprocess.run([INSTALL_DB, f"--defaults-file={first.config}", "--skip-test-db",
                        "--auth-root-authentication-method=normal"],
                       check=True, capture_output=True, timeout=120)
        self._launch(first, "--wsrep-new-cluster")
        self._wait(lambda: first.synced(1), f"{first.name} to bootstrap the cluster")
        with contextlib.closing(pymysql.connect(unix_socket=str(first.socket_path), user="root",
                                                autocommit=True)) as connection, connection.cursor() as cursor:
            cursor.execute("CREATE USER IF NOT EXISTS 'root'@'127.0.0.1'")
            cursor.execute("GRANT ALL ON *.* TO 'root'@'127.0.0.1' WITH GRANT OPTION")
        for node in self.nodes[1:]:
            self._launch(node)
            self._wait(lambda n=node: n.synced(self.nodes.index(n) + 1), f"{node.name} to join")
        self.wait_synced()

    def stop(self) -> None:
        """Kill every node this cluster started and remove its files."""
        for node in self.nodes:
            if node.process is not None:
                with contextlib.suppress(ProcessLookupError):
                    node.process.send_signal(signal.SIGCONT)  # a paused node dies on SIGKILL as well, but reap it
                with contextlib.suppress(ProcessLookupError):
                    node.process.kill()
                node.process.wait(timeout=30)
        if self.root is not None:
            shutil.rmtree(self.root, ignore_errors=True)
            self.root = None

    def wait_synced(self, timeout_s: float | None = None) -> None:
        """Until every node is Synced in a cluster of all three."""
        self._wait(lambda: all(node.synced() for node in self.nodes), "every node to be Synced in one cluster",
                   timeout_s)

    # --- faults ----------------------------------------------------------------------------------------------

    def kill(self, node: GaleraNode) -> None:
        """SIGKILL: the node dies with no goodbye to the cluster, its InnoDB and Galera state not shut down."""
        assert node.process is not None
        node.process.kill()
        node.process.wait(timeout=30)

    def restart(self, node: GaleraNode) -> str:
        """Start a dead node again: its last committed position is recovered, then it rejoins (by IST when
        another node still has every write set it missed, else by SST). How it joined: "IST" or "SST"."""
        assert not node.running, f"{node.name} still runs"
        log_start = node.error_log.stat().st_size if node.error_log.exists() else 0
        position = self._recovered_position(node)
        self._launch(node, *([f"--wsrep-start-position={position}"] if position else []))
        self.wait_synced()
        log = node.error_log.read_bytes()[log_start:].decode(errors="replace")
        return "IST" if "Receiving IST" in log else "SST"

    def pause(self, node: GaleraNode) -> None:
        """SIGSTOP: the node is frozen, its sockets open; the others evict it after the suspect timeout."""
        assert node.process is not None
        node.process.send_signal(signal.SIGSTOP)

    def resume(self, node: GaleraNode) -> None:
        assert node.process is not None
        node.process.send_signal(signal.SIGCONT)

    # --- inside ----------------------------------------------------------------------------------------------

    def _config(self, node: GaleraNode) -> str:
        members = ",".join(f"127.0.0.1:{n.gcomm_port}" for n in self.nodes)
        provider_options = "; ".join((
            f"gmcast.listen_addr=tcp://127.0.0.1:{node.gcomm_port}",
            f"ist.recv_addr=127.0.0.1:{node.ist_port}",
            "gcache.size=64M",
            "gcache.page_size=16M",
            "evs.suspect_timeout=PT3S",
            "evs.inactive_timeout=PT6S",
            "evs.install_timeout=PT6S",
        ))
        return "\n".join((
            "[mysqld]",
            f"datadir={node.datadir}",
            f"socket={node.socket_path}",
            f"pid-file={node.datadir.parent / node.name}.pid",
            f"log-error={node.error_log}",
            f"port={node.port}",
            "bind-address=127.0.0.1",
            *([f"user={NODE_USER}"] if os.geteuid() == 0 else []),
            "skip-name-resolve",
            "character-set-server=utf8mb4",
            "collation-server=utf8mb4_general_ci",
            "performance_schema=OFF",
            "innodb_buffer_pool_size=32M",
            "innodb_log_file_size=16M",
            "max_connections=200",
            "binlog_format=ROW",
            "default_storage_engine=InnoDB",
            "innodb_autoinc_lock_mode=2",
            "innodb_flush_log_at_trx_commit=2",
            "wsrep_on=ON",
            f"wsrep_provider={GALERA_LIBRARY}",
            f'wsrep_provider_options="{provider_options}"',
            "wsrep_cluster_name=monitor_test",
            f"wsrep_cluster_address=gcomm://{members}",
            f"wsrep_node_name={node.name}",
            "wsrep_node_address=127.0.0.1",
            f"wsrep_sst_receive_address=127.0.0.1:{node.sst_port}",
            "wsrep_sst_method=rsync",
            "wsrep_slave_threads=2",
            "",
        ))

    def _launch(self, node: GaleraNode, *arguments: str) -> None:
        node.process = subprocess.Popen([MARIADBD, f"--defaults-file={node.config}", *arguments],
                                        stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                                        stderr=subprocess.DEVNULL, start_new_session=True)

    def _recovered_position(self, node: GaleraNode) -> str | None:
        """`uuid:seqno` of the node's last committed write set, as `mariadbd --wsrep-recover` finds it."""
        recovery_log = node.datadir.parent / f"{node.name}.recover.err"
        subprocess.run([MARIADBD, f"--defaults-file={node.config}", "--wsrep-recover",
                        f"--log-error={recovery_log}"], capture_output=True, timeout=120, check=False)
        found = re.findall(r"WSREP: Recovered position: (\S+:-?\d+)",
                           recovery_log.read_text(errors="replace") if recovery_log.exists() else "")
        return found[-1] if found and not found[-1].endswith(":-1") else None

    def _wait(self, done, what: str, timeout_s: float | None = None) -> None:
        deadline = time.monotonic() + (timeout_s or self.start_timeout_s)
        while not done():
            for node in self.nodes:
                if node.process is not None and node.process.poll() is not None and node.process.returncode != -9:
                    raise RuntimeError(f"{node.name} exited ({node.process.returncode}) waiting for {what}: "
                                       f"{_tail(node.error_log)}")
            if time.monotonic() > deadline:
                raise TimeoutError(f"waited {timeout_s or self.start_timeout_s:g} s for {what}: "
                                   + " | ".join(f"{n.name}: {_tail(n.error_log, 3)}" for n in self.nodes))
            time.sleep(0.2)


def _tail(path: Path, lines: int = 10) -> str:
    with contextlib.suppress(OSError):
        return " / ".join(path.read_text(errors="replace").splitlines()[-lines:])
    return "(no log)"


def stray_nodes() -> list[str]:
    """The mariadbd processes started from a rig's temporary directory that still run (none, when all is well)."""
    found = subprocess.run(["pgrep", "-a", "mariadbd"], capture_output=True, text=True, check=False).stdout
    return [line for line in found.splitlines() if "galera-" in line]

