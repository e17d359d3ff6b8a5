"""Settings are read once from NQ71_* variables; a bad value names the variable."""

from __future__ import annotations

from pathlib import Path

import pytest

from settings import SettingsError, load_settings


def test_defaults() -> None:
    s = load_settings({})
    assert s.database_url == "sqlite:///var/nq71.db"
    assert s.sources == Path("config/sources.toml")
    assert s.data_dir == Path("var")
    assert s.sqlite_path == Path("var/nq71.db")


def test_values_are_typed() -> None:
    s = load_settings({"NQ71_DOWNLOAD_DELAY": "0.5", "NQ71_OBEY_ROBOTS": "no", "NQ71_PORT": "9000", "NQ71_LOG_LEVEL": "debug",
                       "NQ71_DATABASE_URL": "postgresql+psycopg://u@127.0.0.1/nq71"})
    assert (s.download_delay, s.obey_robots, s.port, s.log_level) == (0.5, False, 9000, "DEBUG")
    assert s.sqlite_path is None


@pytest.mark.parametrize(
    ("name", "value", "fragment"),
    [
        ("NQ71_DATABASE_URL", "mysql://x", "expected sqlite"),
        ("NQ71_LOG_LEVEL", "LOUD", "expected one of DEBUG"),
        ("NQ71_PORT", "eighty", "expected a int"),
        ("NQ71_OBEY_ROBOTS", "maybe", "expected true/false"),
        ("NQ71_REVIEW_THRESHOLD", "1.5", "between 0 and 1"),
        ("NQ71_DOWNLOAD_DELAY", "-1", ">= 0"),
    ],
)
def test_bad_value_names_the_variable(name: str, value: str, fragment: str) -> None:
    with pytest.raises(SettingsError) as info:
        load_settings({name: value})
    assert str(info.value).startswith(f"{name}={value!r}") and fragment in str(info.value)
