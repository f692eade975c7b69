"""The `[alerts]` section: off by default, read from the file, its secrets from the environment, and a
config that cannot work refused naming the field without echoing a secret."""

from __future__ import annotations

from pathlib import Path

import pytest

from service.config import AlertsConfig, ConfigError, ServiceConfig, load_config

ROOT = Path(__file__).resolve().parents[2]
TOKEN = "111:bot-token-CONFIG-SECRET"
HOOK = "https://hooks.slack.com/services/T0/B0/SECRET"


def config_from(tmp_path: Path, toml: str, environ: dict[str, str] | None = None) -> ServiceConfig:
    path = tmp_path / "monitor.toml"
    path.write_text(toml)
    return load_config(str(path), environ or {})


def test_alerts_are_off_by_default_and_the_example_shows_every_default(tmp_path):
    assert not config_from(tmp_path, "").alerts.enabled
    assert load_config(str(ROOT / "monitor.example.toml"), {}).alerts == AlertsConfig()
    example = (ROOT / "monitor.example.toml").read_text()
    assert all(f"\n{field} = " in example for field in AlertsConfig.__struct_fields__)


def test_the_section_is_read_from_the_file(tmp_path):
    alerts = config_from(tmp_path, f'[alerts]\nwebhook_url = "{HOOK}"\ntelegram_bot_token = "{TOKEN}"\n'
                                   'telegram_chat_id = "@desk"\ntelegram_base_url = "http://127.0.0.1:9/"\n'
                                   "realert_after_s = 900.0\nper_user_per_minute = 3\n"
                                   "monitor_stopped_after_s = 0.0\ntimeout_s = 2.5\n").alerts
    assert alerts == AlertsConfig(webhook_url=HOOK, telegram_bot_token=TOKEN, telegram_chat_id="@desk",
                                  telegram_base_url="http://127.0.0.1:9/", realert_after_s=900.0,
                                  per_user_per_minute=3, monitor_stopped_after_s=0.0, timeout_s=2.5)
    assert alerts.enabled


def test_the_bot_token_and_the_webhook_url_come_from_the_environment_over_the_file(tmp_path):
    alerts = config_from(tmp_path, '[alerts]\ntelegram_chat_id = "42"\nwebhook_url = "https://old.example/x"\n',
                         {"MONITOR_TELEGRAM_BOT_TOKEN": TOKEN, "MONITOR_ALERT_WEBHOOK_URL": HOOK}).alerts
    assert (alerts.telegram_bot_token, alerts.webhook_url, alerts.telegram_chat_id) == (TOKEN, HOOK, "42")


def test_an_empty_environment_variable_leaves_the_file_value(tmp_path):
    alerts = config_from(tmp_path, f'[alerts]\nwebhook_url = "{HOOK}"\n', {"MONITOR_ALERT_WEBHOOK_URL": ""}).alerts
    assert alerts.webhook_url == HOOK


def test_a_chat_without_a_bot_token_is_refused(tmp_path):
    with pytest.raises(ConfigError, match=r"telegram_chat_id is set but there is no bot token .* - at `\$.alerts`"):
        config_from(tmp_path, '[alerts]\ntelegram_chat_id = "42"\n')


@pytest.mark.parametrize(("toml", "expected"), [
    (f'telegram_bot_token = "{TOKEN}"\n', "a Telegram bot token needs telegram_chat_id - at `$.alerts`"),
    ('webhook_url = "hooks.slack.com/services/SECRET"\n', "webhook_url must be an http:// or https:// URL"),
    ('telegram_base_url = "ftp://api.telegram.org"\n', "telegram_base_url must be an http:// or https:// URL"),
    ("per_user_per_minute = 0\n", "per_user_per_minute must be positive, got 0"),
    ("timeout_s = 0.0\n", "timeout_s must be positive"),
    ("realert_after_s = -1.0\n", "realert_after_s must not be negative, got -1.0"),
    ("monitor_stopped_after_s = -0.5\n", "monitor_stopped_after_s must not be negative, got -0.5"),
    ("webhook = 1\n", "unknown field `webhook`"),
])
def test_a_section_that_cannot_work_is_refused_naming_the_field_and_no_secret(tmp_path, toml, expected):
    with pytest.raises(ConfigError) as raised:
        config_from(tmp_path, "[alerts]\n" + toml)
    assert expected in str(raised.value)
    assert "SECRET" not in str(raised.value)


def test_the_last_allowed_values_are_taken(tmp_path):
    alerts = config_from(tmp_path, "[alerts]\nper_user_per_minute = 1\nrealert_after_s = 0.0\n"
                                   "monitor_stopped_after_s = 0.0\n").alerts
    assert (alerts.per_user_per_minute, alerts.realert_after_s, alerts.monitor_stopped_after_s) == (1, 0.0, 0.0)
