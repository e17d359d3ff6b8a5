"""The ``nq71`` command: the only place that prints. Each room adds its commands in its own section."""

from __future__ import annotations

import json
import logging
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import click
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from settings import Settings, SettingsError, load_settings
from store.db import StoreError, ensure_schema, make_engine, make_session_factory, upgrade
from store.sources import SourcesError

# Exceptions a user can cause: shown as one line "Lỗi: ..." with exit code 2, never a traceback.
USER_ERRORS: tuple[type[BaseException], ...] = (SettingsError, SourcesError, StoreError)


@dataclass
class App:
    """What every command needs: settings read once, one engine and session factory per process."""

    settings: Settings
    _engine: Engine | None = field(default=None, init=False)
    _sessions: sessionmaker[Session] | None = field(default=None, init=False)

    @property
    def engine(self) -> Engine:
        if self._engine is None:
            self._engine = make_engine(self.settings.database_url)
        return self._engine

    def sessions(self, migrate: bool = True) -> sessionmaker[Session]:
        """The session factory; an empty or outdated SQLite database is upgraded first."""
        if self._sessions is None:
            if migrate:
                ensure_schema(self.engine)
            self._sessions = make_session_factory(self.engine)
        return self._sessions


def configure_logging(level: str) -> None:
    """Entry points only; force=True because underthesea calls basicConfig on import."""
    logging.basicConfig(
        level=level,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
        stream=sys.stderr,
        force=True,
    )
    for noisy in ("alembic", "matplotlib", "PIL", "urllib3"):
        logging.getLogger(noisy).setLevel(max(logging.WARNING, logging.getLevelName(level)))


class Group(click.Group):
    """A click group that turns user-caused errors into a one-line message."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except USER_ERRORS as exc:
            lines = getattr(exc, "problems", None)
            if lines:
                where = getattr(exc, "path", "")
                click.echo(f"Lỗi / error: {where}: {len(lines)} problem(s), nothing was written:", err=True)
                for line in lines:
                    click.echo(f"  - {line}", err=True)
            else:
                click.echo(f"Lỗi / error: {exc}", err=True)
            ctx.exit(2)


@click.group(cls=Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.pass_context
def main(ctx: click.Context) -> None:
    """nq71-monitor: theo dõi tin giáo dục về Nghị quyết 71-NQ/TW (Hải Phòng)."""
    try:
        settings = load_settings()
    except SettingsError as exc:
        click.echo(f"Lỗi / error: {exc}", err=True)
        ctx.exit(2)
    configure_logging(settings.log_level)
    ctx.obj = App(settings)


pass_app: Callable[..., Any] = click.make_pass_decorator(App)


# --- db ---------------------------------------------------------------------------------------
@main.group(cls=Group)
def db() -> None:
    """Database schema (Alembic migrations)."""


@db.command("upgrade")
@pass_app
def db_upgrade(app: App) -> None:
    """Apply all migrations to the configured database."""
    upgrade(app.engine)
    click.echo(f"Database at the newest schema: {app.engine.url.render_as_string(hide_password=True)}")


# --- sources ----------------------------------------------------------------------------------
@main.group(cls=Group)
def sources() -> None:
    """The sources registry (config/sources.toml)."""


@sources.command("sync")
@click.option("--file", "path", type=click.Path(dir_okay=False), help="Sources file (default: NQ71_SOURCES).")
@pass_app
def sources_sync(app: App, path: str | None) -> None:
    """Load the sources file into the database (idempotent; removed entries are deactivated)."""
    from pathlib import Path

    from store.sources import parse_sources, sync_sources

    specs = parse_sources(Path(path) if path else app.settings.sources)
    with app.sessions()() as session, session.begin():
        result = sync_sources(session, specs)
    for line in result.changes:
        click.echo(line)
    click.echo(
        f"outlets: +{result.outlets_added} ~{result.outlets_updated} -{result.outlets_deactivated}; "
        f"feeds: +{result.feeds_added} ~{result.feeds_updated} -{result.feeds_deactivated}; "
        f"unchanged: {result.unchanged}"
    )


@sources.command("list")
@click.option("--all", "include_inactive", is_flag=True, help="Also show deactivated outlets and feeds.")
@pass_app
def sources_list(app: App, include_inactive: bool) -> None:
    """Outlets and feeds with their health: status, last success, last new item, last message."""
    from store.queries import outlets_with_feeds

    def when(value: Any) -> str:
        return value.strftime("%Y-%m-%d %H:%M") if value else "—"

    with app.sessions()() as session:
        outlets = outlets_with_feeds(session, include_inactive)
        if not outlets:
            click.echo("No outlets yet: run `nq71 sources sync`.")
        for outlet in outlets:
            flag = "" if outlet.active else " [inactive]"
            section = " [chuyên mục NQ71]" if outlet.has_nq71_section else ""
            click.echo(f"{outlet.slug}  {outlet.name}  ({outlet.kind.value}, {outlet.tier.value}){section}{flag}")
            for feed in outlet.feeds:
                if not feed.active and not include_inactive:
                    continue
                state = "paused" if feed.paused else ("inactive" if not feed.active else feed.status.value)
                code = f" {feed.http_status}" if feed.http_status else ""
                click.echo(
                    f"  - {feed.kind.value:8} {state}{code:5} last ok {when(feed.last_success_at)}"
                    f"  last new {when(feed.last_new_item_at)}  due {when(feed.next_due_at)}  {feed.url}"
                )
                if feed.status_message:
                    click.echo(f"      {feed.status_message}")


# --- stats ------------------------------------------------------------------------------------
@main.command("stats")
@click.option("--json", "as_json", is_flag=True, help="One JSON object (for scripts).")
@pass_app
def stats_cmd(app: App, as_json: bool) -> None:
    """Counts: outlets, feeds, articles, classified articles, review items by status, users."""
    from store.queries import stats

    with app.sessions()() as session:
        data = stats(session)
    if as_json:
        click.echo(json.dumps(data, ensure_ascii=False, sort_keys=True))
        return
    for key, value in data.items():
        click.echo(f"{key:22} {value}")


# --- crawl (crawler/) -------------------------------------------------------------------------

# --- classify, train, eval, claims (classify/) ------------------------------------------------

# --- users, serve (review/) -------------------------------------------------------------------

# --- report, run, demo (report/, scheduler.py) ------------------------------------------------


if __name__ == "__main__":
    main()
