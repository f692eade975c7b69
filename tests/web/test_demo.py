"""`run.py demo` from the command line: within a minute a connected client sees fills, SL/TP legs, PnL, a
rejected then regenerated entry, open positions marked at the fair prices the feed streams from the paper
broker's market data, and an expired session reported — the issue's promise, checked on the wire —
on an XTS account and a Kite account alike, the Kite one's session ending with its login link; and a SIGTERM
sent the instant it prints its first line stops it cleanly."""

import asyncio
import json
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import aiohttp

ROOT = Path(__file__).resolve().parents[2]


async def watch(url: str, token: str, seconds: float) -> list[dict]:
    frames: list[dict] = []
    ws_url = url.replace("http://", "ws://") + f"/ws?token={token}"
    async with aiohttp.ClientSession() as session, session.ws_connect(ws_url) as ws:
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline and not everything_seen(frames):
            try:
                message = await ws.receive(timeout=max(0.1, deadline - time.monotonic()))
            except TimeoutError:
                break
            if message.type == aiohttp.WSMsgType.TEXT:
                frames.append(json.loads(message.data))
    return frames


def last_orders(frames: list[dict]) -> list[dict]:
    orders = [f["orders"] for f in frames if f["type"] == "orders"]
    return orders[-1] if orders else []


def brokers(frames: list[dict]) -> dict[int, str]:
    """Each account's broker, as the last `accounts` frame names them."""
    views = [f["accounts"] for f in frames if f["type"] == "accounts"]
    return {a["account_id"]: a["broker"] for a in views[-1]} if views else {}


def protected_on(frames: list[dict]) -> set[str]:
    """The brokers of the accounts holding a filled entry with both its stop-loss and take-profit at the broker."""
    of = brokers(frames)
    return {of.get(o["account_id"], "") for o in last_orders(frames)
            if o["filled_qty"] > 0 and o["sl_order_id"] and o["tp_order_id"]}


def marked(frames: list[dict]) -> bool:
    """An open position marked at a fair price: nothing in the demo writes one but the fair-price feed."""
    return any(f["type"] == "pnl" and any(r["open_qty"] and r["unrealized_pnl"] is not None for r in f["rows"])
               for f in frames)


def everything_seen(frames: list[dict]) -> bool:
    orders = last_orders(frames)
    return (protected_on(frames) >= {"paper", "kite"}
            and any(o["regenerated_from"] for o in orders)
            and marked(frames)
            and any(f["type"] == "session_needed" for f in frames))


def demo_process(tmp_path: Path, *args: str) -> subprocess.Popen:
    return subprocess.Popen(
        [sys.executable, str(ROOT / "run.py"), "demo", "--port", "0", "--database", f"sqlite:///{tmp_path / 'demo.db'}",
         *args],
        stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, cwd=tmp_path,
        env={"MONITOR_NO_BOOTSTRAP": "1", "PATH": "/usr/bin:/bin"})


def test_the_demo_shows_every_part_of_the_loop_within_a_minute(tmp_path):
    demo = demo_process(tmp_path, "--interval", "1", "--duration", "75", "--expire-after", "15")
    try:
        line = demo.stdout.readline()
        match = re.search(r"(http://127\.0\.0\.1:\d+)/\?token=(\S+)", line)
        assert match, f"no dashboard URL in {line!r}"
        frames = asyncio.run(watch(match.group(1), match.group(2), seconds=60))
    finally:
        demo.terminate()
        demo.wait(timeout=30)
    orders = last_orders(frames)
    assert set(brokers(frames).values()) == {"paper", "kite"}
    assert protected_on(frames) == {"paper", "kite"}, "no filled entry with SL/TP legs on each broker's account"
    assert any(o["regenerated_from"] for o in orders), "no regenerated entry"
    assert marked(frames), "no open position marked at a fair price from the feed"
    [expired] = {f["account_id"]: f for f in frames if f["type"] == "session_needed"}.values()
    assert brokers(frames)[expired["account_id"]] == "kite"
    assert "/connect/login?api_key=DEMO-KITE&v=3" in expired["login_url"], "no login link for the Kite account"
    assert any(f["type"] == "monitoring_errors" for f in frames)
    assert demo.returncode == 0


def test_a_sigterm_sent_the_instant_the_demo_prints_its_first_line_stops_it_cleanly(tmp_path):
    for start in range(5):
        (tmp_path / str(start)).mkdir()
        demo = demo_process(tmp_path / str(start))
        line = demo.stdout.readline()
        demo.send_signal(signal.SIGTERM)
        rest, _ = demo.communicate(timeout=60)
        assert line.startswith("Dashboard of demo: ") and demo.returncode == 0
        assert rest.endswith("Demo stopped.\n")
