"""Page decoding, Vietnamese date parsing and article extraction (trafilatura + per-outlet selectors)."""

from __future__ import annotations

import hashlib
import logging
import re
import unicodedata
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import charset_normalizer
import dateparser  # type: ignore[import-untyped, unused-ignore]
import lxml.html
import trafilatura
from lxml.etree import ParserError, XPathError
from lxml.html import HtmlElement

from store.models import DateSource

log = logging.getLogger(__name__)

VN_TZ = ZoneInfo("Asia/Ho_Chi_Minh")
FUTURE_TOLERANCE = timedelta(days=1)
OLDEST_YEAR = 1990  # no Vietnamese news site dates an article earlier
LEGACY_WEB_CODECS = ["cp1252", "cp1258"]
_META_CHARSET = re.compile(rb"""<meta[^>]+charset\s*=\s*["']?\s*([A-Za-z0-9_\-]+)""", re.I)
_HEADER_CHARSET = re.compile(r"charset\s*=\s*[\"']?([A-Za-z0-9_\-]+)", re.I)
# Vietnamese date shapes seen on real pages: "Thứ năm, 26/11/2026 - 09:15", "26/11/2026 09:15 (GMT+7)",
# "09:15 26/11/2026", "26 tháng 11 năm 2026", "2 giờ trước".
_TEXT_DATE = re.compile(
    r"(?:(?:Thứ\s+\w+|Chủ\s+nhật)\s*,\s*)?\d{1,2}[/\-.]\d{1,2}[/\-.]\d{4}(?:\s*[-–|,]?\s*\d{1,2}[:hg]\d{2}(?:\s*\(GMT\s*\+\s*7\))?)?"
    r"|\d{1,2}[:h]\d{2}\s*(?:,\s*)?(?:ngày\s*)?\d{1,2}[/\-.]\d{1,2}[/\-.]\d{4}"
    r"|(?:ngày\s+)?\d{1,2}\s+tháng\s+\d{1,2}\s*(?:,\s*|\s+năm\s+)\d{4}"
    r"|\d+\s+(?:phút|giờ|ngày)\s+trước",
    re.I,
)
# htmldate on markup only: its extensive search guesses from any number in the text (a page's "2026" became
# 1 January); our Vietnamese text rules below do that job. max_date far ahead: plausible() refuses (and logs) future dates.
_DATE_CONFIG = {"extensive_search": False, "original_date": True, "outputformat": "%Y-%m-%dT%H:%M:%S%z", "max_date": "2999-12-31"}
_DATE_HINT_XPATH = (
    "//*[contains(@class,'date') or contains(@class,'time') or contains(@class,'publish') or contains(@class,'ngay')]"
)


_SURROGATE = re.compile(r"[\ud800-\udfff]")


def storable(text: str) -> str:
    """Text every database accepts: NUL dropped (PostgreSQL refuses it), lone surrogates (not UTF-8) replaced by U+FFFD."""
    if "\x00" in text:
        text = text.replace("\x00", "")
    if not text.isascii():
        text = _SURROGATE.sub("\ufffd", text)
    return text


def tidy(text: str | None) -> str:
    """NFC-normalised, storable text with runs of whitespace collapsed (matching needs one form of each letter)."""
    if not text:
        return ""
    return re.sub(r"[ \t\r\f\v]+", " ", unicodedata.normalize("NFC", storable(text))).strip()


def tidy_block(text: str | None) -> str:
    """NFC text keeping paragraph breaks; blank runs collapsed."""
    if not text:
        return ""
    lines = [tidy(line) for line in unicodedata.normalize("NFC", storable(text)).splitlines()]
    return "\n".join(line for line in lines if line)


def text_hash(text: str) -> str:
    """sha256 of NFC text (content fingerprint for updates)."""
    return hashlib.sha256(tidy_block(text).encode("utf-8")).hexdigest()


def title_key(title: str) -> str:
    """sha256 of a title reduced to lowercase words (same title, same outlet, 7 days = same item)."""
    words = re.findall(r"\w+", tidy(title).lower())
    return hashlib.sha256(" ".join(words).encode("utf-8")).hexdigest()


def _codec(name: str | None) -> str | None:
    if not name:
        return None
    import codecs

    try:
        return codecs.lookup(name.strip().lower()).name
    except LookupError:
        return None


