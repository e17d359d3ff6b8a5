"""One typed settings object, read from ``NQ71_*`` environment variables once at start-up (pydantic-settings)."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import AfterValidator, BeforeValidator, Field, ValidationError
from pydantic_settings import BaseSettings, EnvSettingsSource, PydanticBaseSettingsSource, SettingsConfigDict

PREFIX = "NQ71_"


class SettingsError(ValueError):
    """A setting has a value we cannot use; the message names the variable and what to fix."""


def _database_url(raw: str) -> str:
    url = raw.strip()
    if not url.startswith(("sqlite", "postgresql")):
        raise ValueError("expected sqlite:///PATH or postgresql+psycopg://USER@HOST/DB")
    return url


def _upper(raw: object) -> object:
    return raw.strip().upper() if isinstance(raw, str) else raw


def _empty_is_false(raw: object) -> object:
    return "false" if isinstance(raw, str) and not raw.strip() else raw


# Field types: each says what it accepts, so a field's line is all a new setting needs.
AtLeastZero = Annotated[float, Field(ge=0)]
CountAtLeastZero = Annotated[int, Field(ge=0)]
CountAtLeastOne = Annotated[int, Field(ge=1)]
Share = Annotated[float, Field(ge=0, le=1)]
Flag = Annotated[bool, BeforeValidator(_empty_is_false)]
DatabaseUrl = Annotated[str, AfterValidator(_database_url)]
LogLevel = Annotated[Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"], BeforeValidator(_upper)]


class Settings(BaseSettings):
    """Everything configurable, each field read from ``NQ71_<FIELD NAME IN UPPER CASE>``."""

    model_config = SettingsConfigDict(env_prefix=PREFIX, frozen=True, extra="ignore", validate_default=True)

    database_url: DatabaseUrl = "sqlite:///var/nq71.db"
    sources: Path = Path("config/sources.toml")
    data_dir: Path = Path("var")
    secret_key: str = ""  # empty: a random key is made once and kept in data_dir/secret.key (review/keys.py)
    log_level: LogLevel = "INFO"
    # crawling (politeness defaults; tests and benchmarks override them)
    user_agent: str = "nq71-monitor/0.1 (+{contact})"
    contact_url: str = "https://haiphong.edu.vn/lien-he"
    download_delay: AtLeastZero = 5.0
    concurrency_per_host: CountAtLeastZero = 1
    download_timeout: AtLeastZero = 30.0
    max_page_bytes: CountAtLeastZero = 5 * 1024 * 1024
    obey_robots: Flag = True
    autothrottle: Flag = True
    host_down_minutes: AtLeastZero = 10.0
    redis_url: str = ""  # set (redis://127.0.0.1:6379) to share the crawl frontier between machines
    # classification and review
    review_threshold: Share = 0.5
    claim_suggest_threshold: Share = 0.35
    claim_auto_threshold: Share = 0.6
    model_dir: Path = Path("classify/models")
    # classification workers (workers.py): processes for `nq71 run` (0: cores - 1, at least 1), articles per
    # claim, seconds before a silent worker's batch is taken again; a crawl starts its own unless told not to
    classify_workers: CountAtLeastZero = 0
    classify_batch: CountAtLeastOne = 32
    classify_lease_seconds: Annotated[float, Field(gt=0)] = 300.0
    crawl_classify: Flag = True
    # the department's labelled JSONL files (edu/nq71/group), comma-separated: `nq71 train` learns from them
    labelled_files: str = ""
    # review web app
    host: str = "127.0.0.1"
    port: CountAtLeastZero = 8071
    cookie_secure: Flag = False
    login_max_failures: CountAtLeastZero = 5
    login_lockout_minutes: AtLeastZero = 15.0
    login_address_max_failures: CountAtLeastZero = 30  # failed logins per client address per lockout window (0: off)
    db_pool_size: CountAtLeastZero = 20  # database connections each web worker keeps open (as many again may open for a moment)
    queue_count_seconds: AtLeastZero = 5.0  # the queue's counts per status are reused this long per worker (0: never)
    # reports and alerts
    reports_dir: Path = Path("var/reports")
    smtp_host: str = ""
    smtp_port: CountAtLeastZero = 25
    smtp_user: str = ""
    smtp_password: str = ""
    smtp_from: str = "nq71-monitor@localhost"
    alert_emails: str = ""
    timezone: str = "Asia/Ho_Chi_Minh"

    @classmethod
    def settings_customise_sources(
        cls,
        settings_cls: type[BaseSettings],
        init_settings: PydanticBaseSettingsSource,
        env_settings: PydanticBaseSettingsSource,
        dotenv_settings: PydanticBaseSettingsSource,
        file_secret_settings: PydanticBaseSettingsSource,
    ) -> tuple[PydanticBaseSettingsSource, ...]:
        """Constructing or copying never reads the environment: only load_settings does, once."""
        return (init_settings,)

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
        """A checked copy with some fields changed (tests, the demo)."""
        return _validated({**self.model_dump(), **changes})


def env_name(field_name: str) -> str:
    """The environment variable that sets a field."""
    return PREFIX + field_name.upper()


# pydantic's error types in the words of the old hand-written checks; {ge}, {le}, {expected}, {error} come from its ctx
_REASONS = {
    "greater_than_equal": "expected a number >= {ge}",
    "greater_than": "expected a number > {gt}",
    "less_than_equal": "expected a number <= {le}",
    "literal_error": "expected one of {expected}",
    "bool_parsing": "expected true/false (1/0, yes/no)",
    "int_parsing": "expected a whole number",
    "int_from_float": "expected a whole number",
    "float_parsing": "expected a number",
    "value_error": "{error}",
}


def _reason(error: Any) -> str:
    """What a bad value should look like."""
    ctx = {k: str(v).replace("'", "") for k, v in error.get("ctx", {}).items()}
    template = _REASONS.get(error["type"])
    return template.format(**ctx) if template else str(error["msg"])


def _validated(values: Mapping[str, Any]) -> Settings:
    """Settings from field values; the first bad value becomes one SettingsError line naming its variable."""
    try:
        return Settings(**values)
    except ValidationError as exc:
        first = exc.errors()[0]
        name = env_name(str(first["loc"][0]))
        raise SettingsError(f"{name}={first['input']!r} không hợp lệ / is not valid: {_reason(first)}") from None


def load_settings(environ: Mapping[str, str] | None = None) -> Settings:
    """Read all ``NQ71_*`` variables once (from ``environ`` when given, else the process environment)."""
    if environ is None:
        return _validated(EnvSettingsSource(Settings)())
    values = {name[len(PREFIX):].lower(): raw for name, raw in environ.items() if name.upper().startswith(PREFIX)}
    return _validated({k: v for k, v in values.items() if k in Settings.model_fields})
