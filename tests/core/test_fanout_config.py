"""`[fanout]`: off unless a NATS URL is given (in the file or MONITOR_NATS_URL, which wins); a subject prefix
that is not plain NATS tokens, a URL that is not nats:// or tls://, or a timing that is not positive is refused,
and a refused URL is never echoed (it may hold a password)."""

from __future__ import annotations

from pathlib import Path

import pytest

from service.config import ConfigError, FanOutConfig, ServiceConfig, load_config


def config_from(tmp_path: Path, toml: str, environ: dict[str, str] | None = None) -> ServiceConfig:
    path = tmp_path / "monitor.toml"
    path.write_text(toml)
    return load_config(str(path), environ or {})


def test_the_fanout_is_off_without_a_nats_url(tmp_path):
    assert config_from(tmp_path, "").fanout.enabled is False
    assert config_from(tmp_path, '[fanout]\nnats_url = " "\n').fanout.enabled is False


def test_a_nats_url_in_the_file_turns_it_on(tmp_path):
    fanout = config_from(tmp_path, '[fanout]\nnats_url = "nats://127.0.0.1:4222, nats://10.0.0.2:4222"\n').fanout
    assert fanout.enabled is True
    assert fanout.servers == ["nats://127.0.0.1:4222", "nats://10.0.0.2:4222"]


def test_monitor_nats_url_overrides_the_file(tmp_path):
    fanout = config_from(tmp_path, '[fanout]\nnats_url = "nats://127.0.0.1:4222"\n',
                         {"MONITOR_NATS_URL": "nats://replica:pw@10.0.0.9:4222"}).fanout
    assert fanout.servers == ["nats://replica:pw@10.0.0.9:4222"]
    assert "pw" not in repr(fanout)


@pytest.mark.parametrize("prefix", ["a.*", "a..b", "", "desk one", "x.>"])
def test_a_subject_prefix_that_is_not_plain_tokens_is_refused(tmp_path, prefix):
    with pytest.raises(ConfigError, match="subject_prefix"):
        config_from(tmp_path, f'[fanout]\nsubject_prefix = "{prefix}"\n')


@pytest.mark.parametrize("prefix", ["monitor", "desk.eu-1"])
def test_a_subject_prefix_of_plain_tokens_is_taken(tmp_path, prefix):
    assert config_from(tmp_path, f'[fanout]\nsubject_prefix = "{prefix}"\n').fanout.subject_prefix == prefix


def test_a_url_of_another_scheme_is_refused_without_echoing_it(tmp_path):
    with pytest.raises(ConfigError) as refused:
        config_from(tmp_path, '[fanout]\nnats_url = "redis://user:s3cret@127.0.0.1:6379"\n')
    assert "nats://" in str(refused.value) and "s3cret" not in str(refused.value)
    with pytest.raises(ConfigError) as refused:
        config_from(tmp_path, "", {"MONITOR_NATS_URL": "http://user:s3cret@h:1"})
    assert "MONITOR_NATS_URL" in str(refused.value) and "s3cret" not in str(refused.value)


@pytest.mark.parametrize("field", ["request_timeout_s", "connect_timeout_s", "reconnect_wait_s", "ping_interval_s"])
def test_a_timing_that_is_not_positive_is_refused_naming_it(tmp_path, field):
    with pytest.raises(ConfigError, match=field):
        config_from(tmp_path, f"[fanout]\n{field} = 0\n")
    assert getattr(FanOutConfig(), field) > 0
