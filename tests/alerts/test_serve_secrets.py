"""`run.py serve` as a real process with `[alerts]` in its config and the bot token and the webhook URL
in the environment: the kill switch's turns reach both stand-ins (the first ones refused with 500, logged
at WARNING), and with DEBUG logging nothing the process wrote, and no alert body, holds the bot token or
the webhook's secret path."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import urllib.request
from pathlib import Path

from tests.alerts.endpoints import WEBHOOK_PATH, AlertEndpoints
from tests.cycle.conftest import wait_for
from tests.secret_key import SECRET_KEY_ENV

ROOT = Path(__file__).resolve().parents[2]
ENV = {"MONITOR_NO_BOOTSTRAP": "1", "PATH": "/usr/bin:/bin", **SECRET_KEY_ENV}
TOKEN = "7770007:AAG-serve-bot-token-SECRET"


def cli(*args: str) -> str:
    result = subprocess.run([sys.executable, str(ROOT / "run.py"), *args], capture_output=True, text=True,
                            env=ENV, timeout=60)
    assert result.returncode == 0, result.stderr
    return result.stdout


def call(url: str, path: str, token: str, body: dict | None = None) -> int:
    request = urllib.request.Request(url + path, data=json.dumps(body or {}).encode(), method="POST",
                                     headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=10) as response:
        return response.status


def test_serve_sends_alerts_and_writes_neither_the_bot_token_nor_the_webhook_secret(tmp_path,
                                                                                   endpoints: AlertEndpoints):
    database = f"sqlite:///{tmp_path / 'serve.db'}"
    cli("migrate", "--database", database)
    [token_line] = [line for line in cli("users", "add", "alice", "--database", database).splitlines()
                    if line.startswith("API token")]
    api_token = token_line.split(": ", 1)[1].split()[0]
    config = tmp_path / "monitor.toml"
    config.write_text(f'database_url = "{database}"\n[server]\nport = 0\n[logging]\nlevel = "DEBUG"\n'
                      f'[alerts]\ntelegram_chat_id = "42"\ntelegram_base_url = "{endpoints.telegram_base_url}"\n')
    endpoints.status.update(webhook=500, telegram=500)
    serve = subprocess.Popen([sys.executable, str(ROOT / "run.py"), "serve", "--config", str(config)],
                             stdout=subprocess.PIPE, stderr=(tmp_path / "serve.err").open("w"), text=True,
                             env={**ENV, "MONITOR_TELEGRAM_BOT_TOKEN": TOKEN,
                                  "MONITOR_ALERT_WEBHOOK_URL": endpoints.webhook_url}, cwd=tmp_path)
    try:
        url = serve.stdout.readline().strip().removeprefix("Serving on ")
        assert call(url, "/api/pause", api_token, {"reason": "refused at first"}) == 200
        wait_for(lambda: endpoints.webhook() and endpoints.telegram())
        wait_for(lambda: (tmp_path / "serve.err").read_text().count("not delivered") == 2)
        endpoints.status.update(webhook=200, telegram=200)
        assert call(url, "/api/resume", api_token) == 200
        wait_for(lambda: len(endpoints.webhook()) == 2 and len(endpoints.telegram()) == 2)
    finally:
        serve.send_signal(signal.SIGTERM)
        out, _ = serve.communicate(timeout=60)
    err = (tmp_path / "serve.err").read_text()

    assert serve.returncode == 0, err
    assert [r.body["kind"] for r in endpoints.webhook()] == ["paused", "resumed"]
    assert {r.path for r in endpoints.telegram()} == {f"/bot{TOKEN}/sendMessage"}
    assert {r.path for r in endpoints.webhook()} == {WEBHOOK_PATH}
    assert f"not delivered to Telegram chat 42 at {endpoints.url}/bot***/sendMessage: answered HTTP 500" in err
    assert f"not delivered to webhook {endpoints.url}/***: answered HTTP 500: upstream broke" in err
    assert "alert resumed of user 1 sent to webhook, telegram" in err
    bodies = json.dumps([r.body for r in (*endpoints.webhook(), *endpoints.telegram())])
    for secret in (TOKEN, TOKEN.split(":")[1], WEBHOOK_PATH, "hook-secret-XYZ"):
        assert secret not in out and secret not in err and secret not in bodies
