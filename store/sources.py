"""The sources registry: read and check ``sources.toml``, then sync it into the database idempotently."""

from __future__ import annotations

import re
import tomllib
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import select
from sqlalchemy.orm import Session

from store.models import Feed, FeedKind, Outlet, OutletKind, Tier

SLUG_RE = re.compile(r"^[a-z0-9][a-z0-9-]{0,63}$")
OUTLET_KEYS = {"slug", "name", "kind", "tier", "homepage", "area", "has_nq71_section", "nq71_section_url", "selectors", "feed"}
FEED_KEYS = {"url", "kind", "poll_minutes"}
# kind-specific feed options, kept in Feed.options (listing selectors, sitemap cut-off, ...)
FEED_OPTION_KEYS = {
    "link_selector",  # listing: CSS or XPath (starting with /) selecting article links
    "next_selector",  # listing: the "next page" link
    "max_pages",  # listing: how many listing pages to follow
    "recency_days",  # sitemap: ignore entries older than this
    "label",  # a human name for the feed ("Chuyên mục Giáo dục")
    "entry_only",  # social/feeds: do not fetch entry pages (bridges give the whole post)
}
SELECTOR_KEYS = {"title", "text", "date", "author"}
DEFAULT_POLL = {"listing": 60, "sitemap": 60}


class SourcesError(ValueError):
    """sources.toml cannot be used; ``problems`` lists each entry and what to fix."""

    def __init__(self, path: Path, problems: list[str]) -> None:
        self.path = path
        self.problems = problems
        super().__init__(f"{path}: " + "; ".join(problems))


@dataclass(frozen=True)
class FeedSpec:
    url: str
    kind: FeedKind
    poll_minutes: int
    options: dict[str, Any]


@dataclass(frozen=True)
class OutletSpec:
    slug: str
    name: str
    kind: OutletKind
    tier: Tier
    homepage: str
    area: str | None
    has_nq71_section: bool
    nq71_section_url: str | None
    selectors: dict[str, str]
    feeds: tuple[FeedSpec, ...]


@dataclass
class SyncResult:
    """What a sync changed; all zeros but ``unchanged`` on a repeated sync."""

    outlets_added: int = 0
    outlets_updated: int = 0
    outlets_deactivated: int = 0
    feeds_added: int = 0
    feeds_updated: int = 0
    feeds_deactivated: int = 0
    unchanged: int = 0
    changes: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(self.changes)


def _valid_url(url: object) -> bool:
    if not isinstance(url, str) or not url.strip() or any(c.isspace() for c in url):
        return False
    parts = urlsplit(url)
    return parts.scheme in {"http", "https"} and bool(parts.hostname)


def _choice(value: object, enum_cls: type[OutletKind] | type[Tier] | type[FeedKind]) -> Any:
    if not isinstance(value, str):
        return None
    try:
        return enum_cls(value)
    except ValueError:
        return None


def sources_file(path: Path) -> Path:
    """`path`, or the shipped config/sources.toml when NQ71_SOURCES' default is not in the working folder."""
    if path == Path("config/sources.toml") and not path.exists():
        return Path(str(resources.files("config") / "sources.toml"))
    return path


