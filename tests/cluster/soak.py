"""The Galera soak's driving: two `run.py serve` replicas, each on its own node of the cluster, the paper broker
as a process, WebSocket clients of every user on both replicas and a strategy posting batches (the crash
test's `CrashRun` and `Clients`). The first replica takes every user; the second replica's node is killed and
restarted while both trade, then the first replica is killed and the second takes the users over. (Killing the
holder's node instead meets an open finding: the holder, cut off, writes its queued events after the new
holder's once its node is back, and the user's hash chain breaks; see docs/RELIABILITY.md.)

Owns the replicas, the faults and the timings it measures; the checks are `tests/soak/invariants`.
"""

from __future__ import annotations

import asyncio
import signal
import subprocess
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from tests.cluster.galera import GaleraCluster
from tests.soak.crash import ENTRY_PRICES, Clients, CrashPlan, CrashRun, free_port, start_serve
from tests.soak.invariants import mysql_rows

INTERVAL_S = 1.0
"""The replicas' cycle interval, which is also their lease's length (the crash test's config)."""


@dataclass
class GaleraFigures:
    node_killed: str = ""
    node_rejoined_by: str = ""
    node_down_s: float = 0.0
    replica_kill_to_every_user_held_s: float | None = None
    kills: list[datetime] = field(default_factory=list)
    """When a replica or a database node was killed (cycles cut short by one are allowed to lack their finish)."""


class Replica:
    def __init__(self, name: str, config: Path) -> None:
        self.name, self.config = name, config
        self.process = start_serve(config, config.parent / f"serve-{name}.log")

    @property
    def running(self) -> bool:
        return self.process.poll() is None

    def kill(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=30)

    def stop(self) -> int:
        """SIGTERM, and its exit code (-1 when it had already died)."""
        if not self.running:
            return -1
        self.process.send_signal(signal.SIGTERM)
        try:
            return self.process.wait(timeout=60)
        except subprocess.TimeoutExpired:
            self.process.kill()
            return self.process.wait(timeout=30)


class GaleraSoak(CrashRun):
    """The crash test's users, broker and clients, served by two replicas on two nodes of one cluster."""

    def __init__(self, cluster: GaleraCluster, database: str, workdir: Path, plan: CrashPlan) -> None:
        super().__init__(cluster.nodes[0].url(database), workdir, plan)
        self.cluster, self.database = cluster, database
        self.galera = GaleraFigures()
        self.configs = [self.config, workdir / "replica-2" / "monitor.toml"]
        self.configs[1].parent.mkdir()
        self.configs[1].write_text(self.config.read_text()
                                   .replace(cluster.nodes[0].url(database), cluster.nodes[1].url(database))
                                   .replace(f"port = {self.port}", f"port = {free_port()}"))
        self.replicas: list[Replica] = []
        self.all_clients: list[Clients] = []
        self.users_moved_before_the_replica_kill: list[str] = []
        """Leases not still the first replica's first (token 1) just before it is killed: none may be."""

    def start(self) -> None:
        """Both replicas up; every user's clients on the first, which takes every user, then on the second too."""
        for symbol, (instrument_id, price) in ENTRY_PRICES.items():
            self.sim("price", symbol=symbol, ltp=price, instrument_id=instrument_id)
        self.replicas = [Replica(f"r{n + 1}", config) for n, config in enumerate(self.configs)]
        asyncio.run(self._renew_sessions())  # the morning's logins, through the first replica
        self.sim("latency", min_ms=20, max_ms=100)
        for replica in self.replicas:
            url = f"http://127.0.0.1:{_port_of(replica.config)}"
            self.all_clients.append(Clients(url, self.tokens, self.accounts, self.plan.seed + len(self.all_clients)))
            if replica is self.replicas[0]:
                assert self.every_user_held((replica,), since=time.monotonic(), timeout_s=30, node=0) is not None
        self.clients = self.all_clients[0]

    def kill_and_restart_a_node(self, trade_s: float) -> None:
        """SIGKILL the second replica's node while both trade, restart it, let it rejoin."""
        node = self.cluster.nodes[1]
        time.sleep(trade_s)
        killed_at = time.monotonic()
        self.cluster.kill(node)
        self.galera.kills.append(datetime.now(UTC))
        self.galera.node_killed = node.name
        time.sleep(trade_s / 2)
        self.galera.node_rejoined_by = self.cluster.restart(node)
        self.galera.node_down_s = round(time.monotonic() - killed_at, 1)

    def kill_the_holding_replica(self, trade_s: float) -> None:
        """SIGKILL the first replica, which holds every user; the second takes them over."""
        time.sleep(trade_s)
        victim, survivor = self.replicas
        leases = mysql_rows(self.db, "SELECT user_id, owner, fencing_token FROM monitor_leases ORDER BY user_id")
        self.users_moved_before_the_replica_kill = [
            f"user {row['user_id']}: lease {row['fencing_token']} held by {row['owner']}" for row in leases
            if row["fencing_token"] != 1 or f":{victim.process.pid}:" not in row["owner"]]
        killed_at = time.monotonic()
        victim.kill()
        self.galera.kills.append(datetime.now(UTC))
        self.galera.replica_kill_to_every_user_held_s = self.every_user_held(
            (survivor,), since=killed_at, timeout_s=30, node=1)
        self.url = f"http://127.0.0.1:{_port_of(survivor.config)}"  # where the end of the run renews sessions

    def every_user_held(self, holders: tuple[Replica, ...], since: float, timeout_s: float, node: int) -> float | None:
        """Seconds from `since` until every user's lease is held, unexpired, by one of `holders` (read on
        `node`); None if that did not happen within `timeout_s`."""
        pids = [f":{replica.process.pid}:" for replica in holders]
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            try:
                rows = mysql_rows(self.cluster.nodes[node].url(self.database),
                                  "SELECT user_id, owner FROM monitor_leases WHERE expires_at > UTC_TIMESTAMP(6)")
            except Exception:  # the cluster is still settling its view: look again
                rows = []
            held = {row["user_id"] for row in rows if any(pid in row["owner"] for pid in pids)}
            if held >= set(self.tokens):
                return round(time.monotonic() - since, 2)
            time.sleep(0.05)
        return None

    def stop(self) -> int:
        """Stop the strategies and clients, then SIGTERM the replicas still running; the last one's exit code."""
        for clients in self.all_clients:
            clients.placing = False
        for clients in self.all_clients:
            self.figures.orders_placed.extend(clients.order_ids)
            self.figures.batch_requests_lost += clients.lost
            clients.close()
        self.all_clients = []
        codes = [replica.stop() for replica in self.replicas if replica.running]
        return codes[-1] if codes else -1


def _port_of(config: Path) -> int:
    return next(int(line.split("=")[1]) for line in config.read_text().splitlines() if line.startswith("port ="))
