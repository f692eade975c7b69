"""Two `serve` processes over one MariaDB database: a user is monitored by exactly one of them; when that
one is killed (SIGKILL, no goodbye) the other takes the lease over within two intervals, with a new
fencing token, runs a cycle at once (labelled `takeover`) and carries on. (A stale owner's writes being
refused is shown in tests/storage/test_leases.)
"""

import contextlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import aiohttp
import pymysql
import pytest

from tests.replicas.conftest import AliceAtThePaperBroker
from tests.secret_key import SECRET_KEY_ENV
from tests.storage.conftest import mysql_server

ROOT = Path(__file__).resolve().parents[2]
INTERVAL_S = 2.0


class Replica:
    def __init__(self, config: Path, database_url: str) -> None:
        self.process = subprocess.Popen(
            [sys.executable, str(ROOT / "run.py"), "serve", "--config", str(config)],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, cwd=config.parent,
            env={"MONITOR_NO_BOOTSTRAP": "1", "PATH": "/usr/bin:/bin", **SECRET_KEY_ENV,
                 "MONITOR_DATABASE_URL": database_url})
        self.url = self.process.stdout.readline().strip().removeprefix("Serving on ")
        assert self.url.startswith("http://"), self.url
        self.frames: list[tuple[float, dict]] = []

    def summaries_since(self, moment: float) -> list[float]:
        return [t for t, f in list(self.frames) if f["type"] == "cycle_summary" and t >= moment]

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(timeout=30)
        if self.process.poll() is None:
            self.process.kill()


async def follow(replica: Replica, token: str) -> None:
    async with aiohttp.ClientSession() as session, \
            session.ws_connect(f"{replica.url}/ws?token={token}", heartbeat=5) as ws:
        async for message in ws:
            if message.type == aiohttp.WSMsgType.TEXT:
                replica.frames.append((time.monotonic(), json.loads(message.data)))


def wait_until(predicate, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return predicate()


def lease_row(database: str, user_id: int) -> tuple[str, int]:
    server = mysql_server()
    connection = pymysql.connect(host=server.host, port=server.port, user=server.user, password=server.password,
                                 database=database, autocommit=True)
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT owner, fencing_token FROM monitor_leases WHERE user_id = %s", (user_id,))
            return cursor.fetchone()
    finally:
        connection.close()


@pytest.mark.mysql
def test_one_replica_monitors_a_user_and_the_other_takes_over_when_it_is_killed(
        fresh_mysql_url, tmp_path, alice: AliceAtThePaperBroker):
    replicas: list[Replica] = []
    try:
        config = tmp_path / "monitor.toml"
        config.write_text(f"[server]\nport = 0\n[cycle]\ninterval_s = {INTERVAL_S}\n[cycle.window]\nenabled = false\n")
        replicas = [Replica(config, fresh_mysql_url), Replica(config, fresh_mysql_url)]
        for replica in replicas:
            alice.io.run(follow(replica, alice.token))

        assert wait_until(lambda: any(r.summaries_since(0) for r in replicas), timeout=4 * INTERVAL_S)
        time.sleep(2 * INTERVAL_S)
        working = [r for r in replicas if r.summaries_since(0)]
        assert len(working) == 1, "exactly one replica runs the user's cycles"
        holder, standby = working[0], next(r for r in replicas if r is not working[0])
        hellos = {id(r): next(f for _, f in r.frames if f["type"] == "hello") for r in replicas}
        assert hellos[id(holder)]["monitoring"] is True and hellos[id(standby)]["monitoring"] is False
        owner, fencing_token = lease_row(fresh_mysql_url.rsplit("/", 1)[1], alice.user_id)
        assert f":{holder.process.pid}:" in owner and fencing_token == 1

        killed_at = time.monotonic()
        os.kill(holder.process.pid, signal.SIGKILL)
        holder.process.wait(timeout=10)
        assert wait_until(lambda: standby.summaries_since(killed_at), timeout=2 * INTERVAL_S + 1.0), \
            "the standby took over within two intervals"
        assert "takeover" in [f["trigger"] for t, f in list(standby.frames) if f["type"] == "cycle_started"
                              and t >= killed_at], "the cycle it runs at once says it took the user over"
        owner, fencing_token = lease_row(fresh_mysql_url.rsplit("/", 1)[1], alice.user_id)
        assert f":{standby.process.pid}:" in owner and fencing_token == 2
    finally:
        for replica in replicas:
            replica.stop()
