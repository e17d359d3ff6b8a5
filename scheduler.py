"""APScheduler 3.x jobs with fixed ids: crawl, classify, weekly report, alerts, retrain, prune; every run is a JobRun."""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
import threading
import time
import traceback
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

from apscheduler.events import (
    EVENT_JOB_ERROR,
    EVENT_JOB_EXECUTED,
    EVENT_JOB_MAX_INSTANCES,
    EVENT_JOB_MISSED,
    JobEvent,
    JobExecutionEvent,
)
from apscheduler.executors.pool import ThreadPoolExecutor
from apscheduler.jobstores.memory import MemoryJobStore
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.background import BackgroundScheduler
from apscheduler.triggers.base import BaseTrigger
from apscheduler.triggers.cron import CronTrigger
from apscheduler.triggers.interval import IntervalTrigger
from sqlalchemy import Engine, select, update
from sqlalchemy.orm import Session, sessionmaker

from settings import Settings, env_name
from store.models import JobRun, JobStatus

log = logging.getLogger(__name__)

CRAWL_TIMEOUT_S = 30 * 60  # a crawl that takes longer is stuck; the next run starts afresh
CRAWL_WAIT = "600"  # crawl jobs overlapping (feeds every 15 min, pages hourly) wait for the crawl lock this long
TRAIN_TIMEOUT_S = 60 * 60
CHILD_STOP_GRACE_S = 60.0  # Scrapy finishes in-flight items after SIGTERM; then it is killed


class JobFailed(RuntimeError):
    """A job's subprocess or step failed; the message (with the output's tail) goes into JobRun."""


@dataclass(frozen=True)
class Runtime:
    """What job functions need; set once per process because the job store only keeps function references."""

    settings: Settings
    sessions: sessionmaker[Session]


_runtime: Runtime | None = None
_running: dict[str, int] = {}  # job id → JobRun id of its running instance (max_instances=1)
_children: set[subprocess.Popen[bytes]] = set()
_lock = threading.Lock()


def configure(settings: Settings, sessions: sessionmaker[Session]) -> None:
    """Give job functions their settings and session factory (secrets never go into the job store)."""
    global _runtime
    _runtime = Runtime(settings, sessions)


def runtime() -> Runtime:
    """The configured runtime; jobs cannot run before configure()."""
    if _runtime is None:
        raise RuntimeError("scheduler.configure(settings, sessions) was not called in this process")
    return _runtime


# --- recording runs ------------------------------------------------------------------------------
def _begin(job_id: str) -> int:
    rt = runtime()
    with rt.sessions() as s, s.begin():
        run = JobRun(job_id=job_id, status=JobStatus.running)
        s.add(run)
        s.flush()
        run_id = run.id
    with _lock:
        _running[job_id] = run_id
    return run_id


def _finish(job_id: str, status: JobStatus, stats: dict[str, Any] | None = None, message: str | None = None,
            started_at: datetime | None = None) -> None:
    """Close the running JobRun of a job, or add a finished one (missed runs, failures before the start)."""
    with _lock:
        run_id = _running.pop(job_id, None)
    rt = runtime()
    now = datetime.now(UTC)
    with rt.sessions() as s, s.begin():
        run = s.get(JobRun, run_id) if run_id is not None else None
        if run is None:
            run = JobRun(job_id=job_id, started_at=started_at or now)
            s.add(run)
        run.finished_at = now
        run.status = status
        run.stats = _jsonable(stats or {})
        run.message = message[-4000:] if message else None


