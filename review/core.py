"""Plumbing shared by the HTML pages and the JSON API: cookie sessions, CSRF, the current user, filters."""

from __future__ import annotations

import hmac
import secrets
import threading
import time
import tomllib
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from typing import Any
from zoneinfo import ZoneInfo

from fastapi import Request
from itsdangerous import BadSignature, URLSafeTimedSerializer
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from settings import Settings
from store.models import Outlet, ReviewStatus, Role, User
from review.users import session_user
from store.review import MAX_QUERY, MAX_ROW_ID, RISK_BANDS, Forbidden, QueueFilter, ReviewError, require_role, status_counts

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
    reach: dict[str, float] = field(default_factory=dict)  # outlet tier → reach factor of the priority


def reach_factors() -> dict[str, float]:
    """The priority's reach factor per outlet tier, as the classifier reads it (config/lexicon/sources.toml [reach])."""
    from classify.lexicon import DEFAULT_DIR

    try:
        with open(DEFAULT_DIR / "sources.toml", "rb") as fh:
            return {str(k): float(v) for k, v in tomllib.load(fh).get("reach", {}).items()}
    except (OSError, tomllib.TOMLDecodeError, TypeError, ValueError):
        return {}


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


# --- parsing what people type -----------------------------------------------------------------
FIRST_DAY, LAST_DAY = date(1900, 1, 1), date(2999, 12, 31)  # dates a time zone can shift without overflow


def parse_int(raw: str | None, what: str, minimum: int = 1) -> int:
    """A whole number from a form or query value, or a clear message."""
    value = (raw or "").strip()
    if not value.lstrip("-").isdigit() or len(value) > 12:
        raise ReviewError(f"{what} phải là một số nguyên.")
    number = int(value)
    if number < minimum:
        raise ReviewError(f"{what} phải từ {minimum} trở lên.")
    if number > MAX_ROW_ID:
        raise ReviewError(f"{what} quá lớn (tối đa {MAX_ROW_ID}).")
    return number


def parse_date(raw: str, what: str) -> date:
    """A dd/mm/yyyy (or ISO yyyy-mm-dd) date between 1900 and 2999, or a clear message."""
    text = raw.strip()
    try:  # reviewers type the Vietnamese order; links and the API keep ISO
        day = datetime.strptime(text, "%d/%m/%Y").date() if "/" in text else date.fromisoformat(text)
    except ValueError:
        raise ReviewError(f"{what} phải có dạng ngày/tháng/năm, ví dụ 26/11/2026 (hoặc năm-tháng-ngày 2026-11-26)."
                          " / Use dd/mm/yyyy.") from None
    if not FIRST_DAY <= day <= LAST_DAY:
        raise ReviewError(f"{what} phải trong khoảng {show_date(FIRST_DAY)} đến {show_date(LAST_DAY)}.")
    return day


def show_date(day: date) -> str:
    """A date as reviewers read and type it: dd/mm/yyyy."""
    return day.strftime("%d/%m/%Y")


def local_midnight(day: date, tz: ZoneInfo) -> datetime:
    """00:00 of a day in the city's time zone."""
    return datetime(day.year, day.month, day.day, tzinfo=tz)


def parse_filters(
    session: Session, params: Mapping[str, str], user: User, tz: ZoneInfo, default_open: bool = False
) -> tuple[QueueFilter, list[str], dict[str, str]]:
    """Queue filters from query parameters; bad values are dropped with a message each.

    ``status=all`` shows every status; with ``default_open`` no status means the work still to do."""
    f = QueueFilter()
    errors: list[str] = []
    kept: dict[str, str] = {}

    def get(key: str) -> str:
        return (params.get(key) or "").strip()

    def attempt(key: str, apply: Any) -> None:
        raw = get(key)
        if not raw:
            return
        try:
            shown = apply(raw)  # a parser may give back the value as reviewers read it (dates: dd/mm/yyyy)
            kept[key] = shown if isinstance(shown, str) else raw
        except ReviewError as exc:
            errors.append(str(exc))

    def status(raw: str) -> None:
        if raw == "all":
            return
        try:
            f.status = ReviewStatus(raw)
        except ValueError:
            raise ReviewError("Trạng thái không hợp lệ.") from None

    def outlet(raw: str) -> None:
        f.outlet_id = parse_int(raw, "Nguồn tin")
        if session.get(Outlet, f.outlet_id) is None:
            f.outlet_id = None
            raise ReviewError(f"Không có nguồn tin số {raw}.")

    def theme(raw: str) -> None:
        f.theme = parse_int(raw, "Nhóm nhiệm vụ")
        if f.theme > 8:
            f.theme = None
            raise ReviewError("Nhóm nhiệm vụ phải từ 1 đến 8.")

    def risk(raw: str) -> None:
        if raw not in RISK_BANDS:
            raise ReviewError("Mức rủi ro phải là thấp, trung bình hoặc cao.")
        f.risk = raw

    def date_from(raw: str) -> str:
        day = parse_date(raw, "Từ ngày")
        f.published_from = local_midnight(day, tz)
        return show_date(day)

    def date_to(raw: str) -> str:
        day = parse_date(raw, "Đến ngày")
        f.published_to = local_midnight(day + timedelta(days=1), tz)
        return show_date(day)

    def assignee(raw: str) -> None:
        if raw == "none":
            f.unassigned = True
            return
        f.assignee_id = parse_int(raw, "Người xử lý")
        if session.get(User, f.assignee_id) is None:
            f.assignee_id = None
            raise ReviewError(f"Không có người dùng số {raw}.")

    def query(raw: str) -> None:
        if len(raw) > MAX_QUERY:
            raise ReviewError(f"Từ khóa tìm kiếm dài quá {MAX_QUERY} ký tự.")
        f.q = raw

    def page(raw: str) -> None:
        f.page = parse_int(raw, "Trang")

    for key, fn in (("status", status), ("outlet", outlet), ("theme", theme), ("risk", risk), ("from", date_from),
                    ("to", date_to), ("assignee", assignee), ("q", query), ("page", page)):
        attempt(key, fn)
    f.open_only = default_open and f.status is None and kept.get("status") != "all"
    if get("mine") in {"1", "on", "true"}:
        f.assignee_id, f.unassigned = user.id, False
        kept["mine"] = "1"
    if f.published_from and f.published_to and f.published_to <= f.published_from:
        errors.append("Đến ngày phải sau hoặc bằng Từ ngày.")
    return f, errors, kept


def outlets_for_filter(session: Session) -> list[tuple[int, str]]:
    """Outlets for the filter select."""
    return [(i, n) for i, n in session.execute(select(Outlet.id, Outlet.name).order_by(Outlet.name))]
