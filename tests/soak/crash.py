"""Crash and restart: `run.py serve` as a real process on MySQL, the paper broker as another process (its book
and journal outlive the service), WebSocket clients that keep every user monitored and reconnect, and a
strategy that keeps sending entries through the batch API. The service is killed with SIGKILL at random
points (the broker's latency makes cycles long enough that most kills land inside one) and started again.
Each user has an XTS account (`paper`) and a Kite account (`kite`, over the paper broker's Kite face, logged
in by request token through the session route), so a kill between an acknowledgement and its write is met
on both brokers' wire formats.

Owns driving the processes and the clients; the checks are in `invariants`.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import random
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp

from adapters.store.factory import connect_store, migrate_url
from tests import paper_sim
from tests.secret_key import SECRET_KEY_ENV
from tests.soak.invariants import two_cycles_each

ROOT = Path(__file__).resolve().parents[2]
ENV = {"MONITOR_NO_BOOTSTRAP": "1", "PATH": "/usr/bin:/bin", **SECRET_KEY_ENV}
ENTRY_PRICES = {"SBIN": (3045, "800.00"), "INFY": (1594, "1500.00")}
BROKERS = ("paper", "kite")
"""The broker of each user's accounts in turn: XTS's wire, then Kite's."""


@dataclass(frozen=True)
class CrashPlan:
    users: int = 3
    accounts_per_user: int = 2
    kills: int = 3
    fault_rate: float = 0.05
    seed: int = 5


@dataclass
class CrashFigures:
    kills: list[datetime] = field(default_factory=list)
    starts: int = 0
    orders_placed: list[int] = field(default_factory=list)
    batch_requests_lost: int = 0


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def start_serve(config: Path, log: Path) -> subprocess.Popen:
    """`run.py serve --config config` as a process (its stderr into `log`), once it says it serves."""
    with log.open("w") as stderr:
        service = subprocess.Popen([sys.executable, str(ROOT / "run.py"), "serve", "--config", str(config)],
                                   stdout=subprocess.PIPE, stderr=stderr, text=True, env=ENV, cwd=config.parent)
    line = service.stdout.readline()
    assert line.startswith("Serving on"), f"the service did not start: {line!r}"
    return service


def stop_serve(service: subprocess.Popen) -> int:
    """SIGTERM a `serve` process (after a SIGCONT, should it be stopped) and its exit code; -1 when it had already
    ended, and killed should it not end within a minute."""
    if service.poll() is not None:
        return -1
    service.send_signal(signal.SIGCONT)
    service.send_signal(signal.SIGTERM)
    try:
        return service.wait(timeout=60)
    except subprocess.TimeoutExpired:
        service.kill()
        return service.wait(timeout=30)


def at_the_broker(request: Callable[[aiohttp.ClientSession], Awaitable[Any]]) -> Any:
    """Run `request` to the paper broker on a client session and loop of its own."""
    async def run() -> Any:
        async with aiohttp.ClientSession() as http:
            return await request(http)
    return asyncio.run(run())


