"""The demo's local outlets: a threaded HTTP server for ``fixtures/sites/`` (the offline demo, tests and benchmarks crawl it).

Every site lives under its own path prefix (``/baohaiphong/``, ``/hostile/`` ...), so one server on one
port holds them all. Text files may contain ``{base}`` (the server's URL) and date placeholders
``{{date OFFSET HH:MM FORMAT}}`` (days relative to today in Asia/Ho_Chi_Minh) or ``{{now MINUTES FORMAT}}``,
so the sites always look fresh. The hostile site's behaviours (500, redirect loop, 429, empty body, 20 MB page, slow feed ...) are
routes below; ``server.fix(path)`` makes a broken route healthy (a fixed feed recovering).
"""

from __future__ import annotations

import functools
import gzip
import hashlib
import re
import threading
import time
from collections.abc import Callable
from datetime import datetime, timedelta, timezone
from email.utils import format_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from importlib import resources
from pathlib import Path
from types import TracebackType
from typing import Any
from urllib.parse import urlsplit
from zoneinfo import ZoneInfo

VN = ZoneInfo("Asia/Ho_Chi_Minh")
WEEKDAYS = ["Thứ hai", "Thứ ba", "Thứ tư", "Thứ năm", "Thứ sáu", "Thứ bảy", "Chủ nhật"]
# Sites whose server answers conditional GETs (ETag / Last-Modified -> 304); the others send neither.
CONDITIONAL_PREFIXES = ("/baohaiphong/", "/giaoducthoidai/")
_DATE = re.compile(r"\{\{date\s+([+-]?\d+)\s+(\d{1,2}):(\d{2})\s+(\w+)\}\}")
_NOW = re.compile(r"\{\{now\s+([+-]?\d+)\s+(\w+)\}\}")  # minutes from the moment of the request
TYPES = {
    ".html": "text/html; charset=utf-8",
    ".rss": "application/rss+xml; charset=utf-8",
    ".xml": "application/xml; charset=utf-8",
    ".json": "application/feed+json; charset=utf-8",
    ".txt": "text/plain; charset=utf-8",
}
BIG_PAGE_BYTES = 20 * 1024 * 1024
_PLAIN_TWIN: dict[str, int] = {}  # base_url -> a second plain-HTTP port (the TLS-error feed points there)
WRONG_CHARSET_HEADER = {"/hostile/tin/tin-don-bat-coc-hoc-sinh-o-cong-truong-la-khong-co-that.html"}


def sites_dir() -> Path:
    """The fixture sites, package data of `fixtures` (a folder on disk as pip installs it: the server serves files)."""
    return Path(str(resources.files("fixtures") / "sites"))


def fixture_date(offset_days: int, hour: int, minute: int, today: datetime | None = None) -> datetime:
    """The aware datetime a date placeholder stands for (tests compute expected dates with it)."""
    now = today or datetime.now(VN)
    day = (now.astimezone(VN) + timedelta(days=offset_days)).date()
    return datetime(day.year, day.month, day.day, hour, minute, tzinfo=VN)


def format_date(value: datetime, fmt: str) -> str:
    """A date written the way Vietnamese sites and feeds write it."""
    if fmt == "rfc822":
        return format_datetime(value)
    if fmt == "iso":
        return value.isoformat()
    if fmt == "vn":
        return f"{WEEKDAYS[value.weekday()]}, {value:%d/%m/%Y - %H:%M}"
    if fmt == "gmt7":
        return f"{value:%d/%m/%Y %H:%M} (GMT+7)"
    if fmt == "long":
        return f"{value.day} tháng {value.month} năm {value.year}"
    if fmt == "day":
        return f"{value:%Y-%m-%d}"
    if fmt == "slash":
        return f"{value:%H:%M, %d/%m/%Y}"
    raise ValueError(f"unknown date format {fmt!r}")


def local_twin(base_url: str) -> str:
    """The same server named ``localhost``: a name resolving to a private address, not a configured origin."""
    return base_url.rstrip("/").replace("//127.0.0.1:", "//localhost:")


def render_text(text: str, base_url: str, today: datetime | None = None) -> str:
    """Fill ``{base}``, ``{local}`` (the server as localhost) and date placeholders."""
    text = text.replace("{base}", base_url).replace("{local}", local_twin(base_url))
    now = (today or datetime.now(VN)).astimezone(VN).replace(second=0, microsecond=0)
    text = _NOW.sub(lambda m: format_date(now + timedelta(minutes=int(m[1])), m[2]), text)
    return _DATE.sub(lambda m: format_date(fixture_date(int(m[1]), int(m[2]), int(m[3]), today), m[4]), text)


