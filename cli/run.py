"""`nq71 run`: the production start (migrations, sources, scheduler and the review app in one process)."""

from __future__ import annotations

import logging
from collections.abc import Callable

import click
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from cli.base import App, pass_app
from settings import Settings
from store.db import make_session_factory, upgrade


def serve_scheduled(settings: Settings, engine: Engine, sessions: sessionmaker[Session], web: bool, banner: Callable[[], None]) -> None:
    """Scheduler plus (unless web is False) the review app in this process, until SIGINT/SIGTERM."""
    import scheduler as sched

    if settings.log_level != "DEBUG":  # one line per job run is enough; JobRun rows hold the details
        logging.getLogger("apscheduler").setLevel(logging.WARNING)
    sch = sched.build_scheduler(settings, engine, sessions)
    sched.start(sch, sessions)
    # our SIGINT/SIGTERM handlers only set an event: uvicorn re-raises the signal it caught after its
    # graceful stop, and the default SIGTERM action would kill us before the scheduler shut down
    try:
        with sched.stop_signals() as stop:
            if web:
                import uvicorn

                from review.app import create_app

                server = uvicorn.Server(uvicorn.Config(create_app(settings), host=settings.host, port=settings.port,
                                                      log_level=settings.log_level.lower(), access_log=False))
                banner()
                server.run()
            else:
                banner()
                stop.wait()
    finally:
        click.echo("Đang dừng / stopping: waiting for running jobs to finish...", err=True)
        sched.shutdown(sch)


@click.command("run")
@click.option("--host", help="Listen address (default: NQ71_HOST).")
@click.option("--port", type=click.IntRange(1, 65535), help="Port (default: NQ71_PORT).")
@click.option("--no-web", is_flag=True, help="Only the scheduler (the web app runs elsewhere).")
@click.option("--list", "list_jobs", is_flag=True, help="Register the jobs, print them with their next run, exit.")
@pass_app
def run_cmd(app: App, host: str | None, port: int | None, no_web: bool, list_jobs: bool) -> None:
    """Production start: migrations, sources sync, then the scheduler and the review app together."""
    from store.sources import parse_sources, sync_sources

    settings = app.settings.replace(**{k: v for k, v in (("host", host), ("port", port)) if v is not None})
    upgrade(app.engine)
    sessions = make_session_factory(app.engine)
    specs = parse_sources(settings.sources)
    with sessions() as session, session.begin():
        result = sync_sources(session, specs)
    click.echo(f"sources: {len(specs)} outlet(s) from {settings.sources}; "
               f"{'changed: ' + str(len(result.changes)) if result.changed else 'unchanged'}", err=True)
    if list_jobs:
        import scheduler as sched

        sch = sched.build_scheduler(settings, app.engine, sessions)
        sch.start(paused=True)
        for job in sched.job_table(sch):
            click.echo(f"{job['id']:20} next {job['next_run_time']:%Y-%m-%d %H:%M %Z}  grace {job['misfire_grace_time']}s  {job['trigger']}")
        sch.shutdown(wait=False)
        return
    url = f"http://{settings.host}:{settings.port}/"
    import workers  # classification runs in its own processes; the scheduled crawls leave it to them

    pool = workers.Pool(settings, workers.default_procs(settings)).start()
    try:
        serve_scheduled(settings.replace(crawl_classify=False), app.engine, sessions, not no_web,
                        lambda: click.echo(f"nq71 is running: scheduler and {len(pool.procs)} classification worker(s) started; "
                                           + (f"giao diện / UI at {url}" if not no_web else "no web app (--no-web)")))
    finally:
        pool.close()
