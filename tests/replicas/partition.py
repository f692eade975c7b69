"""The partition's driving: a `run.py serve` replica cut off from the database across a real network boundary
while it holds its users and trades, and a second replica that takes them over.

Replica A runs inside a network namespace of the test's own (`netns`), replica B on the host; both reach a
MariaDB server of the test's own (`mariadb_server`) and the paper broker (its own process), both listening on
the host side of the namespace's veth pair. Every user's WebSocket clients connect to A first, so A takes
every user, then to B; a strategy posts entries with stop-loss and take-profit prices to both (the crash
test's `Clients`, here keeping every frame they receive), so A's cycles keep placing stop-losses and
take-profits. Then every packet between A and the database is dropped, the broker still reachable, for
longer than A's lease; the path is restored once B has held every user for a while.

Owns the processes, the cut and the moments it measures; the checks are `tests/soak/invariants`' and the
test's. The broker's journal tells A's requests from B's by the address they came from.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import signal
import subprocess
import sys
import time
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp

from adapters.store.factory import connect_store, migrate_url
from tests import paper_sim
from tests.replicas.mariadb_server import MariaDbServer
from tests.replicas.netns import NetworkNamespace
from tests.soak.crash import ENTRY_PRICES, ENV, ROOT, Clients, at_the_broker, stop_serve
from tests.soak.invariants import mysql_rows, two_cycles_each

INTERVAL_S = 1.0
"""The replicas' cycle interval (their lease is the shortest the service allows with a 1 s call timeout)."""


class RecordingClients(Clients):
    """The crash test's clients and strategy, keeping every frame each user's connection received, with when."""

    def __init__(self, url: str, tokens: dict[int, str], accounts: dict[int, list[int]], seed: int) -> None:
        self.frames: dict[int, list[tuple[datetime, dict[str, Any]]]] = defaultdict(list)
        self._user_of = {token: user_id for user_id, token in tokens.items()}
        super().__init__(url, tokens, accounts, seed)

    async def _keep_connected(self, http: aiohttp.ClientSession, token: str) -> None:
        while True:
            with contextlib.suppress(aiohttp.ClientError, OSError, asyncio.TimeoutError):
                async with http.ws_connect(f"{self.url.replace('http', 'ws')}/ws?token={token}") as ws:
                    async for message in ws:
                        if message.type == aiohttp.WSMsgType.TEXT:
                            self.frames[self._user_of[token]].append((datetime.now(UTC), json.loads(message.data)))
            await asyncio.sleep(0.1)

    def cycles_started(self, user_id: int) -> list[dict[str, Any]]:
        return [frame for _, frame in list(self.frames[user_id]) if frame["type"] == "cycle_started"]


@dataclass
class Replica:
    name: str
    process: subprocess.Popen
    log: Path
    url: str = ""

    @property
    def stopped(self) -> bool:
        """Whether the process is stopped by a signal (state T)."""
        stat = Path(f"/proc/{self.process.pid}/stat").read_text()
        return stat[stat.rindex(")") + 2] == "T"

    def stop(self) -> int:
        """SIGTERM (after a SIGCONT, should it be stopped), and its exit code (-1 when it had already ended)."""
        return stop_serve(self.process)


@dataclass
class PartitionFigures:
    cut_at: datetime | None = None
    restored_at: datetime | None = None
    lease_ends: dict[int, datetime] = field(default_factory=dict)
    """Each user's lease of A as it stood once A was cut off: when it ran out."""
    taken_over_at: dict[int, datetime] = field(default_factory=dict)
    """When B was first seen holding each user's lease."""
    write_mark: int = 0
    """The database's write log once A was cut off: what came after is counted from here."""
    rows_written_by_a: dict[str, int] = field(default_factory=dict)
    """What A had written by then, per table."""
    packets_dropped: int = 0


