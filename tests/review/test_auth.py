"""Login, lockout, logout, sessions and CSRF on the real database (SQLite, and PostgreSQL when configured)."""

from __future__ import annotations

from datetime import timedelta

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from review.app import create_app
from settings import Settings
from store.models import User, utcnow
from tests.review.support import PASSWORD, World, csrf_of, login, post_action, snapshot


def test_pages_and_api_need_a_login(client: TestClient, world: World) -> None:
    r = client.get("/queue?status=new")
    assert r.status_code == 303 and r.headers["location"].startswith("/login?next=/queue%3Fstatus%3Dnew")
    assert client.get(f"/items/{world.rumour_item}").status_code == 303
    api = client.get("/api/queue")
    assert api.status_code == 401 and api.json()["detail"] == "Chưa đăng nhập."


def test_login_sets_a_signed_httponly_lax_cookie_and_logout_ends_it(client: TestClient, world: World) -> None:
    page = client.get("/login")
    assert "Đăng nhập" in page.text
    r = client.post("/login", data={"username": "thamdinh.lan", "password": PASSWORD, "csrf": csrf_of(page.text), "next": "/queue"})
    assert r.status_code == 303 and r.headers["location"] == "/queue"
    cookie = r.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=lax" in cookie and "secure" not in cookie
    queue = client.get("/queue")
    assert queue.status_code == 200 and "thamdinh.lan" in queue.text
    out = client.post("/logout", data={"csrf": csrf_of(queue.text)})
    assert out.status_code == 303 and out.headers["location"] == "/login"
    assert client.get("/queue").status_code == 303


def test_cookie_is_secure_when_configured(app_settings: Settings, world: World) -> None:
    app = create_app(app_settings.replace(cookie_secure=True))
    with TestClient(app, base_url="https://testserver", follow_redirects=False) as c:
        page = c.get("/login")
        assert "secure" in page.headers["set-cookie"].lower()
    app.state.engine.dispose()


def test_a_forged_cookie_is_not_a_session(client: TestClient, world: World) -> None:
    client.cookies.set("nq71_session", '{"uid": 1, "csrf": "x"}')
    assert client.get("/queue").status_code == 303


def test_open_redirect_after_login_is_refused(client: TestClient, world: World) -> None:
    page = client.get("/login")
    r = client.post("/login", data={"username": "thamdinh.lan", "password": PASSWORD, "csrf": csrf_of(page.text), "next": "//evil.example/x"})
    assert r.headers["location"] == "/queue"


def test_wrong_password_then_lockout_with_a_clear_message(client: TestClient, world: World, sessions: sessionmaker[Session]) -> None:
    page = client.get("/login")
    token = csrf_of(page.text)
    answers = [client.post("/login", data={"username": "thamdinh.lan", "password": "sai-mat-khau-123", "csrf": token}) for _ in range(3)]
    assert all(a.status_code == 401 for a in answers)
    assert "Sai tên đăng nhập hoặc mật khẩu" in answers[0].text and "tạm khóa 15 phút" in answers[0].text
    # even the right password is refused while locked, with the same answer
    locked = client.post("/login", data={"username": "thamdinh.lan", "password": PASSWORD, "csrf": token})
    assert locked.status_code == 401 and "Sai tên đăng nhập hoặc mật khẩu" in locked.text
    with sessions() as s, s.begin():
        user = s.get(User, world.reviewer)
        assert user is not None and user.locked_until is not None
        user.locked_until = utcnow() - timedelta(seconds=1)  # the lockout period has passed
    ok = client.post("/login", data={"username": "thamdinh.lan", "password": PASSWORD, "csrf": token})
    assert ok.status_code == 303


def test_unknown_user_and_empty_or_huge_fields_get_a_message(client: TestClient, world: World) -> None:
    token = csrf_of(client.get("/login").text)
    assert "Sai tên đăng nhập hoặc mật khẩu" in client.post("/login", data={"username": "khong.ton.tai", "password": "abcdefghijk", "csrf": token}).text
    empty = client.post("/login", data={"username": "", "password": "", "csrf": token})
    assert empty.status_code == 400 and "Nhập tên đăng nhập và mật khẩu" in empty.text
    huge = client.post("/login", data={"username": "a" * 5000, "password": "b", "csrf": token})
    assert huge.status_code == 400


def test_login_without_csrf_is_refused(client: TestClient, world: World) -> None:
    client.get("/login")
    r = client.post("/login", data={"username": "thamdinh.lan", "password": PASSWORD})
    assert r.status_code == 403 and "CSRF" in r.text
    assert client.get("/queue").status_code == 303


def test_actions_without_or_with_a_wrong_csrf_token_change_nothing(client: TestClient, world: World, sessions: sessionmaker[Session]) -> None:
    login(client, "thamdinh.lan")
    before = snapshot(sessions)
    missing = post_action(client, "", world.rumour_item, "take", 1)
    wrong = post_action(client, "not-the-token", world.rumour_item, "verdict", 1, verdict="tin_gia", note="Tin bịa đặt.")
    assert missing.status_code == 403 and wrong.status_code == 403
    assert "CSRF" in wrong.text
    assert snapshot(sessions) == before


def test_a_token_from_another_session_is_refused(client: TestClient, app_settings: Settings, world: World, sessions: sessionmaker[Session]) -> None:
    login(client, "thamdinh.lan")
    app = create_app(app_settings)
    with TestClient(app, follow_redirects=False) as other:
        other_token = login(other, "thamdinh.minh")
    app.state.engine.dispose()
    before = snapshot(sessions)
    assert post_action(client, other_token, world.rumour_item, "take", 1).status_code == 403
    assert snapshot(sessions) == before


def test_cross_site_request_is_refused_even_with_the_token(client: TestClient, world: World, sessions: sessionmaker[Session]) -> None:
    token = login(client, "thamdinh.lan")
    before = snapshot(sessions)
    r = client.post(f"/items/{world.rumour_item}/take", data={"csrf": token, "version": "1"}, headers={"Sec-Fetch-Site": "cross-site"})
    assert r.status_code == 403 and snapshot(sessions) == before


def test_a_deactivated_user_loses_the_session_and_cannot_log_in(client: TestClient, world: World, sessions: sessionmaker[Session]) -> None:
    login(client, "thamdinh.lan")
    with sessions() as s, s.begin():
        user = s.get(User, world.reviewer)
        assert user is not None
        user.active = False
    assert client.get("/queue").status_code == 303
    token = csrf_of(client.get("/login").text)
    r = client.post("/login", data={"username": "thamdinh.lan", "password": PASSWORD, "csrf": token})
    assert r.status_code == 401 and "vô hiệu hóa" in r.text


def test_security_headers_forbid_framing_and_foreign_scripts(client: TestClient, world: World) -> None:
    r = client.get("/login")
    assert r.headers["x-frame-options"] == "DENY"
    assert "default-src 'self'" in r.headers["content-security-policy"]
    assert "cdn" not in r.text.lower() and "https://" not in r.text
