"""Several machines on one: PostgreSQL, the Redis crawl frontier, 2 crawl processes and 2 classification workers
replay the real stream; then articles/s for 1, 2 and 4 classification workers on the stored articles.

Part (d) of bench_crawl.py (it serves the replay feeds); alone:
    .venv/bin/python tests/bench/bench_crawl.py --skip a,b,c [--layout-limit 3000] [--pg-url URL] [--redis-url URL] [--json]
"""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path
from typing import IO, Any

from sqlalchemy import func, select, text, update
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from store.db import make_engine, make_session_factory  # noqa: E402
from store.models import Article, Classification  # noqa: E402

CLASSIFIED = re.compile(r"classified (\d+) articles")
DRAIN_LIMIT_S = 3600.0  # a benchmark that hangs is stopped, not waited for


def nq71(env: dict[str, str], *args: str, log: IO[str] | None = None) -> subprocess.Popen[str]:
    """`python -m cli ARGS` in the background."""
    return subprocess.Popen([sys.executable, "-m", "cli", *args], cwd=ROOT, env=env, stdout=subprocess.PIPE,
                            stderr=log or subprocess.DEVNULL, text=True)


def wait_drained(url: str, since: float) -> float:
    """Seconds from `since` until no article is due (every one classified); polls the database."""
    engine = make_engine(url)
    sessions = make_session_factory(engine)
    try:
        while time.perf_counter() - since < DRAIN_LIMIT_S:
            with sessions() as s:
                if not s.scalar(select(func.count()).select_from(Article).where(Article.classify_due.is_(True))):
                    return time.perf_counter() - since
            time.sleep(0.2)
        raise SystemExit(f"articles still due after {DRAIN_LIMIT_S:.0f} s")
    finally:
        engine.dispose()


def stop(procs: list[subprocess.Popen[str]]) -> None:
    """SIGTERM: each worker finishes its batch and exits."""
    for p in procs:
        p.send_signal(signal.SIGTERM)
    for p in procs:
        p.wait(timeout=120)


def classified_in_logs(paths: list[Path]) -> int:
    """Results written, summed over the workers' own log lines (a result written twice would count twice)."""
    return sum(int(m.group(1)) for p in paths for m in CLASSIFIED.finditer(p.read_text(encoding="utf-8", errors="replace")))


def rate(env: dict[str, str], url: str, procs: int, workdir: Path) -> dict[str, Any]:
    """Mark every stored article due again and time `nq71 worker classify --procs N` until none is due."""
    engine = make_engine(url)
    with make_session_factory(engine)() as s, s.begin():
        n = s.execute(update(Article).values(classify_due=True)).rowcount
    started = time.perf_counter()
    load = os.getloadavg()[0]
    with (workdir / f"rate-{procs}.log").open("w", encoding="utf-8") as log:
        worker = nq71(env, "worker", "classify", "--procs", str(procs), log=log)
        seconds = wait_drained(url, started)
        stop([worker])
    with make_session_factory(engine)() as s:
        first, last = s.execute(select(func.min(Classification.classified_at), func.max(Classification.classified_at))).one()
    engine.dispose()
    steady = (last - first).total_seconds() if first and last else seconds
    return {"workers": procs, "articles": n, "seconds": round(seconds, 1), "articles_per_s": round(n / seconds, 1),
            "steady_articles_per_s": round(n / max(steady, 1e-3), 1), "load_average": round(max(load, os.getloadavg()[0]), 1)}


