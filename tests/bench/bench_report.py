"""Benchmark: weekly and 52-week period reports over a generated 1,000,000-article store (SQLite, PostgreSQL).

    .venv/bin/python tests/bench/bench_report.py [--articles N] [--postgres URL] [--sqlite PATH] [--keep]

The generator writes realistic shapes, not real text: 200 outlets (city press, portals, schools, national
press), 52 ISO weeks, ids in collection order (publication jittered by up to 6 h), ~2% undated items,
~10% syndicated copies of recent items, classifications with task-group bits, ~1% flagged for review. It bulk-loads with executemany (SQLite) or COPY (PostgreSQL).
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from sqlalchemy import Engine, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from report.alerts import volume_alerts  # noqa: E402
from report.charts import coverage_png  # noqa: E402
from report.files import week_download  # noqa: E402
from report.weekly import coverage  # noqa: E402
from report.weeks import day_period, previous_week, weeks_ending  # noqa: E402
from settings import Settings  # noqa: E402
from store.db import make_engine, make_session_factory, upgrade  # noqa: E402
from store.reports import articles_behind  # noqa: E402

TZ = "Asia/Ho_Chi_Minh"
KINDS = [("press", "city", 8), ("portal", "city", 40), ("agency", "city", 12), ("school", "city", 110), ("press", "national", 20), ("social", "city", 10)]
WORDS = ("Hải Phòng triển khai Nghị quyết 71 giáo viên học sinh tuyển sinh lớp 10 học phí sách giáo khoa "
         "chuyển đổi số trường học đại học phụ cấp ưu đãi bán trú nội trú tiếng Anh STEM thi tốt nghiệp").split()


def outlets(n: int) -> list[tuple[int, str, str, str, str, float, bool]]:
    """(id, slug, name, kind, tier, weekly weight, has section) for n outlets in KINDS proportions."""
    total = sum(k[2] for k in KINDS)
    out: list[tuple[int, str, str, str, str, float, bool]] = []
    rnd = random.Random(71)
    for kind, tier, share in KINDS:
        for _ in range(max(1, round(n * share / total))):
            if len(out) >= n:
                break
            i = len(out) + 1
            weight = {"press": 25.0, "portal": 3.0, "agency": 6.0, "school": 0.6, "social": 4.0}[kind] * (30 if tier == "national" else 1)
            out.append((i, f"{kind}-{tier}-{i}", f"Cơ quan {kind} {tier} số {i}", kind, tier, weight * rnd.uniform(0.5, 1.5), rnd.random() < 0.3))
    return out


def ts(dialect: str, value: datetime | None) -> Any:
    """A datetime as the store writes it: naive UTC text on SQLite, aware on PostgreSQL."""
    if value is None:
        return None
    if dialect == "sqlite":
        return value.astimezone(UTC).replace(tzinfo=None).strftime("%Y-%m-%d %H:%M:%S.%f")
    return value


def generate(n_articles: int, n_outlets: int, weeks: int, dialect: str, seed: int = 7) -> Iterator[tuple[str, list[tuple[Any, ...]]]]:
    """Yield (table, rows) batches: outlets first, then articles with classifications and review items."""
    rnd = random.Random(seed)
    outs = outlets(n_outlets)
    now = datetime.now(UTC)
    yield "outlet", [(i, slug, name, kind, tier, f"https://{slug}.vn", None, sec, None, True, "{}", ts(dialect, now), ts(dialect, now))
                     for i, slug, name, kind, tier, _, sec in outs]
    last = previous_week(TZ)
    span_start = weeks_ending(last, weeks, TZ)[0].start
    span_seconds = (last.end - span_start).total_seconds()
    ids = [o[0] for o in outs]
    weights = [o[5] for o in outs]
    batch_a: list[tuple[Any, ...]] = []
    batch_c: list[tuple[Any, ...]] = []
    batch_r: list[tuple[Any, ...]] = []
    chosen = rnd.choices(ids, weights=weights, k=n_articles)
    # ids follow collection order, as in a crawled store: items arrive minutes to hours after publication
    offsets = sorted(rnd.random() * span_seconds for _ in range(n_articles))
    for aid in range(1, n_articles + 1):
        outlet_id = chosen[aid - 1]
        published = span_start + timedelta(seconds=offsets[aid - 1] - rnd.random() * 6 * 3600)
        undated = rnd.random() < 0.02
        copy_of = rnd.randint(max(1, aid - 5000), aid - 1) if aid > 10 and rnd.random() < 0.10 else None
        title = " ".join(rnd.choices(WORDS, k=9))
        collected = published + timedelta(minutes=rnd.randint(5, 600))
        batch_a.append((
            aid, f"https://o{outlet_id}.vn/tin/{aid}.html", None, outlet_id, None, title, "", title + ". " + title, None,
            None if undated else ts(dialect, published), "none" if undated else "page_meta", ts(dialect, collected),
            ts(dialect, collected), 1, None, None, None, copy_of, "feed", "ok", 0, None,
        ))
        edu = rnd.random() < 0.6
        roll = rnd.random()
        rel = "explicit" if edu and roll < 0.04 else "task" if edu and roll < 0.25 else "none"
        mask = 0
        if rel != "none":
            for bit in range(8):
                if rnd.random() < 0.18:
                    mask |= 1 << bit
            mask = mask or 1 << rnd.randrange(8)
        batch_c.append((aid, aid, "bench", edu, 0.8 if edu else 0.2, rel, 0.7 if rel != "none" else 0.1, mask,
                        rnd.random(), "[]", "{}", "[]", ts(dialect, collected)))
        if rnd.random() < 0.01:
            created = collected + timedelta(minutes=10)
            resolved = created + timedelta(hours=rnd.uniform(0.5, 72)) if rnd.random() < 0.7 else None
            verdict = rnd.choice(["tin_gia", "tin_sai_su_that", "tin_xac_thuc", "khong_lien_quan"]) if resolved else None
            batch_r.append((len(batch_r) + 1 + (aid // 10_000) * 0, aid, rnd.random(), "resolved" if resolved else "new", verdict,
                            None, None, ts(dialect, created), None, ts(dialect, resolved), ts(dialect, created), 1))
        if len(batch_a) >= 20_000:
            yield "article", batch_a
            yield "classification", batch_c
            batch_a, batch_c = [], []
    yield "article", batch_a
    yield "classification", batch_c
    yield "review_item", [(i + 1, *row[1:]) for i, row in enumerate(batch_r)]


COLUMNS = {
    "outlet": "id, slug, name, kind, tier, homepage, area, has_nq71_section, nq71_section_url, active, selectors, created_at, updated_at",
    "article": "id, url, canonical_url, outlet_id, feed_id, title, summary, text, author, published_at, date_source, collected_at, "
               "updated_at, revision, content_hash, title_hash, cluster_id, copy_of_id, origin, extraction, page_attempts, engagement",
    "classification": "id, article_id, model_version, is_education, education_score, relevance, relevance_score, theme_mask, "
                      "risk_score, reasons, evidence, claim_matches, classified_at",
    "review_item": "id, article_id, priority, status, verdict, assignee_id, note, created_at, first_action_at, resolved_at, updated_at, version",
}


def load(engine: Engine, n_articles: int, n_outlets: int, weeks: int) -> float:
    """Bulk-load the generated store; returns seconds."""
    started = time.perf_counter()
    dialect = engine.dialect.name
    raw = engine.raw_connection()
    try:
        cur = raw.cursor()
        if dialect == "sqlite":
            cur.execute("PRAGMA synchronous=OFF")
        done = 0
        for table, rows in generate(n_articles, n_outlets, weeks, dialect):
            if not rows:
                continue
            cols = COLUMNS[table]
            if dialect == "postgresql":
                with cur.copy(f"COPY {table} ({cols}) FROM STDIN") as copy:
                    for row in rows:
                        copy.write_row(row)
            else:
                marks = ", ".join("?" for _ in cols.split(","))
                cur.executemany(f"INSERT INTO {table} ({cols}) VALUES ({marks})", rows)
            if table == "article":
                done += len(rows)
                print(f"\r  loaded {done:,} articles ({time.perf_counter() - started:.0f} s)", end="", file=sys.stderr, flush=True)
        raw.commit()
        print(file=sys.stderr)
        if dialect == "postgresql":
            pg = raw.driver_connection
            pg.autocommit = True  # type: ignore[union-attr]  # VACUUM refuses to run in a transaction
            cur = pg.cursor()  # type: ignore[union-attr]
            cur.execute("VACUUM ANALYZE")
            for table in ("outlet", "article", "classification", "review_item"):
                cur.execute(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), (SELECT max(id) FROM {table}))")
        else:
            cur.execute("ANALYZE")
            raw.commit()
    finally:
        raw.close()
    return time.perf_counter() - started


def timed(fn: Callable[[], Any], repeat: int) -> tuple[float, float, Any]:
    """(first run s, median of the following runs s, result)."""
    times = []
    result = None
    for _ in range(repeat + 1):
        t = time.perf_counter()
        result = fn()
        times.append(time.perf_counter() - t)
    return times[0], statistics.median(times[1:]), result


def bench(engine: Engine, args: argparse.Namespace) -> dict[str, dict[str, float]]:
    """Load (unless the store is already filled) and time the reports; milliseconds per case (first, median)."""
    sessions = make_session_factory(engine)
    upgrade(engine)
    with engine.connect() as conn:
        have = int(conn.execute(text("SELECT count(*) FROM article")).scalar() or 0)
    if have == 0:
        seconds = load(engine, args.articles, args.outlets, args.weeks)
        print(f"{engine.dialect.name}: loaded {args.articles:,} articles in {seconds:.1f} s")
    else:
        print(f"{engine.dialect.name}: reusing {have:,} articles")
    settings = Settings(database_url=engine.url.render_as_string(hide_password=False), timezone=TZ)
    last = previous_week(TZ)
    periods = weeks_ending(last, args.weeks, TZ)
    year = day_period(periods[0].first_day, last.last_day, TZ)
    with sessions() as s:
        cases: list[tuple[str, Callable[[], Any]]] = [
            (f"weekly report {last.label}", lambda: coverage(s, last)),
            (f"weekly report {periods[len(periods) // 2].label}", lambda: coverage(s, periods[len(periods) // 2])),
            (f"period report {args.weeks} weeks", lambda: coverage(s, year, flagged_limit=1000)),
            ("alerts (9 weekly volumes)", lambda: volume_alerts(s, last, settings)),
            ("chart PNG, 8 weeks", lambda: coverage_png(s, 8, settings)),
            ("dashboard XLSX of a week", lambda: week_download(s, settings, "xlsx", last.label)),
            ("dashboard DOCX of a week", lambda: week_download(s, settings, "docx", last.label)),
            ("articles behind: week's items", lambda: articles_behind(s, "items", last.start, last.end, None, 100, 0)),
            ("articles behind: week's NQ71", lambda: articles_behind(s, "nq71", last.start, last.end, None, 100, 0)),
        ]
        figures: dict[str, dict[str, float]] = {}
        for name, fn in cases:
            first, med, result = timed(fn, args.repeat)
            figures[name] = {"first_ms": round(first * 1000, 1), "median_ms": round(med * 1000, 1)}
            extra = ""
            if hasattr(result, "totals"):
                extra = f"  (items {result.totals['items']:,}, outlets {result.totals['outlets']}, NQ71 {result.totals['nq71']:,})"
            print(f"  {engine.dialect.name:10} {name:32} first {first * 1000:8.0f} ms   median {med * 1000:8.0f} ms{extra}")
    return figures


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--articles", type=int, default=1_000_000)
    p.add_argument("--outlets", type=int, default=200)
    p.add_argument("--weeks", type=int, default=52)
    p.add_argument("--repeat", type=int, default=3, help="timed runs after the first (cold) one")
    p.add_argument("--sqlite", type=Path, help="SQLite file (default: a temporary file); an existing filled one is reused")
    p.add_argument("--postgres", metavar="URL", help="admin URL, e.g. postgresql+psycopg://postgres@127.0.0.1:5432/postgres: a scratch database is created there")
    p.add_argument("--pg-db", metavar="NAME", help="scratch database name (reused when it exists and is filled)")
    p.add_argument("--no-sqlite", action="store_true", help="only PostgreSQL")
    p.add_argument("--keep", action="store_true", help="keep the SQLite file / PostgreSQL scratch database")
    p.add_argument("--json", action="store_true", help="last line: one JSON object (milliseconds per backend and case)")
    args = p.parse_args()
    out: dict[str, object] = {"articles": args.articles, "outlets": args.outlets, "weeks": args.weeks, "cores": os.cpu_count()}
    if args.articles < 1000:
        p.error("--articles must be at least 1000")
    print(f"bench_report: {args.articles:,} articles, {args.outlets} outlets, {args.weeks} weeks; machine: {os.cpu_count()} cores")
    if not args.no_sqlite:
        tmpdir = None
        path = args.sqlite
        if path is None:
            tmpdir = tempfile.mkdtemp(prefix="nq71-bench-")
            path = Path(tmpdir) / "bench.db"
        engine = make_engine(f"sqlite:///{path}")
        try:
            out["sqlite"] = bench(engine, args)
        finally:
            engine.dispose()
            if tmpdir and not args.keep:
                for f in Path(tmpdir).iterdir():
                    f.unlink()
                os.rmdir(tmpdir)
    if args.postgres:
        admin_url = make_url(args.postgres).set(drivername="postgresql+psycopg")
        admin = make_engine(admin_url.render_as_string(hide_password=False), isolation_level="AUTOCOMMIT")
        name = args.pg_db or f"nq71_bench_{uuid.uuid4().hex[:8]}"
        try:
            with admin.connect() as conn:
                exists = conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}).scalar()
                if not exists:
                    conn.execute(text(f'CREATE DATABASE "{name}"'))
        except Exception as exc:
            print(f"cannot create a scratch database on {args.postgres}: {exc}".splitlines()[0], file=sys.stderr)
            return 2
        engine = make_engine(admin_url.set(database=name).render_as_string(hide_password=False))
        try:
            out["postgresql"] = bench(engine, args)
        finally:
            engine.dispose()
            if not args.keep:
                with admin.connect() as conn:
                    conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            else:
                print(f"kept database {name}")
            admin.dispose()
    if args.json:
        print(json.dumps(out, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
