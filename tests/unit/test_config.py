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
])
def test_a_bad_setting_is_named_in_one_line(tmp_path, values, named):
    with pytest.raises(ConfigError) as error:
        Settings.from_env(env(tmp_path, **values))
    message = str(error.value)
    assert named in message
    assert "\n" not in message
