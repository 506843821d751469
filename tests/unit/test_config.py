"""Settings: a bad one stops start-up with one line that names it."""

from __future__ import annotations

import pytest

from service.config import ConfigError, Settings


def env(tmp_path, **values):
    settings = {f"BACKSTRIDE_{name}": value for name, value in values.items()}
    return {"BACKSTRIDE_DATA_DIR": str(tmp_path), **settings}


def test_the_embedded_default_needs_no_settings_and_keeps_its_key(tmp_path):
    first = Settings.from_env(env(tmp_path))
    second = Settings.from_env(env(tmp_path))
    assert first.embedded
    assert first.database_url == f"sqlite:///{tmp_path / 'backstride.sqlite'}"
    assert first.broker_url.startswith("sqla+sqlite:///")
    assert first.secret_key == second.secret_key and len(first.secret_key) >= 32
    assert (tmp_path / "secret_key").stat().st_mode & 0o077 == 0, "the key is private"


def test_logs_are_json_and_worker_metrics_off_unless_asked(tmp_path):
    default = Settings.from_env(env(tmp_path))
    chosen = Settings.from_env(env(tmp_path, LOG_FORMAT="console", WORKER_METRICS_PORT="9808"))
    assert (default.log_format, default.worker_metrics_port) == ("json", 0)
    assert (chosen.log_format, chosen.worker_metrics_port) == ("console", 9808)


def test_postgres_urls_use_psycopg_3(tmp_path):
    settings = Settings.from_env(env(tmp_path, DATABASE_URL="postgres://u@db/backstride",
                                     SECRET_KEY="k" * 32))
    assert settings.database_url == "postgresql+psycopg://u@db/backstride"
    assert not settings.embedded


@pytest.mark.parametrize(("values", "named"), [
    ({"DATABASE_URL": "mysql://db/x"}, "BACKSTRIDE_DATABASE_URL"),
    ({"DATABASE_URL": "postgresql://db/x"}, "BACKSTRIDE_SECRET_KEY"),
    ({"SECRET_KEY": "short"}, "BACKSTRIDE_SECRET_KEY"),
    ({"BROKER_URL": "amqp://guest@rabbit//"}, "BACKSTRIDE_BROKER_URL"),
    ({"REDIS_URL": "127.0.0.1:6379"}, "BACKSTRIDE_REDIS_URL"),
    ({"ACCESS_TOKEN_TTL_S": "fifteen"}, "BACKSTRIDE_ACCESS_TOKEN_TTL_S"),
    ({"PURGE_INTERVAL_S": "-5"}, "BACKSTRIDE_PURGE_INTERVAL_S"),
    ({"PASSWORD_PROFILE": "weak"}, "BACKSTRIDE_PASSWORD_PROFILE"),
    ({"RATELIMIT_DEFAULT": "lots"}, "BACKSTRIDE_RATELIMIT_DEFAULT"),
    ({"RATELIMIT_AUTH": "0 per minute"}, "BACKSTRIDE_RATELIMIT_AUTH"),
    ({"RATELIMIT_STORAGE_URL": "memcached://cache:11211"}, "BACKSTRIDE_RATELIMIT_STORAGE_URL"),
    ({"PROXY_HOPS": "-1"}, "BACKSTRIDE_PROXY_HOPS"),
    ({"PUBLIC_URL": "http://api.example.org"}, "BACKSTRIDE_PUBLIC_URL"),
    ({"PUBLIC_URL": "https://api.example.org/v1"}, "BACKSTRIDE_PUBLIC_URL"),
    ({"PUBLIC_URL": "https://u:p@api.example.org"}, "BACKSTRIDE_PUBLIC_URL"),
    ({"PUBLIC_URL": "api.example.org"}, "BACKSTRIDE_PUBLIC_URL"),
    ({"LOG_FORMAT": "xml"}, "BACKSTRIDE_LOG_FORMAT"),
    ({"WORKER_METRICS_PORT": "70000"}, "BACKSTRIDE_WORKER_METRICS_PORT"),
    ({"PUSH_STUCK_AFTER_S": "10"}, "BACKSTRIDE_PUSH_STUCK_AFTER_S"),  # the timeout is 10 s
    ({"PUSH_ALLOW_LOOPBACK": "maybe"}, "BACKSTRIDE_PUSH_ALLOW_LOOPBACK"),
    ({"WEBPUSH_HOSTS": "u@fcm.googleapis.com"}, "BACKSTRIDE_WEBPUSH_HOSTS"),
])
def test_a_bad_setting_is_named_in_one_line(tmp_path, values, named):
    with pytest.raises(ConfigError) as error:
        Settings.from_env(env(tmp_path, **values))
    message = str(error.value)
    assert named in message
    assert "\n" not in message


def test_rate_limits_count_in_redis_whenever_there_is_one(tmp_path):
    embedded = Settings.from_env(env(tmp_path))
    on_the_broker = Settings.from_env(env(tmp_path, BROKER_URL="redis://broker:6379/0"))
    own_redis = Settings.from_env(env(tmp_path, BROKER_URL="redis://broker:6379/0",
                                      REDIS_URL="redis://limits:6379/2"))
    assert embedded.ratelimit_storage_url == "memory://", "one process, nothing to share with"
    assert on_the_broker.ratelimit_storage_url == "redis://broker:6379/0"
    assert own_redis.ratelimit_storage_url == "redis://limits:6379/2"
    assert (embedded.ratelimit_default, embedded.ratelimit_auth) == ("300 per minute",
                                                                      "10 per minute")
    assert embedded.proxy_hops == 0


def test_push_reaches_loopback_only_when_a_test_says_so(tmp_path):
    assert Settings.from_env(env(tmp_path)).push_allow_loopback is False
    allowed = Settings.from_env(env(tmp_path, PUSH_ALLOW_LOOPBACK="true",
                                    WEBPUSH_HOSTS="127.0.0.1:8443, *.push.apple.com"))
    assert allowed.push_allow_loopback is True
    assert allowed.webpush_hosts == ("127.0.0.1:8443", "*.push.apple.com")
