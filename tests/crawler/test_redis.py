"""Several machines, one frontier: a crawl and a worker share requests through Redis (scrapy-redis)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from sqlalchemy import Engine, func, select

from store.models import Article

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


def test_worker_without_redis_is_a_clear_error(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("NQ71_")}
    env.update({"NQ71_DATABASE_URL": f"sqlite:///{tmp_path / 'nq71.db'}"})
    result = subprocess.run([sys.executable, "-m", "cli", "crawl", "--worker"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode == 2
    assert result.stderr.strip().splitlines()[-1].startswith("Lỗi / error: a crawl worker needs the shared frontier: set NQ71_REDIS_URL")