def _jsonable(stats: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for k, v in stats.items():
        out[str(k)] = v if isinstance(v, (int, float, str, bool, type(None), list, dict)) else str(v)
    return out


def _recorded(job_id: str) -> Callable[[Callable[[], dict[str, Any]]], Callable[[], dict[str, Any]]]:
    """Open a JobRun (status running) when the job body starts; the event listener closes it."""

    def wrap(body: Callable[[], dict[str, Any]]) -> Callable[[], dict[str, Any]]:
        def job() -> dict[str, Any]:
            _begin(job_id)
            return body()

        job.__name__ = job.__qualname__ = body.__name__
        job.__doc__ = body.__doc__
        job.__module__ = body.__module__
        return job

    return wrap


def on_event(event: JobEvent) -> None:
    """APScheduler listener: EXECUTED → ok with the returned stats, ERROR → error, MISSED/MAX_INSTANCES → missed."""
    try:
        if event.code == EVENT_JOB_EXECUTED:
            assert isinstance(event, JobExecutionEvent)
            retval = event.retval if isinstance(event.retval, dict) else {"result": event.retval}
            _finish(event.job_id, JobStatus.ok, retval)
        elif event.code == EVENT_JOB_ERROR:
            assert isinstance(event, JobExecutionEvent)
            text = f"{type(event.exception).__name__}: {event.exception}\n{event.traceback or ''}"
            _finish(event.job_id, JobStatus.error, {}, text)
        elif event.code == EVENT_JOB_MISSED:
            assert isinstance(event, JobExecutionEvent)
            late = datetime.now(UTC) - event.scheduled_run_time
            _finish_missed(event.job_id, event.scheduled_run_time, f"missed: started {late.total_seconds():.0f} s late, beyond misfire_grace_time")
        elif event.code == EVENT_JOB_MAX_INSTANCES:
            when = getattr(event, "scheduled_run_times", None) or [datetime.now(UTC)]
            _finish_missed(event.job_id, when[-1], "skipped: the previous run was still going (max_instances=1)")
    except Exception:  # a listener must never kill the scheduler thread
        log.exception("could not record job event %s for %s", event.code, event.job_id)


def _finish_missed(job_id: str, scheduled: datetime, message: str) -> None:
    rt = runtime()
    with rt.sessions() as s, s.begin():
        s.add(JobRun(job_id=job_id, started_at=scheduled, finished_at=datetime.now(UTC), status=JobStatus.missed,
                     stats={"scheduled_run_time": scheduled.isoformat()}, message=message))


def close_stale_runs(sessions: sessionmaker[Session]) -> int:
    """Runs left 'running' by a process that died are closed as errors at start-up."""
    with sessions() as s, s.begin():
        result = s.execute(
            update(JobRun)
            .where(JobRun.status == JobStatus.running)
            .values(status=JobStatus.error, finished_at=datetime.now(UTC), message="interrupted: the scheduler process stopped")
        )
        return int(getattr(result, "rowcount", 0) or 0)


# --- subprocesses ---------------------------------------------------------------------------------
def settings_env(settings: Settings) -> dict[str, str]:
    """NQ71_* variables reproducing these settings exactly in a child process."""
    env: dict[str, str] = {}
    for name in Settings.model_fields:
        value = getattr(settings, name)
        env[env_name(name)] = ("true" if value else "false") if isinstance(value, bool) else str(value)
    return env


def run_cli(args: list[str], timeout: float, settings: Settings | None = None) -> dict[str, Any]:
    """Run `python -m cli ARGS` in a child process (Twisted's reactor cannot restart in this one)."""
    cfg = settings or runtime().settings
    env = {**os.environ, **settings_env(cfg)}
    cmd = [sys.executable, "-m", "cli", *args]
    started = time.monotonic()
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True)
    with _lock:
        _children.add(proc)
    try:
        out, _ = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        _stop_child(proc)
        out, _ = proc.communicate()
        raise JobFailed(f"`{' '.join(args)}` took longer than {timeout:.0f} s and was stopped\n{_tail(out)}") from None
    finally:
        with _lock:
            _children.discard(proc)
    seconds = round(time.monotonic() - started, 1)
    if proc.returncode != 0:
        raise JobFailed(f"`nq71 {' '.join(args)}` exited with {proc.returncode} after {seconds} s\n{_tail(out)}")
    return {"command": "nq71 " + " ".join(args), "seconds": seconds, "output": _tail(out, 1500)}


def _tail(out: bytes | None, limit: int = 3000) -> str:
    """The last lines of a subprocess's output that fit in ``limit`` characters (whole lines only)."""
    text = (out or b"").decode("utf-8", "replace")
    if len(text) <= limit:
        return text
    return text[-limit:].partition("\n")[2]


def _stop_child(proc: subprocess.Popen[bytes]) -> None:
    # Scrapy shuts down gracefully on the first SIGTERM (in-flight items still reach the pipelines)
    if proc.poll() is not None:
        return
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=CHILD_STOP_GRACE_S)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def stop_children() -> None:
    """Ask running crawl/train subprocesses to finish (used on shutdown)."""
    with _lock:
        children = list(_children)
    for proc in children:
        _stop_child(proc)


