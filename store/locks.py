"""Locks held in the database (a row per name with owner and expiry): they work across processes and machines."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from typing import cast

from sqlalchemy import Table, delete, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from store.models import CrawlLock, utcnow

# Core statements with RETURNING tell whether a row changed (psycopg reports rowcount -1 here).
LOCKS = cast(Table, CrawlLock.__table__)


@dataclass(frozen=True)
class Holder:
    """Who holds a lock, since when, and until when unless renewed."""

    owner: str
    acquired_at: datetime
    expires_at: datetime


def try_lock(
    session: Session, name: str, owner: str, ttl: timedelta, is_dead: Callable[[str], bool] | None = None,
    now: datetime | None = None,
) -> Holder | None:
    """Take the lock; None when taken, else its current holder. An expired (or provably dead) holder's lock is taken over."""
    now = now or utcnow()
    values = {"name": name, "owner": owner, "acquired_at": now, "expires_at": now + ttl}
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    # INSERT .. ON CONFLICT DO NOTHING: atomic on both databases, no savepoint needed after a conflict.
    insert = dialect.insert(LOCKS).values(values).on_conflict_do_nothing(index_elements=["name"])
    if session.execute(insert.returning(LOCKS.c.name)).first() is not None:
        return None
    row = session.get(CrawlLock, name, populate_existing=True)
    if row is None:  # released between our insert and our read: try once more
        return try_lock(session, name, owner, ttl, is_dead, now)
    holder = Holder(row.owner, row.acquired_at, row.expires_at)
    if holder.expires_at > now and not (is_dead is not None and is_dead(holder.owner)):
        return holder
    # compare-and-swap on the old owner: of two processes taking over a dead holder's lock, one wins
    swap = update(LOCKS).where(LOCKS.c.name == name, LOCKS.c.owner == holder.owner).values(values)
    return None if session.execute(swap.returning(LOCKS.c.name)).first() is not None else holder


def renew_lock(session: Session, name: str, owner: str, ttl: timedelta, now: datetime | None = None) -> bool:
    """Push the expiry of our lock forward; False when it is no longer ours."""
    now = now or utcnow()
    renew = update(LOCKS).where(LOCKS.c.name == name, LOCKS.c.owner == owner).values(expires_at=now + ttl)
    return session.execute(renew.returning(LOCKS.c.name)).first() is not None


def release_lock(session: Session, name: str, owner: str) -> None:
    """Give the lock back (only if it is still ours)."""
    session.execute(delete(CrawlLock).where(CrawlLock.name == name, CrawlLock.owner == owner))


def lock_holder(session: Session, name: str) -> Holder | None:
    """The current holder of a lock, if any."""
    row = session.scalars(select(CrawlLock).where(CrawlLock.name == name)).first()
    return Holder(row.owner, row.acquired_at, row.expires_at) if row is not None else None
