"""`nq71 worker classify`: classification worker processes for this or another machine (workers.py)."""

from __future__ import annotations

import click

from cli.base import App, pass_app
from cli.errors import Group


@click.group(cls=Group)
def worker() -> None:
    """Worker processes for another machine (same NQ71_DATABASE_URL)."""


@worker.command("classify")
@click.option("--procs", type=click.IntRange(min=1), help="Worker processes (default: NQ71_CLASSIFY_WORKERS, or cores - 1).")
@pass_app
def worker_classify(app: App, procs: int | None) -> None:
    """Classify stored articles as they arrive, until Ctrl+C / SIGTERM (each worker finishes its batch)."""
    import workers

    workers.serve(app.settings, procs or workers.default_procs(app.settings),
                  lambda n: click.echo(f"{n} classification worker(s) running; stop: Ctrl+C", err=True))