class Clients:
    """An asyncio loop in a thread: one WebSocket per user that reconnects whenever the service comes back,
    and a strategy posting batches of entries; it records the order ids the batch API answers."""

    def __init__(self, url: str, tokens: dict[int, str], accounts: dict[int, list[int]], seed: int) -> None:
        self.url, self.tokens, self.accounts = url, tokens, accounts
        self.rng = random.Random(seed)
        self.order_ids: list[int] = []
        self.lost = 0
        self.placing = True
        self.loop = asyncio.new_event_loop()
        self._stop = asyncio.Event()
        self._thread = threading.Thread(target=self.loop.run_until_complete, args=(self._main(),), daemon=True)
        self._thread.start()

    async def _main(self) -> None:
        async with aiohttp.ClientSession() as http:
            tasks = [asyncio.create_task(self._keep_connected(http, token)) for token in self.tokens.values()]
            tasks.append(asyncio.create_task(self._strategy(http)))
            await self._stop.wait()
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

    async def _keep_connected(self, http: aiohttp.ClientSession, token: str) -> None:
        while True:
            with contextlib.suppress(aiohttp.ClientError, OSError, asyncio.TimeoutError):
                async with http.ws_connect(f"{self.url.replace('http', 'ws')}/ws?token={token}") as ws:
                    async for _ in ws:
                        pass
            await asyncio.sleep(0.1)

    async def _strategy(self, http: aiohttp.ClientSession) -> None:
        while True:
            await asyncio.sleep(0.25)
            if not self.placing:
                continue
            user_id = self.rng.choice(list(self.tokens))
            orders = [self._entry(self.rng.choice(self.accounts[user_id])) for _ in range(self.rng.randint(1, 2))]
            try:
                async with http.post(f"{self.url}/api/algo-place-batch-orders", json={"orders": orders},
                                     headers={"Authorization": f"Bearer {self.tokens[user_id]}"},
                                     timeout=aiohttp.ClientTimeout(total=10)) as response:
                    if response.status == 200:
                        results = (await response.json())["results"]
                        self.order_ids.extend(r["order_id"] for r in results if r.get("order_id"))
            except (TimeoutError, aiohttp.ClientError, OSError):
                self.lost += 1  # the service died under the request: its ids were never answered

    def _entry(self, account_id: int) -> dict[str, Any]:
        symbol = self.rng.choice(list(ENTRY_PRICES))
        instrument_id, price = ENTRY_PRICES[symbol]
        side = self.rng.choice(("BUY", "SELL"))
        low, high = f"{float(price) * 0.98:.2f}", f"{float(price) * 1.02:.2f}"
        return {"account_id": account_id, "strategy": "crash", "symbol": symbol, "exchange_segment": "NSECM",
                "instrument_id": instrument_id, "side": side, "quantity": self.rng.randint(1, 10),
                "entry_type": "MARKET", "sl_stop_price": low if side == "BUY" else high,
                "tp_price": high if side == "BUY" else low}

    def close(self) -> None:
        self.loop.call_soon_threadsafe(self._stop.set)
        self._thread.join(timeout=15)


