"""`nq71 report`: coverage per outlet (weekly, any period), alerts and the scheduled jobs' runs."""

from __future__ import annotations

from typing import Any

import click
from sqlalchemy import select
from sqlalchemy.orm import Session

from cli.base import App, pass_app
from cli.errors import Group


REPORT_FORMATS = ("table", "csv", "xlsx", "png", "docx")


@click.group(cls=Group)
def report() -> None:
    """Coverage reports per outlet (weekly, any period), alerts and scheduled-job runs."""


def _say_if_empty(app: App, session: Session) -> None:
    """A report on a database with no articles says which database it read (a newcomer's usual slip)."""
    from store.models import Article

    if session.scalar(select(Article.id).limit(1)) is None:
        shown = app.engine.url.render_as_string(hide_password=True)
        click.echo(f"Chú ý / note: {shown} chưa có bài nào / has no articles yet; "
                   "dữ liệu demo / the demo's data: nq71 --db demo report ...", err=True)


def _report_done(text: str, path: Any) -> None:
    if text and path is None:
        click.echo(text)
    if path is not None:
        click.echo(f"Đã ghi / written: {path}")


@report.command("weekly")
@click.option("--week", metavar="YYYY-Www", help="ISO week, e.g. 2026-W47 (default: last complete week).")
@click.option("--weeks", type=click.IntRange(1, 260), default=1, show_default=True, help="This many weeks ending with --week.")
@click.option("--format", "fmt", type=click.Choice(REPORT_FORMATS), default="table", show_default=True)
@click.option("--out", type=click.Path(dir_okay=False), help="Output file (default: NQ71_REPORTS_DIR/bao-cao-nq71-<week>.<ext>).")
@pass_app
def report_weekly(app: App, week: str | None, weeks: int, fmt: str, out: str | None) -> None:
    """Weekly coverage per outlet (Asia/Ho_Chi_Minh ISO weeks): table, CSV, XLSX, PNG chart or DOCX report."""
    from pathlib import Path

    from report.files import weekly_output

    with app.sessions()() as session:
        _say_if_empty(app, session)
        text, path = weekly_output(session, app.settings, fmt, week, weeks, Path(out) if out else None)
    _report_done(text, path)


@report.command("period")
@click.option("--from", "first", required=True, metavar="DATE", help="First day, 2026-07-01 or 01/07/2026.")
@click.option("--to", "last", required=True, metavar="DATE", help="Last day (included).")
@click.option("--format", "fmt", type=click.Choice(REPORT_FORMATS), default="table", show_default=True)
@click.option("--out", type=click.Path(dir_okay=False), help="Output file (default: under NQ71_REPORTS_DIR).")
@pass_app
def report_period(app: App, first: str, last: str, fmt: str, out: str | None) -> None:
    """Coverage over whole days (a quarter, a year): for "sơ kết, tổng kết" reports to Sở GD&ĐT."""
    from pathlib import Path

    from report.files import period_output
    from report.weeks import parse_day

    with app.sessions()() as session:
        _say_if_empty(app, session)
        text, path = period_output(session, app.settings, fmt, parse_day(first), parse_day(last), Path(out) if out else None)
    _report_done(text, path)


@report.command("alerts")
@click.option("--check", is_flag=True, help="Evaluate the last complete week and feed health now (and e-mail when SMTP is set).")
@click.option("--limit", type=click.IntRange(1, 1000), default=30, show_default=True)
@pass_app
def report_alerts(app: App, check: bool, limit: int) -> None:
    """Recent alerts: volume out of range, zero items, feeds failing for more than 24 hours."""
    from report.alerts import check_alerts, recent_alerts, send_pending

    sessions = app.sessions()
    if check:
        with sessions() as session, session.begin():
            new = check_alerts(session, app.settings)
        with sessions() as session, session.begin():
            sent = send_pending(session, app.settings)
        click.echo(f"{len(new)} new alert(s); {sent} e-mailed")
    with sessions() as session:
        for a in recent_alerts(session, limit):
            mark = "" if a.sent_at else " (chưa gửi thư)" if app.settings.smtp_host else ""
            click.echo(f"{a.created_at:%Y-%m-%d %H:%M}  {a.kind:12}  {a.period:10}  {a.message}{mark}")


@report.command("runs")
@click.option("--limit", type=click.IntRange(1, 1000), default=30, show_default=True)
@pass_app
def report_runs(app: App, limit: int) -> None:
    """Recent scheduled-job runs: ok, error, missed, running."""
    from store.reports import recent_job_runs

    with app.sessions()() as session:
        for r in recent_job_runs(session, limit):
            took = f"{(r.finished_at - r.started_at).total_seconds():.1f}s" if r.finished_at else "…"
            first = (r.message or "").strip().splitlines()[:1]
            click.echo(f"{r.started_at:%Y-%m-%d %H:%M:%S}  {r.job_id:20} {r.status.value:8} {took:>8}  {first[0] if first else ''}")
