"""Dates, decoding, NFC, URL normalisation and page extraction (pure functions, no network)."""

from __future__ import annotations

import unicodedata
from datetime import UTC, datetime, timedelta

import pytest

from crawler.extract import decode_html, extract_page, find_text_date, parse_date, plausible, text_hash, tidy, title_key
from crawler.urls import normalise_url
from store.models import DateSource

NOW = datetime(2026, 11, 26, 10, 0, tzinfo=UTC)  # 17:00 in Hà Nội


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Thứ năm, 26/11/2026 - 09:15", datetime(2026, 11, 26, 2, 15, tzinfo=UTC)),
        ("26/11/2026 09:15 (GMT+7)", datetime(2026, 11, 26, 2, 15, tzinfo=UTC)),
        ("26 tháng 11 năm 2026", datetime(2026, 11, 25, 17, 0, tzinfo=UTC)),
        ("2 giờ trước", datetime(2026, 11, 26, 8, 0, tzinfo=UTC)),
        ("Thu, 26 Nov 2026 09:15:00 +0700", datetime(2026, 11, 26, 2, 15, tzinfo=UTC)),
        ("2026-11-26T09:15:00+07:00", datetime(2026, 11, 26, 2, 15, tzinfo=UTC)),
        ("2026-11-26 09:15", datetime(2026, 11, 26, 2, 15, tzinfo=UTC)),  # naive: Asia/Ho_Chi_Minh
    ],
)
def test_vietnamese_dates_become_aware_utc(raw: str, expected: datetime) -> None:
    value = parse_date(raw, NOW)
    assert value == expected and value is not None and value.tzinfo is not None


def test_dates_in_text_and_the_future_rule() -> None:
    assert find_text_date("Cập nhật lúc 19:30, 24/11/2026 | Tác giả: Minh Anh", NOW) == datetime(2026, 11, 24, 12, 30, tzinfo=UTC)
    assert find_text_date("Ngày đăng: 19 tháng 11 năm 2026 | Người đăng", NOW) == datetime(2026, 11, 18, 17, 0, tzinfo=UTC)
    assert find_text_date("không có ngày tháng nào ở đây", NOW) is None
    assert plausible(NOW + timedelta(hours=23), NOW) == NOW + timedelta(hours=23)
    assert plausible(NOW + timedelta(days=1, minutes=1), NOW) is None
    assert parse_date("", NOW) is None and parse_date("chưa rõ", NOW) is None


def test_decoding_windows_1258_wrong_header_and_bom() -> None:
    text = "Phụ huynh góp ý"
    # windows-1258 writes "ụ" as u + combining dot below; NFC gives back the precomposed letter
    decomposed = unicodedata.normalize("NFD", text)  # letters + combining tone marks, all in windows-1258
    legacy = b'<meta charset="windows-1258"><p>' + decomposed.encode("cp1258") + b"</p>"
    html, codec = decode_html(legacy, "text/html")
    assert codec == "cp1258" and tidy(html).endswith(text + "</p>")
    html, codec = decode_html(f"<p>{text}</p>".encode(), "text/html; charset=iso-8859-1")
    assert codec == "utf-8" and text in html  # a lying header does not beat valid UTF-8
    html, _ = decode_html(b"\xef\xbb\xbf<p>" + text.encode() + b"</p>")
    assert html == f"<p>{text}</p>"


def test_nfc_and_hashes_ignore_normal_form_and_spacing() -> None:
    nfd = unicodedata.normalize("NFD", "Học sinh   vùng đảo")
    assert tidy(nfd) == "Học sinh vùng đảo"
    assert title_key(nfd + "!") == title_key("học sinh vùng đảo")
    assert title_key("Học sinh vùng đảo") != title_key("Học sinh vùng dao")  # diacritics matter
    assert text_hash(nfd) == text_hash("Học sinh vùng đảo")


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("HTTPS://VnExpress.NET:443/giao-duc/a.html?utm_source=rss&utm_medium=x#top", "https://vnexpress.net/giao-duc/a.html"),
        ("http://a.vn/x?b=2&a=1&fbclid=abc&gclid=z", "http://a.vn/x?a=1&b=2"),
        ("http://a.vn", "http://a.vn/"),
        ("http://127.0.0.1:8080/x", "http://127.0.0.1:8080/x"),
    ],
)
def test_url_normalisation(raw: str, expected: str) -> None:
    assert normalise_url(raw) == expected
    assert normalise_url("../b.html?id=3", "https://a.vn/x/y/z.html") == "https://a.vn/x/b.html?id=3"


PAGE = """<html><head><title>Tin A - Báo X</title>
<meta property="article:published_time" content="2026-11-20T08:00:00+07:00">
<link rel="canonical" href="https://bao.vn/tin-a.html?utm_source=fb"></head>
<body><nav>Trang chủ Thời sự Giáo dục Thể thao</nav><article><h1>Tin A: học sinh được miễn học phí</h1>
<p class="date">Thứ sáu, 20/11/2026 - 08:00</p>
<p>Thành phố miễn học phí cho toàn bộ học sinh công lập từ học kỳ II, áp dụng cho hơn sáu trăm nghìn em.</p>
<p>Ngân sách dành cho chính sách này khoảng một nghìn tỷ đồng mỗi năm, theo báo cáo của Sở Giáo dục và Đào tạo.</p>
</article><footer>Giấy phép số 1/GP. Ghi rõ nguồn khi phát hành lại.</footer></body></html>"""


def test_extract_page_with_trafilatura_and_meta_date() -> None:
    page = extract_page(PAGE, "https://bao.vn/tin-a.html", now=NOW)
    assert page.title == "Tin A: học sinh được miễn học phí"
    assert page.text.startswith("Thành phố miễn học phí") and "Giấy phép" not in page.text and "Trang chủ" not in page.text
    assert page.published_at == datetime(2026, 11, 20, 1, 0, tzinfo=UTC) and page.date_source is DateSource.page_meta
    assert page.canonical_url == "https://bao.vn/tin-a.html"


def test_selectors_override_and_future_page_date_is_rejected() -> None:
    html = """<html><body><div class="t">Tiêu đề theo bộ chọn</div><span class="d">15/06/2031 08:00</span>
    <div class="c"><p>Đoạn một của bài viết.</p><p>Đoạn hai của bài viết.</p></div></body></html>"""
    page = extract_page(html, "https://x.vn/a", {"title": "div.t", "text": "//div[@class='c']", "date": "span.d"}, now=NOW)
    assert page.title == "Tiêu đề theo bộ chọn"
    assert page.text == "Đoạn một của bài viết.\nĐoạn hai của bài viết."
    assert page.published_at is None and page.date_source is DateSource.none
    assert page.rejected_date == datetime(2031, 6, 15, 1, 0, tzinfo=UTC)
    broken = extract_page(html, "https://x.vn/a", {"title": "div[[["}, now=NOW)  # a bad selector selects nothing
    assert broken.title == "" and broken.text.startswith("Đoạn một")  # selects nothing, never raises