# --- the jobs (top-level functions without arguments: the SQLAlchemy job store pickles references) ---
@_recorded("crawl_feeds")
def crawl_feeds() -> dict[str, Any]:
    """Poll the feeds that are due (RSS/Atom/JSON feeds), in a subprocess."""
    return run_cli(["crawl", "--feeds-only", "--quiet", "--wait", CRAWL_WAIT], CRAWL_TIMEOUT_S)


@_recorded("crawl_pages")
def crawl_pages() -> dict[str, Any]:
    """Crawl everything due, listing pages and sitemaps included, and fetch pending pages, in a subprocess."""
    return run_cli(["crawl", "--quiet", "--wait", CRAWL_WAIT], CRAWL_TIMEOUT_S)


@_recorded("crawl_all")
def crawl_all() -> dict[str, Any]:
    """Crawl every active feed now, due or not (the demo's first crawl)."""
    return run_cli(["crawl", "--all", "--quiet", "--wait", CRAWL_WAIT], CRAWL_TIMEOUT_S)


@_recorded("classify_backlog")
def classify_backlog() -> dict[str, Any]:
    """Classify stored articles that have no classification yet."""
    import jobs  # here, not at the top: loading the classifier's libraries takes seconds the other jobs need not wait

    rt = runtime()
    n = jobs.classify_backlog(rt.sessions, rt.settings)
    return {"classified": int(n)}


@_recorded("weekly_report")
def weekly_report() -> dict[str, Any]:
    """Write last week's CSV, XLSX, PNG and DOCX under reports_dir/<week>/."""
    from report.files import write_weekly_set

    rt = runtime()
    with rt.sessions() as s:
        paths = write_weekly_set(s, rt.settings)
    return {"files": [str(p) for p in paths]}


@_recorded("alerts")
def alerts() -> dict[str, Any]:
    """Store new coverage and feed-health alerts, then e-mail unsent ones when SMTP is configured."""
    from report.alerts import check_alerts, send_pending

    rt = runtime()
    with rt.sessions() as s, s.begin():
        new = check_alerts(s, rt.settings)
        kinds = sorted({a.kind for a in new})
    with rt.sessions() as s, s.begin():
        sent = send_pending(s, rt.settings)
    return {"new_alerts": len(new), "kinds": kinds, "emailed": sent}


@_recorded("retrain")
def retrain() -> dict[str, Any]:
    """Retrain the classifier (`nq71 train`, subprocess) when reviewers decided or corrected items since the last training."""
    from store.corrections import corrections_since
    from store.reports import verdicts_since

    rt = runtime()
    with rt.sessions() as s:
        last = s.scalars(
            select(JobRun).where(JobRun.job_id == "retrain", JobRun.status == JobStatus.ok)
            .order_by(JobRun.started_at.desc()).limit(20)
        ).all()
        trained = next((r for r in last if r.stats.get("trained")), None)
        since = trained.started_at if trained else None
        new, fixes = verdicts_since(s, since), corrections_since(s, since)
    if new + fixes == 0:
        return {"trained": False, "new_verdicts": 0, "new_corrections": 0}
    result = run_cli(["train"], TRAIN_TIMEOUT_S)
    return {"trained": True, "new_verdicts": new, "new_corrections": fixes, "seconds": result["seconds"]}


@_recorded("prune_fetch_events")
def prune_fetch_events() -> dict[str, Any]:
    """Keep the newest 30 fetch events per feed."""
    from store.reports import prune_fetch_events as prune

    rt = runtime()
    with rt.sessions() as s, s.begin():
        return {"deleted": prune(s)}


@dataclass(frozen=True)
class JobSpec:
    """A job's fixed id, function and schedule; misfire grace chosen per job (APScheduler's default is 1 s)."""

    id: str
    func: Callable[[], dict[str, Any]]
    trigger: Callable[[ZoneInfo], BaseTrigger]
    misfire_grace_time: int
    name: str


