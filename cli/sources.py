"""`nq71 sources`: the sources registry (config/sources.toml) and the feeds' health."""

from __future__ import annotations

from typing import Any

import click

from cli.base import App, pass_app
from cli.errors import Group


@click.group(cls=Group)
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
