"""Users of the review app: argon2 password hashes, login with lockout, roles and deactivation."""

from __future__ import annotations

import hashlib
import re
import secrets
import unicodedata
from dataclasses import dataclass
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import bindparam, case, delete, func, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.orm import Session

from store.models import LoginThrottle, Role, User, UserSession, utcnow
from review.service import Forbidden, require_role
from store.queue import NotFound, ReviewError

USERNAME_RE = re.compile(r"^[a-z0-9][a-z0-9._-]{2,63}$")
MIN_PASSWORD = 10
MAX_PASSWORD = 256
_hasher = PasswordHasher()
# verified against when the username is unknown, so timing does not reveal which usernames exist
_DUMMY_HASH = _hasher.hash("nq71-dummy-password-for-timing")


class UserError(ReviewError):
    """A user account cannot be created or changed as asked; the message says what to fix."""


def parse_role(raw: str | None) -> Role:
    """A role from a form or command-line value."""
    try:
        return Role((raw or "").strip())
    except ValueError:
        raise UserError("Vai trò phải là reviewer, supervisor hoặc admin.") from None


def check_username(username: str) -> str:
    """A normalised username, or a clear message."""
    name = unicodedata.normalize("NFC", username or "").strip().lower()
    if not USERNAME_RE.match(name):
        raise UserError("Tên đăng nhập: 3-64 ký tự a-z, 0-9, dấu chấm, gạch dưới hoặc gạch ngang, không dấu cách.")
    return name


def check_password(password: str) -> str:
    """The password if it is long enough and not absurdly long."""
    if len(password or "") < MIN_PASSWORD:
        raise UserError(f"Mật khẩu phải có ít nhất {MIN_PASSWORD} ký tự.")
    if len(password) > MAX_PASSWORD:
        raise UserError(f"Mật khẩu dài quá {MAX_PASSWORD} ký tự.")
    return password


def hash_password(password: str) -> str:
    """An argon2id hash of the password."""
    return _hasher.hash(password)


def create_user(session: Session, username: str, password: str, role: Role, display_name: str | None = None) -> User:
    """Create an active user with an argon2 hash; a taken username is a clear error."""
    name = check_username(username)
    check_password(password)
    role = parse_role(role.value if isinstance(role, Role) else role)
    if session.scalar(select(func.count()).select_from(User).where(User.username == name)):
        raise UserError(f"Tên đăng nhập {name!r} đã có người dùng.")
    display = (unicodedata.normalize("NFC", display_name).strip() or None) if display_name else None
    if display is not None and len(display) > 200:
        raise UserError("Họ tên dài quá 200 ký tự.")
    user = User(username=name, password_hash=hash_password(password), role=role, display_name=display, active=True)
    session.add(user)
    session.flush()
    return user


@dataclass
class LoginResult:
    """The outcome of a login attempt: a user, or a message to show."""

    user: User | None
    message: str | None = None


def failure_message(max_failures: int, lockout_minutes: float) -> str:
    """The one answer to every failed login: the same for unknown users, wrong passwords and locked accounts."""
    return (f"Sai tên đăng nhập hoặc mật khẩu. Sau {max_failures} lần sai liên tiếp, tài khoản bị tạm khóa "
            f"{lockout_minutes:g} phút.")


def _verify(password_hash: str, password: str) -> bool:
    try:
        return bool(_hasher.verify(password_hash, password))
    except (VerificationError, InvalidHashError):
        return False


def _reserve_attempt(session: Session, user_id: int, budget: int, lockout: timedelta, now: datetime) -> int | None:
    """Number this attempt before its password is checked, in one UPDATE … RETURNING: parallel guesses
    each get their own number; the last one of the budget locks the account at once (before its own
    check), so no further guess is checked in this window. None: locked, nothing may be checked."""
    unlocked = or_(User.locked_until.is_(None), User.locked_until <= now)
    last = User.failed_logins + 1 >= budget
    until = bindparam("until", now + lockout, type_=User.__table__.c.locked_until.type)
    stmt = (
        update(User)
        .where(User.id == user_id, unlocked)
        .values(failed_logins=case((last, 0), else_=User.failed_logins + 1), locked_until=case((last, until), else_=None))
        .returning(User.failed_logins, User.locked_until)
        .execution_options(synchronize_session=False)
    )
    row = session.execute(stmt).one_or_none()
    if row is None:
        return None
    return budget if row.locked_until is not None else int(row.failed_logins)


def authenticate(session: Session, username: str, password: str, max_failures: int, lockout_minutes: float) -> LoginResult:
    """Check a login; at most ``max_failures`` guesses are ever checked before the account locks for a while."""
    name = unicodedata.normalize("NFC", username or "").strip().lower()
    failed = LoginResult(None, failure_message(max_failures, lockout_minutes))
    user_id = session.scalar(select(User.id).where(User.username == name)) if name else None
    now = utcnow()
    if user_id is None:
        _verify(_DUMMY_HASH, password or "")  # same time as a real check: timing does not reveal usernames
        return failed
    budget = max_failures or 2**31 - 1  # 0 means no lockout
    attempt = _reserve_attempt(session, user_id, budget, timedelta(minutes=lockout_minutes), now)
    session.commit()  # the count is visible to other workers (and the row lock released) before the slow hash check
    if attempt is None:
        _verify(_DUMMY_HASH, password or "")
        return failed
    user = session.get(User, user_id, populate_existing=True)
    assert user is not None
    if not _verify(user.password_hash, password or ""):
        return failed
    if not user.active:
        return LoginResult(None, "Tài khoản đã bị vô hiệu hóa; liên hệ quản trị viên.")
    user.failed_logins = 0
    user.locked_until = None
    user.last_login_at = now
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    return LoginResult(user)


