"""The service config's connection limits: `[broker]` HTTP connections and kept read answers, `[database]`
pool sizes; decoded from TOML, defaulted, and refused with the field's name when not positive. And `[leases]`:
a lease too short for the send guard refused at load."""

from __future__ import annotations

from pathlib import Path

import pytest

from actors.user_monitor.config import CycleConfig
from service.config import BrokerConfig, ConfigError, DatabaseConfig, ServiceConfig, load_config

ROOT = Path(__file__).resolve().parents[2]


def config_from(tmp_path: Path, toml: str) -> ServiceConfig:
    path = tmp_path / "monitor.toml"
    path.write_text(toml)
    return load_config(str(path), {})


def test_the_limits_are_read_from_their_sections(tmp_path):
    config = config_from(tmp_path, "[broker]\nconnection_limit = 50\nconnections_per_host = 5\n"
                                   "read_cache_accounts = 300\n[database]\npool_size = 4\nevent_log_pool_size = 1\n")
    assert (config.broker.connection_limit, config.broker.connections_per_host) == (50, 5)
    assert config.broker.read_cache_accounts == 300
    assert config.database == DatabaseConfig(pool_size=4, event_log_pool_size=1)


def test_absent_limits_keep_their_defaults(tmp_path):
    config = config_from(tmp_path, "[broker]\ncall_timeout_s = 5.0\n")
    assert (config.broker.connection_limit, config.broker.connections_per_host) == (200, 20)
    assert config.broker.read_cache_accounts == 20_000
    assert config.database == DatabaseConfig(pool_size=10, event_log_pool_size=2)


def test_session_renewal_is_on_by_default_and_can_be_switched_off(tmp_path):
    assert (BrokerConfig().session_renewal, BrokerConfig().session_renewal_backoff_s) == (True, 900.0)
    config = config_from(tmp_path, "[broker]\nsession_renewal = false\nsession_renewal_backoff_s = 60\n")
    assert (config.broker.session_renewal, config.broker.session_renewal_backoff_s) == (False, 60.0)


def test_the_example_config_shows_the_default_limits():
    config = load_config(str(ROOT / "monitor.example.toml"), {})
    assert config.broker == BrokerConfig()
    assert config.database == DatabaseConfig()
    assert config.cycle.max_cycles_in_flight == CycleConfig().max_cycles_in_flight


@pytest.mark.parametrize(("toml", "field", "section"), [
    ("[broker]\nconnection_limit = 0\n", "connection_limit", "broker"),
    ("[broker]\nconnections_per_host = -1\n", "connections_per_host", "broker"),
    ("[broker]\nread_cache_accounts = 0\n", "read_cache_accounts", "broker"),
    ("[broker]\nsession_renewal_backoff_s = 0\n", "session_renewal_backoff_s", "broker"),
    ("[database]\npool_size = 0\n", "pool_size", "database"),
    ("[database]\nevent_log_pool_size = -2\n", "event_log_pool_size", "database"),
    ("[cycle]\nmax_cycles_in_flight = 0\n", "max_cycles_in_flight", "cycle"),
])
def test_a_limit_that_is_not_positive_is_refused_naming_the_field(tmp_path, toml, field, section):
    with pytest.raises(ConfigError) as raised:
        config_from(tmp_path, toml)
    assert f"{field} must be positive" in str(raised.value)
    assert f"$.{section}" in str(raised.value)


def test_a_limit_that_is_not_a_whole_number_is_refused_naming_the_field(tmp_path):
    with pytest.raises(ConfigError, match=r"Expected `int`, got `float` - at `\$.database.pool_size`"):
        config_from(tmp_path, "[database]\npool_size = 2.5\n")


def test_a_limit_built_in_code_is_checked_too():
    with pytest.raises(ValueError, match="connections_per_host must be positive, got 0"):
        BrokerConfig(connections_per_host=0)
    with pytest.raises(ValueError, match="event_log_pool_size must be positive, got 0"):
        DatabaseConfig(event_log_pool_size=0)


def test_fewer_cycles_in_flight_than_monitor_threads_is_refused(tmp_path):
    with pytest.raises(ConfigError, match=r"max_cycles_in_flight \(3\) must be at least monitor_threads \(4\)"):
        config_from(tmp_path, "[cycle]\nmonitor_threads = 4\nmax_cycles_in_flight = 3\n")


def test_a_lease_too_short_for_the_send_guard_is_refused_at_load_naming_the_settings(tmp_path):
    with pytest.raises(ConfigError, match=r"\[leases\] lease_s = 5 is too short: .*\[broker\] call_timeout_s \(2\) "
                                          r"plus clock_drift_margin_s \(0.5\).* at least 6 s"):
        config_from(tmp_path, "[broker]\ncall_timeout_s = 2.0\n[leases]\nlease_s = 5.0\n")
    config = config_from(tmp_path, "[broker]\ncall_timeout_s = 2.0\n[leases]\nlease_s = 6.0\n")
    assert (config.leases.lease_s, config.leases.clock_drift_margin_s) == (6.0, 0.5)


def test_the_lease_defaults_to_chosen_and_a_margin_must_be_positive(tmp_path):
    assert config_from(tmp_path, "").leases.lease_s == 0.0
    with pytest.raises(ConfigError, match="clock_drift_margin_s must be positive"):
        config_from(tmp_path, "[leases]\nclock_drift_margin_s = 0\n")
