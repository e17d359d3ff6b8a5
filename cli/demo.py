"""`nq71 demo`: the offline demo (demo/) started, summarised and served."""

from __future__ import annotations

import click

from cli.base import App, pass_app
from cli.run import serve_scheduled
from demo.setup import demo_database
from store.db import make_engine


@click.command("demo")
@click.option("--host", default="127.0.0.1", show_default=True, help="Listen address for the UI.")
@click.option("--port", type=click.IntRange(0, 65535), help="UI port (default: NQ71_PORT; 0 = any free port).")
@click.option("--no-browser", is_flag=True, help="Do not open a web browser.")
@click.option("--reset", is_flag=True, help="Start from an empty demo database.")
@pass_app
def demo_cmd(app: App, host: str, port: int | None, no_browser: bool, reset: bool) -> None:
    """Offline demo: bundled fixture outlets served on 127.0.0.1, a first crawl and classification, then the UI."""
    import webbrowser

    from demo.server import render_sources, start_site_server
    from demo.setup import DEMO_PASSWORD, DEMO_USER, demo_settings, first_run, free_port, prepare_database, reset_database

    base = app.settings
    db_path = demo_database(base)
    db_path.parent.mkdir(parents=True, exist_ok=True)
    if reset:
        reset_database(db_path)
    if port == 0 or port is None and base.port == 0:
        port = free_port(host)
    site = start_site_server(host="127.0.0.1", port=0)
    try:
        sources_file = db_path.parent / "sources.toml"
        sources_file.write_text(render_sources(site.base_url), encoding="utf-8")
        settings = demo_settings(base, sources_file, host, port or base.port)
        engine = make_engine(settings.database_url)
        sessions = prepare_database(settings, engine)
        click.echo(f"Nguồn tin mẫu / fixture outlets: {site.base_url} (sources: {sources_file})")
        click.echo("Thu thập lần đầu / first crawl...", err=True)
        run = first_run(settings, sessions)
        click.echo(run.crawl_output, err=True)
        click.echo(f"classified: {run.classified}", err=True)
        for problem in run.problems:
            click.echo(problem, err=True)
        url = f"http://{settings.host}:{settings.port}/"

        def banner() -> None:
            click.echo(f"Giao diện / UI: {url}  —  đăng nhập / login: {DEMO_USER} / {DEMO_PASSWORD}")
            click.echo("Báo cáo từ dữ liệu demo / reports on the demo's data: nq71 --db demo report weekly")
            click.echo("Dừng / stop: Ctrl+C")
            if not no_browser:
                webbrowser.open(url)

        serve_scheduled(settings, engine, sessions, True, banner)
    finally:
        site.stop()
