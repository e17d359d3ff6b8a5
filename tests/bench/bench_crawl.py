"""Crawler benchmark on loopback with politeness off (prints figures; not a test).

(a) N generated article pages behind F RSS feeds: articles/s from fetch to stored row, the share of time
    per stage (fetch, extract, classify hook, store), and the ratio to bare trafilatura on the same pages.
(b) P feeds polled twice; on the second poll 90% answer 304 or the same body: seconds per full poll.
(c) Replay a real news stream (JSON lines: title, summary, link, source, published) as weekly RSS feeds
    from a local server; links point to hosts that cannot be reached here, so items are kept feed-only.

    .venv/bin/python tests/bench/bench_crawl.py [--pages 5000] [--feeds 50] [--poll-feeds 1000]
        [--replay ../shared/data/news-stream-2025h2.jsonl] [--replay-limit 10000] [--skip a,b,c,d] [--json]
(d) Several machines on one: PostgreSQL + the Redis frontier, 2 crawl processes and 2 classification workers
    replay the stream (tests/bench/bench_layout.py); then articles/s for 1, 2 and 4 classification workers.
(a) counts from the crawl's start until the last of its articles is classified (the crawl starts local
    classification workers), against bench_classify.py's one-core rate measured right before.
"""

from __future__ import annotations

import argparse
import hashlib
import html
import json
import os
import random
import resource
import subprocess
import sys
import tempfile
import threading
import time
from collections import defaultdict
from datetime import datetime
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))

from demo.server import write_response  # noqa: E402

SENTENCES = [
    "Sở Giáo dục và Đào tạo yêu cầu các trường rà soát đội ngũ giáo viên theo từng môn học",
    "Phụ huynh mong nhà trường công khai các khoản thu ngay từ đầu năm học",
    "Thành phố dành thêm kinh phí sửa chữa phòng học xuống cấp ở các xã đảo",
    "Giáo viên được bồi dưỡng kỹ năng số và sử dụng trí tuệ nhân tạo trong giờ dạy",
    "Học sinh lớp chín ôn tập cho kỳ thi tuyển sinh vào lớp mười",
    "Nhà trường tổ chức câu lạc bộ STEM sau giờ học cho học sinh có năng khiếu",
    "Bếp ăn bán trú được kiểm tra an toàn thực phẩm định kỳ hằng tháng",
    "Các trường đại học công bố đề án tuyển sinh với nhiều phương thức xét tuyển",
    "Chính sách miễn học phí giúp giảm gánh nặng chi phí cho các gia đình đông con",
    "Trường nội trú liên cấp ở xã biên giới sẽ đón học sinh từ năm học tới",
    "Ủy ban nhân dân xã phối hợp với nhà trường vận động học sinh bỏ học quay lại lớp",
    "Thư viện trường được bổ sung sách tham khảo và máy tính kết nối mạng",
]


RUMOURS = [
    "Phụ huynh truyền tay nhau tin nhắn nói rằng đề thi tuyển sinh lớp mười đã bị lộ, nhà trường chưa lên tiếng",
    "Nghe nói từ tháng sau các trường tiểu học công lập sẽ dừng bán trú, phụ huynh phải tự đón con buổi trưa",
    "Trên mạng lan truyền tin học sinh phải nộp thêm tiền học thêm bắt buộc nếu không sẽ bị hạ hạnh kiểm",
]


def article_html(feed: int, item: int) -> str:
    """A generated article page with chrome; each page's text is its own (seeded by feed and item).
    One page in ten carries a rumour (the review queue's share on a busy day), so flagged items can be timed."""
    rng = random.Random(feed * 100_003 + item)
    paras = []
    if item % 10 == 3:  # a post shared around: no official source, all hearsay
        heard = rng.sample(RUMOURS, 2)
        paras = [f"{heard[0]}. Chưa rõ thực hư, ai có thông tin xin chia sẻ gấp!!!",
                 f"{heard[1]}. Nhiều người bức xúc, đề nghị cơ quan chức năng vào cuộc (bài {feed}-{item})."]
        title = f"CHIA SẺ GẤP {feed}-{item}: {heard[0][:60]}"
    else:
        title = f"Tin giáo dục số {feed}-{item}: {rng.choice(SENTENCES)[:60]}"
    for _ in range(6 if not paras else 0):
        words = rng.sample(SENTENCES, 3)
        paras.append(". ".join(words) + f". Số liệu cập nhật đến ngày {rng.randint(1, 28)} với {rng.randint(10, 9999)} trường hợp.")
    body = "\n".join(f"<p>{html.escape(p)}</p>" for p in paras)
    return f"""<!DOCTYPE html><html lang="vi"><head><meta charset="utf-8"><title>{html.escape(title)}</title>
<meta property="article:published_time" content="2026-11-{1 + item % 25:02d}T08:00:00+07:00"></head><body>
<nav><a href="/">Trang chủ</a> <a href="/giao-duc">Giáo dục</a> <a href="/thoi-su">Thời sự</a> <a href="/kinh-te">Kinh tế</a></nav>
<article><h1>{html.escape(title)}</h1><div class="content">{body}</div></article>
<aside><h3>Tin liên quan</h3><ul><li><a href="/a/1">Tin khác một</a></li><li><a href="/a/2">Tin khác hai</a></li></ul></aside>
<footer>Báo mô phỏng cho benchmark. Giấy phép số 00/GP. Địa chỉ: Hải Phòng.</footer></body></html>"""


