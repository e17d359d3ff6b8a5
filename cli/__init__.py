"""The ``nq71`` command: the only place that prints. One module per room adds its commands to ``main``."""

from __future__ import annotations

import click

from cli.base import App, chosen_database, configure_logging
from cli.classify import claims, classify_cmd, eval_cmd, eval_real_cmd, train_cmd
from cli.crawl import crawl_cmd
from cli.db import db, stats_cmd
from cli.demo import demo_cmd
from cli.errors import Group
from cli.report import report
from cli.review import serve, users
from cli.run import run_cmd
from cli.sources import sources
from cli.worker import worker
from settings import load_settings


@click.group(cls=Group, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--db", "db", metavar="URL|FILE|demo",
              help="Database for this command: a URL, a SQLite file, or 'demo' (the demo's); default NQ71_DATABASE_URL.")
@click.pass_context
def main(ctx: click.Context, db: str | None) -> None:
    """nq71-monitor: theo dõi tin giáo dục về Nghị quyết 71-NQ/TW (Hải Phòng)."""
    settings = load_settings()  # a bad NQ71_* value: the group's error mapping prints it
    if db:
        settings = settings.replace(database_url=chosen_database(settings, db))
    configure_logging(settings.log_level)
    ctx.obj = App(settings)


for command in (db, stats_cmd, sources, crawl_cmd, classify_cmd, train_cmd, eval_cmd, eval_real_cmd, claims, users, serve,
                report, run_cmd, demo_cmd, worker):
    main.add_command(command)
