"""Several machines, one frontier: a crawl and a worker share requests through Redis (scrapy-redis)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import Engine, func, select, text

from crawler.sitesim import render_sources, start_site_server
from store.db import make_session_factory
from store.models import Article, Base
from store.sources import parse_sources, sync_sources

ROOT = Path(__file__).resolve().parents[2]
REDIS_URL = "redis://127.0.0.1:6379/15"  # a database of its own, emptied before and after


def _redis() -> object:
    redis = pytest.importorskip("redis")
    client = redis.Redis.from_url(REDIS_URL)
    try:
        client.ping()
    except redis.exceptions.ConnectionError:
        pytest.skip("no Redis at 127.0.0.1:6379 (the several-machines setup needs one)")
    return client


def test_leader_and_worker_share_one_frontier(migrated_engine: Engine, tmp_path: Path) -> None:
    client = _redis()
    client.flushdb()  # type: ignore[attr-defined]
    with migrated_engine.begin() as conn:
        for table in reversed(Base.metadata.sorted_tables):
            conn.execute(text(f'DELETE FROM "{table.name}"'))
    sessions = make_session_factory(migrated_engine)
    with start_site_server() as server:
        sources = tmp_path / "sources.toml"
        sources.write_text(render_sources(server.base_url), encoding="utf-8")
        with sessions() as s, s.begin():
            sync_sources(s, parse_sources(sources))
        env = {k: v for k, v in os.environ.items() if not k.startswith("NQ71_")}
        env.update({
            "NQ71_DATABASE_URL": migrated_engine.url.render_as_string(hide_password=False), "NQ71_SOURCES": str(sources),
            "NQ71_DOWNLOAD_DELAY": "0", "NQ71_AUTOTHROTTLE": "false", "NQ71_CONCURRENCY_PER_HOST": "2",
            "NQ71_REDIS_URL": REDIS_URL, "NQ71_LOG_LEVEL": "WARNING",
        })
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
