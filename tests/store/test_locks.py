"""The crawl lock row (store/locks.py) on SQLite and PostgreSQL: one holder, expiry, dead holders, renewal."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy.orm import Session, sessionmaker

from store.locks import lock_holder, release_lock, renew_lock, try_lock
from store.models import utcnow

TTL = timedelta(minutes=2)


def test_second_owner_sees_the_first_until_it_releases(sessions: sessionmaker[Session]) -> None:
    with sessions() as s, s.begin():
        assert try_lock(s, "crawl", "host-a:1:x", TTL) is None
    with sessions() as s, s.begin():
        holder = try_lock(s, "crawl", "host-b:2:y", TTL)
    assert holder is not None and holder.owner == "host-a:1:x"
    with sessions() as s, s.begin():
        release_lock(s, "crawl", "host-b:2:y")  # not ours: nothing happens
        assert lock_holder(s, "crawl") is not None
        release_lock(s, "crawl", "host-a:1:x")
    with sessions() as s, s.begin():
        assert try_lock(s, "crawl", "host-b:2:y", TTL) is None


def test_an_expired_lock_is_taken_over_and_its_old_owner_cannot_renew(sessions: sessionmaker[Session]) -> None:
    then = utcnow() - timedelta(minutes=10)
    with sessions() as s, s.begin():
        assert try_lock(s, "crawl", "crashed-machine:7:z", TTL, now=then) is None
    with sessions() as s, s.begin():
        assert try_lock(s, "crawl", "host-b:2:y", TTL) is None
    with sessions() as s, s.begin():
        assert renew_lock(s, "crawl", "crashed-machine:7:z", TTL) is False
        assert renew_lock(s, "crawl", "host-b:2:y", TTL) is True
        holder = lock_holder(s, "crawl")
    assert holder is not None and holder.owner == "host-b:2:y" and holder.expires_at > utcnow() + TTL / 2


def test_a_dead_holder_is_replaced_before_expiry_a_live_one_is_not(sessions: sessionmaker[Session]) -> None:
    with sessions() as s, s.begin():
        assert try_lock(s, "crawl", "here:123:a", TTL) is None
    with sessions() as s, s.begin():
        alive = try_lock(s, "crawl", "here:456:b", TTL, is_dead=lambda owner: False)
    assert alive is not None and alive.owner == "here:123:a"
    with sessions() as s, s.begin():
        assert try_lock(s, "crawl", "here:456:b", TTL, is_dead=lambda owner: owner == "here:123:a") is None
        holder = lock_holder(s, "crawl")
    assert holder is not None and holder.owner == "here:456:b"
