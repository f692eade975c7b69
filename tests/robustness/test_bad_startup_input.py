"""`run.py serve` given what it cannot use: a config with wrong types exits 2 naming the field; a database
that refuses or never answers exits 1 with one clear line (no traceback, password redacted), in bounded time."""

from __future__ import annotations

import socket
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
ENV = {"MONITOR_NO_BOOTSTRAP": "1", "PATH": "/usr/bin:/bin"}


def serve(tmp_path: Path, toml: str, timeout: float = 60) -> subprocess.CompletedProcess:
    config = tmp_path / "monitor.toml"
    config.write_text(toml)
    return subprocess.run([sys.executable, str(ROOT / "run.py"), "serve", "--config", str(config)],
                          capture_output=True, text=True, env=ENV, cwd=tmp_path, timeout=timeout)


@pytest.mark.parametrize(("toml", "expected"), [
    ('[cycle]\ninterval_s = "fast"\n', "Expected `float`, got `str` - at `$.cycle.interval_s`"),
    ('[broker]\npacing = "yes"\n', "Expected `bool`, got `str` - at `$.broker.pacing`"),
    ('[server]\nallowed_origins = "https://desk.example"\n', "Expected `array`, got `str` - at "
                                                             "`$.server.allowed_origins`"),
    ('[cycle.step_timeouts_s]\nfetch = "20"\n', "Expected `float`, got `str` - at `$.cycle.step_timeouts_s"),
    ('database_url = 5\n', "Expected `str`, got `int` - at `$.database_url`"),
])
def test_a_config_value_of_the_wrong_type_exits_2_naming_it(tmp_path, toml, expected):
    result = serve(tmp_path, toml)
    assert result.returncode == 2
    assert expected in result.stderr and "Traceback" not in result.stderr


def test_a_database_that_refuses_connections_is_one_clear_line_without_the_password(tmp_path):
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    result = serve(tmp_path, f'database_url = "mysql://monitor:hunter2@127.0.0.1:{port}/monitor"\n')
    assert result.returncode == 1
    assert f"cannot start: cannot connect to mysql://monitor:***@127.0.0.1:{port}/monitor" in result.stderr
    assert "Traceback" not in result.stderr and "hunter2" not in result.stderr + result.stdout


def test_a_database_that_never_answers_gives_up_within_its_connect_timeout(tmp_path):
    with socket.socket() as silent:
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)  # the handshake completes in the backlog; nothing is ever read or written
        port = silent.getsockname()[1]
        result = serve(tmp_path, f'database_url = "mysql://monitor@127.0.0.1:{port}/monitor"\n', timeout=40)
    assert result.returncode == 1
    assert "cannot start: cannot connect to mysql://monitor@127.0.0.1" in result.stderr
    assert "Traceback" not in result.stderr