class CrashRun:
    def __init__(self, database_url: str, workdir: Path, plan: CrashPlan) -> None:
        self.db, self.workdir, self.plan = database_url, workdir, plan
        self.rng = random.Random(plan.seed)
        self.figures = CrashFigures()
        self.paper_process = subprocess.Popen(
            [sys.executable, str(ROOT / "run.py"), "paper-broker", "--port", "0", "--seed", str(plan.seed)],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=ENV)
        line = self.paper_process.stdout.readline()
        self.paper_url = line.split(" at ")[1].split(" ")[0]
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.config = workdir / "monitor.toml"
        self.config.write_text(f'database_url = "{database_url}"\nshutdown_deadline_s = 20\n'
                               f'[server]\nport = {self.port}\n[cycle]\ninterval_s = 1.0\n'
                               f'[cycle.window]\nenabled = false\n[broker]\ncall_timeout_s = 1.0\npacing = false\n'
                               f'[rules]\ninflight_settle_s = 2.0\n'
                               f'[logging]\njson = true\n')
        self.kite_accounts: dict[int, str] = {}
        """Each account's api key when it is a Kite account, else ""."""
        self.tokens, self.accounts = asyncio.run(self._given_users())
        self.service: subprocess.Popen | None = None
        self.clients: Clients | None = None

    async def _given_users(self) -> tuple[dict[int, str], dict[int, list[int]]]:
        await migrate_url(self.db)
        store = await connect_store(self.db)
        tokens, accounts = {}, {}
        try:
            for u in range(self.plan.users):
                user_id, tokens[user_id] = await store.add_user(f"crash{u}")
                accounts[user_id] = []
                for a in range(self.plan.accounts_per_user):
                    client_id, broker = f"K{u}A{a}", BROKERS[a % len(BROKERS)]
                    account_id = await store.add_account(user_id, broker, self.paper_url, client_id,
                                                         app_key=client_id, secret_key=f"crash-secret-{u}-{a}")
                    accounts[user_id].append(account_id)
                    self.kite_accounts[account_id] = client_id if broker == "kite" else ""
        finally:
            await store.close()
        return tokens, accounts

    def sim(self, control: str, **body: Any) -> Any:
        return at_the_broker(lambda http: paper_sim.sim(http, self.paper_url, control, **body))

    def journal(self) -> list[dict[str, Any]]:
        return at_the_broker(lambda http: paper_sim.journal(http, self.paper_url))

    # --- the run ---------------------------------------------------------------------------------------

    def start_service(self) -> None:
        self.service = start_serve(self.config, self.workdir / f"serve-{self.figures.starts}.log")
        self.figures.starts += 1

    def kill_service(self) -> None:
        assert self.service is not None
        self.service.send_signal(signal.SIGKILL)
        self.service.wait(timeout=30)
        self.figures.kills.append(datetime.now(UTC))

    def run(self) -> None:
        for symbol, (instrument_id, price) in ENTRY_PRICES.items():
            self.sim("price", symbol=symbol, ltp=price, instrument_id=instrument_id)
        self.start_service()
        asyncio.run(self._renew_sessions())  # the morning's logins, before any fault
        self.sim("latency", min_ms=20, max_ms=200)
        self.sim("chaos", rate=self.plan.fault_rate,
                 kinds=["http_500", "timeout", "reset", "malformed", "slow", "accept_then_500"])
        self.clients = Clients(self.url, self.tokens, self.accounts, self.plan.seed)
        for _ in range(self.plan.kills):
            time.sleep(self.rng.uniform(0.5, 3.0))
            self.kill_service()
            time.sleep(self.rng.uniform(0.0, 0.5))
            self.start_service()

    def settle(self, timeout_s: float) -> dict[int, int]:
        """Faults and new entries off, sessions renewed through the API; wait for two whole cycles per user."""
        assert self.clients is not None
        self.clients.placing = False
        self.sim("chaos", rate=0.0)
        self.sim("latency", min_ms=0, max_ms=0)
        asyncio.run(self._renew_sessions())
        time.sleep(2.0)  # the in-flight settle time of the config above: lost answers are judged after it
        return two_cycles_each(self.db, self.tokens, timeout_s)

    async def _renew_sessions(self) -> None:
        async with aiohttp.ClientSession() as http:
            for user_id, account_ids in self.accounts.items():
                for account_id in account_ids:
                    body = {}
                    if api_key := self.kite_accounts[account_id]:
                        body = {"request_token": (await paper_sim.sim(http, self.paper_url, "kite_request_token",
                                                                      api_key=api_key))["request_token"]}
                    async with http.post(f"{self.url}/api/accounts/{account_id}/session", json=body,
                                         headers={"Authorization": f"Bearer {self.tokens[user_id]}"}) as response:
                        assert response.status == 200, await response.text()

    def stop(self) -> int:
        """SIGTERM the last service (graceful), stop the clients and the paper broker; the service's exit code."""
        code = -1
        if self.service is not None and self.service.poll() is None:
            self.service.send_signal(signal.SIGTERM)
            code = self.service.wait(timeout=60)
        if self.clients is not None:
            self.figures.orders_placed = list(self.clients.order_ids)
            self.figures.batch_requests_lost = self.clients.lost
            self.clients.close()
        return code

    def close_broker(self) -> None:
        self.paper_process.terminate()
        self.paper_process.wait(timeout=30)

    def service_logs(self) -> list[dict[str, Any]]:
        lines = []
        for path in sorted(self.workdir.glob("serve-*.log")):
            lines += [json.loads(line) for line in path.read_text().splitlines() if line.startswith("{")]
        return lines
