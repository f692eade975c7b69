"""`run.py demo`: everything embedded — a fresh SQLite file, the paper broker in-process, a moving market
whose market data the service's fair-price feed streams into the fair prices, demo users trading through the
batch API, the dashboard. Runs until Ctrl-C.

Each demo user has one account of each broker the paper broker speaks: an XTS account (`paper`), which logs
in with its stored keys, and a Kite account (`kite`), logged in at start the way a trader does it each
morning: a request token from the (paper) Kite login, sent to `POST /api/accounts/{id}/session`. The Kite
account's session is the one that expires, so the dashboard's banner shows its login link."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import logging
import os
import random
import sys
from pathlib import Path

from actors.user_monitor.config import CycleConfig
from actors.user_monitor.window import TradingWindow
from adapters.broker.paper import run_paper_broker
from adapters.store.secrets import Keyring, keyring_from_env
from service.cli.stop_signal import StopSignal
from service.config import BrokerConfig, MarketDataConfig
from service.demo import REFUSAL_REASON, REFUSED_SYMBOL, STRATEGY, DemoMarket, DemoStrategy
from service.logs import configure_logging
from service.server import Service

log = logging.getLogger(__name__)


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("demo", help="run everything embedded: SQLite, paper broker, dashboard")
    parser.add_argument("--port", type=int, default=8080, help="dashboard port (default 8080; 0 picks a free one)")
    parser.add_argument("--interval", type=float, default=5.0, help="seconds between cycles (default 5)")
    parser.add_argument("--users", type=int, default=1,
                        help="demo users, each with an XTS and a Kite account (default 1)")
    parser.add_argument("--database", default="sqlite:///demo.db",
                        help="database URL (default: a fresh ./demo.db, replaced at each start)")
    parser.add_argument("--expire-after", type=float, default=40.0,
                        help="seconds until one Kite account's session expires (0: never; default 40)")
    parser.add_argument("--duration", type=float, default=0.0,
                        help="stop after this many seconds (0: run until Ctrl-C)")
    parser.set_defaults(handler=run_demo)


def run_demo(args: argparse.Namespace) -> int:
    configure_logging("INFO", json_lines=False)
    if args.database == "sqlite:///demo.db":
        for suffix in ("", "-wal", "-shm"):
            Path(f"demo.db{suffix}").unlink(missing_ok=True)
    stop = StopSignal()
    try:
        service = Service(database_url=args.database, host="127.0.0.1", port=args.port,
                          cycle=CycleConfig(interval_s=args.interval, window=TradingWindow(enabled=False)),
                          broker=BrokerConfig(session_renewal=False),  # the expired session waits for a login
                          keyring=demo_keyring())
    except OSError as error:
        print(f"cannot serve on port {args.port}: {error.strerror}; choose another with --port", file=sys.stderr)
        return 2
    stop.started()
    io, store = service.runtime.io, service.runtime.store
    stack = contextlib.AsyncExitStack()
    try:
        paper = io.call(stack.enter_async_context(run_paper_broker("127.0.0.1", 0, seed=11)))
        io.call(_refuse_symbol(service, paper.url))
        rng = random.Random(11)
        strategies = []
        expiring = None
        for n in range(args.users):
            name = "demo" if n == 0 else f"demo{n + 1}"
            user_id, token = io.call(store.add_user(name))
            clients = {"paper": f"{name.upper()}-XTS", "kite": f"{name.upper()}-KITE"}
            accounts = [io.call(store.add_account(user_id, broker, paper.url, client, app_key=client,
                                                  secret_key="paper-secret")) for broker, client in clients.items()]
            io.call(store.set_permissions(user_id, (STRATEGY,)))
            io.call(_kite_login(service, paper.url, token, accounts[1], clients["kite"]))
            expiring = expiring or clients["kite"]
            strategies.append(DemoStrategy(service.runtime.http, service.url, token, accounts, paper.simulator,
                                           random.Random(rng.random())))
            print(f"Dashboard of {name}: {service.url}/?token={token}", flush=True)
        service.start_fair_price_feed(demo_feed(paper.url))
        tasks = io.call(_start(DemoMarket(paper.simulator, rng), strategies, args.interval))
        if args.expire_after > 0 and expiring:
            io.loop.call_soon_threadsafe(io.loop.call_later, args.expire_after, paper.simulator.expire, expiring)
        print(f"Demo running: cycles every {args.interval:g} s; {REFUSED_SYMBOL} orders are refused "
              f"({REFUSAL_REASON}); {expiring}'s session expires after {args.expire_after:g} s. Ctrl-C stops.",
              flush=True)
        stop.wait(args.duration or None)
        io.call(_cancel(tasks))
    finally:
        io.call(stack.aclose())
        service.close(drain_deadline_s=15)
    print("Demo stopped.", flush=True)
    return 0


def demo_feed(paper_url: str) -> MarketDataConfig:
    """The fair-price feed of the paper broker's market data. Both faces of the paper broker name instruments
    by the same ids, so the Kite accounts' instruments are fed too (a real Kite account's are not XTS's)."""
    return MarketDataConfig(enabled=True, base_url=paper_url, app_key="DEMO-MD", secret_key="paper-md-secret",
                            brokers=("paper", "kite"), refresh_s=1.0)


def demo_keyring() -> Keyring:
    """MONITOR_SECRET_KEY's keyring when set, else a key of this run only: the demo's accounts are new at
    each start, so nothing sealed under it is needed again."""
    return keyring_from_env() or Keyring(current=os.urandom(32))


async def _refuse_symbol(service: Service, paper_url: str) -> None:
    rule = {"rule": {"rule": "symbol", "symbol": REFUSED_SYMBOL, "reason": REFUSAL_REASON}}
    async with service.runtime.http.post(f"{paper_url}/_sim/reject", json=rule) as response:
        response.raise_for_status()


async def _kite_login(service: Service, paper_url: str, user_token: str, account_id: int, api_key: str) -> None:
    """The Kite account's morning login, as a trader does it: a request token from the Kite login page (the
    paper broker's control route stands in for the browser), sent to the service's session route."""
    http = service.runtime.http
    async with http.post(f"{paper_url}/_sim/kite_request_token", json={"api_key": api_key}) as response:
        response.raise_for_status()
        request_token = (await response.json())["request_token"]
    async with http.post(f"{service.url}/api/accounts/{account_id}/session", json={"request_token": request_token},
                         headers={"Authorization": f"Bearer {user_token}"}) as response:
        response.raise_for_status()


async def _start(market: DemoMarket, strategies: list[DemoStrategy], interval_s: float) -> list[asyncio.Task]:
    return [asyncio.ensure_future(market.run()),
            *(asyncio.ensure_future(s.run(every_s=max(interval_s * 1.6, 2.0))) for s in strategies)]


async def _cancel(tasks: list[asyncio.Task]) -> None:
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
