"""What `run.py serve` logs, read from a real process's JSON lines: the database it uses, password masked, and
where that came from; each step failure once at WARNING with user, cycle, step and account (an expired
session, an HTTP 500 and a step past its deadline from the paper broker over HTTP); no APScheduler line
per tick job run."""

from __future__ import annotations

import asyncio
import contextlib
import json
import signal
import sqlite3
import subprocess
import sys
import threading
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from adapters.broker.paper import run_paper_broker
from adapters.store.factory import connect_store, migrate_url
from tests import paper_sim
from tests.secret_key import SECRET_KEY_ENV
from tests.storage.conftest import require_mysql

ROOT = Path(__file__).resolve().parents[2]
ENV = {"MONITOR_NO_BOOTSTRAP": "1", "PATH": "/usr/bin:/bin", **SECRET_KEY_ENV}
SECRET_KEY = "s3cret-key-41c9"
FAILURE_LOGGER = "actors.user_monitor.failure_log"


class ServeProcess:
    """`run.py serve` in `config`'s folder, its stderr read line by line as it comes (so it never blocks)."""

    def __init__(self, config: Path, *args: str, **env: str) -> None:
        self.process = subprocess.Popen(
            [sys.executable, str(ROOT / "run.py"), "serve", "--config", str(config), *args],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env={**ENV, **env}, cwd=config.parent)
        self.stderr: list[str] = []
        self._reader = threading.Thread(target=self._read_stderr, daemon=True)
        self._reader.start()

    def _read_stderr(self) -> None:
        for line in self.process.stderr:
            self.stderr.append(line)

    def address(self) -> str:
        """The served URL, or "" when the process ended without serving."""
        return self.process.stdout.readline().strip().removeprefix("Serving on ")

    def stop(self) -> tuple[int, str]:
        """SIGTERM if still running; the exit status and everything printed on stdout."""
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
        stdout, _ = self.process.communicate(timeout=60)
        self._reader.join(timeout=10)
        if self.process.returncode != 0:  # shown with the failing test: a stop that hung prints its threads
            print(self.output(), file=sys.stderr)
        return self.process.returncode, stdout

    def json_lines(self) -> list[dict[str, Any]]:
        return [json.loads(line) for line in self.stderr if line.startswith("{")]

    def output(self) -> str:
        return "".join(self.stderr)


def database_lines(lines: list[dict[str, Any]]) -> list[tuple[str, str]]:
    """The level and text of each line naming the database."""
    return [(line["level"], line["message"]) for line in lines if line["message"].startswith("database ")]


# --- the database line -------------------------------------------------------------------------------------


def served_once(config: Path, *args: str, **env: str) -> tuple[int, list[dict[str, Any]], str]:
    """Start serve, stop it once it serves (or let it fail), return its status, JSON lines and all output."""
    served = ServeProcess(config, *args, **env)
    served.address()
    returncode, stdout = served.stop()
    return returncode, served.json_lines(), stdout + served.output()


def a_config(tmp_path: Path, database_url: str = "") -> Path:
    """monitor.toml in `tmp_path`: any free port, JSON logs, and `database_url` if given."""
    config = tmp_path / "monitor.toml"
    chosen = f'database_url = "{database_url}"\n' if database_url else ""
    config.write_text(f"{chosen}[server]\nport = 0\n[logging]\njson = true\n")
    return config


def database_lines_served(config: Path, *args: str, **env: str) -> list[tuple[str, str]]:
    """Serve once and stop, which must end cleanly; the lines naming the database."""
    returncode, lines, everything = served_once(config, *args, **env)
    assert returncode == 0, everything
    return database_lines(lines)


def test_serve_logs_the_default_database_file_and_that_nothing_chose_it(tmp_path):
    config = a_config(tmp_path)

    logged = database_lines_served(config)

    assert logged == [("INFO", f"database sqlite:///monitor.db (the file {tmp_path / 'monitor.db'}), from the "
                               f"default (no --database, no $MONITOR_DATABASE_URL, no database_url in {config})")]
    assert (tmp_path / "monitor.db").exists()


def test_serve_logs_the_database_url_of_the_config_file(tmp_path):
    config = a_config(tmp_path, "sqlite:///from-config.db")

    logged = database_lines_served(config)

    assert logged == [("INFO", f"database sqlite:///from-config.db (the file {tmp_path / 'from-config.db'}), "
                               f"from database_url in {config}")]


def test_serve_logs_the_environments_database_over_the_config_files(tmp_path):
    config = a_config(tmp_path, "sqlite:///from-config.db")
    chosen = tmp_path / "from-env.db"

    logged = database_lines_served(config, MONITOR_DATABASE_URL=f"sqlite:///{chosen}")

    assert logged == [("INFO", f"database sqlite:///{chosen} (the file {chosen}), from $MONITOR_DATABASE_URL")]
    assert chosen.exists() and not (tmp_path / "from-config.db").exists()


def test_serve_logs_the_database_option_over_the_environments_and_the_config_files(tmp_path):
    config = a_config(tmp_path, "sqlite:///from-config.db")
    chosen = tmp_path / "from-option.db"

    logged = database_lines_served(config, "--database", f"sqlite:///{chosen}",
                                   MONITOR_DATABASE_URL=f"sqlite:///{tmp_path / 'from-env.db'}")

    assert logged == [("INFO", f"database sqlite:///{chosen} (the file {chosen}), from the --database option")]
    assert chosen.exists() and not (tmp_path / "from-env.db").exists()


