"""`nq71 crawl`: the crawler room (Scrapy runs in this process; the scheduler starts one process per crawl)."""

from __future__ import annotations

import json

import click

from cli.base import App, pass_app


@click.command("crawl")
@click.option("--outlet", "outlets", multiple=True, metavar="SLUG", help="Only this outlet (repeatable).")
@click.option("--feeds-only", is_flag=True, help="Poll feeds only; keep entries as feed-only, fetch pages later.")
@click.option("--all", "crawl_all", is_flag=True, help="Every active feed, not only those due.")
@click.option("--quiet", is_flag=True, help="No progress lines, only the table.")
@click.option("--json", "as_json", is_flag=True, help="The report as one JSON object (rows, timings, health).")
@click.option("--worker", is_flag=True, help="Only take pages from the shared Redis frontier (NQ71_REDIS_URL).")
@click.option("--idle", "idle_seconds", type=float, default=30.0, show_default=True, help="A worker stops after this many idle seconds.")
@click.option("--wait", "wait_seconds", type=click.FloatRange(min=0), default=0.0, show_default=True,
              help="If another crawl is running on this database, wait up to this many seconds (else refuse).")
@pass_app
def crawl_cmd(
    app: App, outlets: tuple[str, ...], feeds_only: bool, crawl_all: bool, quiet: bool, as_json: bool, worker: bool,
    idle_seconds: float, wait_seconds: float,
) -> None:
    """Crawl what is due (or --all): feeds, sitemaps, listing pages, social pages; then a table per outlet."""
    from workers import crawl_and_classify  # a crawl ends with its own articles classified

    report = crawl_and_classify(
        app.settings,
        outlets=list(outlets) or None,
        feeds_only=feeds_only,
        due_only=not crawl_all,
        progress=None if quiet or as_json else (lambda line: click.echo(f"  {line}", err=True)),
        worker=worker,
        worker_idle_seconds=idle_seconds,
        wait_seconds=wait_seconds,
    )
    if as_json:
        click.echo(json.dumps({"rows": report.rows, "totals": report.totals, "feeds": report.feeds,
                               "seconds": round(report.seconds, 3), "timings": report.timings,
                               "health": report.health}, ensure_ascii=False))
        return
    cols = ("fetched", "new", "updated", "duplicate", "feed_only", "errors")
    width = max([len("outlet"), *(len(s) for s in report.rows)]) + 2
    click.echo("outlet".ljust(width) + "".join(c.rjust(11) for c in cols))
    for slug, row in report.rows.items():
        click.echo(slug.ljust(width) + "".join(str(row.get(c, 0)).rjust(11) for c in cols))
    totals = report.totals
    click.echo("total".ljust(width) + "".join(str(totals[c]).rjust(11) for c in cols))
    click.echo(f"{report.feeds} feed(s) in {report.seconds:.1f} s")