def rss(items: list[dict[str, str]], title: str) -> bytes:
    parts = [f"<?xml version='1.0' encoding='utf-8'?><rss version='2.0'><channel><title>{html.escape(title)}</title><link>http://x/</link>"]
    for it in items:
        parts.append(
            f"<item><title>{html.escape(it['title'])}</title><link>{html.escape(it['link'])}</link>"
            f"<description>{html.escape(it.get('summary', ''))}</description><pubDate>{it['date']}</pubDate></item>"
        )
    parts.append("</channel></rss>")
    return "".join(parts).encode("utf-8")


class State:
    """What the bench server serves: generated feeds/pages, poll feeds, replay feeds."""

    def __init__(self, base: str, per_feed: int) -> None:
        self.base = base
        self.per_feed = per_feed
        self.poll_round = 0
        self.replay: dict[str, bytes] = {}


def make_server(per_feed: int) -> tuple[ThreadingHTTPServer, State]:
    state = State("", per_feed)

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
            return None

        def reply(self, code: int, body: bytes, ctype: str, headers: dict[str, str] | None = None) -> None:
            write_response(self, code, body, ctype, headers)

        def do_GET(self) -> None:  # noqa: N802
            parts = self.path.strip("/").split("/")
            date = format_datetime(datetime(2026, 11, 20, 8, 0).astimezone())
            if parts[0] == "feed":
                n = int(parts[1].split(".")[0])
                items = [{"title": f"Tin giáo dục số {n}-{i}", "link": f"{state.base}/a/{n}/{i}.html", "summary": "Tóm tắt.", "date": date}
                         for i in range(state.per_feed)]
                self.reply(200, rss(items, f"Feed {n}"), "application/rss+xml")
            elif parts[0] == "a":
                self.reply(200, article_html(int(parts[1]), int(parts[2].split(".")[0])).encode("utf-8"), "text/html; charset=utf-8")
            elif parts[0] == "poll":
                n = int(parts[1].split(".")[0])
                version = state.poll_round if n % 10 == 0 else 0  # 10% change between polls
                items = [{"title": f"Bản tin {n} số {i}", "link": f"http://bench-poll.invalid/{n}/{i}", "date": date}
                         for i in range(5 + version)]
                body = rss(items, f"Poll {n}")
                etag = '"' + hashlib.sha256(body).hexdigest()[:16] + '"'
                if n % 10 in (1, 2, 3, 4, 5) and self.headers.get("If-None-Match") == etag:
                    self.send_response(304)
                    self.send_header("Content-Length", "0")
                    self.end_headers()
                    return
                headers = {"ETag": etag} if n % 10 in (1, 2, 3, 4, 5) else {}
                self.reply(200, body, "application/rss+xml", headers)
            elif parts[0] == "replay":
                body = state.replay.get(parts[1], b"")
                self.reply(200 if body else 404, body, "application/rss+xml")
            else:
                self.reply(404, b"", "text/plain")

    class Server(ThreadingHTTPServer):
        daemon_threads = True
        request_queue_size = 256  # the default backlog of 5 drops connections under 16 parallel requests

    httpd = Server(("127.0.0.1", 0), Handler)
    state.base = f"http://127.0.0.1:{httpd.server_address[1]}"
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    return httpd, state


