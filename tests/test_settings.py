"""Settings are read once from NQ71_* variables, typed and checked; a bad value names the variable."""

from __future__ import annotations

from pathlib import Path

import pydantic
import pytest

from settings import Settings, SettingsError, load_settings


def test_values_are_typed() -> None:
    s = load_settings({"NQ71_DOWNLOAD_DELAY": "0.5", "NQ71_OBEY_ROBOTS": "no", "NQ71_PORT": "9000", "NQ71_LOG_LEVEL": "debug",
                       "NQ71_DATABASE_URL": "postgresql+psycopg://u@127.0.0.1/nq71", "NQ71_SOURCES": "/etc/nq71/nguon.toml"})
    assert (s.download_delay, s.obey_robots, s.port, s.log_level) == (0.5, False, 9000, "DEBUG")
    assert s.sources == Path("/etc/nq71/nguon.toml") and s.sqlite_path is None


def test_process_environment_is_read_and_other_variables_ignored(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("NQ71_DATABASE_URL", "sqlite:///tmp/ha-noi.db")
    monkeypatch.setenv("NQ71_COOKIE_SECURE", "")  # an empty flag is off, as in shell scripts
    monkeypatch.setenv("NQ71_TEST_DATABASE_URL", "postgresql+psycopg://x@y/z")  # the tests' own variable, not a setting
    s = load_settings()
    assert s.sqlite_path == Path("tmp/ha-noi.db") and s.cookie_secure is False


def test_zero_is_allowed_where_it_means_off() -> None:
    s = load_settings({"NQ71_DOWNLOAD_DELAY": "0", "NQ71_LOGIN_ADDRESS_MAX_FAILURES": "0", "NQ71_QUEUE_COUNT_SECONDS": "0"})
    assert (s.download_delay, s.login_address_max_failures, s.queue_count_seconds) == (0.0, 0, 0.0)


def test_settings_are_frozen_and_replace_checks_values() -> None:
    s = Settings(contact_url="https://haiphong.edu.vn/gop-y")
    assert s.user_agent_string == "nq71-monitor/0.1 (+https://haiphong.edu.vn/gop-y)"
    with pytest.raises(pydantic.ValidationError):
        s.port = 1  # type: ignore[misc]
    assert s.replace(port=9001).port == 9001 and s.port != 9001
    with pytest.raises(SettingsError, match=r"^NQ71_REVIEW_THRESHOLD=2\.0 .*<= 1"):
        s.replace(review_threshold=2.0)


@pytest.mark.parametrize(
    ("url", "path"),
    [("sqlite:///var/nq71.db", Path("var/nq71.db")), ("sqlite:////srv/nq71.db", Path("/srv/nq71.db")),
     ("sqlite:///:memory:", None), ("postgresql+psycopg://u@h/db", None)],
)
def test_sqlite_path_names_the_file(url: str, path: Path | None) -> None:
    assert load_settings({"NQ71_DATABASE_URL": url}).sqlite_path == path


@pytest.mark.parametrize(
    ("name", "value", "fragment"),
    [
        ("NQ71_DATABASE_URL", "mysql://x", "expected sqlite"),
        ("NQ71_LOG_LEVEL", "LOUD", "expected one of DEBUG"),
        ("NQ71_PORT", "eighty", "expected a whole number"),
        ("NQ71_OBEY_ROBOTS", "maybe", "expected true/false"),
        ("NQ71_REVIEW_THRESHOLD", "1.5", "<= 1"),
        ("NQ71_DOWNLOAD_DELAY", "-1", ">= 0"),
    ],
)
def test_bad_value_names_the_variable(name: str, value: str, fragment: str) -> None:
    with pytest.raises(SettingsError) as info:
        load_settings({name: value})
    message = str(info.value)
    assert message.startswith(f"{name}={value!r} không hợp lệ / is not valid: ") and fragment in message and "\n" not in message