@pytest.mark.mysql
def test_serve_logs_a_mysql_url_with_its_password_masked_and_never_prints_the_password(tmp_path):
    server = require_mysql()
    config = a_config(tmp_path)
    password = "pw-9d2e!not-the-servers"
    url = f"mysql://{server.user or 'root'}:{password}@{server.host}:{server.port}/monitor_absent"

    returncode, lines, everything = served_once(config, MONITOR_DATABASE_URL=url)

    assert database_lines(lines) == [
        ("INFO", f"database mysql://{server.user or 'root'}:***@{server.host}:{server.port}/monitor_absent, "
                 "from $MONITOR_DATABASE_URL")]
    assert returncode == 1 and "cannot start" in everything
    assert password not in everything


def test_serve_refuses_a_database_url_it_cannot_use_naming_where_it_came_from(tmp_path):
    config = tmp_path / "monitor.toml"
    config.write_text('[server]\nport = 0\n')

    returncode, _, everything = served_once(config, MONITOR_DATABASE_URL="postgres://u:pw-5b7a@host/db")

    assert returncode == 2
    assert "config error: the database URL from $MONITOR_DATABASE_URL: unsupported database URL" in everything
    assert "pw-5b7a" not in everything


# --- step failures and the scheduler's lines ---------------------------------------------------------------

FAILING_CONFIG = """\
[server]
port = 0
[cycle]
interval_s = 1.0
[cycle.step_timeouts_s]
fetch = 2.0
[cycle.window]
enabled = false
[broker]
pacing = false
[logging]
json = true
"""


async def wait_until(condition, timeout_s: float = 60.0) -> Any:
    async with asyncio.timeout(timeout_s):
        while not (found := condition()):
            await asyncio.sleep(0.05)
    return found


def late_timeout_replies(database: Path, user_id: int) -> list[str]:
    """The cycles in which a fetch's work, cancelled after its deadline, told its own timeout afterwards."""
    with contextlib.closing(sqlite3.connect(database)) as connection:
        rows = connection.execute("SELECT cycle_id, payload FROM monitor_events WHERE user_id = ? AND type = ?",
                                  (user_id, "fetch_failed")).fetchall()
    return [cycle_id for cycle_id, payload in rows if json.loads(payload).get("message") == "timed out"]


async def test_each_step_failure_is_one_warning_json_line_with_user_cycle_step_and_account(tmp_path):
    database = tmp_path / "served.db"
    url = f"sqlite:///{database}"
    await migrate_url(url)
    store = await connect_store(url)
    frames: list[dict[str, Any]] = []
    async with run_paper_broker("127.0.0.1", 0, seed=5) as paper, aiohttp.ClientSession() as http:
        try:
            user_id, token = await store.add_user("alice")
            accounts = {client_id: await store.add_account(user_id, "paper", paper.url, client_id,
                                                           app_key=client_id, secret_key=SECRET_KEY)
                        for client_id in ("PAPER1", "PAPER2")}
        finally:
            await store.close()
        await paper_sim.sim(http, paper.url, "faults", route="order_book", account="PAPER1", kind="session_expired",
                            count=1)
        await paper_sim.sim(http, paper.url, "faults", route="order_book", account="PAPER2", kind="http_500", count=1)
        config = tmp_path / "monitor.toml"
        config.write_text(FAILING_CONFIG)
        served = ServeProcess(config, MONITOR_DATABASE_URL=url)
        try:
            base = await asyncio.to_thread(served.address)
            async with http.ws_connect(f"{base}/ws", headers={"Authorization": f"Bearer {token}"}) as ws:
                async def read() -> None:
                    async for message in ws:
                        frames.append(json.loads(message.data))
                reader = asyncio.ensure_future(read())
                [first] = await wait_until(lambda: [f["summary"] for f in frames if f["type"] == "cycle_summary"][:1])
                await paper_sim.sim(http, paper.url, "faults", route="order_book", account="PAPER2", kind="slow",
                                    delay_ms=6000, count=1)
                [timed_out] = await wait_until(lambda: late_timeout_replies(database, user_id))
                await wait_until(lambda: any(f["type"] == "cycle_started" and f["trigger"] == "schedule"
                                             for f in frames))
                reader.cancel()
        finally:
            returncode, stdout = await asyncio.to_thread(served.stop)

    assert returncode == 0, served.output()
    lines = served.json_lines()
    failures = [line for line in lines if line["logger"] == FAILURE_LOGGER]
    assert {line["level"] for line in failures} == {"WARNING"}
    logged = [(line["user_id"], line["cycle_id"], line["step"], line["account_id"], line["error_kind"])
              for line in failures]
    assert len(logged) == len(set(logged)), "a failure was logged more than once"
    assert sorted(entry for entry in logged if entry[1] == first["cycle_id"]) == [
        (user_id, first["cycle_id"], "fetch", accounts["PAPER1"], "session_expired"),
        (user_id, first["cycle_id"], "fetch", accounts["PAPER2"], "unavailable")]
    assert [entry for entry in logged if entry[1] == timed_out] == [
        (user_id, timed_out, "fetch", accounts["PAPER2"], "timeout")]
    [timeout_line] = [line for line in failures if line["cycle_id"] == timed_out]
    assert timeout_line["message"].endswith("(timeout): no reply within 2 s")
    assert not [line for line in lines if line["logger"].startswith("apscheduler") and line["level"] == "INFO"]
    everything = stdout + served.output()
    assert "executed successfully" not in everything and "Running job" not in everything
    assert SECRET_KEY not in everything and token not in everything