def render_sources(base_url: str, template: Path | None = None) -> str:
    """The fixture sources file with ``{base}``, ``{tls}`` (same port, https) and ``{closed}`` filled in."""
    text = (template or sites_dir() / "sources.toml").read_text(encoding="utf-8")
    parts = urlsplit(base_url)
    # https to a plain-HTTP port: a TLS failure. A second port, so robots.txt of the real one stays readable.
    tls_netloc = f"{parts.hostname}:{_PLAIN_TWIN.get(base_url.rstrip('/'), parts.port)}"
    return (
        text.replace("{base}", base_url.rstrip("/"))
        .replace("{tls}", f"https://{tls_netloc}")
        .replace("{closed}", "http://127.0.0.1:1")
    )


def write_response(
    handler: BaseHTTPRequestHandler, code: int, body: bytes, ctype: str, headers: dict[str, str] | None = None
) -> None:
    """Status, Content-Type, Content-Length, extra headers and (unless HEAD) the body; a client gone is ignored."""
    handler.send_response(code)
    handler.send_header("Content-Type", ctype)
    handler.send_header("Content-Length", str(len(body)))
    for k, v in (headers or {}).items():
        handler.send_header(k, v)
    handler.end_headers()
    if handler.command != "HEAD":
        try:
            handler.wfile.write(body)
        except (BrokenPipeError, ConnectionResetError):
            pass


class SiteServer:
    """A running fixture server; ``base_url`` like ``http://127.0.0.1:41234``."""

    def __init__(self, httpd: ThreadingHTTPServer, root: Path, twin: ThreadingHTTPServer | None = None) -> None:
        self.httpd = httpd
        self.twin = twin
        self.root = root
        self.fixed: set[str] = set()
        self.swapped: dict[str, str] = {}
        self.hits: dict[str, int] = {}
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=httpd.serve_forever, name="demo-server", daemon=True)
        self._thread.start()
        self._twin_thread: threading.Thread | None = None
        if twin is not None:
            self._twin_thread = threading.Thread(target=twin.serve_forever, name="demo-server-twin", daemon=True)
            self._twin_thread.start()
            _PLAIN_TWIN[self.base_url] = int(twin.server_address[1])

    @property
    def base_url(self) -> str:
        host, port = self.httpd.server_address[:2]
        return f"http://{host!s}:{port}"

    def fix(self, path: str) -> None:
        """Make a broken route (e.g. ``/hostile/rss/loi-500.rss``) serve its healthy version."""
        self.fixed.add(path)

    def swap(self, path: str, fixture: str) -> None:
        """Serve another fixture file at a path (an outlet revising an article or its feed)."""
        self.swapped[path] = fixture

    def count(self, path: str) -> int:
        """How many times a path was requested."""
        return self.hits.get(path, 0)

    def stop(self) -> None:
        """Shut the server down and wait for its thread."""
        self.httpd.shutdown()
        self.httpd.server_close()
        self._thread.join(timeout=5)
        if self.twin is not None and self._twin_thread is not None:
            self.twin.shutdown()
            self.twin.server_close()
            self._twin_thread.join(timeout=5)
            _PLAIN_TWIN.pop(self.base_url, None)

    def __enter__(self) -> SiteServer:
        return self

    def __exit__(self, t: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None) -> None:
        self.stop()


