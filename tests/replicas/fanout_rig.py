"""The fan-out's test rig: NATS (the machine's, at MONITOR_TEST_NATS_URL, or one the test starts and kills),
`serve` replicas linked through it, and WebSocket clients that keep every frame they get.

Without a NATS server the fan-out tests skip with the reason, unless MONITOR_REQUIRE_NATS=1 (CI), where they
fail, as the MySQL tests do."""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
import uuid
from collections.abc import Callable
from functools import cache
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import aiohttp
import pymysql
import pytest

from actors.io_loop import IoLoop
from tests.secret_key import SECRET_KEY_ENV
from tests.storage.conftest import mysql_server

ROOT = Path(__file__).resolve().parents[2]
NATS_URL_ENV = "MONITOR_TEST_NATS_URL"
DEFAULT_TEST_NATS_URL = "nats://127.0.0.1:4222"


def nats_url() -> str:
    return os.environ.get(NATS_URL_ENV, DEFAULT_TEST_NATS_URL)


@cache
def nats_unreachable_reason() -> str | None:
    parts = urlsplit(nats_url())
    try:
        with socket.create_connection((parts.hostname, parts.port or 4222), timeout=3) as connection:
            greeting = connection.recv(4096)
    except OSError as error:
        return f"no NATS server at {parts.hostname}:{parts.port} ({error}); set {NATS_URL_ENV}"
    if not greeting.startswith(b"INFO "):
        return f"{parts.hostname}:{parts.port} does not greet as a NATS server"
    return None


def require_nats() -> str:
    reason = nats_unreachable_reason()
    if reason is not None:
        if os.environ.get("MONITOR_REQUIRE_NATS") == "1":
            pytest.fail(f"MONITOR_REQUIRE_NATS=1 but {reason}")
        pytest.skip(reason)
    return nats_url()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class OwnNats:
    """A NATS server of the test's own on a free port, to stop and start again (core NATS, no JetStream)."""

    def __init__(self, config: str = "") -> None:
        binary = shutil.which("nats-server") or "/usr/sbin/nats-server"
        if not Path(binary).exists():
            reason = "no nats-server binary to start a NATS of the test's own"
            if os.environ.get("MONITOR_REQUIRE_NATS") == "1":
                pytest.fail(f"MONITOR_REQUIRE_NATS=1 but {reason}")
            pytest.skip(reason)
        self.binary = binary
        self.port = free_port()
        self.url = f"nats://127.0.0.1:{self.port}"
        self.config = config
        self.process: subprocess.Popen | None = None

    def start(self, config_dir: Path) -> None:
        arguments = [self.binary, "-a", "127.0.0.1", "-p", str(self.port)]
        if self.config:
            config = config_dir / f"nats-{self.port}.conf"
            config.write_text(self.config)
            arguments += ["-c", str(config)]
        self.process = subprocess.Popen(arguments, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", self.port), timeout=1):
                return
            time.sleep(0.05)
        raise AssertionError(f"nats-server did not listen on {self.port}")

    def kill(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)


def fanout_config(path: Path, nats: str, interval_s: float) -> Path:
    """A serve config on a free port with the fan-out to `nats`, on subjects of this test alone."""
    path.write_text(f"[server]\nport = 0\n[cycle]\ninterval_s = {interval_s}\n[cycle.window]\nenabled = false\n"
                    f"[fanout]\nnats_url = \"{nats}\"\nsubject_prefix = \"test{uuid.uuid4().hex[:12]}\"\n"
                    "request_timeout_s = 3.0\nreconnect_wait_s = 0.5\nping_interval_s = 1.0\n")
    return path


class LinkedReplica:
    """`run.py serve` in a process of its own; its log goes to a file the test may read."""

    def __init__(self, config: Path, database_url: str, name: str) -> None:
        self.log_path = config.parent / f"{name}.log"
        self._log = self.log_path.open("w")
        self.process = subprocess.Popen(
            [sys.executable, str(ROOT / "run.py"), "serve", "--config", str(config)],
            stdout=subprocess.PIPE, stderr=self._log, text=True, cwd=config.parent,
            env={"MONITOR_NO_BOOTSTRAP": "1", "PATH": "/usr/bin:/bin", **SECRET_KEY_ENV,
                 "MONITOR_DATABASE_URL": database_url})
        assert self.process.stdout is not None
        self.url = self.process.stdout.readline().strip().removeprefix("Serving on ")
        assert self.url.startswith("http://"), (self.url, self.log())

    def log(self) -> str:
        return self.log_path.read_text()

    def fanout_up(self, io: IoLoop) -> bool:
        async def read() -> bool:
            async with aiohttp.ClientSession() as session, session.get(f"{self.url}/metrics") as response:
                return "monitor_fanout_up 1.0" in await response.text()
        return io.call(read())

    def kill(self) -> None:
        if self.process.poll() is None:
            self.process.kill()
            self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            with contextlib.suppress(subprocess.TimeoutExpired):
                self.process.wait(timeout=30)
        self.kill()
        self._log.close()


class Client:
    """A WebSocket client of one replica, on `io`, keeping (arrival time, frame) of everything it gets."""

    def __init__(self, io: IoLoop, replica: LinkedReplica, token: str) -> None:
        self.io = io
        self.frames: list[tuple[float, dict[str, Any]]] = []
        self._socket: aiohttp.ClientWebSocketResponse | None = None
        self._connected = asyncio.Event()
        self.done = io.run(self._follow(replica.url, token))
        io.call(asyncio.wait_for(self._connected.wait(), 15))

    async def _follow(self, url: str, token: str) -> None:
        async with aiohttp.ClientSession() as session, \
                session.ws_connect(f"{url}/ws", headers={"Authorization": f"Bearer {token}"}, heartbeat=5) as ws:
            self._socket = ws
            self._connected.set()
            async for message in ws:
                if message.type == aiohttp.WSMsgType.TEXT:
                    self.frames.append((time.monotonic(), json.loads(message.data)))

    def send(self, frame: dict[str, Any]) -> None:
        assert self._socket is not None
        self.io.call(self._socket.send_json(frame))

    def close(self) -> None:
        if self._socket is not None:
            self.io.call(self._socket.close())

    def of(self, kind: str, since: float = 0.0) -> list[dict[str, Any]]:
        return [frame for at, frame in list(self.frames) if frame["type"] == kind and at >= since]

    def hello(self) -> dict[str, Any]:
        assert wait_until(lambda: self.of("hello"), 15), self.frames
        return self.of("hello")[0]


def wait_until(predicate: Callable[[], Any], timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.05)
    return bool(predicate())


def database_row(database_url: str, query: str, *arguments: Any) -> tuple | None:
    server = mysql_server()
    connection = pymysql.connect(host=server.host, port=server.port, user=server.user, password=server.password,
                                 database=database_url.rsplit("/", 1)[1], autocommit=True)
    try:
        with connection.cursor() as cursor:
            cursor.execute(query, arguments)
            return cursor.fetchone()
    finally:
        connection.close()
