"""Users of the review app: argon2 password hashes, login with lockout, roles and deactivation."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass
from datetime import datetime, timedelta

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from store.models import Role, User, utcnow
from store.review import Forbidden, NotFound, ReviewError, require_role

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


def _minutes_left(until: datetime, now: datetime) -> int:
    return max(1, int((until - now).total_seconds() + 59) // 60)


def authenticate(session: Session, username: str, password: str, max_failures: int, lockout_minutes: float) -> LoginResult:
    """Check a login; count failures and lock the account for a while after too many."""
    name = unicodedata.normalize("NFC", username or "").strip().lower()
    generic = "Sai tên đăng nhập hoặc mật khẩu."
    user = session.scalar(select(User).where(User.username == name)) if name else None
    now = utcnow()
    if user is None:
        try:
            _hasher.verify(_DUMMY_HASH, password or "")
        except VerificationError:
            pass
        return LoginResult(None, generic)
    if user.locked_until is not None and user.locked_until > now:
        return LoginResult(
            None,
            f"Tài khoản tạm khóa do đăng nhập sai {max_failures} lần; thử lại sau "
            f"{_minutes_left(user.locked_until, now)} phút hoặc liên hệ quản trị viên.",
        )
    ok: bool
    try:
        ok = _hasher.verify(user.password_hash, password or "")
    except (VerificationError, InvalidHashError):
        ok = False
    if not ok:
        user.failed_logins = (user.failed_logins or 0) + 1
        if max_failures and user.failed_logins >= max_failures:
            user.locked_until = now + timedelta(minutes=lockout_minutes)
            user.failed_logins = 0
            return LoginResult(
                None,
                f"Đăng nhập sai {max_failures} lần: tài khoản tạm khóa {_minutes_left(user.locked_until, now)} phút.",
            )
        left = max_failures - user.failed_logins
        return LoginResult(None, f"{generic} Còn {left} lần thử trước khi tài khoản bị tạm khóa.")
    if not user.active:
        return LoginResult(None, "Tài khoản đã bị vô hiệu hóa; liên hệ quản trị viên.")
    user.failed_logins = 0
    user.locked_until = None
    user.last_login_at = now
    if _hasher.check_needs_rehash(user.password_hash):
        user.password_hash = hash_password(password)
    return LoginResult(user)


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
    if active:
        user.failed_logins = 0
        user.locked_until = None
    session.flush()
    return user