class _Handler(BaseHTTPRequestHandler):
    server_version = "nq71-demo/1.0"
    protocol_version = "HTTP/1.1"
    site: SiteServer  # set on the subclass made per server

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - the stdlib's name
        return None  # quiet: tests read counts, not logs

    def do_HEAD(self) -> None:  # noqa: N802
        self.do_GET()

    def do_GET(self) -> None:  # noqa: N802
        path = urlsplit(self.path).path
        query = urlsplit(self.path).query
        with self.site._lock:
            self.site.hits[path] = self.site.hits.get(path, 0) + 1
        route = ROUTES.get(path)
        if route is not None and path not in self.site.fixed:
            route(self)
            return
        if path.startswith("/bulk/") and _bulk(self, path):
            return
        self.serve_file(path, query)

    # ---- helpers -----------------------------------------------------------------------------------
    def send(self, code: int, body: bytes, ctype: str = "text/html; charset=utf-8", headers: dict[str, str] | None = None) -> None:
        write_response(self, code, body, ctype, headers)

    def serve_file(self, path: str, query: str) -> None:
        rel = self.site.swapped.get(path, path).lstrip("/")
        if path in self.site.fixed:
            fixed = self.site.root / (rel + ".fixed")
            if fixed.is_file():
                rel = rel + ".fixed"
        if query:
            # listing pagination: /x/list?page=2 is stored as x/list.page2.html
            page = re.fullmatch(r"page=(\d+)", query)
            if page:
                rel = f"{rel}.page{page[1]}"
        target = (self.site.root / rel).resolve()
        if target.is_dir():
            target = target / "index.html"
        if not target.is_file() and (target.parent / (target.name + ".html")).is_file():
            target = target.parent / (target.name + ".html")
        if not str(target).startswith(str(self.site.root.resolve())) or not target.is_file() or target.name.startswith("_"):
            self.send(404, "<html><body><h1>404 - Không tìm thấy trang</h1></body></html>".encode())
            return
        raw = target.read_bytes()
        suffix = target.suffix if target.suffix != ".fixed" else Path(target.stem).suffix
        ctype = TYPES.get(suffix, "application/octet-stream")
        try:
            raw = render_text(raw.decode("utf-8"), self.site.base_url).encode("utf-8")
        except UnicodeDecodeError:
            ctype = "text/html"  # a legacy page (windows-1258): no charset in the header, only its meta tag
        if path in WRONG_CHARSET_HEADER:
            ctype = "text/html; charset=iso-8859-1"  # a lying header over a UTF-8 body
        headers: dict[str, str] = {}
        if path.startswith(CONDITIONAL_PREFIXES):
            etag = '"' + hashlib.sha256(raw).hexdigest()[:20] + '"'
            modified = format_datetime(datetime.fromtimestamp(target.stat().st_mtime, tz=timezone.utc).replace(microsecond=0), usegmt=True)
            headers = {"ETag": etag, "Last-Modified": modified}
            if self.headers.get("If-None-Match") == etag:
                self.send_response(304)
                for k, v in headers.items():
                    self.send_header(k, v)
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
        self.send(200, raw, ctype, headers)


# ---- the hostile site's behaviours ---------------------------------------------------------------
def _html_as_feed(h: _Handler) -> None:
    body = "<!DOCTYPE html><html lang='vi'><head><title>Tin nhanh Đất Cảng</title></head><body><h1>Trang chủ</h1><p>Chuyên mục RSS đang được nâng cấp, mời bạn đọc quay lại sau.</p></body></html>"
    h.send(200, body.encode("utf-8"), "application/rss+xml; charset=utf-8")


def _empty(h: _Handler) -> None:
    h.send(200, b"", "application/rss+xml; charset=utf-8")


def _error_500(h: _Handler) -> None:
    h.send(500, "<html><body><h1>500 - Lỗi máy chủ</h1><p>Hệ thống đang bảo trì.</p></body></html>".encode())


def _redirect_loop(h: _Handler) -> None:
    other = "/hostile/rss/vong-lap-b.rss" if h.path.endswith("vong-lap.rss") else "/hostile/rss/vong-lap.rss"
    h.send(302, b"", headers={"Location": other})


def _too_many(h: _Handler) -> None:
    h.send(429, "<html><body>Quá nhiều yêu cầu, vui lòng thử lại sau.</body></html>".encode(), headers={"Retry-After": "7200"})


def _slow(h: _Handler) -> None:
    time.sleep(3.0)
    h.send(200, "<?xml version='1.0'?><rss version='2.0'><channel><title>Chậm</title></channel></rss>".encode(), "application/rss+xml")


def _not_a_feed_xml(h: _Handler) -> None:
    h.send(200, "<?xml version='1.0' encoding='utf-8'?><loi><ma>E102</ma><thong-bao>Không có dữ liệu</thong-bao></loi>".encode(), "application/xml")


_BLOCK = ("<p>" + "Bảng thống kê điểm thi của học sinh toàn thành phố. " * 40 + "</p>\n").encode("utf-8") * 400  # ~1 MB


