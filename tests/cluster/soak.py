"""The Galera soak's driving: two `run.py serve` replicas, each on its own node of the cluster, the paper broker
as a process, WebSocket clients of every user on both replicas and a strategy posting batches (the crash
test's `CrashRun` and `Clients`). The first replica takes every user; the second replica's node is killed and
restarted while both trade; then the first replica's own node is killed, so the second takes the users over
once their leases run out, and the node is restarted (the first replica, back on it, writes the events it
had queued after the second's); then the replica holding the users, now the second, is killed and the first
takes them back.

Owns the replicas, the faults and the timings it measures; the checks are `tests/soak/invariants`.
"""

from __future__ import annotations

import asyncio
import signal
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path

from tests.cluster.galera import GaleraCluster, GaleraNode
from tests.soak.crash import ENTRY_PRICES, Clients, CrashPlan, CrashRun, free_port, start_serve, stop_serve
from tests.soak.invariants import mysql_rows

INTERVAL_S = 1.0
"""The replicas' cycle interval (the crash test's config)."""
NODE_EVICTION_S = 6.0
"""How long the cluster may take to leave a killed node out of its view (the rig's `evs.inactive_timeout`)."""


@dataclass
class NodeKill:
    node: str = ""
    rejoined_by: str = ""
    down_s: float = 0.0


@dataclass
class GaleraFigures:
    standby_node: NodeKill = field(default_factory=NodeKill)
    holder_node: NodeKill = field(default_factory=NodeKill)
    holder_leases_left_at_the_node_kill_s: float = 0.0
    """How long the leases of the holding replica had still to run when its node was killed, at the most."""
    holder_node_kill_to_every_user_held_s: float | None = None
    """From the kill of the holding replica's node until the other replica held every user."""
    replica_kill_to_every_user_held_s: float | None = None
    kills: list[datetime] = field(default_factory=list)
    """When a replica or a database node was killed (cycles cut short by one are allowed to lack their finish)."""
    cut_offs: list[tuple[datetime, datetime]] = field(default_factory=list)
    """When the holding replica's node was killed, and when its leases had run out at the latest (its cycles
    begun until then may still run when the other replica has taken over)."""


class Replica:
    def __init__(self, name: str, config: Path) -> None:
        self.name, self.config, self.log = name, config, config.parent / f"serve-{name}.log"
        self.process = start_serve(config, self.log)

    @property
    def running(self) -> bool:
        return self.process.poll() is None

    def kill(self) -> None:
        self.process.send_signal(signal.SIGKILL)
        self.process.wait(timeout=30)

    def stop(self) -> int:
        """SIGTERM, and its exit code (-1 when it had already died)."""
        return stop_serve(self.process)


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
        self.users_moved_by_the_standby_node_kill: list[str] = []
        """Leases not still the first replica's first (token 1) once the standby's node is back: none may be."""
        self.users_not_held_before_the_replica_kill: list[str] = []
        """Leases not the second replica's (token 2) just before it is killed: none may be."""

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

    def kill_and_restart_the_standbys_node(self, trade_s: float) -> None:
        """SIGKILL the second replica's node while both trade (the first holds every user), restart it, let it
        rejoin; then every lease must still be the first replica's first."""
        time.sleep(trade_s)
        self._kill_and_restart(self.cluster.nodes[1], self.galera.standby_node, down_s=trade_s / 2)
        time.sleep(trade_s / 2)
        self.users_moved_by_the_standby_node_kill = self._leases_not_held_by(self.replicas[0], token=1, node=2)

    def kill_and_restart_the_holders_node(self, trade_s: float) -> None:
        """SIGKILL the first replica's node while it holds every user: cut off, its leases run out and the second
        replica takes every user over. Restart the node once it has, and trade on: the first replica, back, finds
        its users taken and writes the events it could not write meanwhile."""
        time.sleep(trade_s)
        node = self.cluster.nodes[0]
        killed_at = time.monotonic()
        self._kill(node, self.galera.holder_node)
        cut = self.galera.kills[-1]
        leases_out = self._leases_run_out(self.replicas[0])
        self.galera.cut_offs.append((cut, leases_out))
        self.galera.holder_leases_left_at_the_node_kill_s = round((leases_out - cut).total_seconds(), 2)
        self.galera.holder_node_kill_to_every_user_held_s = self.every_user_held(
            (self.replicas[1],), since=killed_at, timeout_s=60, node=1)
        time.sleep(max(0.0, killed_at + trade_s / 2 - time.monotonic()))
        self._restart(node, self.galera.holder_node, killed_at)
        time.sleep(trade_s)

    def kill_the_holding_replica(self, trade_s: float) -> None:
        """SIGKILL the second replica, which holds every user now; the first takes them back."""
        time.sleep(trade_s)
        survivor, victim = self.replicas
        self.users_not_held_before_the_replica_kill = self._leases_not_held_by(victim, token=2, node=2)
        killed_at = time.monotonic()
        victim.kill()
        self.galera.kills.append(datetime.now(UTC))
        self.galera.replica_kill_to_every_user_held_s = self.every_user_held(
            (survivor,), since=killed_at, timeout_s=30, node=0)
        self.url = f"http://127.0.0.1:{_port_of(survivor.config)}"  # where the end of the run renews sessions

    def _kill_and_restart(self, node: GaleraNode, figures: NodeKill, down_s: float) -> None:
        killed_at = time.monotonic()
        self._kill(node, figures)
        time.sleep(down_s)
        self._restart(node, figures, killed_at)

    def _kill(self, node: GaleraNode, figures: NodeKill) -> None:
        self.cluster.kill(node)
        self.galera.kills.append(datetime.now(UTC))
        figures.node = node.name

    def _restart(self, node: GaleraNode, figures: NodeKill, killed_at: float) -> None:
        figures.rejoined_by = self.cluster.restart(node)
        figures.down_s = round(time.monotonic() - killed_at, 1)

    def _leases_run_out(self, replica: Replica) -> datetime:
        """When the last of `replica`'s leases runs out, as the third node (no replica's) has them now."""
        [row] = mysql_rows(self.cluster.nodes[2].url(self.database),
                           "SELECT MAX(expires_at) AS leases_out FROM monitor_leases WHERE owner LIKE %s",
                           (f"%:{replica.process.pid}:%",))
        return row["leases_out"].replace(tzinfo=UTC)

    def _leases_not_held_by(self, replica: Replica, token: int, node: int) -> list[str]:
        """Each user whose lease (read on `node`) is not `replica`'s with fencing token `token`, in words."""
        leases = mysql_rows(self.cluster.nodes[node].url(self.database),
                            "SELECT user_id, owner, fencing_token FROM monitor_leases ORDER BY user_id")
        return [f"user {row['user_id']}: lease {row['fencing_token']} held by {row['owner']}" for row in leases
                if row["fencing_token"] != token or f":{replica.process.pid}:" not in row["owner"]]

    def log_lines(self, containing: str) -> int:
        """Lines of the replicas' logs that contain `containing`."""
        return sum(line.count(containing) for replica in self.replicas for line in replica.log.read_text().splitlines())

    def events_stored_late(self) -> int:
        """Events stored after an event of their user stamped at least a second later: events a replica wrote
        after another replica's, once it could (the first replica's, queued while its node was down)."""
        latest: dict[int, datetime] = {}
        late = 0
        for row in mysql_rows(self.db, "SELECT user_id, at FROM monitor_events ORDER BY user_id, seq"):
            before = latest.get(row["user_id"], row["at"])
            late += row["at"] <= before - timedelta(seconds=1)
            latest[row["user_id"]] = max(before, row["at"])
        return late

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
