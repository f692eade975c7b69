"""No API token reaches the log. A request line over aiohttp's 8,190 bytes, or a header line as long, makes
aiohttp log an ERROR whose exception text quotes the line's first bytes, `?token=` or `Bearer` included;
`run.py serve` masks the value. Checked against a real `serve` process with a real user's token, in JSON and
in text logging; and the mask itself, both sides of each rule."""

import logging
import signal
import socket
import subprocess
import sys

import pytest

from service.logs import AIOHTTP_LOGGERS, MASK, REDACT_SECRETS, RedactSecrets, configure_logging, redacted
from tests.web.test_serve import ROOT, serve

PADDING = b"a" * 9000
"""Takes the line past aiohttp's 8,190 bytes."""


def cli(*args: str) -> str:
    result = subprocess.run([sys.executable, str(ROOT / "run.py"), *args], capture_output=True, text=True,
                            timeout=60, env={"MONITOR_NO_BOOTSTRAP": "1", "PATH": "/usr/bin:/bin"})
    assert result.returncode == 0, result.stderr
    return result.stdout


def added_user_token(database_url: str) -> str:
    cli("migrate", "--database", database_url)
    line = next(line for line in cli("users", "add", "alice", "--database", database_url).splitlines()
                if line.startswith("API token"))
    return line.rsplit(" ", 1)[1]


def refused_with_400(port: int, raw: bytes) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=30) as connection:
        connection.sendall(raw)
        answer = b""
        while chunk := connection.recv(4096):
            answer += chunk
    assert answer.startswith(b"HTTP/1.0 400 Bad Request"), answer[:200]
    return answer


@pytest.mark.parametrize("json_lines", [True, False])
def test_an_over_long_request_line_or_header_logs_no_token(tmp_path, json_lines):
    database_url = f"sqlite:///{tmp_path / 'served.db'}"
    token = added_user_token(database_url)
    config = tmp_path / "monitor.toml"
    config.write_text(f'[server]\nport = 0\n[logging]\njson = {str(json_lines).lower()}\nlevel = "DEBUG"\n')
    process = serve(config, MONITOR_DATABASE_URL=database_url)
    try:
        port = int(process.stdout.readline().strip().rsplit(":", 1)[1])
        line_answer = refused_with_400(port, b"GET /ws?token=" + token.encode() + b"&pad=" + PADDING
                                       + b" HTTP/1.1\r\nHost: x\r\n\r\n")
        header_answer = refused_with_400(port, b"GET /api/orders HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer "
                                         + token.encode() + PADDING + b"\r\n\r\n")
    finally:
        process.send_signal(signal.SIGTERM)
        _, err = process.communicate(timeout=60)
    assert process.returncode == 0
    assert token.encode() in line_answer and token.encode() in header_answer  # the caller's own line, to them
    assert err.count("Got more than 8190 bytes") == 2  # the records are there ...
    assert f"token={MASK}&pad=aaa" in err and f"Bearer {MASK}" in err  # ... masked
    assert token not in err and token[:8] not in err


@pytest.mark.parametrize(("text", "expected"), [
    ("GET /ws?token=abc123 HTTP/1.1", f"GET /ws?token={MASK} HTTP/1.1"),
    ("/ws?a=1&token=abc123&b=2", f"/ws?a=1&token={MASK}&b=2"),
    ("b'/ws?TOKEN=abc123'", f"b'/ws?TOKEN={MASK}'"),
    ("Authorization: Bearer abc.123-x", f"Authorization: Bearer {MASK}"),
    ('{"auth": "bearer  abc123"}', f'{{"auth": "bearer  {MASK}"}}'),
    ("token=", "token="),  # no value: nothing to mask
    ("Bearer", "Bearer"),
    ("a tokenless line, Bearers aside", "a tokenless line, Bearers aside"),
])
def test_the_mask_covers_token_parameters_and_bearer_credentials(text, expected):
    assert redacted(text) == expected


def test_the_filter_masks_arguments_and_exception_text():
    try:
        raise ValueError("bad line b'/ws?token=s3cret'")
    except ValueError:
        record = logging.LogRecord("aiohttp.server", logging.ERROR, __file__, 1, "from %s: %s", None,
                                   sys.exc_info())
    record.args = ("127.0.0.1", "Bearer s3cret")
    assert RedactSecrets().filter(record)
    assert record.getMessage() == f"from 127.0.0.1: Bearer {MASK}"
    assert "s3cret" not in record.exc_text and f"token={MASK}" in record.exc_text
    assert "s3cret" not in logging.Formatter().format(record)


def test_serve_installs_the_filter_on_aiohttp_loggers_and_the_root_handler():
    root = logging.getLogger()
    saved_handlers, saved_level = root.handlers[:], root.level
    try:
        configure_logging("INFO", json_lines=True)
        configure_logging("INFO", json_lines=True)
        assert all(logging.getLogger(name).filters.count(REDACT_SECRETS) == 1 for name in ("", *AIOHTTP_LOGGERS))
        assert REDACT_SECRETS in root.handlers[0].filters
    finally:
        for name in ("", *AIOHTTP_LOGGERS):
            logging.getLogger(name).removeFilter(REDACT_SECRETS)
        root.handlers[:], root.level = saved_handlers, saved_level