def reserve_address(session: Session, address: str, limit: int, window_minutes: float) -> bool:
    """Count a login attempt from an address before it is checked; False once the address has used
    ``limit`` failures in the window. Shared by every worker through the database (one atomic UPDATE)."""
    if not limit:
        return True
    now = utcnow()
    key = address[:64]
    fresh = LoginThrottle.window_start <= bindparam("start", now - timedelta(minutes=window_minutes), type_=LoginThrottle.__table__.c.window_start.type)
    stamp = bindparam("now", now, type_=LoginThrottle.__table__.c.window_start.type)
    stmt = (
        update(LoginThrottle)
        .where(LoginThrottle.address == key)
        .values(failures=case((fresh, 1), else_=LoginThrottle.failures + 1), window_start=case((fresh, stamp), else_=LoginThrottle.window_start))
        .returning(LoginThrottle.failures)
        .execution_options(synchronize_session=False)
    )
    count = session.execute(stmt).scalar_one_or_none()
    if count is None:
        insert_fn = pg_insert if session.get_bind().dialect.name == "postgresql" else sqlite_insert
        session.execute(insert_fn(LoginThrottle).values(address=key, window_start=now, failures=0).on_conflict_do_nothing())
        count = session.execute(stmt).scalar_one()
    return int(count) <= limit


def release_address(session: Session, address: str) -> None:
    """A successful login does not count against its address."""
    session.execute(
        update(LoginThrottle).where(LoginThrottle.address == address[:64], LoginThrottle.failures > 0)
        .values(failures=LoginThrottle.failures - 1).execution_options(synchronize_session=False)
    )


# --- server-side sessions ---------------------------------------------------------------------
def _token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def open_session(session: Session, user_id: int, hours: float) -> str:
    """A new session row for the user; returns the token for the cookie (only its hash is stored)."""
    now = utcnow()
    session.execute(delete(UserSession).where(UserSession.expires_at <= now))  # expired rows go on the next login
    token = secrets.token_urlsafe(32)
    session.add(UserSession(token_hash=_token_hash(token), user_id=user_id, created_at=now, expires_at=now + timedelta(hours=hours)))
    session.flush()
    return token


def session_user(session: Session, token: str) -> User | None:
    """The active user of a live session token, or None (unknown, expired, revoked, deactivated)."""
    return session.scalar(
        select(User)
        .join(UserSession, UserSession.user_id == User.id)
        .where(UserSession.token_hash == _token_hash(token), UserSession.expires_at > utcnow(), User.active.is_(True))
    )


def close_session(session: Session, token: str) -> None:
    """End one session (logout)."""
    session.execute(delete(UserSession).where(UserSession.token_hash == _token_hash(token)))


def revoke_sessions(session: Session, user_id: int) -> None:
    """End every session of a user (deactivation, password change)."""
    session.execute(delete(UserSession).where(UserSession.user_id == user_id))


def set_password(session: Session, username: str, password: str) -> User:
    """Give a user a new password and end all their sessions (the command line's `users password`)."""
    user = session.scalar(select(User).where(User.username == check_username(username)))
    if user is None:
        raise NotFound(f"Không có người dùng {username!r}.")
    user.password_hash = hash_password(check_password(password))
    user.failed_logins = 0
    user.locked_until = None
    revoke_sessions(session, user.id)
    session.flush()
    return user


def _target(session: Session, actor: User, user_id: int) -> User:
    require_role(actor, Role.admin)
    user = session.get(User, user_id)
    if user is None:
        raise NotFound(f"Không có người dùng số {user_id}.")
    return user


def _active_admins(session: Session) -> int:
    return int(session.scalar(select(func.count()).select_from(User).where(User.role == Role.admin, User.active.is_(True))) or 0)


def set_role(session: Session, actor: User, user_id: int, role: Role) -> User:
    """An admin changes someone's role; the last active admin cannot be demoted."""
    user = _target(session, actor, user_id)
    if user.role == role:
        raise UserError(f"{user.username} đã có vai trò này.")
    if user.role == Role.admin and user.active and _active_admins(session) <= 1:
        raise Forbidden("Không thể hạ vai trò quản trị viên cuối cùng.")
    user.role = role
    session.flush()
    return user


def set_active(session: Session, actor: User, user_id: int, active: bool) -> User:
    """An admin deactivates or reactivates an account; nobody deactivates themself or the last admin."""
    user = _target(session, actor, user_id)
    if user.active == active:
        raise UserError(f"{user.username} đã {'đang hoạt động' if active else 'bị vô hiệu hóa'} rồi.")
    if not active and user.id == actor.id:
        raise Forbidden("Bạn không thể tự vô hiệu hóa tài khoản của mình.")
    if not active and user.role == Role.admin and _active_admins(session) <= 1:
        raise Forbidden("Không thể vô hiệu hóa quản trị viên cuối cùng.")
    user.active = active
    if not active:
        revoke_sessions(session, user.id)
    if active:
        user.failed_logins = 0
        user.locked_until = None
    session.flush()
    return user
