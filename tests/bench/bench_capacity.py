"""Per-article costs for the capacity plan (docs/capacity.md): bytes on disk per stored and classified article
(PostgreSQL: table, indexes, TOAST, search columns; SQLite: file size), and classification CPU per article.

Articles are built from real stream summaries up to ~4,000 characters (read, never copied into the project), in a
throw-away database; the stream's own daily volume per outlet is counted too.

    .venv/bin/python tests/bench/bench_capacity.py [--articles 2000] [--pg-url URL] [--data ../shared/data] [--json]
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
import time
import uuid
from collections import Counter
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from sqlalchemy import Engine, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from settings import Settings  # noqa: E402
from store.db import make_engine, make_session_factory, upgrade  # noqa: E402
from store.models import Article, Outlet, OutletKind, Tier  # noqa: E402

TARGET_CHARS = 4000


def stream(data: Path) -> list[dict[str, Any]]:
    path = data / "news-stream-2025h2.jsonl"
    if not path.exists():
        raise SystemExit(f"{path} not found: pass --data pointing at the shared data folder")
    with path.open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh]


def daily_volume(rows: list[dict[str, Any]]) -> dict[str, float]:
    """Items per day per source in the stream (an RSS pull of large national outlets)."""
    days: dict[str, set[str]] = {}
    per: Counter[str] = Counter()
    for r in rows:
        per[r["source"]] += 1
        days.setdefault(r["source"], set()).add(r["published"][:10])
    return {s: round(per[s] / max(1, len(days[s])), 1) for s in per}


def fill(engine: Engine, rows: list[dict[str, Any]], n: int) -> None:
    """n articles of ~4,000 characters (title, summary, body joined from consecutive summaries), unclassified."""
    sessions = make_session_factory(engine)
    now = datetime.now(UTC)
    with sessions() as s, s.begin():
        outlet = Outlet(slug="do-luong", name="Đo lường", kind=OutletKind.press, tier=Tier.national, homepage="https://x.vn")
        s.add(outlet)
        s.flush()
        i = 0
        for k in range(n):
            title, summary = rows[i % len(rows)]["title"], rows[i % len(rows)].get("summary", "")
            body: list[str] = []
            j = i + 1
            while sum(len(b) + 1 for b in body) < TARGET_CHARS - len(title) - len(summary):
                body.append(rows[j % len(rows)].get("summary", ""))
                j += 1
            i = j
            s.add(Article(url=f"https://x.vn/{k}", outlet_id=outlet.id, title=title, summary=summary,
                          text=" ".join(body)[: TARGET_CHARS - len(title) - len(summary)],
                          published_at=now - timedelta(minutes=k), content_hash=f"{k:064x}"))


def pg_bytes(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(text("SELECT sum(pg_total_relation_size(c.oid)) FROM pg_class c JOIN pg_namespace n "
                                     "ON n.oid = c.relnamespace WHERE n.nspname = 'public' AND c.relkind IN ('r', 'm')")).scalar() or 0)


def measure(engine: Engine, rows: list[dict[str, Any]], n: int, workdir: Path, size: Any) -> dict[str, Any]:
    """Bytes per article before and after classification, and classification CPU per article (one process)."""
    import jobs

    upgrade(engine)
    empty = size()
    fill(engine, rows, n)
    stored = size()
    settings = Settings(database_url=engine.url.render_as_string(hide_password=False), data_dir=workdir)
    cpu0, t0 = time.process_time(), time.perf_counter()
    jobs.classify_backlog(make_session_factory(engine), settings, batch=32)
    cpu, wall = time.process_time() - cpu0, time.perf_counter() - t0
    classified = size()
    return {"articles": n, "bytes_per_article_stored": round((stored - empty) / n),
            "bytes_per_article_classified": round((classified - empty) / n),
            "classify_cpu_ms_per_article": round(1000 * cpu / n, 1), "classify_wall_s": round(wall, 1)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--articles", type=int, default=2000)
    ap.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    ap.add_argument("--pg-url", default="postgresql+psycopg://postgres@127.0.0.1:5432/postgres")
    ap.add_argument("--json", action="store_true", help="last line: one JSON object")
    args = ap.parse_args()
    rows = stream(args.data)
    out: dict[str, Any] = {"cores": os.cpu_count(), "stream_items_per_day_per_outlet": daily_volume(rows)}
    print(f"stream: items per day per outlet {out['stream_items_per_day_per_outlet']}")
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "cap.db"
        engine = make_engine(f"sqlite:///{db}")

        def file_size() -> int:
            with engine.connect() as conn:
                conn.execute(text("PRAGMA wal_checkpoint(TRUNCATE)"))
            return db.stat().st_size

        out["sqlite"] = measure(engine, rows, args.articles, Path(tmp), file_size)
        engine.dispose()
        print(f"sqlite: {out['sqlite']}")
        admin = make_engine(make_url(args.pg_url).set(drivername="postgresql+psycopg").render_as_string(hide_password=False),
                            isolation_level="AUTOCOMMIT")
        name = f"nq71_cap_{uuid.uuid4().hex[:8]}"
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
        try:
            engine = make_engine(make_url(args.pg_url).set(drivername="postgresql+psycopg", database=name)
                                 .render_as_string(hide_password=False))

            def vacuumed() -> int:
                with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
                    conn.execute(text("VACUUM ANALYZE"))
                return pg_bytes(engine)

            out["postgresql"] = measure(engine, rows, args.articles, Path(tmp), vacuumed)
            engine.dispose()
            print(f"postgresql: {out['postgresql']}")
        finally:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
            admin.dispose()
    if args.json:
        print(json.dumps(out, ensure_ascii=False))


if __name__ == "__main__":
    main()
