"""Crash safety and one crawl at a time (issue 10), on a generated outlet of hundreds of articles (demo server /bulk/).

kill -9 in the middle of a crawl loses nothing: the next `nq71 crawl` brings in every entry once and
`nq71 classify --backlog` classifies what the killed crawl left; two crawls at once: one runs, the
other refuses with one line; a stored link the policy refuses no longer stops the page retries after it.
"""

from __future__ import annotations

import os
import signal
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING

import pytest
from sqlalchemy import Engine, func, select

from demo.server import sites_dir
from store.models import Article, Classification, DateSource, ExtractionStatus, Feed, Origin, Outlet, utcnow

if TYPE_CHECKING:
    from tests.crawler.conftest import SiteCrawl, SiteCrawlFactory


@contextmanager
def bulk_site(site_crawl: SiteCrawlFactory, engine: Engine, folder: Path, count: int) -> Iterator[SiteCrawl]:
    """The bulk outlet with one feed of ``count`` articles."""
    template = folder / "sources-template.toml"
    template.write_text((sites_dir() / "sources-hang-loat.toml").read_text(encoding="utf-8").replace("{count}", str(count)), encoding="utf-8")
    with site_crawl(engine, folder, template) as site:
        yield site


def _count(site: SiteCrawl, what: type[Article] | type[Classification] = Article) -> int:
    with site.sessions() as s:
        return int(s.scalar(select(func.count()).select_from(what)) or 0)


def test_kill_9_midway_loses_nothing(migrated_engine: Engine, tmp_path: Path, site_crawl: SiteCrawlFactory) -> None:
    with bulk_site(site_crawl, migrated_engine, tmp_path, 400) as site:
        proc = site.start("--quiet", stderr=tmp_path / "killed.err")
        deadline = time.monotonic() + 240
        while _count(site) < 150:
            assert proc.poll() is None, "the crawl ended before it could be killed"
            assert time.monotonic() < deadline, "the crawl stored too little in 240 s"
            time.sleep(0.05)
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
        stored = _count(site)
        assert 150 <= stored < 400
        with site.sessions() as s:
            feed = s.scalars(select(Feed)).one()
            assert feed.body_hash is None and feed.etag is None  # not settled: the next run reads the body again

        result = site.run("--quiet")  # due-only, as the scheduler runs it
        assert result.returncode == 0, result.stderr[-3000:]
        assert "UNIQUE" not in result.stderr and "could not store" not in result.stderr
        with site.sessions() as s:
            urls = list(s.scalars(select(Article.url)))
            titles = set(s.scalars(select(Article.title)))
            feed = s.scalars(select(Feed)).one()
            assert feed.body_hash is not None  # this crawl finished: its body is settled
        assert len(urls) == 400 == len(set(urls)) == len(titles)

        left = 400 - _count(site, Classification)
        backlog = site.nq71("classify", "--backlog")
        assert backlog.returncode == 0, backlog.stderr[-3000:]
        assert f"classified {left} article(s)" in backlog.stdout
        assert _count(site, Classification) == 400


def test_two_crawls_at_once_one_runs_the_other_refuses(migrated_engine: Engine, tmp_path: Path, site_crawl: SiteCrawlFactory) -> None:
    with bulk_site(site_crawl, migrated_engine, tmp_path, 120) as site:
        logs = [tmp_path / "first.err", tmp_path / "second.err"]
        procs = [site.start("--quiet", stderr=log) for log in logs]
        codes = [p.wait(timeout=240) for p in procs]
        errs = [log.read_text(encoding="utf-8") for log in logs]
        assert sorted(codes) == [0, 2], [e[-2000:] for e in errs]
        refused = errs[codes.index(2)]
        lines = [line for line in refused.splitlines() if line.strip()]
        assert len(lines) == 1 and "another crawl is running on this database" in lines[0], refused[-2000:]
        assert all("UNIQUE" not in err and "could not store" not in err for err in errs)
        assert _count(site) == 120
        # the lock was released; with --wait (as the scheduler runs crawls) the second runs after the first
        logs = [tmp_path / "third.err", tmp_path / "fourth.err"]
        procs = [site.start("--quiet", "--all", "--wait", "120", stderr=log) for log in logs]
        assert [p.wait(timeout=300) for p in procs] == [0, 0], [log.read_text(encoding="utf-8")[-2000:] for log in logs]
        assert all("UNIQUE" not in log.read_text(encoding="utf-8") for log in logs)


def test_a_refused_stored_link_does_not_stop_the_page_retries_after_it(
    migrated_engine: Engine, tmp_path: Path, site_crawl: SiteCrawlFactory
) -> None:
    with bulk_site(site_crawl, migrated_engine, tmp_path, 1) as site:
        base = site.server.base_url
        with site.sessions() as s, s.begin():
            outlet, feed = s.scalars(select(Outlet)).one(), s.scalars(select(Feed)).one()
            for url, title in [("javascript:alert(document.cookie)", "Bấm để nhận học bổng"),
                               (f"{base}/bulk/tin/bai-7.html", "Bài đã lưu từ bản tin, chờ tải trang")]:
                s.add(Article(url=url, outlet_id=outlet.id, feed_id=feed.id, title=title, summary="", text="",
                              collected_at=utcnow(), date_source=DateSource.none, origin=Origin.feed,
                              extraction=ExtractionStatus.feed_only))
        result = site.run("--quiet")
        assert result.returncode == 0, result.stderr[-3000:]
        with site.sessions() as s:
            by_url = {a.url: a for a in s.scalars(select(Article))}
        assert by_url[f"{base}/bulk/tin/bai-7.html"].extraction is ExtractionStatus.ok  # retried after the bad one
        assert by_url["javascript:alert(document.cookie)"].extraction is ExtractionStatus.failed  # never retried again
        assert "bad_link: javascript:alert(document.cookie) refused" in result.stderr
        assert site.server.count("/bulk/tin/bai-7.html") == 1


@pytest.fixture(autouse=True)
def _no_stray_crawls() -> Iterator[None]:
    """A failed assertion must not leave a crawl running against the next test's database."""
    before = set(_children())
    yield
    for pid in set(_children()) - before:
        os.kill(pid, signal.SIGKILL)


def _children() -> list[int]:
    out = subprocess.run(["pgrep", "-P", str(os.getpid())], capture_output=True, text=True).stdout
    return [int(p) for p in out.split()]