class PartitionRun:
    """Two replicas, one of them in `namespace`, on a database of `server`; see the module's docstring."""

    def __init__(self, namespace: NetworkNamespace, server: MariaDbServer, workdir: Path, *, users: int,
                 accounts_per_user: int, seed: int, a_environment: dict[str, str] | None = None) -> None:
        self.namespace, self.server, self.workdir = namespace, server, workdir
        self.a_environment = a_environment or {}
        """Variables added to A's environment (the send guard's test-only pause point, say)."""
        self.users, self.accounts_per_user, self.seed = users, accounts_per_user, seed
        self.db = server.create_database()
        self.figures = PartitionFigures()
        self.paper_process = subprocess.Popen(
            [sys.executable, str(ROOT / "run.py"), "paper-broker", "--host", namespace.host_address, "--port", "0",
             "--seed", str(seed)], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=ENV)
        self.paper_url = self.paper_process.stdout.readline().split(" at ")[1].split(" ")[0]
        self.tokens, self.accounts, self.client_of = asyncio.run(self._given_users())
        server.record_writes(self.db)
        self.replicas: dict[str, Replica] = {}
        self.clients: dict[str, RecordingClients] = {}
        self.orders_placed: list[int] = []

    async def _given_users(self) -> tuple[dict[int, str], dict[int, list[int]], dict[str, int]]:
        """Each user with XTS accounts at the paper broker; the tokens, account ids, and whose each client id is."""
        await migrate_url(self.db)
        store = await connect_store(self.db)
        tokens, accounts, client_of = {}, {}, {}
        try:
            for u in range(self.users):
                user_id, tokens[user_id] = await store.add_user(f"cut{u}")
                accounts[user_id] = []
                for a in range(self.accounts_per_user):
                    client_id = f"P{u}A{a}"
                    accounts[user_id].append(await store.add_account(
                        user_id, "paper", self.paper_url, client_id, app_key=client_id, secret_key=f"cut-{u}-{a}"))
                    client_of[client_id] = user_id
        finally:
            await store.close()
        return tokens, accounts, client_of

    # --- the run ---------------------------------------------------------------------------------------

    def start(self) -> None:
        """A (inside) and B (outside) up; every user's clients on A, which takes every user, then on B."""
        for symbol, (instrument_id, price) in ENTRY_PRICES.items():
            self.sim("price", symbol=symbol, ltp=price, instrument_id=instrument_id)
        self.replicas["A"] = self._start_replica("A", inside=True)
        self.replicas["B"] = self._start_replica("B", inside=False)
        self.clients["A"] = RecordingClients(self.replicas["A"].url, self.tokens, self.accounts, self.seed)
        assert self._wait_for_holder("A", timeout_s=30) is not None, "A did not take every user"
        self._renew_sessions(self.replicas["A"].url)  # the morning's logins
        self.sim("latency", min_ms=20, max_ms=100)
        self.clients["B"] = RecordingClients(self.replicas["B"].url, self.tokens, self.accounts, self.seed + 1)

    def cut(self) -> None:
        """Drop every packet between A and the database, from now on; read A's leases as the cut left them."""
        self.figures.cut_at = datetime.now(UTC)
        self.namespace.cut(self.server.port)
        time.sleep(0.5)  # a packet already on its way when the filter went in has arrived by now
        self.figures.write_mark = self.server.last_write(self.db)
        self.figures.rows_written_by_a = self.server.writes(self.db, self.namespace.inside_address)
        rows = mysql_rows(self.db, "SELECT user_id, owner, expires_at FROM monitor_leases")
        pid = f":{self.replicas['A'].process.pid}:"
        self.figures.lease_ends = {row["user_id"]: row["expires_at"].replace(tzinfo=UTC) for row in rows
                                   if pid in row["owner"]}

    def wait_for_takeover(self, timeout_s: float) -> None:
        """Until B holds every user's lease (each user's moment recorded), or `timeout_s` passed."""
        self._wait_for_holder("B", timeout_s)

    def restore(self) -> None:
        self.figures.packets_dropped = self.namespace.dropped(self.server.port)
        self.namespace.restore(self.server.port)
        self.figures.restored_at = datetime.now(UTC)

    def settle(self, timeout_s: float) -> dict[int, int]:
        """Entries off, sessions renewed through B; wait for two whole cycles per user."""
        for clients in self.clients.values():
            clients.placing = False
        self.sim("latency", min_ms=0, max_ms=0)
        self._renew_sessions(self.replicas["B"].url)
        time.sleep(2.0)  # the in-flight settle time of the config: lost answers are judged after it
        return two_cycles_each(self.db, self.tokens, timeout_s)

    def resume_a(self) -> None:
        """SIGCONT to A, stopped at its pause point."""
        self.replicas["A"].process.send_signal(signal.SIGCONT)

    def stop_clients(self) -> None:
        for clients in self.clients.values():
            clients.placing = False
        for clients in self.clients.values():
            self.orders_placed.extend(clients.order_ids)
            clients.close()
        self.clients = {}

    def stop(self, name: str) -> int:
        replica = self.replicas.get(name)
        return replica.stop() if replica is not None else -1

    def close(self) -> None:
        """Everything this run started, whatever state it is in."""
        self.stop_clients()
        for replica in self.replicas.values():
            replica.stop()
        self.paper_process.terminate()
        self.paper_process.wait(timeout=30)

    # --- what it saw -----------------------------------------------------------------------------------

    def journal(self) -> list[dict[str, Any]]:
        return at_the_broker(lambda http: paper_sim.journal(http, self.paper_url))

    def sim(self, control: str, **body: Any) -> Any:
        return at_the_broker(lambda http: paper_sim.sim(http, self.paper_url, control, **body))

    # --- inside ------------------------------------------------------------------------------------------

    def _start_replica(self, name: str, *, inside: bool) -> Replica:
        directory = self.workdir / name
        directory.mkdir()
        config = directory / "monitor.toml"
        host = self.namespace.inside_address if inside else "127.0.0.1"
        config.write_text(f'database_url = "{self.db}"\nshutdown_deadline_s = 20\n'
                          f'[server]\nhost = "{host}"\nport = 0\n[cycle]\ninterval_s = {INTERVAL_S}\n'
                          f'[cycle.window]\nenabled = false\n[broker]\ncall_timeout_s = 1.0\npacing = false\n'
                          f'[rules]\ninflight_settle_s = 2.0\n[logging]\njson = true\n')
        log = directory / "serve.log"
        argv = [sys.executable, str(ROOT / "run.py"), "serve", "--config", str(config)]
        with log.open("w") as stderr:
            options: dict[str, Any] = {"stdout": subprocess.PIPE, "stderr": stderr, "text": True, "cwd": directory,
                                       "env": {**ENV, **(self.a_environment if inside else {})}}
            process = self.namespace.popen(argv, **options) if inside else subprocess.Popen(argv, **options)
        replica = Replica(name, process, log)
        self.replicas[name] = replica
        line = process.stdout.readline()
        assert line.startswith("Serving on"), f"replica {name} did not start: {line!r} {log.read_text()[-2000:]}"
        replica.url = line.strip().removeprefix("Serving on ")
        return replica

    def _wait_for_holder(self, name: str, timeout_s: float) -> float | None:
        """Seconds until `name` holds every user's unexpired lease (None past `timeout_s`); each user's first
        moment seen held by B is recorded."""
        pid = f":{self.replicas[name].process.pid}:"
        started = time.monotonic()
        while time.monotonic() - started < timeout_s:
            rows = mysql_rows(self.db, "SELECT user_id, owner FROM monitor_leases WHERE expires_at > UTC_TIMESTAMP(6)")
            held = {row["user_id"] for row in rows if pid in row["owner"]}
            if name == "B":
                for user_id in held:
                    self.figures.taken_over_at.setdefault(user_id, datetime.now(UTC))
            if held >= set(self.tokens):
                return time.monotonic() - started
            time.sleep(0.05)
        return None

    def _renew_sessions(self, url: str) -> None:
        async def renew() -> None:
            async with aiohttp.ClientSession() as http:
                for user_id, account_ids in self.accounts.items():
                    for account_id in account_ids:
                        async with http.post(f"{url}/api/accounts/{account_id}/session", json={},
                                             headers={"Authorization": f"Bearer {self.tokens[user_id]}"}) as answer:
                            assert answer.status == 200, await answer.text()
        asyncio.run(renew())
