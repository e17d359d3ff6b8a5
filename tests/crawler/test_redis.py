"""Several machines, one frontier: a crawl and a worker share requests through Redis (scrapy-redis)."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from sqlalchemy import Engine, func, select

from store.models import Article, Classification

if TYPE_CHECKING:
    from tests.crawler.conftest import SiteCrawlFactory

ROOT = Path(__file__).resolve().parents[2]
REDIS_URL = "redis://127.0.0.1:6379/15"  # a database of its own, emptied before and after


def _redis() -> object:
    import redis  # the [redis] extra, installed by `make install`

    client = redis.Redis.from_url(REDIS_URL)
    try:
        client.ping()
    except redis.exceptions.ConnectionError:
        pytest.fail("no Redis at 127.0.0.1:6379: start one (`.ci/run` does) to test the several-machines setup")
    return client


def test_leader_and_worker_share_one_frontier(migrated_engine: Engine, tmp_path: Path, site_crawl: SiteCrawlFactory) -> None:
    client = _redis()
    client.flushdb()  # type: ignore[attr-defined]
    with site_crawl(migrated_engine, tmp_path, NQ71_CONCURRENCY_PER_HOST="2", NQ71_REDIS_URL=REDIS_URL) as site:
        env, sessions = site.env, site.sessions
        cmd = [sys.executable, "-m", "cli", "crawl", "--json"]
        outlets = ["--outlet", "bao-hai-phong", "--outlet", "vnexpress", "--outlet", "giao-duc-thoi-dai"]
        worker = subprocess.Popen([*cmd, "--worker", "--idle", "6", *outlets], cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        leader = subprocess.run([*cmd, "--all", *outlets], cwd=ROOT, env=env, capture_output=True, text=True, timeout=180)
        w_out, w_err = worker.communicate(timeout=180)
    assert leader.returncode == 0, leader.stderr[-2000:]
    assert worker.returncode == 0, w_err[-2000:]
    lead, work = json.loads(leader.stdout.splitlines()[-1]), json.loads(w_out.splitlines()[-1])
    with sessions() as s:
        stored = s.scalar(select(func.count()).select_from(Article))
    assert stored == 9 + 7 + 6  # every article once, whichever machine fetched it
    assert lead["totals"]["new"] + work["totals"]["new"] == stored
    assert lead["totals"]["duplicate"] + work["totals"]["duplicate"] == 1  # vnexpress's same-title entry
    assert not client.exists("nq71:requests")  # type: ignore[attr-defined]  # the shared queue is drained
    client.flushdb()  # type: ignore[attr-defined]


def test_two_crawl_processes_and_two_classification_workers_store_once_and_classify_once(
    migrated_engine: Engine, tmp_path: Path, site_crawl: SiteCrawlFactory
) -> None:
    """The several-machines layout on one machine: processes stand in for machines, the database and Redis are shared."""
    client = _redis()
    client.flushdb()  # type: ignore[attr-defined]
    with site_crawl(migrated_engine, tmp_path, NQ71_CONCURRENCY_PER_HOST="2", NQ71_REDIS_URL=REDIS_URL,
                    NQ71_CRAWL_CLASSIFY="false", NQ71_LOG_LEVEL="INFO", NQ71_CLASSIFY_BATCH="3") as site:
        env, sessions = site.env, site.sessions
        logs = [tmp_path / f"classify-{i}.log" for i in range(2)]
        handles = [p.open("w", encoding="utf-8") for p in logs]
        classifiers = [subprocess.Popen([sys.executable, "-m", "cli", "worker", "classify", "--procs", "1"], cwd=ROOT,
                                        env=env, stdout=subprocess.DEVNULL, stderr=h, text=True) for h in handles]
        try:
            cmd = [sys.executable, "-m", "cli", "crawl", "--json"]
            outlets = ["--outlet", "bao-hai-phong", "--outlet", "vnexpress", "--outlet", "giao-duc-thoi-dai"]
            worker = subprocess.Popen([*cmd, "--worker", "--idle", "6", *outlets], cwd=ROOT, env=env,
                                      stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            leader = subprocess.run([*cmd, "--all", *outlets], cwd=ROOT, env=env, capture_output=True, text=True, timeout=180)
            w_out, _ = worker.communicate(timeout=180)
            assert leader.returncode == 0 and worker.returncode == 0
            due = select(func.count()).select_from(Article).where(Article.classify_due.is_(True))
            for _ in range(600):  # the workers look for due articles every half second; at most 5 minutes
                with sessions() as s:
                    if not s.scalar(due):
                        break
                time.sleep(0.5)
        finally:
            for p in classifiers:
                p.send_signal(signal.SIGTERM)
            codes = [p.wait(timeout=120) for p in classifiers]
            for h in handles:
                h.close()
    assert codes == [0, 0]
    with sessions() as s:
        stored = s.scalar(select(func.count()).select_from(Article))
        assert s.scalar(due) == 0
        assert s.scalar(select(func.count()).select_from(Classification)) == stored == 9 + 7 + 6
        assert s.scalar(select(func.count()).select_from(Article).where(Article.classify_worker.is_not(None))) == 0
    lead, work = json.loads(leader.stdout.splitlines()[-1]), json.loads(w_out.splitlines()[-1])
    assert lead["totals"]["new"] + work["totals"]["new"] == stored  # stored once, whichever crawl fetched it
    # results written, from each worker's own log: an article classified twice would be counted twice
    per_worker = [sum(int(n) for n in re.findall(r"classified (\d+) articles", p.read_text(encoding="utf-8"))) for p in logs]
    assert sum(per_worker) == stored
    client.flushdb()  # type: ignore[attr-defined]


def test_worker_without_redis_is_a_clear_error(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("NQ71_")}
    env.update({"NQ71_DATABASE_URL": f"sqlite:///{tmp_path / 'nq71.db'}"})
    result = subprocess.run([sys.executable, "-m", "cli", "crawl", "--worker"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines()[-1].startswith("Lỗi / error: a crawl worker needs the shared frontier: set NQ71_REDIS_URL")
