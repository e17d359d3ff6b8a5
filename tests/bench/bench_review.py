"""Benchmark: review app latency with 100,000 review items and 500,000 articles (SQLite and PostgreSQL).

    .venv/bin/python tests/bench/bench_review.py [--scale 0.1] [--backend sqlite|postgresql|both]
        [--pg-url postgresql+psycopg://postgres@127.0.0.1:5432/postgres] [--requests 200]

Measures p50/p95 of the queue page (first page, a filtered page, a full-text search) and the item page,
requests served in-process by the real app (FastAPI, middleware, Jinja2, cookie session) on a real
database filled with synthetic Vietnamese articles. PostgreSQL gets a fresh throw-away database.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from fastapi.testclient import TestClient  # noqa: E402
from sqlalchemy import Engine, insert, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402

from review.app import create_app  # noqa: E402
from review.users import hash_password  # noqa: E402
from settings import Settings  # noqa: E402
from store.db import make_engine, upgrade  # noqa: E402
from store.models import (  # noqa: E402
    Article,
    Classification,
    Outlet,
    ReviewEvent,
    ReviewItem,
    User,
)

PASSWORD = "mật-khẩu-benchmark-2026"
NOW = datetime(2026, 11, 26, tzinfo=UTC)
CHUNK = 5000

# Synthetic but natural Vietnamese sentence parts (written for this benchmark). Each article has one topic
# (so a topic word such as "bán trú" is in ~1/len(TOPICS) of articles, as in a real news stream) and
# filler sentences made of common words ("giáo viên", "học sinh" are in most articles).
SUBJECTS = ["Sở Giáo dục và Đào tạo", "UBND quận Lê Chân", "Trường Tiểu học Trần Phú", "Phụ huynh học sinh", "Bộ Giáo dục và Đào tạo",
            "Trường THPT Ngô Quyền", "Hội đồng nhân dân thành phố", "Một tài khoản mạng xã hội", "Công đoàn giáo dục", "Trường Đại học Hải Phòng",
            "Phòng Giáo dục huyện Thủy Nguyên", "Giáo viên mầm non", "Trường THCS Chu Văn An", "Đoàn thanh niên phường", "Ban đại diện cha mẹ học sinh"]
VERBS = ["công bố kế hoạch", "đề xuất tăng", "lấy ý kiến về", "phản ánh tình trạng", "tổ chức hội nghị về", "bác bỏ thông tin về",
         "triển khai thí điểm", "kiểm tra việc thực hiện", "ban hành hướng dẫn về", "lan truyền tin đồn về", "rà soát", "hỗ trợ kinh phí cho"]
TOPICS = ["bữa ăn bán trú", "học phí năm học mới", "phụ cấp ưu đãi nghề", "sáp nhập trường đại học", "sách giáo khoa thống nhất",
          "chuyển đổi số trong nhà trường", "tuyển sinh lớp 10", "dạy tiếng Anh từ lớp một", "trường nội trú vùng biên giới",
          "sức khỏe tâm thần học đường", "cấm điện thoại trong lớp học", "thi tốt nghiệp trung học phổ thông", "giáo dục STEM",
          "đào tạo tiến sĩ", "hợp tác quốc tế", "xây mới phòng học", "miễn học phí mầm non", "thiếu giáo viên tiểu học",
          "thư viện số", "bồi dưỡng cán bộ quản lý", "an toàn giao thông trước cổng trường", "đánh giá năng lực", "trại hè kỹ năng sống",
          "hướng nghiệp cho học sinh", "xe đưa đón học sinh", "bảo hiểm y tế học sinh", "kiểm định chất lượng", "giáo dục hòa nhập",
          "phòng chống đuối nước", "sân chơi cho trẻ", "quỹ khuyến học", "học bổng sinh viên", "nhà công vụ cho giáo viên",
          "trang thiết bị dạy học", "dạy thêm học thêm", "bạo lực học đường", "liên kết đào tạo", "trường chuẩn quốc gia",
          "học sinh giỏi quốc gia", "ngày hội đọc sách"]
FILLERS = ["Nhiều giáo viên và học sinh bày tỏ sự quan tâm đến nội dung này.",
           "Đại diện nhà trường cho biết sẽ thông tin đầy đủ tới phụ huynh.",
           "Các đơn vị được yêu cầu báo cáo kết quả trước ngày 30 hằng tháng.",
           "Theo kế hoạch, việc triển khai bảo đảm quyền lợi của người học.",
           "Ý kiến của giáo viên được tổng hợp và gửi cơ quan chức năng.",
           "Học sinh được hướng dẫn cụ thể trong buổi sinh hoạt đầu tuần.",
           "Thông tin chính thức được đăng trên cổng thông tin của ngành giáo dục.",
           "Phụ huynh có thể liên hệ đường dây nóng của nhà trường để được giải đáp."]
PLACES = ["quận Hồng Bàng", "quận Ngô Quyền", "huyện An Dương", "huyện Tiên Lãng", "thành phố Hải Dương", "quận Kiến An", "huyện Cát Hải",
          "phường Đằng Giang", "xã An Lư", "huyện Vĩnh Bảo"]
TAILS = ["theo Nghị quyết 71-NQ/TW", "trong học kỳ II", "từ năm học 2026-2027", "sau nhiều ý kiến phản ánh",
         "với sự tham gia của các nhà trường", "trước kỳ họp cuối năm", "và sẽ báo cáo kết quả vào quý I"]
# rare topic words (~2.5% of articles), a phrase, and common words (most articles)
SEARCHES = ["bán trú", "tiến sĩ", "\"sáp nhập trường\"", "đuối nước Kiến An", "giáo viên", "học sinh phụ huynh"]
# the same words as people type them in a hurry: no diacritics, đ as d
PLAIN_SEARCHES = ["ban tru", "tien si", "sap nhap truong", "duoi nuoc Kien An", "giao vien", "hoc sinh phu huynh"]


def sentence(rng: random.Random, topic: str) -> str:
    return f"{rng.choice(SUBJECTS)} {rng.choice(VERBS)} {topic} tại {rng.choice(PLACES)} {rng.choice(TAILS)}."


def article_text(rng: random.Random, topic: str) -> str:
    parts = [sentence(rng, topic)] + rng.sample(FILLERS, rng.randint(3, 5)) + [sentence(rng, topic)]
    return " ".join(parts)


def chunks(rows: Iterator[dict[str, Any]], size: int = CHUNK) -> Iterator[list[dict[str, Any]]]:
    batch: list[dict[str, Any]] = []
    for row in rows:
        batch.append(row)
        if len(batch) >= size:
            yield batch
            batch = []
    if batch:
        yield batch


def fill(engine: Engine, n_articles: int, n_items: int, progress: Callable[[str], None]) -> dict[str, Any]:
    """Write outlets, users, articles, classifications, review items and events; returns ids for requests."""
    rng = random.Random(71)
    pg = engine.dialect.name == "postgresql"
    with engine.begin() as conn:
        if pg:  # building the GIN index once after loading is much faster than maintaining it row by row
            conn.execute(text("DROP INDEX IF EXISTS ix_article_fts"))
        conn.execute(insert(Outlet), [
            {"slug": f"outlet-{i}", "name": f"Cổng thông tin {rng.choice(PLACES)} {i}", "kind": "portal" if i % 3 else "press",
             "tier": "city", "homepage": f"https://outlet{i}.haiphong.gov.vn", "has_nq71_section": i % 2 == 0, "active": True,
             "selectors": {}, "created_at": NOW, "updated_at": NOW}
            for i in range(60)
        ])
        outlet_ids = [r[0] for r in conn.execute(text("SELECT id FROM outlet ORDER BY id"))]
        pw = hash_password(PASSWORD)
        conn.execute(insert(User), [
            {"username": f"thamdinh{i}", "password_hash": pw, "role": "supervisor" if i == 0 else "reviewer", "active": True,
             "failed_logins": 0, "created_at": NOW}
            for i in range(12)
        ])
        user_ids = [r[0] for r in conn.execute(text("SELECT id FROM user_account ORDER BY id"))]
    started = time.monotonic()

    def articles() -> Iterator[dict[str, Any]]:
        for i in range(n_articles):
            topic = rng.choice(TOPICS)
            body = article_text(rng, topic)
            yield {"id": i + 1, "url": f"https://outlet.vn/bai-{i}", "outlet_id": rng.choice(outlet_ids), "title": sentence(rng, topic)[:-1],
                   "summary": "", "text": body, "published_at": NOW - timedelta(minutes=rng.randint(0, 60 * 24 * 180)), "date_source": "feed",
                   "collected_at": NOW, "updated_at": NOW, "revision": 1, "cluster_id": i // 5 if i % 3 == 0 else None, "origin": "feed",
                   "extraction": "ok", "page_attempts": 0}

    done = 0
    for batch in chunks(articles()):
        with engine.begin() as conn:
            conn.execute(insert(Article), batch)
        done += len(batch)
        if done % 100_000 == 0 or done == n_articles:
            progress(f"  articles {done:,}/{n_articles:,} ({time.monotonic() - started:.0f} s)")
    flagged = rng.sample(range(1, n_articles + 1), n_items)

    def classifications() -> Iterator[dict[str, Any]]:
        for aid in flagged:
            yield {"article_id": aid, "model_version": "bench", "is_education": True, "education_score": 0.9, "relevance": "task",
                   "relevance_score": 0.7, "theme_mask": 1 << rng.randrange(8) | (1 << rng.randrange(8) if rng.random() < 0.3 else 0),
                   "risk_score": rng.random(), "reasons": [], "evidence": {}, "claim_matches": [], "classified_at": NOW}

    statuses = ["new"] * 40 + ["in_progress"] * 15 + ["escalated"] * 5 + ["resolved"] * 40

    def items() -> Iterator[dict[str, Any]]:
        for n, aid in enumerate(flagged):
            status = rng.choice(statuses)
            yield {"id": n + 1, "article_id": aid, "priority": round(rng.random(), 6), "status": status,
                   "verdict": rng.choice(["tin_gia", "tin_sai_su_that", "tin_xac_thuc", "khong_lien_quan"]) if status == "resolved" else None,
                   "assignee_id": rng.choice(user_ids) if status != "new" else None, "created_at": NOW, "updated_at": NOW, "version": 1}

    def events() -> Iterator[dict[str, Any]]:
        for n in range(1, n_items + 1):
            for k in range(rng.randint(0, 3)):
                yield {"review_item_id": n, "user_id": rng.choice(user_ids), "at": NOW + timedelta(minutes=k), "action": "take",
                       "before": {"status": "new"}, "after": {"status": "in_progress"}, "note": rng.choice(FILLERS) if k else None}

    for model, rows in ((Classification, classifications()), (ReviewItem, items()), (ReviewEvent, events())):
        for batch in chunks(rows):
            with engine.begin() as conn:
                conn.execute(insert(model), batch)
        progress(f"  {model.__tablename__} written ({time.monotonic() - started:.0f} s)")
    with engine.begin() as conn:
        if pg:
            conn.execute(text("CREATE INDEX ix_article_fts ON article USING gin "
                              "(to_tsvector('simple'::regconfig, coalesce(title, '') || ' ' || coalesce(text, '')))"))
            conn.execute(text("SELECT setval(pg_get_serial_sequence('article', 'id'), (SELECT max(id) FROM article))"))
            conn.execute(text("SELECT setval(pg_get_serial_sequence('review_item', 'id'), (SELECT max(id) FROM review_item))"))
        conn.execute(text("ANALYZE"))
    if pg:  # what autovacuum would do on a live server: set the visibility map so index-only scans work
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.execute(text("VACUUM ANALYZE"))
    progress(f"  indexes and statistics ready ({time.monotonic() - started:.0f} s)")
    return {"outlets": outlet_ids, "items": n_items}


def measure(client: TestClient, urls: Callable[[int], str], n: int) -> dict[str, float]:
    """p50/p95/mean in ms over n requests (after a short warm-up)."""
    for i in range(5):
        assert client.get(urls(i)).status_code == 200
    times = []
    for i in range(n):
        url = urls(i + 5)
        t0 = time.perf_counter()
        r = client.get(url)
        times.append((time.perf_counter() - t0) * 1000)
        assert r.status_code == 200, (url, r.status_code, r.text[:300])
    times.sort()
    return {"p50": statistics.median(times), "p95": times[int(0.95 * (len(times) - 1))], "mean": statistics.fmean(times), "n": n}


def run_backend(url: str, scale: float, requests: int, progress: Callable[[str], None]) -> dict[str, Any]:
    engine = make_engine(url)
    upgrade(engine)
    n_articles, n_items = int(500_000 * scale), int(100_000 * scale)
    with engine.connect() as conn:
        existing = int(conn.execute(text("SELECT count(*) FROM review_item")).scalar() or 0)
    info: dict[str, Any]
    if existing:  # a kept database (--sqlite-file) is measured again without refilling
        progress(f"{engine.dialect.name}: reusing {existing:,} review items")
        with engine.connect() as conn:
            info = {"outlets": [r[0] for r in conn.execute(text("SELECT id FROM outlet"))], "items": existing}
    else:
        progress(f"{engine.dialect.name}: filling {n_articles:,} articles, {n_items:,} review items")
        info = fill(engine, n_articles, n_items, progress)
    engine.dispose()
    app = create_app(Settings(database_url=url, secret_key="bench-secret-key-0123456789abcdef"))
    rng = random.Random(5)
    results: dict[str, Any] = {}
    with TestClient(app, follow_redirects=False) as client:
        page = client.get("/login")
        token = re.search(r'name="csrf" value="([^"]+)"', page.text)
        assert token
        r = client.post("/login", data={"username": "thamdinh1", "password": PASSWORD, "csrf": token.group(1)})
        assert r.status_code == 303, r.text
        size = len(client.get("/queue").content)
        scenarios: dict[str, Callable[[int], str]] = {
            "queue first page": lambda i: "/queue",
            "queue filtered": lambda i: [
                f"/queue?status=new&risk=high&outlet={rng.choice(info['outlets'])}",
                f"/queue?status=in_progress&theme={rng.randint(1, 8)}&from=2026-09-01&to=2026-10-31",
                f"/queue?status=resolved&assignee={rng.randint(1, 12)}&page=3",
            ][i % 3],
            "queue search": lambda i: "/queue?" + urlencode({"q": SEARCHES[i % len(SEARCHES)]}),
            "queue search without diacritics": lambda i: "/queue?" + urlencode({"q": PLAIN_SEARCHES[i % len(PLAIN_SEARCHES)]}),
            "item page": lambda i: f"/items/{rng.randint(1, info['items'])}",
        }
        for name, urls in scenarios.items():
            results[name] = measure(client, urls, requests)
            progress(f"  {name:18} p50 {results[name]['p50']:6.1f} ms   p95 {results[name]['p95']:6.1f} ms")
    app.state.engine.dispose()
    results["queue page bytes"] = size
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=1.0, help="1.0 = 100,000 review items and 500,000 articles")
    parser.add_argument("--backend", choices=["sqlite", "postgresql", "both"], default="both")
    parser.add_argument("--pg-url", default="postgresql+psycopg://postgres@127.0.0.1:5432/postgres", help="server to create a throw-away database on")
    parser.add_argument("--requests", type=int, default=200, help="requests per scenario")
    parser.add_argument("--pg-database", help="keep the PostgreSQL database under this name (reused, not refilled, on the next run)")
    parser.add_argument("--sqlite-file", type=Path, help="keep the SQLite database here (reused, not refilled, on the next run)")
    parser.add_argument("--json", action="store_true", help="print the figures as one JSON object at the end")
    args = parser.parse_args()
    if not 0 < args.scale <= 2:
        parser.error("--scale must be in (0, 2]")
    all_results: dict[str, Any] = {}

    def progress(line: str) -> None:
        print(line, flush=True)

    if args.backend in ("sqlite", "both"):
        if args.sqlite_file:
            all_results["sqlite"] = run_backend(f"sqlite:///{args.sqlite_file.resolve()}", args.scale, args.requests, progress)
        else:
            with tempfile.TemporaryDirectory(prefix="nq71-bench-") as tmp:
                all_results["sqlite"] = run_backend(f"sqlite:///{Path(tmp) / 'bench.db'}", args.scale, args.requests, progress)
    if args.backend in ("postgresql", "both"):
        admin_url = make_url(args.pg_url).set(drivername="postgresql+psycopg")
        name = args.pg_database or f"nq71_bench_{uuid.uuid4().hex[:8]}"
        try:
            admin = make_engine(admin_url.render_as_string(hide_password=False), isolation_level="AUTOCOMMIT")
            with admin.connect() as conn:
                found = conn.execute(text("SELECT 1 FROM pg_database WHERE datname = :n"), {"n": name}).scalar()
                if not found:
                    conn.execute(text(f'CREATE DATABASE "{name}"'))
        except Exception as exc:  # a benchmark, not the product: say what is missing and go on
            print(f"PostgreSQL not reachable at {args.pg_url} ({exc.__class__.__name__}); skipping it. Use --pg-url or --backend sqlite.")
        else:
            try:
                url = admin_url.set(database=name).render_as_string(hide_password=False)
                all_results["postgresql"] = run_backend(url, args.scale, args.requests, progress)
            finally:
                if not args.pg_database:
                    with admin.connect() as conn:
                        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
                admin.dispose()
    print()
    print(f"review app, scale {args.scale} ({int(100_000 * args.scale):,} review items, {int(500_000 * args.scale):,} articles), "
          f"{args.requests} requests per scenario, in-process")
    print(f"{'backend':11} {'scenario':18} {'p50 ms':>8} {'p95 ms':>8} {'mean ms':>8}")
    for backend, res in all_results.items():
        for name, m in res.items():
            if isinstance(m, dict):
                print(f"{backend:11} {name:18} {m['p50']:8.1f} {m['p95']:8.1f} {m['mean']:8.1f}")
        print(f"{backend:11} queue page size {res['queue page bytes']:,} bytes (uncompressed)")
    if args.json:
        print(json.dumps(all_results, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
