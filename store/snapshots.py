"""Bản lưu: what the crawler fetched for each article, compressed, so a deleted post can still be read."""

from __future__ import annotations

import hashlib
import zlib
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session, defer

from store.models import ArticleSnapshot, SnapshotKind

# zlib level 6 (the default): HTML pages shrink about 4-5x; level 9 buys a few percent for twice the CPU.
LEVEL = 6


@dataclass(frozen=True)
class StorageCost:
    """What the saved copies take: how many, bytes as fetched and bytes stored."""

    snapshots: int
    articles: int
    raw_bytes: int
    stored_bytes: int


def save_snapshot(
    session: Session, article_id: int, url: str, fetched_at: datetime, kind: SnapshotKind, content_type: str,
    raw: bytes, title: str, text: str,
) -> ArticleSnapshot | None:
    """Keep the bytes as fetched with their extracted text; None when the article already has these bytes."""
    digest = hashlib.sha256(raw).hexdigest()
    known = select(ArticleSnapshot.id).where(ArticleSnapshot.article_id == article_id, ArticleSnapshot.content_hash == digest)
    if session.scalar(known.limit(1)) is not None:
        return None
    snapshot = ArticleSnapshot(
        article_id=article_id, fetched_at=fetched_at, url=url, kind=kind, content_type=content_type[:200],
        body=zlib.compress(raw, LEVEL), raw_size=len(raw), content_hash=digest, title=title, text=text,
    )
    session.add(snapshot)
    return snapshot


def snapshots_of(session: Session, article_id: int, limit: int = 100) -> list[ArticleSnapshot]:
    """An article's saved copies, newest first."""
    # the compressed body loads only when asked for (the raw download): pages show the extracted text
    stmt = select(ArticleSnapshot).options(defer(ArticleSnapshot.body)).where(ArticleSnapshot.article_id == article_id)
    return list(session.scalars(stmt.order_by(ArticleSnapshot.fetched_at.desc(), ArticleSnapshot.id.desc()).limit(limit)))


def latest_snapshot(session: Session, article_id: int) -> ArticleSnapshot | None:
    """The newest saved copy of an article, or None."""
    return next(iter(snapshots_of(session, article_id, limit=1)), None)


def snapshot_of(session: Session, article_id: int, snapshot_id: int) -> ArticleSnapshot | None:
    """One saved copy of this article (None for another article's copy or an unknown id)."""
    snapshot = session.get(ArticleSnapshot, snapshot_id) if 0 < snapshot_id < 2**31 else None
    return snapshot if snapshot is not None and snapshot.article_id == article_id else None


def raw_bytes(snapshot: ArticleSnapshot) -> bytes:
    """The bytes as fetched (decompressed)."""
    return zlib.decompress(snapshot.body)


def storage_cost(session: Session) -> StorageCost:
    """Counts and sizes of every saved copy (bytes as fetched vs. compressed)."""
    row = session.execute(
        select(
            func.count(ArticleSnapshot.id), func.count(func.distinct(ArticleSnapshot.article_id)),
            func.coalesce(func.sum(ArticleSnapshot.raw_size), 0), func.coalesce(func.sum(func.length(ArticleSnapshot.body)), 0),
        )
    ).one()
    return StorageCost(int(row[0]), int(row[1]), int(row[2]), int(row[3]))
