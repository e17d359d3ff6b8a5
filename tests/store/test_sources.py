"""The sources registry: the shipped file loads; sync is idempotent; every bad input is refused whole."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from store.models import Feed, FeedKind, Outlet
from store.queries import stats
from store.sources import SourcesError, parse_sources, sync_sources

ROOT = Path(__file__).resolve().parents[2]
GOOD = """
[[outlet]]
slug = "bao-hai-phong"
name = "Báo và Phát thanh, Truyền hình Hải Phòng"
kind = "press"
tier = "city"
homepage = "https://baohaiphong.vn"
  [[outlet.feed]]
  url = "https://baohaiphong.vn/rss/giao-duc.rss"
  kind = "rss"
  [[outlet.feed]]
  url = "https://baohaiphong.vn/giao-duc"
  kind = "listing"
  link_selector = "h3 a"
  max_pages = 2

[[outlet]]
slug = "vnexpress"
name = "VnExpress"
kind = "press"
tier = "national"
homepage = "https://vnexpress.net"
  [[outlet.feed]]
  url = "https://vnexpress.net/rss/giao-duc.rss"
  kind = "rss"
  poll_minutes = 15
"""


def _write(tmp_path: Path, body: str) -> Path:
    path = tmp_path / "sources.toml"
    path.write_text(body, encoding="utf-8")
    return path


def _sync(sessions: sessionmaker[Session], path: Path):  # type: ignore[no-untyped-def]
    specs = parse_sources(path)
    with sessions() as s, s.begin():
        return sync_sources(s, specs)


def test_shipped_sources_file_is_valid_and_covers_the_plan() -> None:
    specs = parse_sources(ROOT / "config" / "sources.toml")
    slugs = {s.slug for s in specs}
    assert {"vnexpress", "tuoi-tre", "thanh-nien", "dan-tri", "vietnamnet", "giao-duc-thoi-dai", "nhan-dan"} <= slugs
    assert {"bao-hai-phong", "cong-tt-hai-phong", "so-gddt-hai-phong"} <= slugs
    kinds = {s.kind.value for s in specs}
    assert {"press", "portal", "agency", "school", "social"} <= kinds
    assert any(f.kind is FeedKind.listing for s in specs for f in s.feeds)


def test_sync_is_idempotent(sessions: sessionmaker[Session], tmp_path: Path) -> None:
    path = _write(tmp_path, GOOD)
    first = _sync(sessions, path)
    assert (first.outlets_added, first.feeds_added) == (2, 3)
    second = _sync(sessions, path)
    assert not second.changed and second.unchanged == 5
    with sessions() as s:
        counts = stats(s)
        assert counts["outlets"] == 2 and counts["feeds"] == 3
        listing = s.scalars(select(Feed).where(Feed.kind == FeedKind.listing)).one()
        assert listing.options == {"link_selector": "h3 a", "max_pages": 2}
        assert listing.poll_minutes == 60  # listing default


def test_removed_entries_are_deactivated_not_deleted_and_come_back(sessions: sessionmaker[Session], tmp_path: Path) -> None:
    _sync(sessions, _write(tmp_path, GOOD))
    without_vnexpress = GOOD.split('[[outlet]]\nslug = "vnexpress"')[0]
    result = _sync(sessions, _write(tmp_path, without_vnexpress))
    assert (result.outlets_deactivated, result.feeds_deactivated) == (1, 1)
    with sessions() as s:
        vne = s.scalars(select(Outlet).where(Outlet.slug == "vnexpress")).one()
        assert vne.active is False and vne.feeds[0].active is False
    back = _sync(sessions, _write(tmp_path, GOOD))
    assert back.outlets_updated == 1 and back.feeds_updated == 1
    with sessions() as s:
        assert stats(s)["outlets"] == 2


def test_changed_feed_is_updated_in_place(sessions: sessionmaker[Session], tmp_path: Path) -> None:
    _sync(sessions, _write(tmp_path, GOOD))
    result = _sync(sessions, _write(tmp_path, GOOD.replace("poll_minutes = 15", "poll_minutes = 45")))
    assert result.feeds_updated == 1 and result.feeds_added == 0
    assert any("poll_minutes" in c for c in result.changes)


BAD_CASES = {
    "malformed": ('[[outlet]\nslug = "x"', "not valid TOML"),
    "duplicate_slug": (GOOD.replace('slug = "vnexpress"', 'slug = "bao-hai-phong"'), "duplicate slug 'bao-hai-phong'"),
    "unknown_outlet_kind": (GOOD.replace('kind = "press"\ntier = "national"', 'kind = "newspaper"\ntier = "national"'), "kind = 'newspaper': không có loại này; dùng một trong / is unknown; use one of press, portal"),
    "unknown_feed_kind": (GOOD.replace('kind = "rss"\n  poll_minutes = 15', 'kind = "podcast"\n  poll_minutes = 15'), "feed #1, kind = 'podcast': không có loại này"),
    "invalid_url": (GOOD.replace("https://vnexpress.net/rss/giao-duc.rss", "vnexpress.net/rss giao-duc"), "is not a valid http(s) URL"),
    "bad_slug": (GOOD.replace('slug = "vnexpress"', 'slug = "Báo VnExpress"'), "must be lowercase letters"),
    "listing_without_selector": (GOOD.replace('  link_selector = "h3 a"\n', ""), "needs link_selector"),
    "unknown_key": (GOOD.replace("max_pages = 2", "max_pagez = 2"), "feed #2, max_pagez = 2: khóa không có trong mẫu, kiểm tra chính tả / unknown key: check the spelling; allowed: url, kind"),
    "duplicate_feed_url": (GOOD.replace("https://vnexpress.net/rss/giao-duc.rss", "https://baohaiphong.vn/rss/giao-duc.rss"), "already listed"),
    "bad_poll": (GOOD.replace("poll_minutes = 15", "poll_minutes = 0"), "poll_minutes = 0: phải từ 1 trở lên / must be at least 1"),
}


@pytest.mark.parametrize("case", sorted(BAD_CASES))
def test_bad_file_is_refused_with_entry_and_fix_and_nothing_written(
    case: str, sessions: sessionmaker[Session], tmp_path: Path
) -> None:
    _sync(sessions, _write(tmp_path, GOOD))
    with sessions() as s:
        before = stats(s)
    body, expected = BAD_CASES[case]
    path = _write(tmp_path, body)
    with pytest.raises(SourcesError) as info:
        _sync(sessions, path)
    message = str(info.value)
    assert str(path) in message and expected in message
    if case not in {"malformed"}:
        assert "outlet #" in message  # names the entry
    with sessions() as s:
        assert stats(s) == before


def test_missing_file_says_what_to_do(tmp_path: Path) -> None:
    with pytest.raises(SourcesError, match="không thấy tệp / file not found: set NQ71_SOURCES"):
        parse_sources(tmp_path / "nope.toml")


def test_the_default_sources_path_reads_the_users_file_else_the_shipped_one(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    default = Path("config/sources.toml")  # NQ71_SOURCES' default, relative to the working folder
    monkeypatch.chdir(tmp_path)
    shipped = parse_sources(default)  # an empty folder, as after `pip install`: the shipped outlets
    assert {s.slug for s in shipped} == {s.slug for s in parse_sources(ROOT / "config" / "sources.toml")}
    (tmp_path / "config").mkdir()
    _write(tmp_path / "config", GOOD)
    assert [s.slug for s in parse_sources(default)] == ["bao-hai-phong", "vnexpress"]  # the user's own file wins


OUTLET = 'slug = "truong-le-quy-don"\nname = "Trường THPT Lê Quý Đôn"\nkind = "school"\ntier = "city"\nhomepage = "https://lqd.haiphong.edu.vn"\n'
FEED = '  [[outlet.feed]]\n  url = "https://lqd.haiphong.edu.vn/rss"\n  kind = "rss"\n'
MESSAGES = {
    "unknown_tier": (OUTLET.replace('"city"', '"tinh"') + FEED,
                     "outlet #1 'truong-le-quy-don', tier = 'tinh': không có loại này; dùng một trong / is unknown; use one of city or national"),
    "bad_url": (OUTLET.replace('"https://lqd.haiphong.edu.vn"', '"ftp://lqd.haiphong.edu.vn"') + FEED,
                "outlet #1 'truong-le-quy-don', homepage = 'ftp://lqd.haiphong.edu.vn': không phải địa chỉ http(s) hợp lệ / is not a valid http(s) URL"),
    "missing_field": (OUTLET.replace('name = "Trường THPT Lê Quý Đôn"\n', "") + FEED,
                      "outlet #1 'truong-le-quy-don', name: thiếu, hãy điền / is missing: add it"),
    "negative_interval": (OUTLET + FEED + "  poll_minutes = -15\n",
                          "outlet #1 'truong-le-quy-don', feed #1, poll_minutes = -15: phải từ 1 trở lên / must be at least 1"),
    "text_not_number": (OUTLET + FEED + '  poll_minutes = "30"\n',
                        "outlet #1 'truong-le-quy-don', feed #1, poll_minutes = '30': phải là số nguyên / must be a whole number"),
    "bad_selector_key": (OUTLET + '  [outlet.selectors]\n  tieu_de = "h1"\n' + FEED,
                         "outlet #1 'truong-le-quy-don', selectors, tieu_de: không dùng được; dùng một trong / is not allowed; use one of title, text, date or author"),
    "no_outlets": ("# chưa có nguồn nào\n", "outlet: thiếu, hãy điền / is missing: add it"),
}


@pytest.mark.parametrize("case", sorted(MESSAGES))
def test_each_problem_is_one_line_naming_file_outlet_and_field(case: str, tmp_path: Path) -> None:
    body, expected = MESSAGES[case]
    with pytest.raises(SourcesError) as info:
        parse_sources(_write(tmp_path, "[[outlet]]\n" + body if case != "no_outlets" else body))
    assert str(info.value) == f"{tmp_path / 'sources.toml'}: {expected}"


def test_every_problem_is_listed_at_once(tmp_path: Path) -> None:
    body = "[[outlet]]\n" + OUTLET.replace('"city"', '"tinh"') + FEED + "  poll_minutes = 0\n"
    with pytest.raises(SourcesError) as info:
        parse_sources(_write(tmp_path, body + "[[outlet]]\n" + OUTLET + FEED))
    assert len(info.value.problems) == 4  # tier, poll_minutes, then the repeated slug and feed url
    assert "\n" not in str(info.value)