def decode_html(body: bytes, content_type: str | None = None) -> tuple[str, str]:
    """Decode page bytes: BOM, strict UTF-8, declared charset (meta, then header), then detection."""
    if body.startswith(b"\xef\xbb\xbf"):
        return body[3:].decode("utf-8", errors="replace"), "utf-8"
    try:
        # A strict UTF-8 decode almost never succeeds by accident, so it beats a wrong header.
        return body.decode("utf-8"), "utf-8"
    except UnicodeDecodeError:
        pass
    declared: list[str | None] = []
    meta = _META_CHARSET.search(body[:4096])
    if meta:
        declared.append(_codec(meta.group(1).decode("ascii", "ignore")))
    if content_type:
        header = _HEADER_CHARSET.search(content_type)
        if header:
            declared.append(_codec(header.group(1)))
    for codec in declared:
        if codec and codec != "utf-8":
            try:
                return body.decode(codec), codec
            except UnicodeDecodeError:
                continue
    # Declared UTF-8 (or nothing) but not UTF-8: the web's legacy encodings first (WHATWG's default is
    # windows-1252; Vietnamese legacy pages use windows-1258). Open detection alone turns a cp1252
    # "naïve" into cp1250's "naďve" on short pages.
    best = charset_normalizer.from_bytes(body, cp_isolation=LEGACY_WEB_CODECS).best() or charset_normalizer.from_bytes(body).best()
    if best is not None and best.encoding:
        return str(best), best.encoding
    return body.decode("utf-8", errors="replace"), "utf-8"


def _as_utc(value: datetime | None) -> datetime | None:
    """Aware UTC; a naive time is Hải Phòng local time."""
    if value is None:
        return None
    if value.tzinfo is None:
        value = value.replace(tzinfo=VN_TZ)
    return value.astimezone(UTC)


def parse_date(text: str | None, now: datetime | None = None) -> datetime | None:
    """A Vietnamese or English date string as aware UTC; naive times are Asia/Ho_Chi_Minh."""
    if not text or not text.strip():
        return None
    raw = tidy(text)
    quick = _quick_date(raw)
    if quick is not None:
        return quick
    base = (now or datetime.now(UTC)).astimezone(VN_TZ).replace(tzinfo=None)
    try:
        value: datetime | None = dateparser.parse(
            raw,
            languages=["vi", "en"],
            settings={
                "TIMEZONE": "Asia/Ho_Chi_Minh",
                "RETURN_AS_TIMEZONE_AWARE": True,
                "DATE_ORDER": "DMY",
                "RELATIVE_BASE": base,
                "PREFER_DAY_OF_MONTH": "first",
            },
        )
    except (ValueError, OverflowError, TypeError):
        return None
    return _as_utc(value)


_DMY = re.compile(r"^(?:(?:Thứ\s+\w+|Chủ\s+nhật)\s*,\s*)?(\d{1,2})/(\d{1,2})/(\d{4})(?:\s*[-–|,]?\s*(\d{1,2})[:h](\d{2}))?(?:\s*\(GMT\s*\+\s*7\))?$", re.I)


def _quick_date(raw: str) -> datetime | None:
    """ISO 8601, RFC 822 and "Thứ năm, 26/11/2026 - 09:15" without dateparser (ten times faster)."""
    from email.utils import parsedate_to_datetime

    try:
        value = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        value = None
    if value is None and raw[:3].isalpha() and "," in raw[:5]:
        try:
            value = parsedate_to_datetime(raw)
        except (TypeError, ValueError, IndexError):
            value = None
    if value is None:
        m = _DMY.match(raw)
        if m:
            try:
                value = datetime(int(m[3]), int(m[2]), int(m[1]), int(m[4] or 0), int(m[5] or 0))
            except ValueError:
                return None
    return _as_utc(value)


def plausible(value: datetime | None, now: datetime | None = None) -> datetime | None:
    """The date if believable: more than a day in the future is rejected (a wrong clock or a typo)."""
    if value is None:
        return None
    now = now or datetime.now(UTC)
    if value > now + FUTURE_TOLERANCE:
        return None
    if value.year < OLDEST_YEAR:
        return None
    return value


def date_problem(value: datetime, now: datetime | None = None) -> str:
    """Why ``plausible`` refused a date, for the log: 'future date' or 'implausibly old date'."""
    return "future date" if value > (now or datetime.now(UTC)) else f"implausibly old date (before {OLDEST_YEAR})"


def find_text_date(text: str, now: datetime | None = None) -> datetime | None:
    """The first date written in visible text (near the top of the article)."""
    for match in _TEXT_DATE.finditer(tidy(text)[:3000]):
        value = parse_date(match.group(0).replace(" - ", " ").replace(" | ", " "), now)
        if value is not None:
            return value
    return None


@dataclass
class PageData:
    """What a page gives: title, main text, author, date (with its source), canonical link."""

    title: str
    text: str
    author: str | None
    published_at: datetime | None
    date_source: DateSource
    canonical_url: str | None
    rejected_date: datetime | None = None  # a date found but refused (future), for the log


