"""Crawler benchmark on loopback with politeness off (prints figures; not a test).

(a) N generated article pages behind F RSS feeds: articles/s from fetch to stored row, the share of time
    per stage (fetch, extract, classify hook, store), and the ratio to bare trafilatura on the same pages.
(b) P feeds polled twice; on the second poll 90% answer 304 or the same body: seconds per full poll.
(c) Replay a real news stream (JSON lines: title, summary, link, source, published) as weekly RSS feeds
    from a local server; links point to hosts that cannot be reached here, so items are kept feed-only.

    .venv/bin/python tests/bench/bench_crawl.py [--pages 5000] [--feeds 50] [--poll-feeds 1000]
        [--replay ../shared/data/news-stream-2025h2.jsonl] [--replay-limit 10000] [--skip a,b,c]
"""

from __future__ import annotations

import argparse
import hashlib
import html
import json
import os
import random
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


def article_html(feed: int, item: int) -> str:
    """A generated article page with chrome; each page's text is its own (seeded by feed and item)."""
    rng = random.Random(feed * 100_003 + item)
    paras = []
    for _ in range(6):
        words = rng.sample(SENTENCES, 3)
        paras.append(". ".join(words) + f". Số liệu cập nhật đến ngày {rng.randint(1, 28)} với {rng.randint(10, 9999)} trường hợp.")
    title = f"Tin giáo dục số {feed}-{item}: {rng.choice(SENTENCES)[:60]}"
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


def crawl(workdir: Path, sources: str, *args: str) -> dict[str, Any]:
    """Sync the sources into a fresh-or-kept SQLite DB and run one crawl in a subprocess; its JSON report."""
    src = workdir / "sources.toml"
    src.write_text(sources, encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith("NQ71_")}
    env.update({
        "NQ71_DATABASE_URL": f"sqlite:///{workdir / 'bench.db'}", "NQ71_SOURCES": str(src), "NQ71_DATA_DIR": str(workdir),
        "NQ71_DOWNLOAD_DELAY": "0", "NQ71_AUTOTHROTTLE": "false", "NQ71_OBEY_ROBOTS": "false",
        "NQ71_CONCURRENCY_PER_HOST": "16", "NQ71_DOWNLOAD_TIMEOUT": "30", "NQ71_LOG_LEVEL": "ERROR",
    })
    sync = subprocess.run([sys.executable, "-m", "cli", "sources", "sync"], cwd=ROOT, env=env, capture_output=True, text=True)
    if sync.returncode != 0:
        raise SystemExit(sync.stderr)
    t0 = time.perf_counter()
    result = subprocess.run([sys.executable, "-m", "cli", "crawl", "--all", "--json", *args], cwd=ROOT, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    if result.returncode != 0:
        raise SystemExit(result.stderr[-2000:])
    report: dict[str, Any] = json.loads(result.stdout.strip().splitlines()[-1])
    report["wall"] = wall
    return report


def bench_pages(state: State, pages: int, feeds: int) -> None:
    per_feed = max(1, pages // feeds)
    state.per_feed = per_feed
    n = per_feed * feeds
    with tempfile.TemporaryDirectory() as tmp:
        sources = sources_toml({"bench": [f"{state.base}/feed/{i}.rss" for i in range(feeds)]})
        rep = crawl(Path(tmp), sources)
    stored = rep["totals"]["new"]
    t = rep["timings"]
    crawl_s = rep["seconds"]
    # extract, classify and store run one after another in the reactor thread: shares of the crawl's time;
    # the rest is waiting on downloads plus feed parsing and Scrapy's own scheduling.
    rest = max(0.0, crawl_s - t["extract"] - t["classify"] - t["store"])
    responses = rep["totals"]["fetched"] or 1
    print(f"(a) {n} pages behind {feeds} feeds: {stored} stored in {crawl_s:.1f} s crawl "
          f"({rep['wall']:.1f} s with process start) = {stored / crawl_s:.1f} articles/s")
    print("    share of crawl time: " + ", ".join(f"{k} {t[k]:.1f} s ({100 * t[k] / crawl_s:.0f}%)" for k in ("extract", "classify", "store"))
          + f", fetch wait + feed parsing + Scrapy {rest:.1f} s ({100 * rest / crawl_s:.0f}%); "
          f"mean download latency {t['fetch'] / responses * 1000:.0f} ms at 16 parallel requests")
    from crawler.extract import bare_trafilatura

    sample = [article_html(f, i) for f in range(feeds) for i in range(per_feed)]
    t0 = time.perf_counter()
    for i, page in enumerate(sample):
        bare_trafilatura(page, f"http://x/a/{i}.html")
    bare = len(sample) / (time.perf_counter() - t0)
    print(f"    bare trafilatura on the same {len(sample)} pages: {bare:.1f} pages/s; "
          f"pipeline / trafilatura = {stored / rep['seconds'] / bare:.2f}")


def bench_poll(state: State, feeds: int) -> None:
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


def bench_replay(state: State, path: Path, limit: int) -> None:
    if not path.is_file():
        print(f"(c) skipped: {path} not found (pass --replay PATH to the news-stream JSON lines file)")
        return
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
    with tempfile.TemporaryDirectory() as tmp:
        rep = crawl(Path(tmp), sources_toml(dict(outlets)))
    tot = rep["totals"]
    print(f"(c) replay of {count} stream items as {len(groups)} weekly feeds ({len(slugs)} outlets): {tot['new']} stored, "
          f"{tot['feed_only']} feed-only, {tot['duplicate']} duplicates, in {rep['seconds']:.1f} s "
          f"({count / rep['seconds']:.0f} items/s)")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--pages", type=int, default=5000)
    parser.add_argument("--feeds", type=int, default=50)
    parser.add_argument("--poll-feeds", type=int, default=1000)
    parser.add_argument("--replay", type=Path, default=ROOT.parent / "shared" / "data" / "news-stream-2025h2.jsonl")
    parser.add_argument("--replay-limit", type=int, default=10000, help="0 = the whole file")
    parser.add_argument("--skip", default="", help="comma-separated parts to skip: a,b,c")
    args = parser.parse_args()
    skip = set(filter(None, args.skip.split(",")))
    httpd, state = make_server(100)
    print(f"crawler benchmark on {os.cpu_count()} cores, loopback, politeness off")
    try:
        if "a" not in skip:
            bench_pages(state, args.pages, args.feeds)
        if "b" not in skip:
            bench_poll(state, args.poll_feeds)
        if "c" not in skip:
            bench_replay(state, args.replay, args.replay_limit)
    finally:
        httpd.shutdown()


if __name__ == "__main__":
    main()
