"""Broker secrets and tokens never appear in what the service writes: a real `run.py serve` (DEBUG logging) with
users and accounts made through the admin CLI with unique known secrets, cycles run against a paper broker
process that accepts only those secrets (one also the fair-price feed's market-data key, its stream running
all along), a session expiry and its renewal, faulted and successful orders;
then every byte it wrote is scanned — the CLI's output, the service's stdout and stderr, every
`monitor_events` payload, every WebSocket frame received, every HTTP API answer and a dump of the whole
database (keys and session tokens are stored sealed) — for the secret keys, every broker session token the
accounts ever held, and the API tokens.

The one place a secret is shown by design is excluded, exactly: the `API token (shown once ...)` line that
`users add` prints to hand the token over."""

from __future__ import annotations

import asyncio
import contextlib
import json
import secrets
import signal
import sqlite3
import subprocess
import sys
from pathlib import Path

import aiohttp

from adapters.store.secrets import Keyring, decode_key
from tests.secret_key import SECRET_KEY_ENV

ROOT = Path(__file__).resolve().parents[2]
ENV = {"MONITOR_NO_BOOTSTRAP": "1", "PATH": "/usr/bin:/bin", **SECRET_KEY_ENV}
ORDER = {"strategy": "s", "symbol": "SBIN", "exchange_segment": "NSECM", "instrument_id": 3045, "side": "BUY",
         "quantity": 5, "entry_type": "MARKET", "sl_stop_price": "700", "tp_price": "900"}


def cli(*args: str, **env: str) -> str:
    result = subprocess.run([sys.executable, str(ROOT / "run.py"), *args], capture_output=True, text=True,
                            env={**ENV, **env}, timeout=60)
    assert result.returncode == 0, result.stderr
    return result.stdout + result.stderr


