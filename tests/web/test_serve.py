"""`run.py serve` as a real process: config errors exit 2 with the field and the reason; a healthy server
answers, logs JSON lines (among them which FIFO loop runs), and on SIGTERM finishes and exits 0, even one
sent the instant the address is printed."""

import json
import signal
import subprocess
import sys
import urllib.request
from pathlib import Path

import pytest

from actors.pnl_calculator import fifo
from tests.secret_key import SECRET_KEY_ENV

ROOT = Path(__file__).resolve().parents[2]
ENV = {"MONITOR_NO_BOOTSTRAP": "1", "PATH": "/usr/bin:/bin", **SECRET_KEY_ENV}


def serve(config: Path, **env: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, str(ROOT / "run.py"), "serve", "--config", str(config)],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env={**ENV, **env},
                            cwd=config.parent)


@pytest.mark.parametrize(("toml", "expected"), [
    ('[server]\nport = "eighty"\n', "Expected `int`, got `str` - at `$.server.port`"),
    ('[cycle]\ninterval_s = -5\n', "interval_s must be positive"),
    ('[database]\npool_size = 0\n', "pool_size must be positive, got 0 - at `$.database`"),
    ('[cycle.window]\nstart = 15:30:00\nend = 09:15:00\n', "start 15:30:00 must be before end 09:15:00"),
    ('[server]\nprot = 8080\n', "unknown field `prot`"),
    ('database_url = \n', "not valid TOML"),
])
def test_a_wrong_config_exits_2_naming_the_field_and_the_reason(tmp_path, toml, expected):
    config = tmp_path / "monitor.toml"
    config.write_text(toml)
    process = serve(config)
    _, err = process.communicate(timeout=30)
    assert process.returncode == 2
    assert expected in err


def test_a_missing_config_file_is_a_clear_error(tmp_path):
    process = serve(tmp_path / "absent.toml")
    _, err = process.communicate(timeout=30)
    assert process.returncode == 2 and "cannot read" in err


def test_serve_answers_logs_json_and_stops_cleanly_on_sigterm(tmp_path):
    config = tmp_path / "monitor.toml"
    config.write_text('database_url = "sqlite:///ignored.db"\n[server]\nport = 0\n[logging]\njson = true\n')
    process = serve(config, MONITOR_DATABASE_URL=f"sqlite:///{tmp_path / 'served.db'}")
    try:
        url = process.stdout.readline().strip().removeprefix("Serving on ")
        with urllib.request.urlopen(f"{url}/healthz", timeout=10) as response:
            assert json.loads(response.read()) == {"status": "ok"}
    finally:
        process.send_signal(signal.SIGTERM)
        _, err = process.communicate(timeout=60)
    assert process.returncode == 0
    assert (tmp_path / "served.db").exists() and not (tmp_path / "ignored.db").exists()
    lines = [json.loads(line) for line in err.splitlines() if line.startswith("{")]
    assert lines and {"time", "level", "logger", "message"} <= set(lines[0])
    assert any(line["message"] == "stopped" for line in lines)
    fifo_loop = [line for line in lines if line["message"].startswith("FIFO matching: ")]
    assert len(fifo_loop) == 1
    assert fifo_loop[0]["message"].startswith("FIFO matching: the compiled loop" if fifo.COMPILED
                                              else "FIFO matching: the Python loop")


def test_a_sigterm_sent_the_instant_the_address_is_printed_stops_serve_cleanly(tmp_path):
    config = tmp_path / "monitor.toml"
    config.write_text(f'database_url = "sqlite:///{tmp_path / "served.db"}"\n[server]\nport = 0\n')
    for _ in range(10):
        process = serve(config)
        line = process.stdout.readline()
        process.send_signal(signal.SIGTERM)
        _, err = process.communicate(timeout=60)
        assert line.startswith("Serving on ") and process.returncode == 0, err


def test_sigusr1_writes_every_threads_stack_and_serve_keeps_answering(tmp_path):
    config = tmp_path / "monitor.toml"
    config.write_text(f'database_url = "sqlite:///{tmp_path / "served.db"}"\n[server]\nport = 0\n')
    process = serve(config)
    try:
        url = process.stdout.readline().strip().removeprefix("Serving on ")
        process.send_signal(signal.SIGUSR1)
        with urllib.request.urlopen(f"{url}/healthz", timeout=10) as response:
            assert json.loads(response.read()) == {"status": "ok"}
    finally:
        process.send_signal(signal.SIGTERM)
        _, err = process.communicate(timeout=60)
    assert process.returncode == 0, err
    assert "Current thread" in err and err.count("Thread 0x") >= 2, "the stacks of the main and the other threads"
    assert 'in wait\n' in err, "the main thread waiting for a stop signal"
