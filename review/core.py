"""Plumbing shared by the HTML pages and the JSON API: cookie sessions, CSRF, the current user, cached counts."""

from __future__ import annotations

import hmac
import secrets
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import Request
from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy.orm import Session, sessionmaker

from settings import Settings
from review.service import Forbidden, require_role
from review.users import session_user
from store.models import ReviewStatus, Role, User
from store.queue import QueueFilter, status_counts

COOKIE = "nq71_session"
SESSION_HOURS = 12
CSRF_FIELD = "csrf"
CSRF_HEADER = "X-CSRF-Token"


class LoginRequired(Exception):
    """No logged-in user: pages redirect to the login form, the API answers 401."""


class CsrfError(Forbidden):
    """The form or request did not carry this session's CSRF token."""


Counts = tuple[dict[ReviewStatus, int], bool]


class CountCache:
    """Counts per status for each filter, kept a few seconds. The tabs above the queue count up to the
    whole queue (100,000 rows: the costliest part of a queue page); the list itself is always read fresh.
    An action in this process clears it; other workers catch up within ``seconds``."""

    def __init__(self, seconds: float, size: int = 512) -> None:
        self.seconds = seconds
        self.size = size
        self._kept: dict[tuple[Any, ...], tuple[float, Counts]] = {}
        self._lock = threading.Lock()

    def get(self, session: Session, f: QueueFilter) -> Counts:
        """The counts for this filter (its status and page do not change them)."""
        key = (f.outlet_id, f.theme, f.risk, f.published_from, f.published_to, f.assignee_id, f.unassigned, f.q)
        now = time.monotonic()
        hit = self._kept.get(key)
        if hit is not None and now - hit[0] < self.seconds:
            return hit[1]
        counts = status_counts(session, f)
        if self.seconds > 0:
            with self._lock:
                if len(self._kept) >= self.size:
                    self._kept.clear()
                self._kept[key] = (now, counts)
        return counts

    def clear(self) -> None:
        """Forget every count (after an action changed the queue)."""
        with self._lock:
            self._kept.clear()


@dataclass
class AppState:
    """What every request needs, built once in create_app."""

    settings: Settings
    sessions: sessionmaker[Session]
    serializer: URLSafeTimedSerializer
    tz: ZoneInfo
    counts: CountCache
    reach: dict[str, float] = field(default_factory=dict)  # outlet tier → reach factor of the priority (jobs.reach_by_tier)


def state(request: Request) -> AppState:
    """The application state of this request's app."""
    app_state: AppState = request.app.state.nq71
    return app_state


def new_session_data(token: str | None = None) -> dict[str, Any]:
    """A fresh cookie session: new CSRF token (rotated at login and logout against fixation).

    ``sid`` is the server-side session token (review.users.open_session); the cookie alone never
    names a user, so a cookie signed with a stolen or old key opens nothing."""
    return {"sid": token, "csrf": secrets.token_urlsafe(32), "flash": None}


def load_cookie(request: Request) -> None:
    """Decode the signed cookie into request.state.session (a new anonymous one if missing or bad)."""
    raw = request.cookies.get(COOKIE)
    data: dict[str, Any] | None = None
    if raw:
        try:
            loaded = state(request).serializer.loads(raw, max_age=SESSION_HOURS * 3600)
            if isinstance(loaded, dict) and isinstance(loaded.get("csrf"), str):
                data = loaded
        except BadSignature:
            data = None
    request.state.session = data if data is not None else new_session_data()
    request.state.session_dirty = data is None


def save_cookie(request: Request, response: Any) -> None:
    """Write the session back when it changed: signed, HttpOnly, SameSite=Lax, Secure on https."""
    if not getattr(request.state, "session_dirty", False):
        return
    settings = state(request).settings
    response.set_cookie(
        COOKIE,
        state(request).serializer.dumps(request.state.session),
        max_age=SESSION_HOURS * 3600,
        httponly=True,
        samesite="lax",
        secure=settings.cookie_secure,
        path="/",
    )


def session_data(request: Request) -> dict[str, Any]:
    """This request's cookie session."""
    data: dict[str, Any] = request.state.session
    return data


def set_session(request: Request, data: dict[str, Any]) -> None:
    """Replace the cookie session."""
    request.state.session = data
    request.state.session_dirty = True


def flash(request: Request, message: str) -> None:
    """A one-time message shown on the next page."""
    session_data(request)["flash"] = message
    request.state.session_dirty = True


def pop_flash(request: Request) -> str | None:
    """Take the one-time message, if any."""
    message = session_data(request).get("flash")
    if message:
        session_data(request)["flash"] = None
        request.state.session_dirty = True
    return message if isinstance(message, str) else None


def csrf_token(request: Request) -> str:
    """This session's CSRF token."""
    return str(session_data(request)["csrf"])


def check_csrf(request: Request, supplied: str | None) -> None:
    """Refuse a state-changing request whose token is missing or wrong."""
    if not supplied or not hmac.compare_digest(supplied.encode(), csrf_token(request).encode()):
        raise CsrfError(
            "Biểu mẫu hết hạn hoặc không hợp lệ (thiếu mã CSRF): tải lại trang rồi thử lại. Chưa có gì thay đổi."
        )
    # a browser tells us when a request comes from another site; refuse even with a token
    if request.headers.get("sec-fetch-site") == "cross-site":
        raise CsrfError("Yêu cầu từ trang web khác bị từ chối (CSRF). Chưa có gì thay đổi.")


def db(request: Request) -> Iterator[Session]:
    """One database session per request (handlers open their own transactions)."""
    with state(request).sessions() as session:
        yield session


@contextmanager
def transaction(session: Session) -> Iterator[Session]:
    """Commit what the block did (joining the transaction the login check opened), or roll it all back."""
    if not session.in_transaction():
        session.begin()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise


def current_user(request: Request, session: Session) -> User | None:
    """The user of this request's live server-side session (logout, deactivation and a password change
    delete it, so the cookie stops working at once)."""
    token = session_data(request).get("sid")
    user = session_user(session, token) if isinstance(token, str) else None
    if user is None and token is not None:
        set_session(request, new_session_data())
    return user


def need_user(request: Request, session: Session, role: Role = Role.reviewer) -> User:
    """The current user if their role is at least ``role``; otherwise LoginRequired or Forbidden."""
    user = current_user(request, session)
    if user is None:
        raise LoginRequired()
    require_role(user, role)
    return user