def sources_toml(outlets: dict[str, list[str]], kind: str = "rss") -> str:
    out = []
    for slug, urls in outlets.items():
        out.append(f'[[outlet]]\nslug = "{slug}"\nname = "{slug}"\nkind = "press"\ntier = "national"\nhomepage = "http://127.0.0.1/"\n')
        for u in urls:
            out.append(f'  [[outlet.feed]]\n  url = "{u}"\n  kind = "{kind}"\n')
    return "\n".join(out)


def bench_env(workdir: Path, sources: str, **extra: str) -> dict[str, str]:
    """The environment of every `nq71` child: a SQLite DB in workdir (or NQ71_DATABASE_URL in extra), politeness off."""
    src = workdir / "sources.toml"
    src.write_text(sources, encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith("NQ71_")}
    env.update({
        "NQ71_DATABASE_URL": f"sqlite:///{workdir / 'bench.db'}", "NQ71_SOURCES": str(src), "NQ71_DATA_DIR": str(workdir),
        "NQ71_DOWNLOAD_DELAY": "0", "NQ71_AUTOTHROTTLE": "false", "NQ71_OBEY_ROBOTS": "false",
        "NQ71_CONCURRENCY_PER_HOST": "16", "NQ71_DOWNLOAD_TIMEOUT": "30", "NQ71_LOG_LEVEL": "ERROR", **extra,
    })
    sync = subprocess.run([sys.executable, "-m", "cli", "sources", "sync"], cwd=ROOT, env=env, capture_output=True, text=True)
    if sync.returncode != 0:
        raise SystemExit(sync.stderr)
    return env


