"""The frozen-replica window, closed: two `serve` processes over one MariaDB database; the one monitoring alice is
frozen (SIGSTOP) at exactly the point between writing her stop-loss's intent and sending it (the test-only pause
point, `MONITOR_TEST_ONLY_SIGSTOP_BEFORE_SENDING`), and kept frozen past its lease, so the other replica takes
her over and settles the intent (sends the stop-loss under its tag). Then the frozen one is let go on (SIGCONT):
its send guard finds its lease run out and withholds the request, so the broker receives the tag once; its
writes are refused by the fence; it says so in its log, and stops monitoring her."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from domain.tags import order_tag
from service.send_guard import STOP_BEFORE_SENDING_ENV
from tests import paper_sim
from tests.replicas.conftest import AliceAtThePaperBroker
from tests.replicas.test_two_replicas import Replica, follow, lease_row, wait_until
from tests.secret_key import SECRET_KEY_ENV
from tests.soak.invariants import duplicate_sends, event_log_violations, mysql_rows

ROOT = Path(__file__).resolve().parents[2]
INTERVAL_S = 1.0
CONFIG = (f"[server]\nport = 0\n[cycle]\ninterval_s = {INTERVAL_S}\n[cycle.window]\nenabled = false\n"
          "[broker]\ncall_timeout_s = 1.0\npacing = false\n[rules]\ninflight_settle_s = 2.0\n"
          "[logging]\njson = true\n")
"""A lease of 4 s (2 x (1 s call timeout + 2 x 0.5 s margin)), renewed every 1.33 s; a request in flight is
judged, and sent again if the book lacks it, on a book fetched 2 s after it was sent."""
SL_TAG = order_tag(1, "sl", 1)
"""The stop-loss tag of the first order of the fresh database."""


class LoggedReplica(Replica):
    """A `serve` whose stderr (JSON lines) goes to `log`, with `environment` added to its own."""

    def __init__(self, config: Path, database_url: str, log: Path, environment: dict[str, str]) -> None:
        self.log = log
        with log.open("w") as stderr:
            self.process = subprocess.Popen(
                [sys.executable, str(ROOT / "run.py"), "serve", "--config", str(config)],
                stdout=subprocess.PIPE, stderr=stderr, text=True, cwd=config.parent,
                env={"MONITOR_NO_BOOTSTRAP": "1", "PATH": "/usr/bin:/bin", **SECRET_KEY_ENV,
                     "MONITOR_DATABASE_URL": database_url, **environment})
        self.url = self.process.stdout.readline().strip().removeprefix("Serving on ")
        assert self.url.startswith("http://"), self.url
        self.frames: list[tuple[float, dict]] = []

    def lines(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.log.read_text().splitlines() if line.startswith("{")]

    def stopped(self) -> bool:
        """Whether the process is stopped by a signal (state T)."""
        stat = Path(f"/proc/{self.process.pid}/stat").read_text()
        return stat[stat.rindex(")") + 2] == "T"


async def post_market_entry(url: str, token: str, account_id: int) -> dict[str, Any]:
    order = {"account_id": account_id, "strategy": "frozen", "symbol": "SBIN", "exchange_segment": "NSECM",
             "instrument_id": 3045, "side": "BUY", "quantity": 5, "entry_type": "MARKET",
             "sl_stop_price": "790.00", "tp_price": "810.00"}
    async with aiohttp.ClientSession() as session, session.post(
            f"{url}/api/algo-place-batch-orders", json={"orders": [order]},
            headers={"Authorization": f"Bearer {token}"}) as response:
        assert response.status == 200, await response.text()
        return (await response.json())["results"][0]


def at_the_broker(alice: AliceAtThePaperBroker) -> list[dict[str, Any]]:
    async def read() -> list[dict[str, Any]]:
        async with aiohttp.ClientSession() as http:
            return await paper_sim.journal(http, alice.paper_url)
    return alice.io.call(read())


@pytest.mark.mysql
def test_a_replica_frozen_between_an_intent_and_its_send_does_not_send_once_another_took_the_user(
        fresh_mysql_url, tmp_path, alice: AliceAtThePaperBroker):
    config = tmp_path / "monitor.toml"
    config.write_text(CONFIG)
    database = fresh_mysql_url.rsplit("/", 1)[1]
    replicas: list[LoggedReplica] = []
    try:
        # given alice monitored by the first replica, which will stop itself before sending her first SL...
        frozen = LoggedReplica(config, fresh_mysql_url, tmp_path / "frozen.log",
                               {STOP_BEFORE_SENDING_ENV: f"place {SL_TAG}"})
        replicas.append(frozen)
        alice.io.run(follow(frozen, alice.token))
        assert wait_until(lambda: any(f["type"] == "hello" for _, f in frozen.frames), timeout=10)
        assert next(f for _, f in frozen.frames if f["type"] == "hello")["monitoring"] is True
        # ...and her client on a second replica too, which does not monitor her
        other = LoggedReplica(config, fresh_mysql_url, tmp_path / "other.log", {})
        replicas.append(other)
        alice.io.run(follow(other, alice.token))
        assert wait_until(lambda: any(f["type"] == "hello" for _, f in other.frames), timeout=10)
        assert next(f for _, f in other.frames if f["type"] == "hello")["monitoring"] is False

        # when her market entry fills and the first replica, writing its SL's intent, freezes before the send
        alice.io.call(_price(alice.paper_url))
        entry = alice.io.call(post_market_entry(frozen.url, alice.token, alice.account_id))
        assert (entry["outcome"], entry["order_id"]) == ("placed", 1), entry
        assert wait_until(frozen.stopped, timeout=30), "the first replica reached its pause point"
        frozen_at = datetime.now(UTC)
        [intent] = mysql_rows(fresh_mysql_url, "SELECT sl_tag, sl_orderstatus FROM orders WHERE id = 1")
        assert intent == {"sl_tag": SL_TAG, "sl_orderstatus": "PendingSubmit"}, "the intent was written"
        assert SL_TAG not in [e["tag"] for e in at_the_broker(alice)], "and not sent"

        # and it stays frozen past its lease: the other replica takes alice over and sends the SL under its tag
        assert wait_until(lambda: SL_TAG in [e["tag"] for e in at_the_broker(alice) if e["outcome"] == "accepted"],
                          timeout=30), "the replica that took alice over settled the intent"
        owner, fencing_token = lease_row(database, alice.user_id)
        assert f":{other.process.pid}:" in owner and fencing_token == 2
        settled = _sl_leg(fresh_mysql_url)

        # then, let go on, the frozen replica sends nothing: the tag reached the broker once
        os.kill(frozen.process.pid, signal.SIGCONT)
        assert wait_until(lambda: _protect_step_ended(frozen), timeout=10)
        time.sleep(3 * INTERVAL_S)
        journal = at_the_broker(alice)
        assert [e["outcome"] for e in journal if e["tag"] == SL_TAG] == ["accepted"]
        assert duplicate_sends(journal) == []
        withheld = [line["message"] for line in frozen.lines() if "withheld, not sent" in line.get("message", "")]
        assert withheld[0].startswith(f"place {SL_TAG} for R1: withheld, not sent: this replica's lease of the "
                                      "user has run out"), withheld
        # and it wrote nothing: its write of the SL's status was refused, alice's order is as the other left it
        messages = [line.get("message", "") for line in frozen.lines()]
        assert [m for m in messages if f"SL not placed (place {SL_TAG}" in m and "write refused" in m], messages
        tag, broker_order_id, status = _sl_leg(fresh_mysql_url)
        assert (tag, broker_order_id) == settled[:2] and broker_order_id is not None and status != "NotSent"
        # and it no longer monitors alice; her event log audits clean (the freeze cut one cycle, as a kill would)
        assert [m for m in messages if m.startswith(f"lease of user {alice.user_id} ran out")
                or m.startswith(f"lease of user {alice.user_id} lost to")], messages
        assert event_log_violations(fresh_mysql_url, kills=[frozen_at]) == []
        assert frozen.process.poll() is None and other.process.poll() is None
    finally:
        for replica in replicas:
            with contextlib.suppress(ProcessLookupError):
                os.kill(replica.process.pid, signal.SIGCONT)
            replica.stop()


async def _price(paper_url: str) -> None:
    async with aiohttp.ClientSession() as http:
        await paper_sim.sim(http, paper_url, "price", symbol="SBIN", ltp="800.00", instrument_id=3045)


def _sl_leg(database_url: str) -> tuple[str, int | None, str]:
    """The stop-loss leg of alice's order: tag, broker order id, status (which the broker's book moves on)."""
    [row] = mysql_rows(database_url, "SELECT sl_tag, sl_order_id, sl_orderstatus FROM orders WHERE id = 1")
    return row["sl_tag"], row["sl_order_id"], row["sl_orderstatus"]


def _protect_step_ended(replica: LoggedReplica) -> bool:
    """Whether the replica logged its protect step's end (the step logs a failure; a clean one, nothing: then
    the monitor's stop, the lease gone, is logged after it)."""
    return any(line.get("step") == "protect" or "stopped: no client left" in line.get("message", "")
               for line in replica.lines())
