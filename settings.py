"""One typed settings object, read from ``NQ71_*`` environment variables once at start-up."""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any

PREFIX = "NQ71_"


class SettingsError(ValueError):
    """A setting has a value we cannot use; the message names the variable and what to fix."""


def _parse_bool(raw: str) -> bool:
    low = raw.strip().lower()
    if low in {"1", "true", "yes", "on"}:
        return True
    if low in {"0", "false", "no", "off", ""}:
        return False
    raise ValueError("expected true/false (1/0, yes/no)")


def _parse_log_level(raw: str) -> str:
    level = raw.strip().upper()
    if level not in {"DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"}:
        raise ValueError("expected one of DEBUG, INFO, WARNING, ERROR, CRITICAL")
    return level


def _parse_database_url(raw: str) -> str:
    url = raw.strip()
    if not (url.startswith("sqlite") or url.startswith("postgresql")):
        raise ValueError("expected sqlite:///PATH or postgresql+psycopg://USER@HOST/DB")
    return url


def _parse_positive_float(raw: str) -> float:
    value = float(raw)
    if value < 0:
        raise ValueError("expected a number >= 0")
    return value


def _parse_positive_int(raw: str) -> int:
    value = int(raw)
    if value < 0:
        raise ValueError("expected a whole number >= 0")
    return value


def _parse_unit(raw: str) -> float:
    value = float(raw)
    if not 0.0 <= value <= 1.0:
        raise ValueError("expected a number between 0 and 1")
    return value


_PARSERS: dict[type | str, Callable[[str], Any]] = {
    "str": str,
    "int": _parse_positive_int,
    "float": _parse_positive_float,
    "bool": _parse_bool,
    "Path": Path,
}


@dataclass(frozen=True)
class Settings:
    """Everything configurable, each field read from ``NQ71_<FIELD NAME IN UPPER CASE>``."""

    database_url: str = field(default="sqlite:///var/nq71.db", metadata={"parse": _parse_database_url})
    sources: Path = Path("config/sources.toml")
    data_dir: Path = Path("var")
    secret_key: str = ""  # empty: a random key is made once and kept in data_dir/secret.key (review/keys.py)
    log_level: str = field(default="INFO", metadata={"parse": _parse_log_level})
    # crawling (politeness defaults; tests and benchmarks override them)
    user_agent: str = "nq71-monitor/0.1 (+{contact})"
    contact_url: str = "https://haiphong.edu.vn/lien-he"
    download_delay: float = 5.0
    concurrency_per_host: int = 1
    download_timeout: float = 30.0
    max_page_bytes: int = 5 * 1024 * 1024
    obey_robots: bool = True
    autothrottle: bool = True
    host_down_minutes: float = 10.0
    redis_url: str = ""  # set (redis://127.0.0.1:6379) to share the crawl frontier between machines
    # classification and review
    review_threshold: float = field(default=0.5, metadata={"parse": _parse_unit})
    claim_suggest_threshold: float = field(default=0.35, metadata={"parse": _parse_unit})
    claim_auto_threshold: float = field(default=0.6, metadata={"parse": _parse_unit})
    model_dir: Path = Path("classify/models")
    # classification workers (workers.py): processes for `nq71 run` (0: cores - 1, at least 1), articles per
    # claim, seconds before a silent worker's batch is taken again; a crawl starts its own unless told not to
    classify_workers: int = 0
    classify_batch: int = 32
    classify_lease_seconds: float = 300.0
    crawl_classify: bool = True
    # the department's labelled JSONL files (edu/nq71/group), comma-separated: `nq71 train` learns from them
    labelled_files: str = ""
    # review web app
    host: str = "127.0.0.1"
    port: int = 8071
    cookie_secure: bool = False
    login_max_failures: int = 5
    login_lockout_minutes: float = 15.0
    login_address_max_failures: int = 30  # failed logins per client address per lockout window (0: off)
    db_pool_size: int = 20  # database connections each web worker keeps open (as many again may open for a moment)
    queue_count_seconds: float = 5.0  # the queue's counts per status are reused this long per worker (0: never)
    # reports and alerts
    reports_dir: Path = Path("var/reports")
    smtp_host: str = ""
    smtp_port: int = 25
    smtp_user: str = ""
    smtp_password: str = ""
    smtp_from: str = "nq71-monitor@localhost"
    alert_emails: str = ""
    timezone: str = "Asia/Ho_Chi_Minh"

    @property
    def user_agent_string(self) -> str:
        """The User-Agent header, with the contact URL filled in."""
        return self.user_agent.replace("{contact}", self.contact_url)

    @property
    def sqlite_path(self) -> Path | None:
        """The file behind a SQLite URL, or None for another database."""
        prefix = "sqlite:///"
        if self.database_url.startswith(prefix) and self.database_url != "sqlite:///:memory:":
            return Path(self.database_url[len(prefix):])
        return None

    def replace(self, **changes: Any) -> Settings:
        """A copy with some fields changed (tests, the demo)."""
        return dataclasses.replace(self, **changes)


def env_name(field_name: str) -> str:
    """The environment variable that sets a field."""
    return PREFIX + field_name.upper()


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    """Read all ``NQ71_*`` variables once; a bad value raises SettingsError naming the variable."""
    env = os.environ if environ is None else environ
    values: dict[str, Any] = {}
    for f in fields(Settings):
        name = env_name(f.name)
        if name not in env:
            continue
        raw = env[name]
        parse = f.metadata.get("parse") or _PARSERS[str(f.type)]
        try:
            values[f.name] = parse(raw)
        except ValueError as exc:
            reason = str(exc) if str(exc) and "invalid literal" not in str(exc) and "could not convert" not in str(exc) else f"expected a {f.type}"
            raise SettingsError(f"{name}={raw!r} is not valid: {reason}") from None
    return Settings(**values)
