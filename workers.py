"""Classification worker processes: `nq71 run` and `nq71 worker classify` start them, and so does each crawl.

Each worker is a fresh process (multiprocessing "spawn": no forked Twisted reactor or database connection)
running ``jobs.classify_queue``: it claims batches of due articles from the database with a lease, so
workers on any number of machines share the work and a killed one only delays its batch until the lease ends.
"""

from __future__ import annotations

import logging
import multiprocessing
import os
import signal
import threading
import time
from collections.abc import Callable
from multiprocessing.context import SpawnProcess
from multiprocessing.synchronize import Event
from typing import Any

from sqlalchemy.orm import Session, sessionmaker

from crawler.run import CrawlReport, run_crawl
from settings import Settings
from store.db import ensure_schema, make_engine, make_session_factory
from store.work import queue_state

log = logging.getLogger(__name__)

STOP_GRACE_S = 60.0  # a stopping worker finishes its batch (seconds of scoring) before it exits
SUPERVISE_EVERY_S = 1.0
DRAIN_POLL_S = 0.2  # after a crawl, how often it looks whether its articles are classified


def default_procs(settings: Settings) -> int:
    """NQ71_CLASSIFY_WORKERS, or one per core but one (the crawl and web app need a core), at least 1."""
    return settings.classify_workers or max(1, (os.cpu_count() or 1) - 1)


def crawl_procs(settings: Settings) -> int:
    """Workers beside a crawl: NQ71_CLASSIFY_WORKERS, or one per core: with one worker fewer the crawl stores
    faster than it classifies, and flagged items wait half a minute for review (measured on 1,000 pages)."""
    return settings.classify_workers or max(1, os.cpu_count() or 1)


class WorkerStop:
    """When a worker stops: the pool says so, SIGTERM, or its parent is gone (a crawl killed with kill -9 leaves
    no orphan workers behind). The signal handler only sets a flag: setting a multiprocessing Event from a
    handler deadlocks when the signal lands while the same process waits on that Event."""

    def __init__(self, pool_stop: Event, parent: int) -> None:
        self.pool_stop = pool_stop
        self.parent = parent
        self.signalled = False

    def is_set(self) -> bool:
        """True once the worker should stop."""
        return self.signalled or os.getppid() != self.parent or self.pool_stop.is_set()

    def wait(self, timeout: float | None = None) -> bool:
        """Sleep up to `timeout` seconds, waking early when the worker should stop."""
        end = time.monotonic() + (timeout or 0.0)
        while not self.is_set() and time.monotonic() < end:
            time.sleep(min(0.05, max(0.0, end - time.monotonic())))
        return self.is_set()


def _worker_main(settings: Settings, pool_stop: Event, parent: int) -> None:
    """A worker process: classify due articles until the pool stops, SIGTERM, or the parent dies."""
    from jobs import classify_queue, worker_name

    stop = WorkerStop(pool_stop, parent)

    def on_term(_signum: int, _frame: Any) -> None:
        stop.signalled = True

    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl+C reaches the whole group: the parent decides when to stop
    signal.signal(signal.SIGTERM, on_term)
    logging.basicConfig(level=settings.log_level, format="%(asctime)s %(levelname)s %(name)s: %(message)s",
                        force=True)  # force: underthesea calls basicConfig on import
    engine = make_engine(settings.database_url)
    name = worker_name()
    log.info("classification worker %s started", name)
    classify_queue(make_session_factory(engine), settings, name, stop=stop)
    engine.dispose()


class Pool:
    """N local worker processes sharing one stop event; a worker that dies is started again."""

    def __init__(self, settings: Settings, procs: int) -> None:
        self.settings = settings
        self.ctx = multiprocessing.get_context("spawn")
        self.stop = self.ctx.Event()
        self.procs: list[SpawnProcess] = [self._spawn() for _ in range(max(1, procs))]

    def _spawn(self) -> SpawnProcess:
        return self.ctx.Process(target=_worker_main, args=(self.settings, self.stop, os.getpid()), daemon=True,
                                name="nq71-classify")

    def start(self) -> Pool:
        """Start every worker; returns self."""
        for proc in self.procs:
            proc.start()
        return self

    def revive(self) -> int:
        """Start again the workers that died (killed, out of memory); how many."""
        revived = 0
        for i, proc in enumerate(self.procs):
            if not proc.is_alive() and not self.stop.is_set():
                log.warning("classification worker pid %s exited with %s: starting another", proc.pid, proc.exitcode)
                self.procs[i] = self._spawn()
                self.procs[i].start()
                revived += 1
        return revived

    def close(self) -> None:
        """Ask every worker to stop after its batch; kill one that does not within STOP_GRACE_S."""
        self.stop.set()
        deadline = time.monotonic() + STOP_GRACE_S
        for proc in self.procs:
            proc.join(max(0.1, deadline - time.monotonic()))
            if proc.is_alive():
                proc.kill()  # its claim expires with its lease: nothing is lost
                proc.join()


def serve(settings: Settings, procs: int, banner: Callable[[int], None] | None = None) -> None:
    """`nq71 worker classify`: run `procs` workers on this machine until SIGINT/SIGTERM, restarting any that dies."""
    ensure_schema(make_engine(settings.database_url))
    stop = threading.Event()
    handlers: dict[int, Any] = {sig: signal.signal(sig, lambda _s, _f: stop.set()) for sig in (signal.SIGINT, signal.SIGTERM)}
    pool = Pool(settings, procs).start()
    try:
        if banner is not None:
            banner(len(pool.procs))
        while not stop.wait(SUPERVISE_EVERY_S):
            pool.revive()
    finally:
        pool.close()
        for sig, handler in handlers.items():
            signal.signal(sig, handler)


def crawl_and_classify(settings: Settings, **options: Any) -> CrawlReport:
    """`nq71 crawl`: the crawl stores while local workers classify; it ends when its articles are classified
    (the crawl's own process only waits: loading a classifier here would cost more than the last batches).

    Without NQ71_CRAWL_CLASSIFY (workers run elsewhere, e.g. under `nq71 run`) or as a Redis crawl worker,
    only the crawl runs.
    """
    if not settings.crawl_classify or options.get("worker"):
        return run_crawl(settings, **options)
    pool = Pool(settings, crawl_procs(settings)).start()
    try:
        report = run_crawl(settings, **options)
        started = time.perf_counter()
        engine = make_engine(settings.database_url)
        drain(pool, make_session_factory(engine), settings)
        engine.dispose()
    finally:
        pool.close()
    drained = time.perf_counter() - started
    report.timings["classify"] = round(drained, 3)
    report.seconds += drained
    return report


def drain(pool: Pool, sessions: sessionmaker[Session], settings: Settings) -> None:
    """Wait until nothing is due: the pool's workers (started again if one dies) classify the rest.

    Workers that keep dying (a missing model, a database they cannot use) are not waited for: this process
    classifies what is left itself, and so raises their error where the user sees it.
    """
    from jobs import classify_queue, worker_name

    revived = 0
    while revived <= 2 * len(pool.procs):
        with sessions() as session:
            state = queue_state(session)
        if state.free + state.leased == 0:
            return
        revived += pool.revive()
        time.sleep(DRAIN_POLL_S)
    classify_queue(sessions, settings, worker_name("crawl"), drain=True)