def parse_sources(path: Path) -> list[OutletSpec]:
    """Read and check a sources file; raise SourcesError listing every problem (nothing is written)."""
    path = sources_file(path)
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise SourcesError(path, ["file not found: set NQ71_SOURCES or create it (see README, 'Adding an outlet')"]) from None
    except UnicodeDecodeError:
        raise SourcesError(path, ["not UTF-8 text: save the file as UTF-8"]) from None
    except tomllib.TOMLDecodeError as exc:
        raise SourcesError(path, [f"not valid TOML ({exc}): fix the syntax there"]) from None
    problems: list[str] = []
    outlets_raw = raw.get("outlet")
    unknown_top = set(raw) - {"outlet"}
    if unknown_top:
        problems.append(f"unknown top-level key(s) {sorted(unknown_top)}: only [[outlet]] tables are allowed")
    if not isinstance(outlets_raw, list) or not outlets_raw:
        problems.append("no [[outlet]] entries: add at least one outlet")
        raise SourcesError(path, problems)
    specs: list[OutletSpec] = []
    seen_slugs: dict[str, int] = {}
    seen_urls: dict[str, str] = {}
    for n, entry in enumerate(outlets_raw, start=1):
        where = f"outlet #{n}"
        if not isinstance(entry, dict):
            problems.append(f"{where}: must be a table ([[outlet]])")
            continue
        slug = entry.get("slug")
        if isinstance(slug, str):
            where = f"outlet #{n} ({slug!r})"
        before = len(problems)
        unknown = set(entry) - OUTLET_KEYS
        if unknown:
            problems.append(f"{where}: unknown key(s) {sorted(unknown)}; allowed: {sorted(OUTLET_KEYS)}")
        if not isinstance(slug, str) or not SLUG_RE.match(slug):
            problems.append(f"{where}: slug {slug!r} must be lowercase letters, digits and '-' (e.g. 'bao-hai-phong')")
        elif slug in seen_slugs:
            problems.append(f"{where}: duplicate slug {slug!r} (also outlet #{seen_slugs[slug]}): give each outlet its own slug")
        else:
            seen_slugs[slug] = n
        name = entry.get("name")
        if not isinstance(name, str) or not name.strip():
            problems.append(f"{where}: name is missing: give the outlet's name")
        kind = _choice(entry.get("kind"), OutletKind)
        if kind is None:
            problems.append(f"{where}: kind {entry.get('kind')!r} is unknown; use one of {', '.join(k.value for k in OutletKind)}")
        tier = _choice(entry.get("tier"), Tier)
        if tier is None:
            problems.append(f"{where}: tier {entry.get('tier')!r} is unknown; use one of {', '.join(t.value for t in Tier)}")
        homepage = entry.get("homepage")
        if not _valid_url(homepage):
            problems.append(f"{where}: homepage {homepage!r} is not a valid http(s) URL")
        section_url = entry.get("nq71_section_url")
        if section_url is not None and not _valid_url(section_url):
            problems.append(f"{where}: nq71_section_url {section_url!r} is not a valid http(s) URL")
        has_section = entry.get("has_nq71_section", section_url is not None)
        if not isinstance(has_section, bool):
            problems.append(f"{where}: has_nq71_section must be true or false")
        area = entry.get("area")
        if area is not None and not isinstance(area, str):
            problems.append(f"{where}: area must be text")
        selectors = entry.get("selectors", {})
        if not isinstance(selectors, dict) or set(selectors) - SELECTOR_KEYS or not all(isinstance(v, str) for v in selectors.values()):
            problems.append(f"{where}: selectors must be a table with text values for {sorted(SELECTOR_KEYS)}")
        feeds: list[FeedSpec] = []
        feeds_raw = entry.get("feed", [])
        if not isinstance(feeds_raw, list):
            problems.append(f"{where}: feed must be [[outlet.feed]] tables")
            feeds_raw = []
        for m, feed in enumerate(feeds_raw, start=1):
            fwhere = f"{where} feed #{m}"
            if not isinstance(feed, dict):
                problems.append(f"{fwhere}: must be a table ([[outlet.feed]])")
                continue
            unknown = set(feed) - FEED_KEYS - FEED_OPTION_KEYS
            if unknown:
                problems.append(f"{fwhere}: unknown key(s) {sorted(unknown)}; allowed: {sorted(FEED_KEYS | FEED_OPTION_KEYS)}")
            url = feed.get("url")
            if not _valid_url(url):
                problems.append(f"{fwhere}: url {url!r} is not a valid http(s) URL")
            elif url in seen_urls:
                problems.append(f"{fwhere}: url {url!r} is already listed under {seen_urls[url]}: list each feed once")
            else:
                seen_urls[str(url)] = where
            fkind = _choice(feed.get("kind"), FeedKind)
            if fkind is None:
                problems.append(f"{fwhere}: kind {feed.get('kind')!r} is unknown; use one of {', '.join(k.value for k in FeedKind)}")
            poll = feed.get("poll_minutes", DEFAULT_POLL.get(str(feed.get("kind")), 30))
            if not isinstance(poll, int) or isinstance(poll, bool) or not 1 <= poll <= 10080:
                problems.append(f"{fwhere}: poll_minutes {poll!r} must be a whole number from 1 to 10080")
            if fkind is FeedKind.listing and not isinstance(feed.get("link_selector"), str):
                problems.append(f"{fwhere}: a listing feed needs link_selector (CSS or XPath for article links)")
            max_pages = feed.get("max_pages", 1)
            if not isinstance(max_pages, int) or isinstance(max_pages, bool) or not 1 <= max_pages <= 100:
                problems.append(f"{fwhere}: max_pages {max_pages!r} must be a whole number from 1 to 100")
            recency = feed.get("recency_days", 30)
            if not isinstance(recency, int) or isinstance(recency, bool) or recency < 1:
                problems.append(f"{fwhere}: recency_days {recency!r} must be a whole number >= 1")
            options = {k: v for k, v in feed.items() if k in FEED_OPTION_KEYS}
            if fkind is not None and isinstance(poll, int):
                feeds.append(FeedSpec(url=str(url), kind=fkind, poll_minutes=poll, options=options))
        if len(problems) == before:
            specs.append(
                OutletSpec(
                    slug=str(slug),
                    name=str(name).strip(),
                    kind=kind,
                    tier=tier,
                    homepage=str(homepage),
                    area=area,
                    has_nq71_section=bool(has_section),
                    nq71_section_url=section_url,
                    selectors=dict(selectors),
                    feeds=tuple(feeds),
                )
            )
    if problems:
        raise SourcesError(path, problems)
    return specs


