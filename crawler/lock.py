"""One crawl at a time per database: the lock row of store/locks.py, renewed by a thread while the crawl runs."""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
import uuid
from datetime import timedelta
from types import TracebackType

from sqlalchemy.orm import Session, sessionmaker

from crawler.errors_light import CrawlError
from store.locks import Holder, release_lock, renew_lock, try_lock

log = logging.getLogger(__name__)
LOCK_NAME = "crawl"
LOCK_TTL = timedelta(minutes=2)  # a crashed machine's lock lapses after this; a live holder renews it
RENEW_EVERY = LOCK_TTL.total_seconds() / 4
WAIT_STEP = 2.0  # seconds between tries while waiting for another crawl (``nq71 crawl --wait``)


def new_owner() -> str:
    """host:pid:token, unique per crawl process."""
    return f"{socket.gethostname()}:{os.getpid()}:{uuid.uuid4().hex[:8]}"


def holder_is_dead(owner: str) -> bool:
    """True when the holder ran on this machine and its process is gone (killed): no need to wait for expiry."""
    host, _, rest = owner.partition(":")
    pid = rest.partition(":")[0]
    if host != socket.gethostname() or not pid.isdigit():
        return False  # another machine: only the expiry tells
    try:
        os.kill(int(pid), 0)
    except ProcessLookupError:
        return True
    except PermissionError:
        return False  # alive, another user's process
    return False


def busy_message(holder: Holder) -> str:
    """The one line a second crawl prints."""
    since = holder.acquired_at.strftime("%Y-%m-%d %H:%M:%S UTC")
    return (
        f"một lượt thu thập khác đang chạy trên cơ sở dữ liệu này / another crawl is running on this database "
        f"({holder.owner}, since {since}): wait for it to finish, then run again"
    )


class CrawlLockHeld:
    """``with CrawlLockHeld(sessions):`` hold the crawl lock (or raise CrawlError), renewing it in the background."""

    def __init__(self, sessions: sessionmaker[Session], wait_seconds: float = 0.0, name: str = LOCK_NAME) -> None:
        self.sessions = sessions
        self.wait_seconds = wait_seconds
        self.name = name
        self.owner = new_owner()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._renew, name="crawl-lock", daemon=True)

    def __enter__(self) -> CrawlLockHeld:
        deadline = time.monotonic() + self.wait_seconds
        while True:
            with self.sessions() as session, session.begin():
                holder = try_lock(session, self.name, self.owner, LOCK_TTL, holder_is_dead)
            if holder is None:
                break
            if time.monotonic() >= deadline:
                raise CrawlError(busy_message(holder))
            time.sleep(min(WAIT_STEP, max(0.0, deadline - time.monotonic())))
        self._thread.start()
        return self

    def __exit__(self, t: type[BaseException] | None, e: BaseException | None, tb: TracebackType | None) -> None:
        self._stop.set()
        self._thread.join(timeout=10)
        with self.sessions() as session, session.begin():
            release_lock(session, self.name, self.owner)

    def _renew(self) -> None:
        while not self._stop.wait(RENEW_EVERY):
            try:
                with self.sessions() as session, session.begin():
                    if not renew_lock(session, self.name, self.owner, LOCK_TTL):
                        log.error("crawl lock %s lost (taken over after expiry); this crawl may overlap another", self.owner)
            except Exception:  # a database hiccup: try again at the next tick, the lock lasts LOCK_TTL
                log.warning("could not renew the crawl lock", exc_info=True)
