"""Hostile feeds (issue 10): links that leave the web, text a database refuses, a gzip bomb, an 1900 date, a lying charset.

One crawl of fixtures/sites/sources-doc-hai.toml per database (module fixture); each test reads its snapshot.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING

import pytest
from sqlalchemy import Engine, select

from demo.server import sites_dir
from store.models import Article, Feed, FetchEvent

if TYPE_CHECKING:
    from tests.crawler.conftest import SiteCrawlFactory

COLS = ("fetched", "new", "updated", "duplicate", "feed_only", "errors")
REFUSED = {  # entry link (after {base}/{local} filling) -> what the refusal says
    "javascript:": "scheme javascript: is not http(s)",
    "file://localhost/etc/passwd": "scheme file: is not http(s)",
    "data:text/html": "scheme data: is not http(s)",
    "http://127.0.0.1:6379/": "127.0.0.1 is a private address",
    "/hostile/noi-bo/bi-mat.html": "localhost resolves to private address",
    "/hostile/tin/chuyen-huong-tep.html": "scheme file: is not http(s)",  # its redirect
    "/hostile/tin/chuyen-huong-noi-bo.html": "localhost resolves to private address",  # its redirect
}


@dataclass
class Crawl:
    table: dict[str, int]
    stderr: str
    sources_list: str
    articles: dict[str, Article]  # by path after the server's address
    feeds: dict[str, Feed]  # by path
    events: dict[str, list[FetchEvent]]  # by feed path, oldest first
    hits: dict[str, int]


@pytest.fixture(scope="module")
def crawl(migrated_engine: Engine, tmp_path_factory: pytest.TempPathFactory, site_crawl: SiteCrawlFactory) -> Iterator[Crawl]:
    with site_crawl(migrated_engine, tmp_path_factory.mktemp("hostile"), sites_dir() / "sources-doc-hai.toml",
                    NQ71_CONCURRENCY_PER_HOST="4") as site:
        result = site.run("--all")
        assert result.returncode == 0, result.stderr[-3000:]
        listed = site.nq71("sources", "list")
        base = site.server.base_url
        header = result.stdout.splitlines().index(next(line for line in result.stdout.splitlines() if line.startswith("outlet")))
        row = result.stdout.splitlines()[header + 1].split()
        with site.sessions() as s:
            articles = {a.url.replace(base, ""): a for a in s.scalars(select(Article))}
            feeds = {f.url.replace(base, ""): f for f in s.scalars(select(Feed))}
            events = {path: list(s.scalars(select(FetchEvent).where(FetchEvent.feed_id == f.id).order_by(FetchEvent.id)))
                      for path, f in feeds.items()}
        yield Crawl(dict(zip(COLS, map(int, row[1:]), strict=True)), result.stderr, listed.stdout, articles, feeds, events,
                    dict(site.server.hits))


def test_links_that_leave_the_web_are_never_stored_nor_requested(crawl: Crawl) -> None:
    assert all(url.startswith("/hostile/") for url in crawl.articles), sorted(crawl.articles)
    # requested neither directly (a name that resolves to 127.0.0.1) nor through a redirect
    assert crawl.hits.get("/hostile/noi-bo/bi-mat.html", 0) == 0
    assert crawl.hits.get("/hostile/noi-bo/trang-quan-tri.html", 0) == 0
    assert crawl.hits.get("/hostile/noi-bo/bi-mat.rss", 0) == 0
    assert crawl.hits["/hostile/tin/chuyen-huong-tep.html"] == 1  # the redirect itself is public; its target is not


def test_one_bad_entry_does_not_sink_the_feed(crawl: Crawl) -> None:
    # the javascript: link is the feed's first entry; the three good entries after it are all stored
    good = ["/hostile/tin/hoc-sinh-vung-dao-cat-hai-duoc-tang-ao-phao-va-sach-vo.html",
            "/hostile/tin/giao-vien-truong-lang-va-chuyen-do-qua-song-moi-sang.html",
            "/hostile/tin/giao-luu-hoc-sinh-truong-phap.html"]
    for path in good:
        assert crawl.articles[path].extraction.value == "ok", path
    assert crawl.feeds["/hostile/rss/doc-hai.rss"].status.value == "ok"


def test_refused_links_are_bad_link_errors_shown_in_sources_list(crawl: Crawl) -> None:
    [refused] = [e for e in crawl.events["/hostile/rss/doc-hai.rss"] if e.status.value == "bad_link"]
    assert refused.items_seen == len(REFUSED)
    message = crawl.feeds["/hostile/rss/doc-hai.rss"].status_message or ""
    assert "bad_link: 7 link(s) refused" in message
    for reason in set(REFUSED.values()):
        assert reason in crawl.stderr, reason
    # a feed whose own URL redirects to a private address fails as bad_link
    redirect = crawl.feeds["/hostile/rss/chuyen-huong-noi-bo.rss"]
    assert redirect.status.value == "bad_link" and "localhost resolves to private address 127.0.0.1" in (redirect.status_message or "")
    assert "bad_link" in crawl.sources_list and "7 link(s) refused" in crawl.sources_list


def test_every_dropped_entry_is_an_error_with_its_reason(crawl: Crawl) -> None:
    # 7 refused links in the RSS feed, 1 in the JSON Feed (a NUL in its URL), 2 unreadable JSON Feed
    # items, the redirecting feed, the gzip bomb
    assert crawl.table["errors"] == 7 + 1 + 2 + 1 + 1
    assert crawl.table["new"] == 5
    assert "entry 3: item is a JSON str, not an object" in crawl.stderr
    assert "entry 5: item without a url" in crawl.stderr
    [nul_link] = [e for e in crawl.events["/hostile/json/ky-tu-hong.json"] if e.status.value == "bad_link"]
    assert "control character in the link" in (nul_link.message or "") and "\x00" not in (nul_link.message or "")


def test_nul_and_lone_surrogates_are_cleaned_before_storing(crawl: Crawl) -> None:
    nul = crawl.articles["/hostile/ban-doc/bd-2001.html"]
    assert nul.title == "Phụ huynh phản ánh việc thu quỹ lớp đầu năm"
    assert "\x00" not in nul.text and "cao hơn năm trước. Ban đại diện" in nul.text
    surrogate = crawl.articles["/hostile/ban-doc/bd-2002.html"]
    assert surrogate.title == "Học sinh trường Kiến An giành giải nhất cuộc thi sáng tạo \ufffd"
    assert "tái chế \ufffd và" in surrogate.text and surrogate.author == "Bạn đọc \ufffd Kiến An"
    assert "could not store" not in crawl.stderr


def test_gzip_bomb_is_too_large(crawl: Crawl) -> None:
    bomb = crawl.feeds["/hostile/rss/bom-nen.rss"]
    assert bomb.status.value == "too_large", bomb.status_message
    assert "once decompressed" in (bomb.status_message or "")


def test_an_1900_date_is_implausibly_old_not_future(crawl: Crawl) -> None:
    line = next(line for line in crawl.stderr.splitlines() if "1900-01-01" in line)
    assert "implausibly old date" in line and "future" not in line
    assert crawl.articles["/hostile/tin/giao-vien-truong-lang-va-chuyen-do-qua-song-moi-sang.html"].published_at is None or \
        crawl.articles["/hostile/tin/giao-vien-truong-lang-va-chuyen-do-qua-song-moi-sang.html"].published_at.year > 1990


def test_cp1252_page_declared_utf8_keeps_its_letters(crawl: Crawl) -> None:
    text = crawl.articles["/hostile/tin/giao-luu-hoc-sinh-truong-phap.html"].text
    assert "cách nghĩ khá naïve về việc học tiếng Pháp" in text and "naďve" not in text
    assert "một buổi café ngoại ngữ" in text
