"""Benchmark: 20 reviewers at once against `nq71 serve --workers N` over HTTP, 100,000 review items.

    .venv/bin/python tests/bench/bench_review_load.py [--backend postgresql|sqlite|both] [--workers 1,2,4]
        [--reviewers 20] [--requests 30] [--scale 1.0] [--pg-database NAME] [--sqlite-file PATH] [--json]

Each reviewer is a client of its own (its own login, cookie and keep-alive connection) that loops over
the queue, a filtered queue, a full-text search page and an API search, as fast as answers come.
The server is the real command (`python -m cli serve --workers N`) in a subprocess on this machine,
on a database filled by bench_review.fill (500,000 articles, 100,000 review items at scale 1).
Prints p50/p95 per scenario, overall p95 and requests per second per worker count; with --json the
last line is one JSON object.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from sqlalchemy import text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from store.db import make_engine, upgrade  # noqa: E402
from tests.bench.bench_review import PASSWORD, SEARCHES, fill  # noqa: E402

TARGET_P95_MS = 200.0


def scenario_urls(rng: random.Random, outlets: list[int]) -> dict[str, Callable[[int], str]]:
    """The four things a reviewer does most, as URL makers (i = the reviewer's request number)."""
    return {
        "queue": lambda i: "/queue",
        "queue filtered": lambda i: [
            f"/queue?status=new&risk=high&outlet={rng.choice(outlets)}",
            f"/queue?status=in_progress&theme={rng.randint(1, 8)}&from=2026-09-01&to=2026-10-31",
            f"/queue?status=resolved&assignee={rng.randint(1, 12)}&page=3",
        ][i % 3],
        "search": lambda i: "/queue?" + urlencode({"q": SEARCHES[i % len(SEARCHES)]}),
        "api search": lambda i: "/api/queue?" + urlencode({"q": SEARCHES[(i + 3) % len(SEARCHES)], "status": "new"}),
    }


async def reviewer(base: str, user: str, n: int, seed: int, outlets: list[int], out: list[tuple[str, float]]) -> None:
    """One reviewer: log in, then n requests cycling through the scenarios; latencies appended to out."""
    rng = random.Random(seed)
    urls = scenario_urls(rng, outlets)
    names = list(urls)
    async with httpx.AsyncClient(base_url=base, timeout=60.0, follow_redirects=False) as client:
        page = await client.get("/login")
        token = page.text.split('name="csrf" value="', 1)[1].split('"', 1)[0]
        r = await client.post("/login", data={"username": user, "password": PASSWORD, "csrf": token})
        assert r.status_code == 303, (user, r.status_code, r.text[:200])
        for i in range(n):
            name = names[(i + seed) % len(names)]
            url = urls[name](i)
            t0 = time.perf_counter()
            r = await client.get(url)
            out.append((name, (time.perf_counter() - t0) * 1000))
            assert r.status_code == 200, (url, r.status_code, r.text[:200])


def _p95(values: list[float]) -> float:
    ordered = sorted(values)
    return ordered[int(0.95 * (len(ordered) - 1))]


async def load(base: str, reviewers: int, requests: int, outlets: list[int]) -> dict[str, Any]:
    """All reviewers at once; the figures per scenario and overall."""
    samples: list[tuple[str, float]] = []
    t0 = time.perf_counter()
    await asyncio.gather(*(reviewer(base, f"thamdinh{1 + k % 11}", requests, k, outlets, samples) for k in range(reviewers)))
    wall = time.perf_counter() - t0
    result: dict[str, Any] = {}
    for name in scenario_urls(random.Random(0), outlets):
        times = [ms for n, ms in samples if n == name]
        result[name] = {"p50": round(statistics.median(times), 1), "p95": round(_p95(times), 1), "n": len(times)}
    every = [ms for _, ms in samples]
    result["all"] = {"p50": round(statistics.median(every), 1), "p95": round(_p95(every), 1), "n": len(every),
                     "requests_per_s": round(len(every) / wall, 1)}
    return result


def _proc_cpu_seconds(pid: int, children: bool = False) -> float:
    """User + system CPU seconds of one process (from /proc; 0 when it is gone), with its reaped children's."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    ticks = int(fields[11]) + int(fields[12]) + (int(fields[13]) + int(fields[14]) if children else 0)
    return ticks / os.sysconf("SC_CLK_TCK")


def _processes() -> Iterator[tuple[int, int, str]]:
    """(pid, parent pid, command name) of every process (Linux /proc)."""
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                head, tail = (entry / "stat").read_text().rsplit(")", 1)
            except OSError:
                continue
            yield int(entry.name), int(tail.split()[1]), head.split("(", 1)[1]


def cpu_seconds(server_pid: int, postgresql: bool) -> dict[str, float]:
    """CPU used so far by the server (with its workers), by PostgreSQL's processes, and by this client.

    The database figure counts every PostgreSQL process of the machine (other jobs' too): an upper bound."""
    procs = list(_processes())
    tree = {server_pid}
    for _ in range(3):  # the command, uvicorn's supervisor, its workers
        tree |= {pid for pid, ppid, _ in procs if ppid in tree}
    return {"server": sum(_proc_cpu_seconds(p) for p in tree),
            # a backend that ended (a connection closed) is counted through its parent's reaped-children time
            "database": sum(_proc_cpu_seconds(pid, children=True) for pid, _, name in procs if postgresql and name == "postgres"),
            "client": time.process_time()}


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@contextmanager
def server(url: str, workers: int, data_dir: Path, extra_env: dict[str, str]) -> Iterator[tuple[str, int]]:
    """`nq71 serve --workers N` in a subprocess, until the block ends."""
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("NQ71_")}
    env.update({"NQ71_DATABASE_URL": url, "NQ71_DATA_DIR": str(data_dir), "NQ71_LOG_LEVEL": "WARNING", **extra_env})
    proc = subprocess.Popen([sys.executable, "-m", "cli", "serve", "--port", str(port), "--workers", str(workers)],
                            cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise RuntimeError(f"server exited: {proc.stderr.read().decode()[-800:] if proc.stderr else ''}")
            try:
                if httpx.get(base + "/login", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.5)
        time.sleep(2 * workers)  # let every worker finish importing before the clock starts
        yield base, proc.pid
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()


def run_backend(url: str, args: argparse.Namespace, progress: Callable[[str], None]) -> dict[str, Any]:
    """Fill (or reuse) the database, then the load at each worker count."""
    engine = make_engine(url)
    upgrade(engine)
    with engine.connect() as conn:
        existing = int(conn.execute(text("SELECT count(*) FROM review_item")).scalar() or 0)
    if existing:
        progress(f"{engine.dialect.name}: reusing {existing:,} review items")
        with engine.connect() as conn:
            outlets = [int(r[0]) for r in conn.execute(text("SELECT id FROM outlet"))]
    else:
        n_articles, n_items = int(500_000 * args.scale), int(100_000 * args.scale)
        progress(f"{engine.dialect.name}: filling {n_articles:,} articles, {n_items:,} review items")
        outlets = fill(engine, n_articles, n_items, progress)["outlets"]
    engine.dispose()
    results: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="nq71-load-") as tmp:
        for workers in args.workers:
            with server(url, workers, Path(tmp), dict(kv.split("=", 1) for kv in args.server_env)) as (base, pid):
                asyncio.run(load(base, args.reviewers, 2, outlets))  # warm-up: imports, connection pools, caches
                before = cpu_seconds(pid, url.startswith("postgresql"))
                res = asyncio.run(load(base, args.reviewers, args.requests, outlets))
                after = cpu_seconds(pid, url.startswith("postgresql"))
            n = res["all"]["n"]
            # machine-independent cost: CPU milliseconds per request (server, database, client); on a machine
            # of its own the load could reach cores * 1000 / total requests per second
            res["cpu_ms_per_request"] = {k: round((after[k] - before[k]) * 1000 / n, 1) for k in after}
            res["cpu_ms_per_request"]["total"] = round(sum(res["cpu_ms_per_request"].values()), 1)
            results[f"workers={workers}"] = res
            a = res["all"]
            progress(f"  {workers} worker(s): p50 {a['p50']} ms  p95 {a['p95']} ms  {a['requests_per_s']} req/s  "
                     f"CPU ms/request {res['cpu_ms_per_request']}")
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--backend", choices=["sqlite", "postgresql", "both"], default="postgresql")
    parser.add_argument("--workers", default="1,2", help="comma-separated worker counts to measure")
    parser.add_argument("--reviewers", type=int, default=20)
    parser.add_argument("--requests", type=int, default=30, help="requests per reviewer")
    parser.add_argument("--scale", type=float, default=1.0, help="1.0 = 100,000 review items and 500,000 articles")
    parser.add_argument("--pg-url", default="postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--pg-database", help="keep the PostgreSQL database under this name (reused on the next run)")
    parser.add_argument("--sqlite-file", type=Path, help="keep the SQLite database here (reused on the next run)")
    parser.add_argument("--server-env", action="append", default=[], metavar="NQ71_X=VALUE",
                        help="a setting for the server (repeatable), e.g. NQ71_QUEUE_COUNT_SECONDS=0 to count on every page")
    parser.add_argument("--json", action="store_true", help="one JSON object as the last line")
    args = parser.parse_args()
    args.workers = [int(w) for w in args.workers.split(",") if w.strip()]
    all_results: dict[str, Any] = {}

    def progress(line: str) -> None:
        print(line, file=sys.stderr if args.json else sys.stdout, flush=True)

    if args.backend in ("sqlite", "both"):
        if args.sqlite_file:
            all_results["sqlite"] = run_backend(f"sqlite:///{args.sqlite_file.resolve()}", args, progress)
        else:
            with tempfile.TemporaryDirectory(prefix="nq71-load-db-") as tmp:
                all_results["sqlite"] = run_backend(f"sqlite:///{Path(tmp) / 'bench.db'}", args, progress)
    if args.backend in ("postgresql", "both"):
        admin_url = make_url(args.pg_url).set(drivername="postgresql+psycopg")
        name = args.pg_database or f"nq71_load_{uuid.uuid4().hex[:8]}"
        admin = make_engine(admin_url.render_as_string(hide_password=False), isolation_level="AUTOCOMMIT")
        with admin.connect() as conn:
            if not conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}).scalar():
                conn.execute(text(f'CREATE DATABASE "{name}"'))
        try:
            all_results["postgresql"] = run_backend(admin_url.set(database=name).render_as_string(hide_password=False), args, progress)
        finally:
            if not args.pg_database:
                with admin.connect() as conn:
                    conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin.dispose()
    summary = {"reviewers": args.reviewers, "requests_per_reviewer": args.requests, "target_p95_ms": TARGET_P95_MS,
               "cores": os.cpu_count(), "load_average": os.getloadavg()[0], "server_env": args.server_env, "results": all_results}
    if not args.json:
        print(f"\n{args.reviewers} reviewers x {args.requests} requests, server and client on this machine")
        for backend, by_workers in all_results.items():
            for label, res in by_workers.items():
                for scenario, m in res.items():
                    if "p50" not in m:
                        continue
                    print(f"{backend:11} {label:10} {scenario:15} p50 {m['p50']:7.1f} ms  p95 {m['p95']:7.1f} ms"
                          + (f"  {m['requests_per_s']} req/s" if "requests_per_s" in m else ""))
    print(json.dumps(summary, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