def _assign(obj: Any, values: dict[str, Any]) -> list[str]:
    """Set attributes that differ; return the names changed (so a repeated sync writes nothing)."""
    changed = []
    for key, value in values.items():
        if getattr(obj, key) != value:
            setattr(obj, key, value)
            changed.append(key)
    return changed


def sync_sources(session: Session, specs: list[OutletSpec]) -> SyncResult:
    """Make the database match the specs: update by slug and url; deactivate (never delete) what is gone."""
    result = SyncResult()
    outlets = {o.slug: o for o in session.scalars(select(Outlet))}
    feeds = {f.url: f for f in session.scalars(select(Feed))}
    wanted_feeds: set[str] = set()
    for spec in specs:
        values = {
            "name": spec.name,
            "kind": spec.kind,
            "tier": spec.tier,
            "homepage": spec.homepage,
            "area": spec.area,
            "has_nq71_section": spec.has_nq71_section,
            "nq71_section_url": spec.nq71_section_url,
            "selectors": spec.selectors,
            "active": True,
        }
        outlet = outlets.get(spec.slug)
        if outlet is None:
            outlet = Outlet(slug=spec.slug, **values)
            session.add(outlet)
            session.flush()
            outlets[spec.slug] = outlet
            result.outlets_added += 1
            result.changes.append(f"+ outlet {spec.slug}")
        elif changed := _assign(outlet, values):
            result.outlets_updated += 1
            result.changes.append(f"~ outlet {spec.slug}: {', '.join(changed)}")
        else:
            result.unchanged += 1
        for fspec in spec.feeds:
            wanted_feeds.add(fspec.url)
            fvalues = {
                "outlet_id": outlet.id,
                "kind": fspec.kind,
                "poll_minutes": fspec.poll_minutes,
                "options": fspec.options,
                "active": True,
            }
            feed = feeds.get(fspec.url)
            if feed is None:
                session.add(Feed(url=fspec.url, **fvalues))
                result.feeds_added += 1
                result.changes.append(f"+ feed {fspec.url}")
            elif changed := _assign(feed, fvalues):
                result.feeds_updated += 1
                result.changes.append(f"~ feed {fspec.url}: {', '.join(changed)}")
            else:
                result.unchanged += 1
    wanted_slugs = {s.slug for s in specs}
    for slug, outlet in outlets.items():
        if slug not in wanted_slugs and outlet.active:
            outlet.active = False
            result.outlets_deactivated += 1
            result.changes.append(f"- outlet {slug} (deactivated, history kept)")
    for url, feed in feeds.items():
        if url not in wanted_feeds and feed.active:
            feed.active = False
            result.feeds_deactivated += 1
            result.changes.append(f"- feed {url} (deactivated, history kept)")
    session.flush()
    return result