JOBS: tuple[JobSpec, ...] = (
    JobSpec("crawl_feeds", crawl_feeds, lambda tz: IntervalTrigger(minutes=15, timezone=tz), 5 * 60, "Thu thập nguồn tin (feeds) 15 phút/lần"),
    JobSpec("crawl_pages", crawl_pages, lambda tz: IntervalTrigger(hours=1, timezone=tz), 15 * 60, "Thu thập trang danh sách, sitemap mỗi giờ"),
    JobSpec("classify_backlog", classify_backlog, lambda tz: IntervalTrigger(minutes=5, timezone=tz), 5 * 60, "Phân loại tin còn tồn"),
    JobSpec("weekly_report", weekly_report, lambda tz: CronTrigger(day_of_week="mon", hour=7, minute=0, timezone=tz), 6 * 3600, "Báo cáo tuần (thứ Hai 07:00)"),
    JobSpec("alerts", alerts, lambda tz: CronTrigger(hour=7, minute=30, timezone=tz), 6 * 3600, "Cảnh báo hằng ngày"),
    JobSpec("retrain", retrain, lambda tz: CronTrigger(day_of_week="sun", hour=2, minute=0, timezone=tz), 12 * 3600, "Huấn luyện lại khi có kết luận mới"),
    JobSpec("prune_fetch_events", prune_fetch_events, lambda tz: CronTrigger(hour=3, minute=15, timezone=tz), 12 * 3600, "Dọn nhật ký tải nguồn"),
)
JOB_IDS = tuple(j.id for j in JOBS)


def build_scheduler(settings: Settings, engine: Engine, sessions: sessionmaker[Session], *, memory_store: bool = False) -> BackgroundScheduler:
    """A background scheduler with the SQLAlchemy job store on our database and every job registered."""
    configure(settings, sessions)
    tz = ZoneInfo(settings.timezone)
    store = MemoryJobStore() if memory_store else SQLAlchemyJobStore(engine=engine)
    scheduler = BackgroundScheduler(
        jobstores={"default": store},
        executors={"default": ThreadPoolExecutor(max_workers=3)},
        # coalesce: after a pause run once, not once per missed slot; max_instances=1: never two crawls at once
        job_defaults={"coalesce": True, "max_instances": 1, "misfire_grace_time": 300},
        timezone=tz,
    )
    scheduler.add_listener(on_event, EVENT_JOB_EXECUTED | EVENT_JOB_ERROR | EVENT_JOB_MISSED | EVENT_JOB_MAX_INSTANCES)
    for spec in JOBS:
        scheduler.add_job(
            spec.func, spec.trigger(tz), id=spec.id, name=spec.name, replace_existing=True,
            coalesce=True, max_instances=1, misfire_grace_time=spec.misfire_grace_time,
        )
    return scheduler


def start(scheduler: BackgroundScheduler, sessions: sessionmaker[Session]) -> None:
    """Close runs a dead process left open, then start."""
    closed = close_stale_runs(sessions)
    if closed:
        log.warning("closed %s job run(s) left running by a stopped process", closed)
    scheduler.start()


def shutdown(scheduler: BackgroundScheduler) -> None:
    """Stop taking new runs, let child crawls finish their items, wait for running jobs to end."""
    if scheduler.running:
        scheduler.pause()
        stop_children()
        scheduler.shutdown(wait=True)


def run_now(job_id: str) -> dict[str, Any]:
    """Run a job at once in this thread (the demo's first crawl), recorded as a JobRun like a scheduled run."""
    funcs = {j.id: j.func for j in JOBS} | {"crawl_all": crawl_all}
    if job_id not in funcs:
        raise KeyError(f"no job {job_id!r}; jobs are: {', '.join(funcs)}")
    try:
        stats = funcs[job_id]()
    except Exception as exc:
        _finish(job_id, JobStatus.error, {}, f"{type(exc).__name__}: {exc}\n{traceback.format_exc()}")
        raise
    _finish(job_id, JobStatus.ok, stats)
    return stats


@contextmanager
def stop_signals() -> Iterator[threading.Event]:
    """An event set by SIGINT/SIGTERM, with the previous handlers restored afterwards."""
    stop = threading.Event()
    previous = {sig: signal.getsignal(sig) for sig in (signal.SIGINT, signal.SIGTERM)}

    def handler(signum: int, _frame: Any) -> None:
        log.info("received %s, shutting down", signal.Signals(signum).name)
        stop.set()

    for sig in previous:
        signal.signal(sig, handler)
    try:
        yield stop
    finally:
        for sig, old in previous.items():
            signal.signal(sig, old)


def job_table(scheduler: BackgroundScheduler) -> list[dict[str, Any]]:
    """Each job's id, name, next run and options (for `nq71 run --list` and tests)."""
    return [
        {"id": j.id, "name": j.name, "next_run_time": j.next_run_time, "trigger": str(j.trigger),
         "coalesce": j.coalesce, "max_instances": j.max_instances, "misfire_grace_time": j.misfire_grace_time}
        for j in scheduler.get_jobs()
    ]

