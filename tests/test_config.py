from __future__ import annotations

from pathlib import Path

import pytest

from app.config import ConfigError, Settings


def test_settings_defaults_to_sqlite_in_data_dir(tmp_path: Path) -> None:
    settings = Settings.from_env({"USERSECRETS_DATA_DIR": str(tmp_path)})

    assert settings.data_dir == tmp_path
    assert settings.is_sqlite
    assert settings.database_url.database == str(tmp_path / "usersecrets.db")


def test_settings_default_data_dir_is_var() -> None:
    settings = Settings.from_env({})

    assert settings.data_dir == Path("./var").resolve()


def test_settings_accepts_postgresql_url() -> None:
    settings = Settings.from_env(
        {"USERSECRETS_DATABASE_URL": "postgresql://app:pw@db.example:5432/usersecrets"}
    )

    assert settings.database_url.drivername == "postgresql+psycopg"
    assert not settings.is_sqlite


@pytest.mark.parametrize(
    "raw_url",
    [
        pytest.param("not a url", id="garbage"),
        pytest.param("mysql://root@localhost/db", id="unsupported-driver"),
        pytest.param("sqlite://", id="sqlite-without-file"),
    ],
)
def test_settings_rejects_bad_database_url(raw_url: str) -> None:
    with pytest.raises(ConfigError) as raised:
        Settings.from_env({"USERSECRETS_DATABASE_URL": raw_url})

    assert "USERSECRETS_DATABASE_URL" in str(raised.value)


def test_settings_error_hides_password() -> None:
    with pytest.raises(ConfigError) as raised:
        Settings.from_env({"USERSECRETS_DATABASE_URL": "mysql://root:hunter2@localhost/db"})

    assert "hunter2" not in str(raised.value)


def test_settings_rejects_unknown_log_level() -> None:
    with pytest.raises(ConfigError, match="USERSECRETS_LOG_LEVEL"):
        Settings.from_env({"USERSECRETS_LOG_LEVEL": "LOUD"})
