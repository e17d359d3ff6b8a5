"""The classification queue: claim due articles with a lease, confirm a batch, mark stale ones (session first).

PostgreSQL: a claim is ``UPDATE … WHERE id IN (SELECT … FOR UPDATE SKIP LOCKED)``, so workers on many machines
never wait for each other or take the same row. SQLite: the same statement takes the single write lock
(WAL keeps readers going); ``with_for_update`` renders nothing there.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, and_, func, or_, select, update
from sqlalchemy.orm import Session, selectinload

from store.models import Article, Classification, utcnow


@dataclass(frozen=True)
class QueueState:
    """How many articles are due: free to claim now, and held by a live lease."""

    free: int
    leased: int


def _claimable(now: datetime) -> ColumnElement[bool]:
    return and_(Article.classify_due.is_(True),
                or_(Article.classify_lease_until.is_(None), Article.classify_lease_until < now))


def claim_batch(session: Session, worker: str, limit: int, lease_seconds: float, now: datetime | None = None) -> list[int]:
    """Lease up to `limit` due articles (oldest first) to `worker`; their ids. Commit right after."""
    now = now or utcnow()
    pick = (
        select(Article.id).where(_claimable(now)).order_by(Article.id).limit(limit)
        .with_for_update(skip_locked=True)
    )
    stmt = (
        update(Article)
        .where(Article.id.in_(pick.scalar_subquery()))
        .values(classify_worker=worker, classify_lease_until=now + timedelta(seconds=lease_seconds))
        .returning(Article.id)
        .execution_options(synchronize_session=False)
    )
    return sorted(session.scalars(stmt))


def load_articles(session: Session, ids: Sequence[int]) -> list[Article]:
    """The claimed articles with their outlets, by id."""
    if not ids:
        return []
    stmt = select(Article).where(Article.id.in_(list(ids))).options(selectinload(Article.outlet)).order_by(Article.id)
    return list(session.scalars(stmt))


def confirm_batch(session: Session, worker: str, ids: Sequence[int]) -> list[int]:
    """Clear `classify_due` where `worker`'s claim still stands; the confirmed ids (write their results, same transaction).

    A claim is gone when its lease expired and another worker took the row, or when the text changed
    meanwhile (the worker_0001 trigger): those results are stale and must not be written.
    """
    if not ids:
        return []
    stmt = (
        update(Article)
        .where(Article.id.in_(list(ids)), Article.classify_worker == worker, Article.classify_due.is_(True))
        .values(classify_due=False, classify_worker=None, classify_lease_until=None)
        .returning(Article.id)
        .execution_options(synchronize_session=False)
    )
    return sorted(session.scalars(stmt))


RESULT_WRITES_LOCK = 71_014  # PostgreSQL advisory lock key: one worker writes results (and story moves) at a time


def lock_result_writes(session: Session) -> None:
    """Make this transaction the only one writing results until it ends: PostgreSQL takes an advisory lock;
    SQLite has one writer anyway (its lock comes with the transaction's first write)."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(select(func.pg_advisory_xact_lock(RESULT_WRITES_LOCK)))


def queue_state(session: Session, now: datetime | None = None) -> QueueState:
    """Due articles free to claim and under a live lease."""
    now = now or utcnow()
    free = session.scalar(select(func.count()).select_from(Article).where(_claimable(now))) or 0
    due = session.scalar(select(func.count()).select_from(Article).where(Article.classify_due.is_(True))) or 0
    return QueueState(free=int(free), leased=int(due) - int(free))


def mark_stale(session: Session, model_version: str) -> int:
    """Mark due every article with no classification or one from another model version; how many."""
    stale = (
        select(Article.id)
        .outerjoin(Classification, Classification.article_id == Article.id)
        .where(Article.classify_due.is_(False))
        .where(or_(Classification.id.is_(None), Classification.model_version != model_version))
    )
    stmt = (
        update(Article).where(Article.id.in_(stale.scalar_subquery())).values(classify_due=True)
        .execution_options(synchronize_session=False)
    )
    return int(getattr(session.execute(stmt), "rowcount", 0) or 0)