def _huge(h: _Handler, declare_length: bool) -> None:
    """A 20 MB body generated on the fly; with Content-Length the client can refuse it before reading."""
    h.send_response(200)
    h.send_header("Content-Type", "text/html; charset=utf-8")
    if declare_length:
        h.send_header("Content-Length", str(BIG_PAGE_BYTES))
    h.send_header("Connection", "close")
    h.end_headers()
    sent = 0
    try:
        while sent < BIG_PAGE_BYTES:
            block = _BLOCK[: BIG_PAGE_BYTES - sent]
            h.wfile.write(block)
            sent += len(block)
    except (BrokenPipeError, ConnectionResetError):
        pass
    h.close_connection = True


def _huge_page(h: _Handler) -> None:
    """The 20 MB article page: no Content-Length, so the size shows only while reading."""
    _huge(h, declare_length=False)


def _huge_feed(h: _Handler) -> None:
    """A 20 MB "feed" that says so in its Content-Length."""
    _huge(h, declare_length=True)


def _redirect_to(target: str) -> Callable[[_Handler], None]:
    """A route answering 302 to ``target`` (``{local}`` is this server under the name localhost)."""

    def route(h: _Handler) -> None:
        h.send(302, b"", headers={"Location": target.replace("{local}", local_twin(h.site.base_url))})

    return route


def _gzip_bomb(h: _Handler) -> None:
    """A "feed" of 20 KB gzip that inflates to 20 MB of blanks: its Content-Length says nothing is wrong."""
    h.send(200, _bomb(), "application/rss+xml; charset=utf-8", headers={"Content-Encoding": "gzip"})


@functools.cache
def _bomb() -> bytes:
    return gzip.compress(b"<?xml version='1.0'?><rss version='2.0'><channel>" + b" " * BIG_PAGE_BYTES, compresslevel=9)

# The bulk site: /bulk/rss/nhieu-tin-N.rss lists N generated articles /bulk/tin/bai-K.html (crash and
# concurrency tests need hundreds of distinct pages); each page answers after BULK_PAGE_DELAY seconds.
BULK_PAGE_DELAY = 0.04
_SCHOOLS = ["Trường THCS Lê Lợi", "Trường THPT Ngô Quyền", "Trường Tiểu học Đằng Hải", "Trường THCS Chu Văn An",
            "Trường THPT Thái Phiên", "Trường Mầm non Hoa Phượng", "Trường THCS Hồng Bàng", "Trường THPT Kiến An",
            "Trường Tiểu học Lê Văn Tám", "Trường THCS Trần Phú", "Trường THPT An Lão", "Trường Tiểu học Cát Bi",
            "Trường THCS Nguyễn Trãi", "Trường THPT Vĩnh Bảo", "Trường Mầm non Sao Biển", "Trường THCS Đồ Sơn",
            "Trường THPT Thủy Sơn", "Trường Tiểu học Tràng Cát", "Trường THCS Quán Toan", "Trường THPT Lý Thường Kiệt"]
_TOPICS = ["tổ chức ngày hội đọc sách cho học sinh", "khánh thành phòng học STEM mới", "tập huấn giáo viên về chương trình mới",
           "phát động phong trào an toàn giao thông", "trao học bổng cho học sinh vượt khó", "tổ chức hội thi giáo viên dạy giỏi",
           "đón đoàn kiểm tra công nhận chuẩn quốc gia", "mở lớp học bơi miễn phí mùa hè", "tổ chức hội nghị cha mẹ học sinh",
           "ra mắt câu lạc bộ tiếng Anh", "triển khai sổ liên lạc điện tử", "trồng cây xanh quanh sân trường",
           "tổ chức diễn tập phòng cháy chữa cháy", "khai giảng lớp bồi dưỡng học sinh giỏi", "tặng áo ấm cho học sinh vùng khó",
           "tổ chức tuần lễ học tập suốt đời", "nâng cấp bếp ăn bán trú", "phát động cuộc thi vẽ tranh về biển đảo",
           "tổng kết phong trào thi đua học kỳ I", "tổ chức chuyên đề giáo dục giới tính"]
_WARDS = ["phường Lê Chân", "phường Hải An", "phường Kiến An", "phường Đồ Sơn", "xã An Lão", "xã Tiên Lãng", "xã Vĩnh Bảo",
          "phường Ngô Quyền", "phường Hồng Bàng", "xã Thủy Nguyên"]


def bulk_title(n: int) -> str:
    """The title of generated article n (distinct for n < 400)."""
    return f"{_SCHOOLS[n % 20]} {_TOPICS[(n // 20) % 20]}"


