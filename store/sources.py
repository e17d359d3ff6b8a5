"""The sources registry: read and check ``sources.toml``, then sync it into the database idempotently."""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import urlsplit

from pydantic import AfterValidator, BaseModel, ConfigDict, Field, StrictBool, StringConstraints, ValidationError, model_validator
from pydantic.types import Strict
from pydantic_core import ErrorDetails, PydanticCustomError

from sqlalchemy import select
from sqlalchemy.orm import Session

from store.models import Feed, FeedKind, Outlet, OutletKind, Tier

SLUG_PATTERN = r"^[a-z0-9][a-z0-9-]{0,63}$"
DEFAULT_POLL = {"listing": 60, "sitemap": 60}  # minutes; other kinds: 30
# kind-specific feed options, kept in Feed.options (listing selectors, sitemap cut-off, ...)
FEED_OPTION_KEYS = {"link_selector", "next_selector", "max_pages", "recency_days", "label", "entry_only"}


class SourcesError(ValueError):
    """sources.toml cannot be used; ``problems`` lists each entry and what to fix."""

    def __init__(self, path: Path, problems: list[str]) -> None:
        self.path = path
        self.problems = problems
        super().__init__(f"{path}: " + "; ".join(problems))


def _http_url(value: str) -> str:
    """An absolute http(s) URL without spaces (anything else would never be fetched)."""
    parts = urlsplit(value)
    if not value.strip() or any(c.isspace() for c in value) or parts.scheme not in {"http", "https"} or not parts.hostname:
        raise PydanticCustomError("nq71_url", "không phải địa chỉ http(s) hợp lệ / is not a valid http(s) URL")
    return value


HttpUrlText = Annotated[str, Strict(), AfterValidator(_http_url)]
Whole = Annotated[int, Strict()]
Slug = Annotated[str, Strict(), StringConstraints(pattern=SLUG_PATTERN)]
Text = Annotated[str, Strict()]


class FeedSpec(BaseModel):
    """One [[outlet.feed]] entry: an entry point of an outlet (rss, atom, jsonfeed, sitemap, listing, social)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    url: HttpUrlText
    kind: FeedKind
    poll_minutes: Annotated[Whole, Field(ge=1, le=10080)]  # unset: the kind's default (_default_poll)
    link_selector: Text | None = None  # listing: CSS or XPath (starting with /) selecting article links
    next_selector: Text | None = None  # listing: the "next page" link
    max_pages: Annotated[Whole, Field(ge=1, le=100)] = 1  # listing: how many listing pages to follow
    recency_days: Annotated[Whole, Field(ge=1)] = 30  # sitemap: ignore entries older than this
    label: Text | None = None  # a human name for the feed ("Chuyên mục Giáo dục")
    entry_only: StrictBool = False  # social/feeds: do not fetch entry pages (bridges give the whole post)

    @model_validator(mode="before")
    @classmethod
    def _default_poll(cls, data: Any) -> Any:
        """Listing and sitemap feeds are polled hourly unless told; others every 30 minutes."""
        if isinstance(data, dict) and "poll_minutes" not in data:
            return {**data, "poll_minutes": DEFAULT_POLL.get(str(data.get("kind")), 30)}
        return data

    @model_validator(mode="after")
    def _listing_has_links(self) -> FeedSpec:
        if self.kind is FeedKind.listing and not self.link_selector:
            raise PydanticCustomError(
                "nq71_listing", "feed listing cần link_selector (CSS hoặc XPath chọn link bài) / a listing feed needs link_selector (CSS or XPath for article links)"
            )
        return self

    @property
    def options(self) -> dict[str, Any]:
        """The kind-specific options the file set (stored as Feed.options)."""
        return self.model_dump(include=FEED_OPTION_KEYS, exclude_unset=True)


class OutletSpec(BaseModel):
    """One [[outlet]] entry: a newspaper, portal, agency, school or social page, with its feeds."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    slug: Slug
    name: Annotated[Text, StringConstraints(strip_whitespace=True, min_length=1)]
    kind: OutletKind
    tier: Tier
    homepage: HttpUrlText
    area: Text | None = None
    has_nq71_section: StrictBool  # unset: true when nq71_section_url is given (_section_flag)
    nq71_section_url: HttpUrlText | None = None
    selectors: dict[Literal["title", "text", "date", "author"], Text] = {}
    feeds: tuple[FeedSpec, ...] = Field(default=(), alias="feed")

    @model_validator(mode="before")
    @classmethod
    def _section_flag(cls, data: Any) -> Any:
        """An outlet with an NQ71 section URL has an NQ71 section unless the file says otherwise."""
        if isinstance(data, dict) and "has_nq71_section" not in data:
            return {**data, "has_nq71_section": data.get("nq71_section_url") is not None}
        return data


class SourcesFile(BaseModel):
    """The whole file: only [[outlet]] tables, at least one."""

    model_config = ConfigDict(extra="forbid")

    outlet: Annotated[list[dict[str, Any]], Field(min_length=1)]


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


