"""Feed, sitemap and listing parsing from response bytes; each outcome is one FetchStatus, checked by us."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import feedparser
import lxml.etree
import lxml.html
from scrapy.utils.sitemap import Sitemap

from crawler.extract import decode_html, parse_date, plausible, tidy, tidy_block
from crawler.urls import normalise_url
from store.models import FeedKind, FetchStatus

_HTML_START = re.compile(rb"^\s*(<!--.*?-->\s*)*<(!doctype\s+html|html|head|body)\b", re.I | re.S)
_XML_START = re.compile(rb"^\s*(<\?xml[^>]*>\s*)?(<!--.*?-->\s*)*<", re.S)


@dataclass
class Entry:
    """One item a feed (or sitemap, or listing page) points to."""

    url: str
    title: str = ""
    summary: str = ""
    text: str = ""  # full text when the feed carries it (social bridges, content:encoded)
    author: str | None = None
    published_at: datetime | None = None
    rejected_date: datetime | None = None
    updated_at: datetime | None = None
    engagement: dict[str, int] | None = None


@dataclass
class Parsed:
    """A parsed body: its status, a message for the health log, entries and links to follow."""

    status: FetchStatus
    message: str = ""
    entries: list[Entry] = field(default_factory=list)
    follow: list[str] = field(default_factory=list)  # sitemap index children, next listing page
    skipped: list[str] = field(default_factory=list)  # why each unreadable entry was left out (counted as errors)


def _url_or_raw(link: str, base_url: str) -> str:
    """The normalised link; a link too broken to normalise is kept raw, for the link policy to refuse."""
    try:
        return normalise_url(link, base_url)
    except ValueError:
        return link


def looks_like_html(body: bytes) -> bool:
    """True when the body is an HTML document (an error page or a site's home where a feed should be)."""
    return bool(_HTML_START.match(body[:2048]))


def _entry_date(raw: Any, parsed: Any, now: datetime) -> tuple[datetime | None, datetime | None]:
    """(accepted date, rejected future date) from feedparser's raw string or struct_time."""
    value: datetime | None = None
    if parsed:
        y, mo, d, h, mi, sec = parsed[:6]
        value = datetime(y, mo, d, h, mi, sec, tzinfo=UTC)
    elif raw:
        value = parse_date(str(raw), now)
    ok = plausible(value, now)
    return ok, (value if ok is None else None)


def _clean_html_text(fragment: str) -> str:
    if not fragment or not fragment.strip():
        return ""
    try:
        return tidy_block("\n".join(lxml.html.fromstring(f"<div>{fragment}</div>").itertext()))
    except (ValueError, lxml.etree.ParserError):
        return tidy(fragment)


def _engagement(obj: dict[str, Any]) -> dict[str, int] | None:
    """likes/shares/comments from a bridge's extension object (``_engagement`` or ``_social``)."""
    for key in ("_engagement", "_social", "engagement"):
        raw = obj.get(key)
        if isinstance(raw, dict):
            out = {k: int(v) for k, v in raw.items() if k in {"likes", "shares", "comments", "reactions", "views"} and isinstance(v, int | float | str) and str(v).isdigit()}
            return out or None
    return None


def _json_entry(item: Any, base_url: str, now: datetime) -> Entry | str:
    """One JSON Feed item as an Entry, or why it cannot be one."""
    if not isinstance(item, dict):
        return f"item is a JSON {type(item).__name__}, not an object"
    ident = item.get("id")
    link = item.get("url") or item.get("external_url") or (ident if str(ident).startswith("http") else None)
    if not isinstance(link, str) or not link.strip():
        return "item without a url"  # an id that is not a URL is no address to store it under
    pub, rejected = _entry_date(item.get("date_published"), None, now)
    upd, _ = _entry_date(item.get("date_modified"), None, now)
    authors = item.get("authors") or ([item["author"]] if isinstance(item.get("author"), dict) else [])
    author = ", ".join(str(a.get("name", "")) for a in authors if isinstance(a, dict) and a.get("name")) or None
    text = tidy_block(str(item.get("content_text") or "")) or _clean_html_text(str(item.get("content_html") or ""))
    return Entry(
        url=normalise_url(link, base_url),
        title=tidy(str(item.get("title") or "")),
        summary=tidy(str(item.get("summary") or "")),
        text=text,
        author=tidy(author) or None,
        published_at=pub,
        rejected_date=rejected,
        updated_at=upd,
        engagement=_engagement(item),
    )


def _collect(items: Iterable[Any], convert: Callable[[Any], Entry | str]) -> tuple[list[Entry], list[str]]:
    """Entries from items one by one: an item that cannot be read is skipped with its reason, never the feed."""
    entries: list[Entry] = []
    skipped: list[str] = []
    for n, item in enumerate(items, 1):
        try:
            result = convert(item)
        except (ValueError, TypeError, KeyError, AttributeError, UnicodeError, OverflowError) as exc:
            result = f"{type(exc).__name__}: {exc}"
        if isinstance(result, Entry):
            entries.append(result)
        else:
            skipped.append(f"entry {n}: {str(result)[:200]}")
    return entries, skipped


def parse_jsonfeed(body: bytes, base_url: str, now: datetime) -> Parsed:
    """JSON Feed 1.0/1.1 with the standard library; invalid UTF-8 bytes are replaced, not fatal."""
    try:
        raw = body.decode("utf-8-sig")
    except UnicodeDecodeError:
        raw = body.decode("utf-8-sig", errors="replace")  # e.g. an encoded lone surrogate in one item
    try:
        data = json.loads(raw)
    except ValueError as exc:
        return Parsed(FetchStatus.parse_error, f"not valid JSON: {exc}")
    version = data.get("version", "") if isinstance(data, dict) else ""
    if not isinstance(version, str) or not version.startswith("https://jsonfeed.org/version/"):
        return Parsed(FetchStatus.not_a_feed, "JSON without a jsonfeed.org version: not a JSON Feed")
    items = data.get("items")
    if not isinstance(items, list):
        return Parsed(FetchStatus.parse_error, "JSON Feed without an items list")
    entries, skipped = _collect(items, lambda item: _json_entry(item, base_url, now))
    return Parsed(FetchStatus.ok, f"JSON Feed {version.rsplit('/', 1)[-1]}: {len(entries)} items{_skips(skipped)}", entries, skipped=skipped)


def _skips(skipped: list[str]) -> str:
    """', 2 skipped' for a status message."""
    return f", {len(skipped)} skipped" if skipped else ""


def parse_feed(body: bytes, base_url: str, kind: FeedKind, now: datetime | None = None) -> Parsed:
    """RSS/Atom via feedparser (given bytes) or JSON Feed; empty, HTML and unknown bodies get their status."""
    now = now or datetime.now(UTC)
    if not body.strip():
        return Parsed(FetchStatus.empty, "empty body (HTTP 200 with no content)")
    if looks_like_html(body):
        return Parsed(FetchStatus.not_a_feed, "got an HTML page where a feed was expected")
    if body.lstrip()[:1] in (b"{", b"["):
        return parse_jsonfeed(body, base_url, now)
    parsed = feedparser.parse(body, response_headers={"content-location": base_url})
    version = parsed.get("version") or ""
    if not version:
        if not _XML_START.match(body[:512]):
            return Parsed(FetchStatus.not_a_feed, "neither XML nor JSON: not a feed")
        root = re.search(rb"<([A-Za-z_][\w:.-]*)", re.sub(rb"<\?.*?\?>|<!--.*?-->", b"", body[:2048], flags=re.S))
        tag = root.group(1).decode("ascii", "replace") if root else "?"
        return Parsed(FetchStatus.parse_error, f"XML that is not RSS or Atom (root element <{tag}>)")
    entries, skipped = _collect(parsed.entries, lambda e: _rss_entry(e, base_url, now))
    if not entries and parsed.get("bozo"):
        return Parsed(FetchStatus.parse_error, f"{version}: broken XML ({parsed.get('bozo_exception')})", skipped=skipped)
    return Parsed(FetchStatus.ok, f"{version}: {len(entries)} items{_skips(skipped)}", entries, skipped=skipped)


def _rss_entry(e: Any, base_url: str, now: datetime) -> Entry | str:
    """One RSS/Atom entry (feedparser's dict) as an Entry, or why it cannot be one."""
    link = e.get("link") or (e.get("id") if str(e.get("id", "")).startswith("http") else None)
    if not link:
        return "entry without a link"
    # dict.get: feedparser's own get() maps missing keys onto others (and warns about it)
    pub, rejected = _entry_date(dict.get(e, "published"), dict.get(e, "published_parsed"), now)
    upd, _ = _entry_date(dict.get(e, "updated"), dict.get(e, "updated_parsed"), now)
    if pub is None and rejected is None and dict.get(e, "published") is None:
        pub = upd  # Atom entries often carry only <updated>
    content = ""
    if e.get("content"):
        content = _clean_html_text(" ".join(c.get("value", "") for c in e["content"]))
    summary = _clean_html_text(e.get("summary", ""))
    engagement = {k: int(e[k]) for k in ("likes", "shares", "comments") if str(e.get(k, "")).isdigit()} or None
    return Entry(
        url=normalise_url(link, base_url),
        title=tidy(e.get("title", "")),
        summary=summary if summary != content else "",
        text=content,
        author=tidy(e.get("author", "")) or None,
        published_at=pub,
        rejected_date=rejected,
        updated_at=upd,
        engagement=engagement,
    )


NEWS_NS = "http://www.google.com/schemas/sitemap-news/0.9"
_NEWS = "{%s}" % NEWS_NS
# The parser Scrapy's Sitemap uses: no entity expansion (billion laughs, XXE), no network, no DTD.
_SAFE_XML = dict(recover=True, remove_comments=True, resolve_entities=False, no_network=True, load_dtd=False)


def _news_by_loc(body: bytes) -> dict[str, tuple[str | None, str]]:
    """Google News fields (publication date, title) per <loc>: Scrapy's Sitemap keeps only direct children."""
    if NEWS_NS.encode() not in body:
        return {}
    root = lxml.etree.fromstring(body, parser=lxml.etree.XMLParser(**_SAFE_XML))
    out: dict[str, tuple[str | None, str]] = {}
    for news in root.iter(f"{_NEWS}news") if root is not None else ():
        url = news.getparent()
        loc = url.findtext("{*}loc") if url is not None else None
        if loc:
            out[loc.strip()] = (news.findtext(f"{_NEWS}publication_date"), tidy(news.findtext(f"{_NEWS}title")))
    return out


def _open_sitemap(body: bytes) -> Sitemap | Parsed:
    """Scrapy's Sitemap over the body, or the Parsed outcome saying why it is none."""
    if not body.strip():
        return Parsed(FetchStatus.empty, "empty body (HTTP 200 with no content)")
    if looks_like_html(body):
        return Parsed(FetchStatus.not_a_feed, "got an HTML page where a sitemap was expected")
    try:
        sitemap = Sitemap(body)
    except (lxml.etree.XMLSyntaxError, StopIteration) as exc:
        return Parsed(FetchStatus.parse_error, f"sitemap is not valid XML: {exc or 'no element'}")
    if sitemap.type not in {"sitemapindex", "urlset"}:
        return Parsed(FetchStatus.not_a_feed, f"XML root <{sitemap.type}> is not a sitemap")
    return sitemap


def parse_sitemap(body: bytes, base_url: str, recency_days: int, now: datetime | None = None) -> Parsed:
    """Sitemap index (children to follow), plain or Google News sitemap, entries newer than the cut-off."""
    now = now or datetime.now(UTC)
    sitemap = _open_sitemap(body)
    if isinstance(sitemap, Parsed):
        return sitemap
    cutoff = now.timestamp() - recency_days * 86400
    if sitemap.type == "sitemapindex":
        children = []
        for sm in sitemap:
            lastmod = parse_date(sm.get("lastmod"), now)
            if sm["loc"] and (lastmod is None or lastmod.timestamp() >= cutoff):
                children.append(_url_or_raw(sm["loc"], base_url))
        return Parsed(FetchStatus.ok, f"sitemap index: {len(children)} recent sitemaps", follow=children)
    news = _news_by_loc(body)
    entries: list[Entry] = []
    old = 0
    for u in sitemap:
        if not u["loc"]:
            continue
        raw_date, title = news.get(u["loc"], (None, ""))
        pub = parse_date(raw_date, now) if raw_date else None
        lastmod = parse_date(u.get("lastmod"), now)
        stamp = pub or lastmod
        if stamp is not None and stamp.timestamp() < cutoff:
            old += 1
            continue
        ok = plausible(pub, now)
        entries.append(
            Entry(url=_url_or_raw(u["loc"], base_url), title=title, published_at=ok, rejected_date=pub if pub and ok is None else None, updated_at=plausible(lastmod, now))
        )
    return Parsed(FetchStatus.ok, f"sitemap: {len(entries)} recent urls ({old} older than {recency_days} days skipped)", entries)


def parse_listing(body: bytes, content_type: str | None, base_url: str, link_selector: str, next_selector: str | None) -> Parsed:
    """Article links (and the next page) from a listing page, by the outlet's CSS or XPath selectors."""
    from crawler.extract import _select

    if not body.strip():
        return Parsed(FetchStatus.empty, "empty body (HTTP 200 with no content)")
    html, _ = decode_html(body, content_type)
    try:
        tree = lxml.html.fromstring(html)
    except (ValueError, lxml.etree.ParserError) as exc:
        return Parsed(FetchStatus.parse_error, f"listing page is not HTML: {exc}")
    entries: list[Entry] = []
    seen: set[str] = set()
    for node in _select(tree, link_selector):
        href = node if isinstance(node, str) else node.get("href")
        if not href:
            continue
        url = _url_or_raw(href, base_url)
        if url in seen:
            continue
        seen.add(url)
        entries.append(Entry(url=url, title=tidy(node.text_content()) if not isinstance(node, str) else ""))
    follow: list[str] = []
    if next_selector:
        for node in _select(tree, next_selector)[:1]:
            href = node if isinstance(node, str) else node.get("href")
            if href:
                follow.append(_url_or_raw(href, base_url))
    if not entries:
        return Parsed(FetchStatus.parse_error, f"no article links matched {link_selector!r}: check link_selector")
    return Parsed(FetchStatus.ok, f"listing: {len(entries)} links", entries, follow)
