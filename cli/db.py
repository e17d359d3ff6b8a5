"""Commands of the store room: the schema (`nq71 db upgrade`) and the counts (`nq71 stats`)."""

from __future__ import annotations

import json

import click

from cli.base import App, pass_app
from cli.errors import Group
from store.db import upgrade


@click.group(cls=Group)
def db() -> None:
    """Database schema (Alembic migrations)."""


@db.command("upgrade")
@pass_app
def db_upgrade(app: App) -> None:
    """Apply all migrations to the configured database."""
    upgrade(app.engine)
    click.echo(f"Database at the newest schema: {app.engine.url.render_as_string(hide_password=True)}")


@click.command("stats")
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