def _select(tree: HtmlElement, selector: str) -> list[Any]:
    """Run a CSS or XPath (starting with / or () selector; bad selectors select nothing."""
    try:
        if selector.startswith(("/", "(")):
            return list(tree.xpath(selector))
        return list(tree.cssselect(selector))
    except (XPathError, ValueError, SyntaxError) as exc:
        log.warning("bad selector %r: %s", selector, exc)
        return []
    except Exception as exc:  # cssselect raises its own SelectorSyntaxError
        log.warning("bad selector %r: %s", selector, exc)
        return []


def _text_of(nodes: list[Any], joiner: str = " ") -> str:
    parts: list[str] = []
    for node in nodes:
        if isinstance(node, str):
            parts.append(node)
        else:
            # Paragraph-level blocks keep their breaks so the text reads like the page.
            blocks = node.xpath(".//p|.//li|.//h2|.//h3|.//blockquote")
            if blocks and joiner == "\n":
                parts.extend(b.text_content() for b in blocks)
            else:
                parts.append(node.text_content())
    return joiner.join(p.strip() for p in parts if p and p.strip())


def _first_attr(tree: HtmlElement, xpaths: tuple[str, ...] | list[str]) -> str | None:
    for xp in xpaths:
        values = tree.xpath(xp)
        for v in values:
            if isinstance(v, str) and v.strip():
                return v.strip()
    return None


def extract_page(
    html: str, url: str, selectors: dict[str, str] | None = None, now: datetime | None = None, want_date: bool = True
) -> PageData:
    """Title, text, author, date and canonical URL of an article page; selectors override trafilatura."""
    selectors = selectors or {}
    now = now or datetime.now(UTC)
    try:
        tree = lxml.html.fromstring(html)
    except (ParserError, ValueError):
        return PageData("", "", None, None, DateSource.none, None)
    canonical = _first_attr(tree, ["//link[@rel='canonical']/@href", "//meta[@property='og:url']/@content"])
    if canonical:
        from crawler.urls import normalise_url

        canonical = normalise_url(canonical, url)

    meta = trafilatura.extract_metadata(tree, default_url=url, date_config=_DATE_CONFIG)
    title = tidy(_text_of(_select(tree, selectors["title"]))) if "title" in selectors else ""
    title = title or tidy(meta.title)

    text = ""
    if "text" in selectors:
        text = tidy_block(_text_of(_select(tree, selectors["text"]), joiner="\n"))
    if not text:
        doc = trafilatura.bare_extraction(
            tree, url=url, with_metadata=False, include_comments=False, include_tables=False, favor_precision=True
        )
        text = tidy_block(getattr(doc, "text", None) or "")
    if title and text.startswith(title):
        text = text[len(title):].lstrip("\n ")
    # A leading "Cập nhật lúc 19:30, 24/11/2026" line is page furniture, not article text.
    lines = text.split("\n")
    while lines and len(lines[0]) < 80 and _TEXT_DATE.search(lines[0]):
        lines.pop(0)
    text = "\n".join(lines)

    author = tidy(_text_of(_select(tree, selectors["author"]))) if "author" in selectors else ""
    author = author or tidy(meta.author)

    rejected: datetime | None = None
    published: datetime | None = None
    source = DateSource.none
    if not want_date:  # the feed already dated the item; page dates only fill gaps
        return PageData(title, text, author[:300] or None, None, DateSource.none, canonical)
    if "date" in selectors:
        raw = _text_of(_select(tree, selectors["date"]))
        candidate = parse_date(raw, now) or find_text_date(raw, now)
        published = plausible(candidate, now)
        rejected = candidate if published is None else None
        source = DateSource.page_text if published else DateSource.none
    if published is None:
        candidate = parse_date(meta.date, now)  # htmldate over the page's markup (meta tags, JSON-LD, <time>)
        published = plausible(candidate, now)
        rejected = rejected or (candidate if published is None else None)
        source = DateSource.page_meta if published else DateSource.none
    if published is None:
        hint = _text_of(tree.xpath(_DATE_HINT_XPATH)[:5])
        candidate = find_text_date(hint, now) if hint else None
        if candidate is None:
            body = tree.xpath("//body")
            candidate = find_text_date(body[0].text_content(), now) if body else None
        published = plausible(candidate, now)
        rejected = rejected or (candidate if published is None else None)
        source = DateSource.page_text if published else DateSource.none
    return PageData(
        title=title,
        text=text,
        author=author[:300] or None,
        published_at=published,
        date_source=source,
        canonical_url=canonical,
        rejected_date=rejected,
    )


def bare_trafilatura(html: str, url: str) -> str:
    """Trafilatura alone on a page (the benchmark's speed limit)."""
    return trafilatura.extract(html, url=url, include_comments=False, include_tables=False, favor_precision=True) or ""