def _bulk_feed(h: _Handler, count: int) -> None:
    now = datetime.now(VN).replace(second=0, microsecond=0)
    items = "".join(
        f"<item><title>{bulk_title(n)}</title><link>{h.site.base_url}/bulk/tin/bai-{n}.html</link>"
        f"<pubDate>{format_datetime(now - timedelta(minutes=5 * n + 10))}</pubDate></item>"
        for n in range(count)
    )
    body = f"<?xml version='1.0' encoding='utf-8'?><rss version='2.0'><channel><title>Bản tin các trường</title>{items}</channel></rss>"
    h.send(200, body.encode("utf-8"), "application/rss+xml; charset=utf-8")


def _bulk_page(h: _Handler, n: int) -> None:
    time.sleep(BULK_PAGE_DELAY)
    school, topic, ward = _SCHOOLS[n % 20], _TOPICS[(n // 20) % 20], _WARDS[n % 10]
    paragraphs = [
        f"Sáng nay, {school} ({ward}) đã {topic}, thu hút {120 + n} học sinh và {8 + n % 30} giáo viên tham gia.",
        f"Theo thầy hiệu trưởng, hoạt động nằm trong kế hoạch năm học và được phụ huynh khối {6 + n % 4} ủng hộ nhiệt tình.",
        f"Nhà trường cho biết sẽ tiếp tục duy trì hoạt động này trong {2 + n % 5} tháng tới, đồng thời báo cáo kết quả lên Sở GD&ĐT.",
        f"Đây là bản tin số {n} của chuyên mục giáo dục địa phương.",
    ]
    body = (f"<!DOCTYPE html><html lang='vi'><head><meta charset='utf-8'><title>{bulk_title(n)}</title></head><body>"
            f"<article><h1>{bulk_title(n)}</h1>{''.join(f'<p>{p}</p>' for p in paragraphs)}</article></body></html>")
    h.send(200, body.encode("utf-8"))


def _bulk(h: _Handler, path: str) -> bool:
    """Serve a bulk-site path; False when the path is not one."""
    feed = re.fullmatch(r"/bulk/rss/nhieu-tin-(\d+)\.rss", path)
    page = re.fullmatch(r"/bulk/tin/bai-(\d+)\.html", path)
    if feed:
        _bulk_feed(h, int(feed[1]))
    elif page:
        _bulk_page(h, int(page[1]))
    return bool(feed or page)


ROUTES: dict[str, Callable[[_Handler], None]] = {
    "/hostile/rss/chuyen-huong-noi-bo.rss": _redirect_to("{local}/hostile/noi-bo/bi-mat.rss"),
    "/hostile/tin/chuyen-huong-noi-bo.html": _redirect_to("{local}/hostile/noi-bo/trang-quan-tri.html"),
    "/hostile/tin/chuyen-huong-tep.html": _redirect_to("file:///etc/passwd"),
    "/hostile/rss/bom-nen.rss": _gzip_bomb,
    "/hostile/rss/html-thay-rss.rss": _html_as_feed,
    "/hostile/rss/rong.rss": _empty,
    "/hostile/rss/loi-500.rss": _error_500,
    "/hostile/rss/vong-lap.rss": _redirect_loop,
    "/hostile/rss/vong-lap-b.rss": _redirect_loop,
    "/hostile/rss/qua-tai.rss": _too_many,
    "/hostile/rss/cham.rss": _slow,
    "/hostile/rss/hong.xml": _not_a_feed_xml,
    "/hostile/tin/bang-diem-toan-thanh-pho.html": _huge_page,
    "/hostile/rss/khong-lo.rss": _huge_feed,
    "/hostile/tin/trang-dang-bao-tri.html": _error_500,
}


class _Server(ThreadingHTTPServer):
    """Quiet about clients that hang up (the crawler cancels the 20 MB page) or speak TLS to plain HTTP."""

    daemon_threads = True
    request_queue_size = 256  # the default backlog of 5 drops connections when a crawl opens many at once

    def handle_error(self, request: Any, client_address: Any) -> None:
        return None


def start_site_server(root: Path | None = None, host: str = "127.0.0.1", port: int = 0) -> SiteServer:
    """Start serving the fixture sites in a background thread; ``.stop()`` or use as a context manager."""
    root = (root or sites_dir()).resolve()
    handler = type("Handler", (_Handler,), {})
    httpd = _Server((host, port), handler)
    twin = _Server((host, 0), handler)
    server = SiteServer(httpd, root, twin)
    handler.site = server  # type: ignore[attr-defined]
    return server