def crawl(workdir: Path, sources: str, *args: str) -> dict[str, Any]:
    """Sync the sources into a fresh-or-kept SQLite DB and run one crawl in a subprocess; its JSON report.

    The crawl starts its own classification workers and returns when its articles are classified."""
    env = bench_env(workdir, sources)
    t0 = time.perf_counter()
    result = subprocess.run([sys.executable, "-m", "cli", "crawl", "--all", "--json", *args], cwd=ROOT, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    if result.returncode != 0:
        raise SystemExit(result.stderr[-2000:])
    report: dict[str, Any] = json.loads(result.stdout.strip().splitlines()[-1])
    report["wall"] = wall
    return report


def p95(values: list[float]) -> float:
    """95th percentile (nearest rank); 0 for no values."""
    if not values:
        return 0.0
    ordered = sorted(values)
    return ordered[max(0, -(-len(ordered) * 95 // 100) - 1)]


def delays(url: str) -> dict[str, Any]:
    """Seconds from storing an article to its classification, and to its review item (flagged ones), with p95."""
    from sqlalchemy import select

    from store.db import make_engine, make_session_factory
    from store.models import Article, Classification, ReviewItem

    engine = make_engine(url)
    with make_session_factory(engine)() as s:
        classified = [(c - a).total_seconds() for a, c in s.execute(
            select(Article.collected_at, Classification.classified_at).join(Classification, Classification.article_id == Article.id))]
        queued = [(r - a).total_seconds() for a, r in s.execute(
            select(Article.collected_at, ReviewItem.created_at).join(ReviewItem, ReviewItem.article_id == Article.id))]
    engine.dispose()
    return {"classified": len(classified), "classified_p95_s": round(p95(classified), 2), "flagged": len(queued),
            "flagged_p95_s": round(p95(queued), 2), "flagged_max_s": round(max(queued, default=0.0), 2)}


def classifier_rate() -> float:
    """bench_classify.py's one-core rate on real 4,000-character text (fixtures if the shared data is missing)."""
    cmd = [sys.executable, str(ROOT / "tests" / "bench" / "bench_classify.py"), "--items", "100", "--json"]
    if not (ROOT.parent / "shared" / "data" / "news-stream-2025h2.jsonl").exists():
        cmd.append("--fixtures")
    out = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
    if out.returncode != 0:
        raise SystemExit(out.stderr[-2000:])
    return float(json.loads(out.stdout.strip().splitlines()[-1])["classifier_articles_per_s"])


def bench_pages(state: State, pages: int, feeds: int, baseline: bool) -> dict[str, Any]:
    per_feed = max(1, pages // feeds)
    state.per_feed = per_feed
    n = per_feed * feeds
    one_core = classifier_rate() if baseline else 0.0
    if baseline:
        print(f"    classifier alone (bench_classify.py right before, one core, CPU time): {one_core:.1f} articles/s")
    with tempfile.TemporaryDirectory() as tmp:
        sources = sources_toml({"bench": [f"{state.base}/feed/{i}.rss" for i in range(feeds)]})
        load = os.getloadavg()[0]
        cpu0 = resource.getrusage(resource.RUSAGE_CHILDREN)
        rep = crawl(Path(tmp), sources)
        cpu1 = resource.getrusage(resource.RUSAGE_CHILDREN)
        cpu = (cpu1.ru_utime + cpu1.ru_stime) - (cpu0.ru_utime + cpu0.ru_stime)  # the crawl and its workers
        load = max(load, os.getloadavg()[0])
        lag = delays(f"sqlite:///{Path(tmp) / 'bench.db'}")
    stored = rep["totals"]["new"]
    t = rep["timings"]
    crawl_s = rep["seconds"]  # first fetch (the crawl's start) until the last of its articles is classified
    drain = t["classify"]  # after the last store: the crawl's own core joins the workers on what is left
    fetching = crawl_s - drain
    rest = max(0.0, fetching - t["extract"] - t["store"])
    responses = rep["totals"]["fetched"] or 1
    e2e = stored / crawl_s
    print(f"(a) {n} pages behind {feeds} feeds: {stored} stored and classified in {crawl_s:.1f} s "
          f"({rep['wall']:.1f} s with process start) = {e2e:.1f} articles/s end to end"
          + (f" = {e2e / one_core:.2f} x the classifier's one-core rate" if one_core else "")
          + f"; load average up to {load:.1f} on {os.cpu_count()} cores")
    print(f"    crawl (fetch, extract, store; workers classify meanwhile) {fetching:.1f} s: "
          + ", ".join(f"{k} {t[k]:.1f} s ({100 * t[k] / fetching:.0f}%)" for k in ("extract", "store"))
          + f", fetch wait + feed parsing + Scrapy {rest:.1f} s; then {drain:.1f} s until the rest was classified; "
          f"mean download latency {t['fetch'] / responses * 1000:.0f} ms at 16 parallel requests")
    cores = os.cpu_count() or 1
    idle = stored / (cpu / cores)  # the same CPU work spread over idle cores: a bound, not a measurement
    print(f"    CPU time of the crawl and its workers: {cpu:.1f} s; on {cores} idle cores that is at best "
          f"{idle:.1f} articles/s" + (f" = {idle / one_core:.2f} x the one-core rate" if one_core else "")
          + " (the machine is shared: wall-clock figures move with others' load)")
    print(f"    stored -> classified p95 {lag['classified_p95_s']:.1f} s; flagged items stored -> review queue: "
          f"{lag['flagged']} items, p95 {lag['flagged_p95_s']:.1f} s, max {lag['flagged_max_s']:.1f} s")
    from crawler.extract import bare_trafilatura

    sample = [article_html(f, i) for f in range(feeds) for i in range(per_feed)]
    t0 = time.perf_counter()
    for i, page in enumerate(sample):
        bare_trafilatura(page, f"http://x/a/{i}.html")
    bare = len(sample) / (time.perf_counter() - t0)
    print(f"    bare trafilatura on the same {len(sample)} pages: {bare:.1f} pages/s; "
          f"pipeline / trafilatura = {stored / fetching / bare:.2f}")
    return {"pages": n, "feeds": feeds, "stored": stored, "e2e_seconds": round(crawl_s, 2), "e2e_articles_per_s": round(e2e, 2),
            "classifier_articles_per_s": one_core, "ratio_to_classifier": round(e2e / one_core, 2) if one_core else None,
            "cpu_seconds": round(cpu, 1), "idle_estimate_articles_per_s": round(idle, 2), "crawl_seconds": round(fetching, 2), "drain_seconds": drain, "load_average": round(load, 2),
            "cores": os.cpu_count(), **lag}


def bench_poll(state: State, feeds: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        sources = sources_toml({f"poll-{k}": [f"{state.base}/poll/{i}.rss" for i in range(k, feeds, 10)] for k in range(10)})
        first = crawl(Path(tmp), sources, "--feeds-only")
        state.poll_round = 1
        second = crawl(Path(tmp), sources, "--feeds-only")
    statuses: dict[str, int] = defaultdict(int)
    for _slug, _url, status, _msg in second["health"]:
        statuses[status] += 1
    print(f"(b) {feeds} feeds: first poll {first['seconds']:.1f} s ({first['totals']['new']} items); second poll "
          f"{second['seconds']:.1f} s ({second['wall']:.1f} s with process start), {second['totals']['new']} new items; "
          f"statuses {dict(sorted(statuses.items()))}")
    return {"feeds": feeds, "first_poll_s": round(first["seconds"], 2), "second_poll_s": round(second["seconds"], 2),
            "second_new": second["totals"]["new"], "statuses": dict(sorted(statuses.items()))}


def replay_feeds(state: State, path: Path, limit: int) -> tuple[int, int, dict[str, list[str]]]:
    """Serve the stream's first `limit` items as weekly RSS feeds per source: (items, feeds, feed URLs per outlet)."""
    groups: dict[str, list[dict[str, str]]] = defaultdict(list)
    slugs: dict[str, str] = {}
    count = 0
    with path.open(encoding="utf-8") as fh:
        for line in fh:
            if limit and count >= limit:
                break
            row = json.loads(line)
            published = datetime.fromisoformat(row["published"])
            week = published.strftime("%G-W%V")
            source = row["source"]
            slug = slugs.setdefault(source, f"replay-{len(slugs)}")
            groups[f"{slug}-{week}"].append({"title": row["title"], "link": row["link"], "summary": row.get("summary", ""),
                                             "date": format_datetime(published)})
            count += 1
    outlets: dict[str, list[str]] = defaultdict(list)
    for key, items in groups.items():
        state.replay[key] = rss(items, key)
        outlets[key.rsplit("-", 2)[0]].append(f"{state.base}/replay/{key}")
    return count, len(groups), dict(outlets)


def bench_replay(state: State, path: Path, limit: int) -> dict[str, Any]:
    if not path.is_file():
        print(f"(c) skipped: {path} not found (pass --replay PATH to the news-stream JSON lines file)")
        return {}
    count, n_feeds, outlets = replay_feeds(state, path, limit)
    with tempfile.TemporaryDirectory() as tmp:
        rep = crawl(Path(tmp), sources_toml(dict(outlets)))
    tot = rep["totals"]
    print(f"(c) replay of {count} stream items as {n_feeds} weekly feeds ({len(outlets)} outlets): {tot['new']} stored, "
          f"{tot['feed_only']} feed-only, {tot['duplicate']} duplicates, stored and classified in {rep['seconds']:.1f} s "
          f"({count / rep['seconds']:.0f} items/s)")
    return {"items": count, "stored": tot["new"], "seconds": round(rep["seconds"], 2),
            "items_per_s": round(count / rep["seconds"], 1)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pages", type=int, default=5000)
    parser.add_argument("--feeds", type=int, default=50)
    parser.add_argument("--poll-feeds", type=int, default=1000)
    parser.add_argument("--replay", type=Path, default=ROOT.parent / "shared" / "data" / "news-stream-2025h2.jsonl")
    parser.add_argument("--replay-limit", type=int, default=10000, help="0 = the whole file")
    parser.add_argument("--skip", default="", help="comma-separated parts to skip: a,b,c,d")
    parser.add_argument("--no-baseline", action="store_true", help="(a) without running bench_classify.py first")
    parser.add_argument("--pg-url", default="postgresql+psycopg://postgres@127.0.0.1:5432/postgres",
                        help="(d) server to create a throw-away database on")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/14", help="(d) Redis database for the frontier (emptied)")
    parser.add_argument("--layout-limit", type=int, default=3000, help="(d) stream items replayed")
    parser.add_argument("--json", action="store_true", help="last line: one JSON object")
    args = parser.parse_args()
    skip = set(filter(None, args.skip.split(",")))
    httpd, state = make_server(100)
    print(f"crawler benchmark on {os.cpu_count()} cores, loopback, politeness off; load average {os.getloadavg()[0]:.1f}")
    out: dict[str, Any] = {"cores": os.cpu_count()}
    try:
        if "a" not in skip:
            out["pages"] = bench_pages(state, args.pages, args.feeds, not args.no_baseline)
            out["e2e_articles_per_s"] = out["pages"]["e2e_articles_per_s"]
        if "b" not in skip:
            out["poll"] = bench_poll(state, args.poll_feeds)
        if "c" not in skip:
            out["replay"] = bench_replay(state, args.replay, args.replay_limit)
        if "d" not in skip:
            from bench_layout import bench_layout

            out["layout"] = bench_layout(state, args.replay, args.layout_limit, args.pg_url, args.redis_url)
    finally:
        httpd.shutdown()
    if args.json:
        print(json.dumps(out, ensure_ascii=False))


if __name__ == "__main__":
    main()
