"""The scheduler: jobs with fixed ids and options in the SQLAlchemy job store; runs, errors and missed runs as JobRuns."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta

import pytest
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.date import DateTrigger
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy import Engine, func, select, text
from sqlalchemy.orm import Session, sessionmaker

import scheduler as sched
from settings import Settings, load_settings
from store.models import Feed, FeedKind, FetchEvent, FetchStatus, JobRun, JobStatus, Outlet, OutletKind, Tier
from tests.report.report_data import WEEK, build_week


@pytest.fixture
def running(engine: Engine, sessions: sessionmaker[Session], settings: Settings) -> Iterator[BackgroundScheduler]:
    sch = sched.build_scheduler(settings, engine, sessions)
    sched.start(sch, sessions)
    try:
        yield sch
    finally:
        sched.shutdown(sch)
        with engine.begin() as conn:
            conn.execute(text("DELETE FROM apscheduler_jobs"))


def wait_for(check: Callable[[], bool], seconds: float = 20.0) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.1)
    raise AssertionError("condition not met in time")


def runs(sessions: sessionmaker[Session], job_id: str) -> list[JobRun]:
    with sessions() as s:
        return list(s.scalars(select(JobRun).where(JobRun.job_id == job_id).order_by(JobRun.id)))


def test_jobs_registered_with_fixed_ids_and_options(running: BackgroundScheduler, engine: Engine) -> None:
    jobs = {j.id: j for j in running.get_jobs()}
    assert set(jobs) == {"crawl_feeds", "crawl_pages", "classify_backlog", "weekly_report", "alerts", "retrain", "prune_fetch_events"}
    for job in jobs.values():
        assert job.coalesce is True and job.max_instances == 1
        assert job.misfire_grace_time >= 300  # APScheduler's 1 s default would skip runs silently
        assert job.func_ref == f"scheduler:{job.id}" and job.args == () and job.kwargs == {}
    assert isinstance(jobs["crawl_feeds"].trigger, IntervalTrigger)
    assert jobs["crawl_feeds"].trigger.interval == timedelta(minutes=15)
    assert jobs["crawl_pages"].trigger.interval == timedelta(hours=1)
    weekly = jobs["weekly_report"].trigger
    assert isinstance(weekly, CronTrigger) and str(weekly.timezone) == "Asia/Ho_Chi_Minh"
    assert {f.name: str(f) for f in weekly.fields}["day_of_week"] == "mon"
    assert {f.name: str(f) for f in weekly.fields}["hour"] == "7"
    nxt = jobs["weekly_report"].next_run_time
    assert nxt.weekday() == 0 and (nxt.hour, nxt.minute) == (7, 0) and nxt.utcoffset() == timedelta(hours=7)
    # persisted in our database, in the table migration report_0001 created
    with engine.connect() as conn:
        stored = {r[0] for r in conn.execute(text("SELECT id FROM apscheduler_jobs"))}
    assert stored == set(jobs)


def test_fast_trigger_run_is_recorded_as_jobrun(running: BackgroundScheduler, sessions: sessionmaker[Session]) -> None:
    with sessions() as s, s.begin():
        o = Outlet(slug="bao-hai-phong", name="Báo và Phát thanh, Truyền hình Hải Phòng", kind=OutletKind.press, tier=Tier.city, homepage="https://baohaiphong.vn")
        s.add(o)
        s.flush()
        f = Feed(outlet_id=o.id, url="https://baohaiphong.vn/rss/giao-duc.rss", kind=FeedKind.rss)
        s.add(f)
        s.flush()
        start = datetime(2026, 11, 1, tzinfo=UTC)
        s.add_all(FetchEvent(feed_id=f.id, at=start + timedelta(hours=i), status=FetchStatus.ok) for i in range(35))
    running.modify_job("prune_fetch_events", next_run_time=datetime.now(UTC))
    wait_for(lambda: any(r.status == JobStatus.ok for r in runs(sessions, "prune_fetch_events")))
    (run,) = runs(sessions, "prune_fetch_events")
    assert run.stats == {"deleted": 5} and run.finished_at is not None and run.finished_at >= run.started_at
    with sessions() as s:
        assert s.scalar(select(func.count()).select_from(FetchEvent)) == 30
        oldest = s.scalar(select(func.min(FetchEvent.at)))
    assert oldest == start + timedelta(hours=5)
    assert running.get_job("prune_fetch_events").next_run_time > datetime.now(UTC)  # back on its daily trigger


def test_missed_run_is_recorded(running: BackgroundScheduler, sessions: sessionmaker[Session]) -> None:
    past = datetime.now(UTC) - timedelta(minutes=10)
    running.add_job(sched.prune_fetch_events, DateTrigger(run_date=past), id="prune_late", misfire_grace_time=1)
    wait_for(lambda: bool(runs(sessions, "prune_late")))
    (run,) = runs(sessions, "prune_late")
    assert run.status == JobStatus.missed and "misfire_grace_time" in (run.message or "")
    assert abs((run.started_at - past).total_seconds()) < 1


def test_failed_run_is_recorded_as_error(running: BackgroundScheduler, sessions: sessionmaker[Session]) -> None:
    running.add_job(sched.run_cli, "date", args=[["no-such-command"], 60], id="broken_cli")
    wait_for(lambda: bool(runs(sessions, "broken_cli")))
    (run,) = runs(sessions, "broken_cli")
    assert run.status == JobStatus.error
    assert "JobFailed" in (run.message or "") and "exited with 2" in (run.message or "") and "no-such-command" in (run.message or "")


def test_weekly_report_job_writes_files(sessions: sessionmaker[Session], engine: Engine, settings: Settings) -> None:
    with sessions() as s, s.begin():
        build_week(s)
    sched.configure(settings, sessions)
    stats = sched.run_now("weekly_report")
    assert len(stats["files"]) == 4
    (run,) = runs(sessions, "weekly_report")
    assert run.status == JobStatus.ok and run.stats["files"] == stats["files"]


def test_retrain_skips_without_new_verdicts(sessions: sessionmaker[Session], settings: Settings) -> None:
    sched.configure(settings, sessions)
    assert sched.run_now("retrain") == {"trained": False, "new_verdicts": 0, "new_corrections": 0}


def test_stale_running_rows_are_closed_at_start(sessions: sessionmaker[Session]) -> None:
    with sessions() as s, s.begin():
        s.add(JobRun(job_id="crawl_feeds", status=JobStatus.running, started_at=datetime.now(UTC) - timedelta(hours=1)))
    assert sched.close_stale_runs(sessions) == 1
    (run,) = runs(sessions, "crawl_feeds")
    assert run.status == JobStatus.error and "interrupted" in (run.message or "")


def test_child_process_gets_the_same_settings(settings: Settings) -> None:
    changed = settings.replace(download_delay=0.0, obey_robots=False, smtp_port=2525, alert_emails="a@b.vn")
    assert load_settings(sched.settings_env(changed)) == changed