# pydantic's error types in the words a city official can act on (Vietnamese / English); {…} from its ctx
_WHY = {
    "missing": "thiếu, hãy điền / is missing: add it",
    "extra_forbidden": "khóa không có trong mẫu, kiểm tra chính tả / unknown key: check the spelling",
    "string_pattern_mismatch": "chỉ gồm chữ thường không dấu, số và '-' (vd. 'bao-hai-phong') / must be lowercase letters, digits and '-' (e.g. 'bao-hai-phong')",
    "string_too_short": "không được để trống / must not be empty",
    "string_type": "phải là chữ trong ngoặc kép / must be text in quotes",
    "int_type": "phải là số nguyên / must be a whole number",
    "bool_type": "phải là true hoặc false / must be true or false",
    "dict_type": "phải là bảng / must be a table",
    "model_type": "phải là bảng / must be a table",
    "tuple_type": "phải là các bảng [[outlet.feed]] / must be [[outlet.feed]] tables",
    "list_type": "phải là các bảng [[outlet]] / must be [[outlet]] tables",
    "too_short": "chưa có mục nào, thêm ít nhất một [[outlet]] / no entries: add at least one [[outlet]]",
    "enum": "không có loại này; dùng một trong / is unknown; use one of {expected}",
    "literal_error": "không dùng được; dùng một trong / is not allowed; use one of {expected}",
    "greater_than_equal": "phải từ {ge} trở lên / must be at least {ge}",
    "less_than_equal": "phải không quá {le} / must be at most {le}",
}


def _why(error: ErrorDetails) -> str:
    """One error's fix, Vietnamese / English."""
    ctx = {k: str(v).replace("'", "") for k, v in error.get("ctx", {}).items()}
    template = _WHY.get(error["type"])
    return template.format(**ctx) if template else str(error["msg"])


def _where(n: int, entry: dict[str, Any], loc: tuple[int | str, ...]) -> str:
    """'outlet #2 'vnexpress', feed #1, poll_minutes': the entry and the field an error is about."""
    slug = entry.get("slug")
    parts = [f"outlet #{n}" + (f" {slug!r}" if isinstance(slug, str) else "")]
    for i, step in enumerate(loc):
        if isinstance(step, int) and i and loc[i - 1] == "feed":
            parts[-1] = f"feed #{step + 1}"
        elif step == "feed" and i + 1 < len(loc) and isinstance(loc[i + 1], int):
            parts.append("feed")
        elif step != "[key]":  # a bad key in a table: its name is the step before
            parts.append(str(step))
    return ", ".join(parts)


def _allowed(loc: tuple[int | str, ...]) -> str:
    """The keys a table may hold, for an unknown-key message."""
    model = FeedSpec if "feed" in loc else OutletSpec
    return ", ".join(f.alias or name for name, f in model.model_fields.items())


def _problem(n: int, entry: dict[str, Any], error: ErrorDetails) -> str:
    """One line per problem: the outlet, the field, the value found and what to do."""
    loc = tuple(error["loc"])
    where = _where(n, entry, loc)
    quiet = error["type"] == "missing" or isinstance(error["input"], dict) or loc[-1:] == ("[key]",)
    shown = "" if quiet else f" = {error['input']!r}"
    extra = f"; allowed: {_allowed(loc)}" if error["type"] == "extra_forbidden" else ""
    return f"{where}{shown}: {_why(error)}{extra}"


def _read_toml(path: Path) -> dict[str, Any]:
    """The file's TOML, or SourcesError saying how to make it readable."""
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise SourcesError(path, ["không thấy tệp / file not found: set NQ71_SOURCES or create it (see docs/adding-outlets.md)"]) from None
    except UnicodeDecodeError:
        raise SourcesError(path, ["không phải văn bản UTF-8 / not UTF-8 text: save the file as UTF-8"]) from None
    except tomllib.TOMLDecodeError as exc:
        raise SourcesError(path, [f"sai cú pháp TOML / not valid TOML ({exc}): fix the syntax there"]) from None


def _repeats(entries: list[dict[str, Any]]) -> list[str]:
    """Slugs and feed URLs listed twice (each must be unique in the database too)."""
    problems: list[str] = []
    slugs: dict[Any, int] = {}
    urls: dict[Any, str] = {}
    for n, entry in enumerate(entries, start=1):
        slug = entry.get("slug")
        if isinstance(slug, str) and slug in slugs:
            problems.append(f"outlet #{n} {slug!r}, slug: trùng với outlet #{slugs[slug]} / duplicate slug {slug!r} (also outlet #{slugs[slug]}): give each outlet its own slug")
        slugs.setdefault(slug, n)
        feeds = entry.get("feed", [])
        for m, feed in enumerate(feeds if isinstance(feeds, list) else [], start=1):
            url = feed.get("url") if isinstance(feed, dict) else None
            if isinstance(url, str) and url in urls:
                problems.append(f"outlet #{n} {slug!r}, feed #{m}, url = {url!r}: đã có ở {urls[url]} / is already listed under {urls[url]}: list each feed once")
            urls.setdefault(url, f"outlet #{n}")
    return problems


def sources_file(path: Path) -> Path:
    """`path`, or the shipped config/sources.toml when NQ71_SOURCES' default is not in the working folder."""
    if path == Path("config/sources.toml") and not path.exists():
        return Path(str(resources.files("config") / "sources.toml"))
    return path


def parse_sources(path: Path) -> list[OutletSpec]:
    """Read and check a sources file; raise SourcesError listing every problem (nothing is written)."""
    path = sources_file(path)
    try:
        entries = SourcesFile.model_validate(_read_toml(path)).outlet
    except ValidationError as exc:
        raise SourcesError(path, [f"{'.'.join(map(str, e['loc']))}: {_why(e)}" for e in exc.errors()]) from None
    problems: list[str] = []
    specs: list[OutletSpec] = []
    for n, entry in enumerate(entries, start=1):
        try:
            specs.append(OutletSpec.model_validate(entry))
        except ValidationError as exc:
            problems.extend(_problem(n, entry, e) for e in exc.errors())
    problems.extend(_repeats(entries))
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
