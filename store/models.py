"""The data model (DESIGN.md "Data"): typed SQLAlchemy 2 models; uniqueness lives in the database."""

from __future__ import annotations

import enum
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    CheckConstraint,
    Column,
    DateTime,
    Enum,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Table,
    Text,
    Unicode,
    UniqueConstraint,
    text,
    true,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from sqlalchemy.types import TypeDecorator

NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def utcnow() -> datetime:
    """The current time, timezone-aware UTC."""
    return datetime.now(UTC)


class UTCDateTime(TypeDecorator[datetime]):
    """Stores UTC, always returns timezone-aware UTC; refuses naive datetimes (they hide bugs)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given to the store: attach a timezone first")
        value = value.astimezone(UTC)
        # SQLite has no timezone type: store naive UTC so string order is time order.
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            return value.replace(tzinfo=UTC)
        return value.astimezone(UTC)


class Base(DeclarativeBase):
    """Declarative base with a naming convention so migrations name constraints the same everywhere."""

    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map = {datetime: UTCDateTime(), dict[str, Any]: JSON(), list[Any]: JSON()}


def _enum(cls: type[enum.Enum], name: str) -> Enum:
    return Enum(
        cls,
        name=name,
        native_enum=False,
        create_constraint=True,
        length=24,
        values_callable=lambda e: [m.value for m in e],
        validate_strings=True,
    )


class OutletKind(enum.StrEnum):
    press = "press"
    portal = "portal"
    agency = "agency"
    school = "school"
    social = "social"


class Tier(enum.StrEnum):
    city = "city"
    national = "national"


class FeedKind(enum.StrEnum):
    rss = "rss"
    atom = "atom"
    jsonfeed = "jsonfeed"
    sitemap = "sitemap"
    listing = "listing"
    social = "social"


class FetchStatus(enum.StrEnum):
    """Every way a fetch can end (issue 3); one per fetch, never a free-form string."""

    ok = "ok"
    not_modified = "not_modified"
    same_hash = "same_hash"
    http_error = "http_error"
    timeout = "timeout"
    dns_error = "dns_error"
    tls_error = "tls_error"
    connection_error = "connection_error"
    not_a_feed = "not_a_feed"
    empty = "empty"
    parse_error = "parse_error"
    too_large = "too_large"
    robots_denied = "robots_denied"
    bad_link = "bad_link"  # refused by the link policy before any connection (not http(s), private address)
    never = "never"  # not fetched yet


class DateSource(enum.StrEnum):
    feed = "feed"
    page_meta = "page_meta"
    page_text = "page_text"
    sitemap = "sitemap"
    none = "none"


class Origin(enum.StrEnum):
    feed = "feed"
    crawl = "crawl"
    social = "social"
    tip = "tip"


class ExtractionStatus(enum.StrEnum):
    ok = "ok"  # page fetched and extracted
    feed_only = "feed_only"  # kept from its feed entry; page retried on a later run
    failed = "failed"  # page given up after repeated attempts; still counts


class SnapshotKind(enum.StrEnum):
    """What a saved copy (Bản lưu) holds: the article page as fetched, or its feed entry when no page was read."""

    page = "page"
    feed_entry = "feed_entry"


class Relevance(enum.StrEnum):
    explicit = "explicit"
    task = "task"
    none = "none"


class ReviewStatus(enum.StrEnum):
    new = "new"
    in_progress = "in_progress"
    escalated = "escalated"
    resolved = "resolved"


class Verdict(enum.StrEnum):
    tin_gia = "tin_gia"
    tin_sai_su_that = "tin_sai_su_that"
    tin_xac_thuc = "tin_xac_thuc"
    khong_lien_quan = "khong_lien_quan"


class Role(enum.StrEnum):
    reviewer = "reviewer"
    supervisor = "supervisor"
    admin = "admin"


class JobStatus(enum.StrEnum):
    running = "running"
    ok = "ok"
    error = "error"
    missed = "missed"


class Outlet(Base):
    """A news source: press agency, portal, school site or social page."""

    __tablename__ = "outlet"

    id: Mapped[int] = mapped_column(primary_key=True)
    slug: Mapped[str] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    kind: Mapped[OutletKind] = mapped_column(_enum(OutletKind, "outlet_kind"))
    tier: Mapped[Tier] = mapped_column(_enum(Tier, "tier"))
    homepage: Mapped[str] = mapped_column(String(500))
    area: Mapped[str | None] = mapped_column(String(120))  # commune/ward for local portals and schools
    has_nq71_section: Mapped[bool] = mapped_column(Boolean, default=False)
    nq71_section_url: Mapped[str | None] = mapped_column(String(1000))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    # per-outlet extraction overrides (CSS/XPath selectors for title, text, date, author)
    selectors: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    feeds: Mapped[list[Feed]] = relationship(back_populates="outlet", order_by="Feed.id")


class Feed(Base):
    """One way into an outlet (feed, sitemap, listing page, social bridge) with its health record."""

    __tablename__ = "feed"
    __table_args__ = (Index("ix_feed_due", "active", "paused", "next_due_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    outlet_id: Mapped[int] = mapped_column(ForeignKey("outlet.id", ondelete="CASCADE"), index=True)
    url: Mapped[str] = mapped_column(String(1000), unique=True)
    kind: Mapped[FeedKind] = mapped_column(_enum(FeedKind, "feed_kind"))
    poll_minutes: Mapped[int] = mapped_column(Integer, default=30)
    # listing: link_selector, next_selector, max_pages; sitemap: recency_days; anything kind-specific
    options: Mapped[dict[str, Any]] = mapped_column(default=dict)
    active: Mapped[bool] = mapped_column(Boolean, default=True)  # False once removed from sources.toml
    paused: Mapped[bool] = mapped_column(Boolean, default=False)  # paused by an admin
    etag: Mapped[str | None] = mapped_column(String(500))
    last_modified: Mapped[str | None] = mapped_column(String(100))
    body_hash: Mapped[str | None] = mapped_column(String(64))
    status: Mapped[FetchStatus] = mapped_column(_enum(FetchStatus, "fetch_status"), default=FetchStatus.never)
    http_status: Mapped[int | None] = mapped_column(Integer)
    status_message: Mapped[str | None] = mapped_column(Text)
    last_attempt_at: Mapped[datetime | None] = mapped_column()
    last_success_at: Mapped[datetime | None] = mapped_column()
    last_new_item_at: Mapped[datetime | None] = mapped_column()
    failure_weight: Mapped[float] = mapped_column(Float, default=0.0)
    consecutive_failures: Mapped[int] = mapped_column(Integer, default=0)
    next_due_at: Mapped[datetime | None] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(default=utcnow)

    outlet: Mapped[Outlet] = relationship(back_populates="feeds")


class FetchEvent(Base):
    """One fetch of a feed and how it ended (a capped log, newest 30 per feed kept)."""

    __tablename__ = "fetch_event"
    __table_args__ = (Index("ix_fetch_event_feed_at", "feed_id", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    feed_id: Mapped[int] = mapped_column(ForeignKey("feed.id", ondelete="CASCADE"))
    at: Mapped[datetime] = mapped_column(default=utcnow)
    status: Mapped[FetchStatus] = mapped_column(_enum(FetchStatus, "fetch_status"))
    http_status: Mapped[int | None] = mapped_column(Integer)
    message: Mapped[str | None] = mapped_column(Text)
    duration_ms: Mapped[int | None] = mapped_column(Integer)
    items_seen: Mapped[int] = mapped_column(Integer, default=0)
    items_new: Mapped[int] = mapped_column(Integer, default=0)


class Article(Base):
    """One news item, unique by normalised URL; updated in place when the outlet revises it."""

    __tablename__ = "article"
    __table_args__ = (
        Index("ix_article_outlet_published", "outlet_id", "published_at"),
        Index("ix_article_outlet_title_hash", "outlet_id", "title_hash"),
        Index("ix_article_published", "published_at"),
        Index("ix_article_cluster", "cluster_id"),
        Index("ix_article_content_hash", "content_hash"),
        Index("ix_article_collected", "collected_at"),
        # covering index for weekly counts per outlet without reading article rows (report_0001)
        Index("ix_article_report", "published_at", "outlet_id", "copy_of_id", "id"),
        # undated items per outlet by collection time: a small partial index (report_0001)
        Index(
            "ix_article_undated", "collected_at", "outlet_id",
            sqlite_where=text("published_at IS NULL"), postgresql_where=text("published_at IS NULL"),
        ),
        # the classification workers' queue: only due rows are indexed (worker_0001)
        Index("ix_article_classify_due", "id", sqlite_where=text("classify_due"), postgresql_where=text("classify_due")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    url: Mapped[str] = mapped_column(String(1000), unique=True)  # normalised
    canonical_url: Mapped[str | None] = mapped_column(String(1000))
    outlet_id: Mapped[int] = mapped_column(ForeignKey("outlet.id", ondelete="CASCADE"))
    feed_id: Mapped[int | None] = mapped_column(ForeignKey("feed.id", ondelete="SET NULL"))
    title: Mapped[str] = mapped_column(Text, default="")
    summary: Mapped[str] = mapped_column(Text, default="")
    text: Mapped[str] = mapped_column(Text, default="")
    author: Mapped[str | None] = mapped_column(String(300))
    published_at: Mapped[datetime | None] = mapped_column()  # None = undated, counted apart
    date_source: Mapped[DateSource] = mapped_column(_enum(DateSource, "date_source"), default=DateSource.none)
    collected_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    revision: Mapped[int] = mapped_column(Integer, default=1)
    content_hash: Mapped[str | None] = mapped_column(String(64))
    title_hash: Mapped[str | None] = mapped_column(String(64))
    cluster_id: Mapped[int | None] = mapped_column(Integer)  # story: same event, any wording
    copy_of_id: Mapped[int | None] = mapped_column(ForeignKey("article.id", ondelete="SET NULL"), index=True)
    origin: Mapped[Origin] = mapped_column(_enum(Origin, "origin"), default=Origin.feed)
    extraction: Mapped[ExtractionStatus] = mapped_column(
        _enum(ExtractionStatus, "extraction_status"), default=ExtractionStatus.ok
    )
    page_attempts: Mapped[int] = mapped_column(Integer, default=0)
    engagement: Mapped[dict[str, Any] | None] = mapped_column(JSON)  # likes/shares/comments for social posts
    # to classify (new, or its text changed: a trigger sets it, worker_0001); a worker's claim and its expiry
    classify_due: Mapped[bool] = mapped_column(Boolean, default=True, server_default=true())
    classify_lease_until: Mapped[datetime | None] = mapped_column()
    classify_worker: Mapped[str | None] = mapped_column(String(120))

    outlet: Mapped[Outlet] = relationship()
    classification: Mapped[Classification | None] = relationship(back_populates="article", uselist=False)


class Classification(Base):
    """The classifier's judgement of one article, with the evidence that decided it."""

    __tablename__ = "classification"
    __table_args__ = (
        Index("ix_classification_relevance", "relevance"),
        Index("ix_classification_education", "is_education"),
        # covering index for weekly counts: the report never reads the wide JSON columns (report_0001)
        Index("ix_classification_report", "article_id", "is_education", "relevance", "theme_mask"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    article_id: Mapped[int] = mapped_column(ForeignKey("article.id", ondelete="CASCADE"), unique=True)
    model_version: Mapped[str] = mapped_column(String(64))
    is_education: Mapped[bool] = mapped_column(Boolean)
    education_score: Mapped[float] = mapped_column(Float)
    relevance: Mapped[Relevance] = mapped_column(_enum(Relevance, "relevance"))
    relevance_score: Mapped[float] = mapped_column(Float)
    theme_mask: Mapped[int] = mapped_column(Integer, default=0)  # bit (n-1) set for task group n; SQL-countable
    risk_score: Mapped[float] = mapped_column(Float, default=0.0)
    reasons: Mapped[list[Any]] = mapped_column(default=list)  # [{code, label, weight, evidence}]
    evidence: Mapped[dict[str, Any]] = mapped_column(default=dict)  # relevance phrases and sentences
    claim_matches: Mapped[list[Any]] = mapped_column(default=list)  # [{claim_id, similarity, level}]
    classified_at: Mapped[datetime] = mapped_column(default=utcnow)

    article: Mapped[Article] = relationship(back_populates="classification")

    @property
    def themes(self) -> list[int]:
        """Task groups 1-8 this article touches."""
        return Classification.themes_of(self.theme_mask)

    @staticmethod
    def themes_of(mask: int | None) -> list[int]:
        """The task groups 1-8 set in a theme_mask."""
        return [n for n in range(1, 9) if (mask or 0) & (1 << (n - 1))]

    @staticmethod
    def mask_of(themes: list[int]) -> int:
        """The theme_mask for a list of task groups 1-8."""
        mask = 0
        for n in themes:
            if not 1 <= n <= 8:
                raise ValueError(f"task group {n} is not in 1-8")
            mask |= 1 << (n - 1)
        return mask


class Claim(Base):
    """A confirmed false or distorted claim that later items are matched against."""

    __tablename__ = "claim"

    id: Mapped[int] = mapped_column(primary_key=True)
    text: Mapped[str] = mapped_column(Text)
    verdict: Mapped[Verdict] = mapped_column(_enum(Verdict, "verdict"))
    refutation_url: Mapped[str | None] = mapped_column(String(1000))
    author_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    source_article_id: Mapped[int | None] = mapped_column(ForeignKey("article.id", ondelete="SET NULL"))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class ClaimMatch(Base):
    """An article that repeats a registered claim, and how closely."""

    __tablename__ = "claim_match"
    __table_args__ = (UniqueConstraint("claim_id", "article_id", name="uq_claim_match_claim_article"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    claim_id: Mapped[int] = mapped_column(ForeignKey("claim.id", ondelete="CASCADE"))
    article_id: Mapped[int] = mapped_column(ForeignKey("article.id", ondelete="CASCADE"), index=True)
    similarity: Mapped[float] = mapped_column(Float)
    level: Mapped[str] = mapped_column(String(16))  # suggest | auto
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class User(Base):
    """A person who logs in to the review app."""

    __tablename__ = "user_account"

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str | None] = mapped_column(String(200))
    password_hash: Mapped[str] = mapped_column(String(300))
    role: Mapped[Role] = mapped_column(_enum(Role, "role"))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    failed_logins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[datetime | None] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_login_at: Mapped[datetime | None] = mapped_column()


class UserSession(Base):
    """A logged-in browser: the cookie carries a random token, the database only its SHA-256 (revocable)."""

    __tablename__ = "user_session"
    __table_args__ = (Index("ix_user_session_expires_at", "expires_at"),)

    token_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user_account.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime] = mapped_column()


class LoginThrottle(Base):
    """Failed logins from one client address in the current window (a throttle shared by all workers)."""

    __tablename__ = "login_throttle"

    address: Mapped[str] = mapped_column(String(64), primary_key=True)
    window_start: Mapped[datetime] = mapped_column()
    failures: Mapped[int] = mapped_column(Integer, default=0)


class ReviewItem(Base):
    """A possibly false item waiting for, or having had, a reviewer's decision."""

    __tablename__ = "review_item"
    __table_args__ = (
        Index("ix_review_item_status_priority", "status", "priority"),
        Index("ix_review_item_priority", "priority"),
        Index("ix_review_item_assignee_status", "assignee_id", "status"),
        Index("ix_review_item_created", "created_at"),
        # queue pages and counts per status are index-only scans over these copies (review_0002)
        Index(
            "ix_review_item_queue",
            "status", "priority", "outlet_id", "published_at", "risk_score", "theme_mask", "assignee_id",
        ),
        Index("ix_review_item_outlet_status", "outlet_id", "status"),
        CheckConstraint("priority >= 0", name="priority_nonneg"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    article_id: Mapped[int] = mapped_column(ForeignKey("article.id", ondelete="CASCADE"), unique=True)
    priority: Mapped[float] = mapped_column(Float, default=0.0)
    status: Mapped[ReviewStatus] = mapped_column(_enum(ReviewStatus, "review_status"), default=ReviewStatus.new)
    verdict: Mapped[Verdict | None] = mapped_column(_enum(Verdict, "verdict"))
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    note: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    first_action_at: Mapped[datetime | None] = mapped_column()
    resolved_at: Mapped[datetime | None] = mapped_column()
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    version: Mapped[int] = mapped_column(Integer, default=1)  # optimistic lock: two reviewers at once
    # Copies of article.outlet_id/published_at and classification.risk_score/theme_mask, kept by database
    # triggers (migration review_0002): the queue filters and counts per status read one narrow table.
    # Writers never set them; they are read-only here.
    outlet_id: Mapped[int | None] = mapped_column(Integer)
    published_at: Mapped[datetime | None] = mapped_column()
    risk_score: Mapped[float | None] = mapped_column(Float)
    theme_mask: Mapped[int | None] = mapped_column(Integer)

    article: Mapped[Article] = relationship()
    assignee: Mapped[User | None] = relationship()
    events: Mapped[list[ReviewEvent]] = relationship(back_populates="item", order_by="ReviewEvent.id")

    __mapper_args__ = {"version_id_col": version}


class ReviewEvent(Base):
    """Append-only audit row: who did what to a review item, when, from what to what."""

    __tablename__ = "review_event"
    __table_args__ = (Index("ix_review_event_item_at", "review_item_id", "at"), Index("ix_review_event_at", "at"))

    id: Mapped[int] = mapped_column(primary_key=True)
    review_item_id: Mapped[int] = mapped_column(ForeignKey("review_item.id", ondelete="CASCADE"))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    at: Mapped[datetime] = mapped_column(default=utcnow)
    action: Mapped[str] = mapped_column(String(32))
    before: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    note: Mapped[str | None] = mapped_column(Text)

    item: Mapped[ReviewItem] = relationship(back_populates="events")
    user: Mapped[User | None] = relationship()


class LabelCorrection(Base):
    """Append-only: a reviewer's correction of the classifier's labels on one article (training data + audit)."""

    __tablename__ = "label_correction"
    __table_args__ = (Index("ix_label_correction_article_at", "article_id", "at"), Index("ix_label_correction_at", "at"))

    id: Mapped[int] = mapped_column(primary_key=True)
    article_id: Mapped[int] = mapped_column(ForeignKey("article.id", ondelete="CASCADE"))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("user_account.id", ondelete="SET NULL"))
    at: Mapped[datetime] = mapped_column(default=utcnow)
    is_education: Mapped[bool] = mapped_column(Boolean)
    relevance: Mapped[Relevance] = mapped_column(_enum(Relevance, "relevance"))
    theme_mask: Mapped[int] = mapped_column(Integer, default=0)  # task groups 1-8, as Classification.theme_mask
    before: Mapped[dict[str, Any] | None] = mapped_column(JSON)  # the classifier's labels when corrected
    note: Mapped[str | None] = mapped_column(Text)

    article: Mapped[Article] = relationship()
    user: Mapped[User | None] = relationship()

    @property
    def themes(self) -> list[int]:
        """Task groups 1-8 the reviewer set."""
        return Classification.themes_of(self.theme_mask)


class JobRun(Base):
    """One run (or missed run) of a scheduled job."""

    __tablename__ = "job_run"
    __table_args__ = (Index("ix_job_run_job_started", "job_id", "started_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    job_id: Mapped[str] = mapped_column(String(64))
    started_at: Mapped[datetime] = mapped_column(default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column()
    status: Mapped[JobStatus] = mapped_column(_enum(JobStatus, "job_status"), default=JobStatus.running)
    stats: Mapped[dict[str, Any]] = mapped_column(default=dict)
    message: Mapped[str | None] = mapped_column(Text)


class CrawlLock(Base):
    """A lock held in the database (one row per name), so two crawls never run at once, even on two machines."""

    __tablename__ = "crawl_lock"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    owner: Mapped[str] = mapped_column(String(200))  # host:pid:token of the holder
    acquired_at: Mapped[datetime] = mapped_column()
    expires_at: Mapped[datetime] = mapped_column()  # renewed while the holder runs; a dead holder's lapses


class Alert(Base):
    """A coverage or feed-health alert (volume out of range, zero items, feed failing)."""

    __tablename__ = "alert"
    __table_args__ = (
        UniqueConstraint("kind", "outlet_id", "feed_id", "period", name="uq_alert_kind_target_period"),
        Index("ix_alert_created", "created_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(32))  # volume_low | volume_high | zero_items | feed_failing
    outlet_id: Mapped[int | None] = mapped_column(ForeignKey("outlet.id", ondelete="CASCADE"))
    feed_id: Mapped[int | None] = mapped_column(ForeignKey("feed.id", ondelete="CASCADE"))
    period: Mapped[str] = mapped_column(String(16))  # ISO week "2026-W47" or a day "2026-11-26"
    message: Mapped[str] = mapped_column(Text)
    details: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column()


class ArticleSnapshot(Base):
    """Bản lưu: what the crawler fetched for an article (compressed), kept because questioned posts get deleted."""

    __tablename__ = "article_snapshot"
    __table_args__ = (Index("ix_article_snapshot_article_fetched", "article_id", "fetched_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    article_id: Mapped[int] = mapped_column(ForeignKey("article.id", ondelete="CASCADE"))
    fetched_at: Mapped[datetime] = mapped_column()
    url: Mapped[str] = mapped_column(String(1000))  # the address fetched (the live link)
    kind: Mapped[SnapshotKind] = mapped_column(_enum(SnapshotKind, "snapshot_kind"))
    content_type: Mapped[str] = mapped_column(String(200))  # as the server sent it
    body: Mapped[bytes] = mapped_column(LargeBinary)  # zlib-compressed bytes as fetched (store/snapshots.py)
    raw_size: Mapped[int] = mapped_column(Integer)  # bytes before compression
    content_hash: Mapped[str] = mapped_column(String(64))  # sha256 of the bytes as fetched
    title: Mapped[str] = mapped_column(Text, default="")
    text: Mapped[str] = mapped_column(Text, default="")  # the extracted text (the feed summary for a feed entry)


# APScheduler's job store table (scheduler.py), created by migration report_0001 so autogenerate
# knows it; the columns are exactly those SQLAlchemyJobStore (APScheduler 3.x) defines.
apscheduler_jobs = Table(
    "apscheduler_jobs",
    Base.metadata,
    Column("id", Unicode(191), primary_key=True),
    Column("next_run_time", Float(25), index=True),
    Column("job_state", LargeBinary, nullable=False),
)
