"""The `[market_data]` section: off by default; an enabled feed needs its base URL and both keys, which the
environment may give (and overrides); models by segment and symbol decode, and a model that cannot price is
refused naming it; intervals must be positive; the secret key is never in the config's repr."""

from __future__ import annotations

from decimal import Decimal
from pathlib import Path

import pytest

from domain.quotes import FairModel
from service.config import ConfigError, MarketDataConfig, load_config

ENABLED = '[market_data]\nenabled = true\nbase_url = "https://xts.example"\n'
KEYS = 'app_key = "md-key"\nsecret_key = "md-secret-value"\n'


def loaded(tmp_path: Path, toml: str, environ: dict[str, str] | None = None) -> MarketDataConfig:
    path = tmp_path / "monitor.toml"
    path.write_text(toml)
    return load_config(str(path), environ or {}).market_data


def test_the_feed_is_off_unless_enabled(tmp_path):
    assert loaded(tmp_path, "") == MarketDataConfig()
    assert not MarketDataConfig().enabled


def test_an_enabled_feed_without_its_keys_is_refused_naming_them(tmp_path):
    with pytest.raises(ConfigError, match=r"needs app_key, secret_key - at `\$.market_data`"):
        loaded(tmp_path, ENABLED)
    with pytest.raises(ConfigError, match="needs base_url"):
        loaded(tmp_path, '[market_data]\nenabled = true\n' + KEYS)


def test_the_keys_may_come_from_the_environment_and_override_the_file(tmp_path):
    environ = {"MONITOR_MARKET_DATA_APP_KEY": "env-key", "MONITOR_MARKET_DATA_SECRET_KEY": "env-secret"}
    assert (loaded(tmp_path, ENABLED, environ).app_key, loaded(tmp_path, ENABLED, environ).secret_key) == (
        "env-key", "env-secret")
    assert loaded(tmp_path, ENABLED + KEYS, environ).secret_key == "env-secret"
    assert loaded(tmp_path, ENABLED + KEYS).secret_key == "md-secret-value"


def test_models_by_segment_and_symbol_decode(tmp_path):
    config = loaded(tmp_path, ENABLED + KEYS + '[market_data.models.default]\nkind = "ltp"\n'
                    '[market_data.models.segments.NSEFO]\nkind = "mid"\nticks = 2\n'
                    '[market_data.models.instruments.SBIN]\nkind = "touch"\n')
    assert config.models.of("SBIN", "NSECM") == FairModel()
    assert config.models.of("NIFTY26DECFUT", "NSEFO") == FairModel(kind="mid", ticks=2, tick=Decimal("0.05"))
    assert config.models.of("INFY", "NSECM") == FairModel(kind="ltp")


@pytest.mark.parametrize("section", ['[market_data.models.default]\nkind = "mid"\nticks = -1\n',
                                     '[market_data.models.default]\nkind = "vwap"\n',
                                     '[market_data]\nflush_interval_s = 0\n',
                                     '[market_data]\npoll_s = -1\n'])
def test_a_setting_that_cannot_work_is_refused(tmp_path, section):
    with pytest.raises(ConfigError, match="market_data"):
        loaded(tmp_path, section)


def test_the_secret_key_is_never_in_the_repr(tmp_path):
    config = loaded(tmp_path, ENABLED + KEYS)
    assert "md-secret-value" not in repr(config) and "md-key" not in repr(config)