def bench_layout(state: Any, path: Path, limit: int, pg_url: str, redis_url: str) -> dict[str, Any]:
    """(d) The several-machines layout on this machine; then 1, 2, 4 classification workers."""
    from bench_crawl import bench_env, replay_feeds, sources_toml

    if not path.is_file():
        print(f"(d) skipped: {path} not found (pass --replay PATH to the news-stream JSON lines file)")
        return {}
    import redis

    client = redis.Redis.from_url(redis_url)
    admin = make_engine(make_url(pg_url).set(drivername="postgresql+psycopg").render_as_string(hide_password=False),
                        isolation_level="AUTOCOMMIT")
    name = f"nq71_layout_{uuid.uuid4().hex[:8]}"
    try:
        client.ping()
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except Exception as exc:  # noqa: BLE001 - a benchmark part that cannot run says why and goes on
        print(f"(d) skipped: PostgreSQL or Redis not reachable ({str(exc).splitlines()[0]})")
        return {}
    url = make_url(pg_url).set(drivername="postgresql+psycopg", database=name).render_as_string(hide_password=False)
    count, n_feeds, outlets = replay_feeds(state, path, limit)
    try:
        with tempfile.TemporaryDirectory() as tmp:
            work = Path(tmp)
            client.flushdb()
            env = bench_env(work, sources_toml(outlets), NQ71_DATABASE_URL=url, NQ71_REDIS_URL=redis_url,
                            NQ71_CRAWL_CLASSIFY="false", NQ71_LOG_LEVEL="INFO", NQ71_DOWNLOAD_TIMEOUT="5")
            logs = [work / f"classify-{i}.log" for i in range(2)]
            started = time.perf_counter()
            load = os.getloadavg()[0]
            handles = [p.open("w", encoding="utf-8") for p in logs]
            classifiers = [nq71(env, "worker", "classify", "--procs", "1", log=h) for h in handles]
            crawl_worker = nq71(env, "crawl", "--worker", "--idle", "10", "--json")
            leader = nq71(env, "crawl", "--all", "--json")
            reports = [p.communicate()[0] for p in (leader, crawl_worker)]
            if leader.returncode or crawl_worker.returncode:
                raise SystemExit(f"(d) a crawl failed: exit {leader.returncode}, {crawl_worker.returncode}")
            seconds = wait_drained(url, started)
            load = max(load, os.getloadavg()[0])
            stop(classifiers)
            for h in handles:
                h.close()
            import json

            totals = [json.loads(r.strip().splitlines()[-1])["totals"] for r in reports]
            engine = make_engine(url)
            with make_session_factory(engine)() as s:
                stored = int(s.scalar(select(func.count()).select_from(Article)) or 0)
                classified = int(s.scalar(select(func.count()).select_from(Classification)) or 0)
                urls = int(s.scalar(select(func.count(func.distinct(Article.url)))) or 0)
            engine.dispose()
            written = classified_in_logs(logs)
            new = sum(t["new"] for t in totals)
            ok = stored == new == urls == classified == written
            print(f"(d) PostgreSQL + Redis frontier, 2 crawl processes + 2 classification workers: {count} stream items "
                  f"as {n_feeds} weekly feeds, {stored} stored ({new} new by the crawls: leader {totals[0]['new']}, "
                  f"worker {totals[1]['new']}), {classified} classified, {written} results written by the workers "
                  f"-> {'every item stored once and classified once' if ok else 'MISMATCH'}; "
                  f"{seconds:.1f} s = {stored / seconds:.1f} articles/s end to end, load average up to {load:.1f}")
            rates = [rate(env, url, k, work) for k in (1, 2, 4)]
            print("    classification workers on the stored articles (feed-only: title and summary): "
                  + "; ".join(f"{r['workers']} -> {r['articles_per_s']} articles/s ({r['steady_articles_per_s']} "
                              f"first to last result, load {r['load_average']})" for r in rates)
                  + f"; {os.cpu_count()} cores cap it here: 4 workers cannot beat 2")
            client.flushdb()
    finally:
        with admin.connect() as conn:
            conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()
    return {"items": count, "feeds": n_feeds, "stored": stored, "classified": classified, "written_by_workers": written,
            "stored_once_classified_once": ok, "seconds": round(seconds, 1),
            "e2e_articles_per_s": round(stored / seconds, 1), "load_average": round(load, 1), "rates": rates}
