"""Commands of the review room: user accounts and the reviewers' web app (`nq71 serve`)."""

from __future__ import annotations

import sys

import click

from cli.base import App, pass_app
from cli.errors import Group


@click.group(cls=Group)
def users() -> None:
    """Accounts for the review web app (argon2 password hashes)."""


@users.command("add")
@click.argument("username")
@click.option("--role", type=click.Choice(["reviewer", "supervisor", "admin"]), required=True, help="Vai trò / role.")
@click.option("--display-name", default=None, help="Họ tên hiển thị.")
@pass_app
def users_add(app: App, username: str, role: str, display_name: str | None) -> None:
    """Create a user; the password is asked for (or read as one line from stdin), never taken from argv."""
    from review.users import create_user
    from store.models import Role

    password = _read_password()
    with app.sessions()() as session, session.begin():
        user = create_user(session, username, password, Role(role), display_name)
        name, user_role = user.username, user.role.value
    click.echo(f"Đã tạo người dùng {name} ({user_role}).")


def _read_password() -> str:
    """A password asked for twice on a terminal, or one line of stdin; never taken from argv."""
    if sys.stdin.isatty():
        return str(click.prompt("Mật khẩu / password", hide_input=True, confirmation_prompt=True))
    return sys.stdin.readline().rstrip("\r\n")


@users.command("password")
@click.argument("username")
@pass_app
def users_password(app: App, username: str) -> None:
    """Set a new password (asked for, or one line of stdin); every open session of the user ends."""
    from review.users import set_password

    password = _read_password()
    with app.sessions()() as session, session.begin():
        name = set_password(session, username, password).username
    click.echo(f"Đã đổi mật khẩu của {name}; mọi phiên đăng nhập của tài khoản này đã kết thúc.")


@users.command("list")
@pass_app
def users_list(app: App) -> None:
    """Users with their role and whether they are active."""
    from store.queue import list_users

    with app.sessions()() as session:
        for user in list_users(session):
            state = "active" if user.active else "inactive"
            click.echo(f"{user.username:24} {user.role.value:10} {state}")


@click.command("serve")
@click.option("--host", default=None, help="Địa chỉ lắng nghe (mặc định NQ71_HOST, 127.0.0.1).")
@click.option("--port", default=None, type=click.IntRange(1, 65535), help="Cổng (mặc định NQ71_PORT, 8071).")
@click.option("--workers", default=1, show_default=True, type=click.IntRange(1, 64),
              help="Số tiến trình phục vụ / uvicorn worker processes (about one per core).")
@pass_app
def serve(app: App, host: str | None, port: int | None, workers: int) -> None:
    """Serve the reviewers' web app (uvicorn) on the configured database."""
    import uvicorn

    from review.app import create_app
    from review.keys import session_key

    app.sessions()  # upgrade an empty SQLite database (and find a database that is down) before the first request
    session_key(app.settings.secret_key, app.settings.data_dir)  # made once here, before workers race for it
    settings = app.settings.replace(**({"host": host} if host else {}), **({"port": port} if port else {}))
    click.echo(f"Hàng đợi thẩm định: http://{settings.host}:{settings.port}/  ({workers} worker(s); Ctrl+C để dừng)")
    if workers == 1:
        uvicorn.run(create_app(settings, warm=True), host=settings.host, port=settings.port, log_level=settings.log_level.lower())
        return
    # several processes: each builds its own app (engine, pool) from the same NQ71_* environment
    uvicorn.run("review.app:app_from_environment", factory=True, workers=workers, host=settings.host, port=settings.port,
                log_level=settings.log_level.lower())
