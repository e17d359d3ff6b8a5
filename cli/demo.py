"""`nq71 demo`: the offline demo (demo/) started, summarised and served."""

from __future__ import annotations

import click

from cli.base import App, configure_logging, pass_app
from cli.run import serve_scheduled
from demo.setup import Summary, demo_database
from report.export import STATUS_LABELS
from store.db import make_engine
from store.models import ReviewStatus


@click.command("demo")
@click.option("--host", default="127.0.0.1", show_default=True, help="Listen address for the UI.")
@click.option("--port", type=click.IntRange(0, 65535), help="UI port (default: NQ71_PORT; 0 = any free port).")
@click.option("--no-browser", is_flag=True, help="Do not open a web browser.")
@click.option("--reset", is_flag=True, help="Start from an empty demo database.")
@pass_app
def demo_cmd(app: App, host: str, port: int | None, no_browser: bool, reset: bool) -> None:
    """Offline demo: bundled fixture outlets served on 127.0.0.1, a first crawl and classification, then the UI."""
    import webbrowser

    from demo.setup import (DEMO_PASSWORD, DEMO_USER, demo_settings, first_run, free_port, prepare_database, reset_database,
                            start_outlets, summary, write_sources)

    base = app.settings
    db_path = demo_database(base)
    db_path.parent.mkdir(parents=True, exist_ok=True)
    if reset:
        reset_database(db_path)
    if port == 0 or port is None and base.port == 0:
        port = free_port(host)
    site = start_outlets()
    try:
        settings = demo_settings(base, write_sources(db_path.parent, site.base_url), host, port or base.port)
        configure_logging(settings.log_level)
        engine = make_engine(settings.database_url)
        sessions = prepare_database(settings, engine)
        click.echo(f"Bản demo / demo: thu thập và phân loại / crawling and classifying {site.base_url} ...", err=True)
        for problem in first_run(settings, sessions):
            click.echo(problem, err=True)
        _print_summary(summary(sessions))
        url = f"http://{settings.host}:{settings.port}/"

        def banner() -> None:
            click.echo(f"Giao diện / UI: {url}  —  đăng nhập / login: {DEMO_USER} / {DEMO_PASSWORD}  (Ctrl+C: dừng / stop)")
            if not no_browser:
                webbrowser.open(url)

        serve_scheduled(settings, engine, sessions, True, banner)
    finally:
        site.stop()


def _print_summary(s: Summary) -> None:
    """One table: per outlet what was stored, classified and queued; then the queue by status."""
    cols = ("articles", "classified", "queued")
    width = max([len("outlet"), *(len(r.slug) for r in s.outlets)]) + 2
    click.echo("outlet".ljust(width) + "".join(c.rjust(12) for c in cols))
    for r in s.outlets:
        click.echo(r.slug.ljust(width) + "".join(str(n).rjust(12) for n in (r.articles, r.classified, r.queued)))
    totals = [sum(r.articles for r in s.outlets), sum(r.classified for r in s.outlets), sum(r.queued for r in s.outlets)]
    click.echo("total".ljust(width) + "".join(str(n).rjust(12) for n in totals))
    click.echo("hàng đợi / queue: " + ", ".join(f"{STATUS_LABELS[ReviewStatus(k)]} / {k.replace('_', ' ')} {n}"
                                                for k, n in s.queue.items()))