class Session:
    """What one client sees: every frame and every HTTP answer, kept as text."""

    def __init__(self, url: str, token: str) -> None:
        self.url, self.token, self.seen = url, token, []

    async def call(self, http: aiohttp.ClientSession, method: str, path: str, **kwargs) -> dict:
        async with http.request(method, self.url + path, headers={"Authorization": f"Bearer {self.token}"},
                                **kwargs) as response:
            text = await response.text()
            self.seen.append(text)
            return json.loads(text) if response.content_type == "application/json" else {}

    async def cycle(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        """Run one whole cycle: ask until one starts (a request while the last one finishes is skipped)."""
        async with asyncio.timeout(30):
            started = False
            while not started:
                await ws.send_str('{"type": "run_cycle"}')
                with contextlib.suppress(TimeoutError):
                    async with asyncio.timeout(0.5):
                        started = await self._until(ws, "cycle_started")
            await self._until(ws, "cycle_summary")

    async def _until(self, ws: aiohttp.ClientWebSocketResponse, frame_type: str) -> bool:
        async for message in ws:
            self.seen.append(message.data)
            if json.loads(message.data)["type"] == frame_type:
                return True
        return False


def session_tokens(db: Path) -> set[str]:
    """The accounts' session tokens, opened with the tests' key (the database holds them sealed only)."""
    keyring = Keyring(current=decode_key(SECRET_KEY_ENV["MONITOR_SECRET_KEY"]))
    with sqlite3.connect(db) as connection:
        rows = connection.execute("SELECT id, token, token_sealed FROM accounts").fetchall()
    assert not any(token for _, token, _ in rows), "a session token stored in clear"
    return {keyring.open(sealed, account_id, "token") for account_id, _, sealed in rows if sealed}


def test_no_secret_key_session_token_or_api_token_appears_in_anything_the_service_wrote(tmp_path):
    db = tmp_path / "secrets.db"
    url = f"sqlite:///{db}"
    keys = {f"SEC{i}": f"secret-key-{secrets.token_hex(12)}" for i in (1, 2)}
    paper = subprocess.Popen([sys.executable, str(ROOT / "run.py"), "paper-broker", "--port", "0",
                              *[arg for cid, key in keys.items() for arg in ("--account", f"{cid}:{key}")]],
                             stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env=ENV)
    paper_url = paper.stdout.readline().split(" at ")[1].split(" ")[0]
    written = [cli("migrate", "--database", url)]
    added = cli("users", "add", "alice", "--database", url)
    [token_line] = [line for line in added.splitlines() if line.startswith("API token")]
    api_token = token_line.split(": ", 1)[1].split()[0]
    written.append(added.replace(token_line, ""))
    for client_id, key in keys.items():
        written.append(cli("accounts", "add", "--user", "alice", "--broker", "paper", "--base-url", paper_url,
                           "--client-id", client_id, "--app-key-env", "APP_KEY", "--secret-key-env", "SECRET_KEY",
                           "--database", url, APP_KEY=client_id, SECRET_KEY=key))
    config = tmp_path / "monitor.toml"
    config.write_text(f'database_url = "{url}"\n[server]\nport = 0\n[cycle]\ninterval_s = 3600\n'
                      '[cycle.window]\nenabled = false\n[logging]\nlevel = "DEBUG"\n'
                      f'[market_data]\nenabled = true\nbase_url = "{paper_url}"\nrefresh_s = 0.5\n')
    market_data_keys = {"MONITOR_MARKET_DATA_APP_KEY": "SEC1", "MONITOR_MARKET_DATA_SECRET_KEY": keys["SEC1"]}
    serve = subprocess.Popen([sys.executable, str(ROOT / "run.py"), "serve", "--config", str(config)],
                             stdout=subprocess.PIPE, stderr=(tmp_path / "serve.err").open("w"), text=True,
                             env={**ENV, **market_data_keys}, cwd=tmp_path)
    tokens: set[str] = set()
    try:
        service_url = serve.stdout.readline().strip().removeprefix("Serving on ")
        client = Session(service_url, api_token)

        async def drive() -> None:
            async with aiohttp.ClientSession() as http, \
                    http.ws_connect(f"{service_url}/ws?token={api_token}") as ws:
                await client.cycle(ws)
                tokens.update(session_tokens(db))
                await http.post(f"{paper_url}/_sim/expire", json={"account": "SEC2"})
                await http.post(f"{paper_url}/_sim/faults", json={"route": "place", "kind": "reset"})
                accounts = [o["account_id"] for o in (await client.call(http, "GET", "/api/orders"))["orders"]]
                context = await client.call(http, "POST", "/api/algo-place-batch-orders",
                                            json={"orders": [{**ORDER, "account_id": a} for a in (1, 2)]})
                await client.cycle(ws)
                await client.call(http, "POST", "/api/accounts/2/session", json={})
                await http.post(f"{paper_url}/_sim/faults", json={"route": "*", "kind": "malformed", "count": 2})
                await client.cycle(ws)
                await client.cycle(ws)
                tokens.update(session_tokens(db))
                for path in ("/api/orders", "/api/pnl", "/api/cycles?limit=50"):
                    body = await client.call(http, "GET", path)
                for cycle in body["cycles"]:
                    await client.call(http, "GET", f"/api/cycles/{cycle['cycle_id']}")
                assert accounts == [] and context["results"]
                async with http.get(f"{service_url}/metrics") as metrics:
                    assert "monitor_fair_price_feed_connected 1.0" in await metrics.text(), "the feed ran"
        asyncio.run(drive())
    finally:
        serve.send_signal(signal.SIGTERM)
        out, _ = serve.communicate(timeout=60)
        paper.terminate()
        paper.wait(timeout=30)
    with sqlite3.connect(db) as connection:
        payloads = [row[0] for row in connection.execute("SELECT payload FROM monitor_events")]
        database = "\n".join(connection.iterdump())
    assert len(tokens) >= 3, "expected a first session per account and a renewed one"
    everything = {"cli": "\n".join(written), "stdout": out, "stderr": (tmp_path / "serve.err").read_text(),
                  "events": "\n".join(payloads), "frames and answers": "\n".join(client.seen),
                  "the database dump": database}
    assert "session_needed" in everything["frames and answers"] and len(payloads) > 50
    forbidden = {**{f"secret key of {cid}": key for cid, key in keys.items()},
                 **{f"session token {t[:4]}...": t for t in tokens}, "API token": api_token}
    leaks = [f"{what} in {where}" for what, secret in forbidden.items()
             for where, text in everything.items() if secret in text]
    assert leaks == []
