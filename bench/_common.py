"""What the service benchmarks share: the machine line, a throw-away MariaDB database, process figures
read from /proc (CPU seconds, RSS, threads of any pid), the server's statement counter, percentiles.

It owns no measurement policy: `cycle.py` and `scale.py` decide what to time and what to report.
"""

from __future__ import annotations

import argparse
import os
import platform
from collections.abc import Sequence
from typing import Any

import pymysql

CLOCK_TICKS = os.sysconf("SC_CLK_TCK")
PAGE_SIZE = os.sysconf("SC_PAGE_SIZE")


def machine() -> str:
    with open("/proc/cpuinfo") as cpuinfo:
        model = next((line.split(":", 1)[1].strip() for line in cpuinfo if line.startswith("model name")),
                     platform.processor())
    with open("/proc/meminfo") as meminfo:
        memory_kib = int(next(line.split()[1] for line in meminfo if line.startswith("MemTotal")))
    return (f"{model}, {os.cpu_count()} CPUs, {memory_kib / 2**20:.1f} GiB, "
            f"Python {platform.python_version()}")


def percentile(values: Sequence[float], fraction: float) -> float:
    """Nearest-rank percentile (p99 of 200 values is the 198th); NaN for no values."""
    if not values:
        return float("nan")
    ordered = sorted(values)
    rank = max(1, -(-int(fraction * 1000) * len(ordered) // 1000))
    return ordered[min(rank, len(ordered)) - 1]


class ProcessStat:
    """CPU seconds (user + system), RSS and thread count of a process, from /proc/<pid>/stat."""

    def __init__(self, pid: int | None = None) -> None:
        self.pid = pid or os.getpid()

    def read(self) -> tuple[float, int, int]:
        with open(f"/proc/{self.pid}/stat") as stat:
            fields = stat.read().rsplit(")", 1)[1].split()
        # fields[0] is the state (field 3 of proc(5)); utime 14, stime 15, num_threads 20, rss 24
        cpu = (int(fields[11]) + int(fields[12])) / CLOCK_TICKS
        return cpu, int(fields[21]) * PAGE_SIZE, int(fields[17])

    def cpu(self) -> float:
        return self.read()[0]


def mysqld_pid() -> int | None:
    """The local MariaDB / MySQL server's pid, if one runs on this machine and /proc shows it."""
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/comm") as comm:
                    if comm.read().strip() in ("mariadbd", "mysqld"):
                        return int(entry)
            except OSError:
                continue
    return None


def add_database_arguments(parser: argparse.ArgumentParser) -> None:
    """--host, --port, --user, --password of the MariaDB server (default root without password at 127.0.0.1:3306)."""
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=3306)
    parser.add_argument("--user", default="root")
    parser.add_argument("--password", default="")


class BenchDatabase:
    """A database of its own on the MariaDB server (`<prefix>_<pid>`), dropped on exit; `url` for the
    service, `admin` (autocommit pymysql) for seeding and the server's counters."""

    def __init__(self, prefix: str, host: str, port: int, user: str, password: str) -> None:
        self.name = f"{prefix}_{os.getpid()}"
        self.admin = pymysql.connect(host=host, port=port, user=user, password=password, autocommit=True)
        credentials = f"{user}:{password}@" if password else f"{user}@"
        self.url = f"mysql://{credentials}{host}:{port}/{self.name}"

    def __enter__(self) -> BenchDatabase:
        with self.admin.cursor() as cursor:
            cursor.execute(f"CREATE DATABASE `{self.name}` CHARACTER SET utf8mb4 COLLATE utf8mb4_bin")
        self.admin.select_db(self.name)
        return self

    def __exit__(self, *exc: object) -> None:
        with self.admin.cursor() as cursor:
            cursor.execute(f"DROP DATABASE IF EXISTS `{self.name}`")
        self.admin.close()

    def version(self) -> str:
        return str(self.query("SELECT VERSION()")[0][0])

    def query(self, sql: str, params: Any = None) -> tuple:
        with self.admin.cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.fetchall()

    def insert_many(self, sql: str, rows: Sequence[Sequence[Any]], chunk: int = 5_000) -> None:
        with self.admin.cursor() as cursor:
            for start in range(0, len(rows), chunk):
                cursor.executemany(sql, rows[start:start + chunk])
