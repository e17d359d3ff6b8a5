"""Audit export, sources (pause/resume), claims page and user management, with their role checks."""

from __future__ import annotations

import csv
import io
from datetime import UTC
from zoneinfo import ZoneInfo

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from review.users import UserError, create_user
from store.models import Feed, ReviewEvent, Role, User
from tests.review.support import PASSWORD, World, csrf_of, login, post_action, snapshot

ROLES = {"reviewer": "thamdinh.lan", "supervisor": "giamsat.hoa", "admin": "quantri"}


@pytest.mark.parametrize(("role", "allowed"), [("reviewer", False), ("supervisor", True), ("admin", True)])
def test_audit_csv_for_a_period(client: TestClient, world: World, sessions: sessionmaker[Session], role: str, allowed: bool) -> None:
    token = login(client, "thamdinh.lan")
    post_action(client, token, world.rumour_item, "take", 1)
    post_action(client, token, world.rumour_item, "verdict", 2, verdict="tin_sai_su_that", note="Có thật một phần: chỉ một trường tạm dừng 1 ngày do mất nước.")
    client.post("/logout", data={"csrf": token})
    login(client, ROLES[role])
    r = client.get("/audit.csv?from=2020-01-01&to=2030-12-31")
    if not allowed:
        assert r.status_code == 403 and client.get("/audit").status_code == 403
        return
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/csv")
    assert "attachment" in r.headers["content-disposition"]
    rows = list(csv.reader(io.StringIO(r.content.decode("utf-8-sig"))))
    assert rows[0][:3] == ["Mã sự kiện", "Thời điểm (giờ Việt Nam, UTC+07:00)", "Mã mục"]
    assert [row[6] for row in rows[1:]] == ["Nhận xử lý", "Kết luận"]
    with sessions() as s:  # the time column is the stored instant on Hải Phòng's clock
        at = s.scalars(select(ReviewEvent.at).order_by(ReviewEvent.id.desc()).limit(1)).one()
    local = (at if at.tzinfo else at.replace(tzinfo=UTC)).astimezone(ZoneInfo("Asia/Ho_Chi_Minh"))
    assert rows[2][1] == local.strftime("%d/%m/%Y %H:%M:%S")
    assert rows[2][5] == "thamdinh.lan" and "tin_sai_su_that" in rows[2][8] and "mất nước" in rows[2][9]
    assert rows[2][4] == "Hải Phòng dừng bữa ăn bán trú ở trường tiểu học công lập?"
    empty = client.get("/audit.csv?from=2001-01-01&to=2001-01-31")
    assert len(list(csv.reader(io.StringIO(empty.content.decode("utf-8-sig"))))) == 1


@pytest.mark.parametrize(("query", "message"), [("from=&to=", "năm-tháng-ngày"), ("from=2026-13-01&to=2026-12-01", "năm-tháng-ngày"), ("from=2026-11-20&to=2026-11-01", "sau hoặc bằng")])
def test_audit_bad_dates(client: TestClient, world: World, query: str, message: str) -> None:
    login(client, "giamsat.hoa")
    r = client.get(f"/audit.csv?{query}")
    assert r.status_code == 400 and message in r.text


def test_sources_page_shows_feed_health(client: TestClient, world: World) -> None:
    login(client, "thamdinh.lan")
    html = client.get("/sources").text
    assert "Báo và PT-TH Hải Phòng" in html and "HTTP 503 Service Unavailable" in html and "http_error" in html
    assert "Tạm dừng" not in html  # reviewers see no pause button


@pytest.mark.parametrize(("role", "allowed"), [("reviewer", False), ("supervisor", False), ("admin", True)])
def test_pause_and_resume_a_feed(client: TestClient, world: World, sessions: sessionmaker[Session], role: str, allowed: bool) -> None:
    token = login(client, ROLES[role])
    before = snapshot(sessions)
    r = client.post(f"/feeds/{world.feed}/pause", data={"csrf": token})
    if not allowed:
        assert r.status_code == 403 and snapshot(sessions) == before
        return
    assert r.status_code == 303
    with sessions() as s:
        assert s.get(Feed, world.feed).paused is True  # type: ignore[union-attr]
    assert "tạm dừng" in client.get("/sources").text
    again = client.post(f"/feeds/{world.feed}/pause", data={"csrf": token})
    assert again.status_code == 400 and "đã tạm dừng rồi" in again.text
    assert client.post(f"/feeds/{world.feed}/resume", data={"csrf": token}).status_code == 303
    with sessions() as s:
        assert s.get(Feed, world.feed).paused is False  # type: ignore[union-attr]
    assert client.post("/feeds/9999/pause", data={"csrf": token}).status_code == 404
    assert client.post("/feeds/abc/pause", data={"csrf": token}).status_code == 400
    assert client.post(f"/feeds/{world.feed}/explode", data={"csrf": token}).status_code == 404
    assert client.post(f"/feeds/{world.feed}/pause", data={}).status_code == 403  # no CSRF token


def test_claims_page_lists_matches(client: TestClient, world: World) -> None:
    login(client, "thamdinh.lan")
    html = client.get("/claims").text
    assert "Hải Phòng dừng tổ chức bữa ăn bán trú" in html and "82%" in html and f"/items/{world.rumour_item}" in html


@pytest.mark.parametrize("role", ["reviewer", "supervisor"])
def test_only_admins_manage_users(client: TestClient, world: World, sessions: sessionmaker[Session], role: str) -> None:
    token = login(client, ROLES[role])
    before = snapshot(sessions)
    assert client.get("/users").status_code == 403
    assert client.post("/users", data={"csrf": token, "username": "moi.nguoi", "password": PASSWORD, "role": "admin"}).status_code == 403
    assert client.post(f"/users/{world.reviewer}/role", data={"csrf": token, "role": "admin"}).status_code == 403
    assert client.post(f"/users/{world.reviewer2}/deactivate", data={"csrf": token}).status_code == 403
    assert snapshot(sessions) == before


def test_admin_adds_changes_role_deactivates_and_reactivates(client: TestClient, world: World, sessions: sessionmaker[Session]) -> None:
    token = login(client, "quantri")
    r = client.post("/users", data={"csrf": token, "username": "ThamDinh.Ngoc", "password": "mật-khẩu-mới-đủ-dài", "role": "reviewer", "display_name": "Nguyễn Thị Ngọc"})
    assert r.status_code == 303
    page = client.get("/users").text
    assert "Đã tạo tài khoản thamdinh.ngoc" in page and "Nguyễn Thị Ngọc" in page
    with sessions() as s:
        user = s.scalar(select(User).where(User.username == "thamdinh.ngoc"))
        assert user is not None and user.password_hash.startswith("$argon2id$") and user.role == Role.reviewer
        uid = user.id
    assert client.post(f"/users/{uid}/role", data={"csrf": token, "role": "supervisor"}).status_code == 303
    assert client.post(f"/users/{uid}/deactivate", data={"csrf": token}).status_code == 303
    with sessions() as s:
        user = s.get(User, uid)
        assert user is not None and user.role == Role.supervisor and user.active is False
    assert client.post(f"/users/{uid}/activate", data={"csrf": token}).status_code == 303
    # the new account can log in
    client.post("/logout", data={"csrf": token})
    login(client, "thamdinh.ngoc", "mật-khẩu-mới-đủ-dài")


@pytest.mark.parametrize(
    ("data", "message"),
    [
        ({"username": "", "password": PASSWORD, "role": "reviewer"}, "Tên đăng nhập: 3-64 ký tự"),
        ({"username": "có dấu cách", "password": PASSWORD, "role": "reviewer"}, "Tên đăng nhập: 3-64 ký tự"),
        ({"username": "x" * 65, "password": PASSWORD, "role": "reviewer"}, "Tên đăng nhập: 3-64 ký tự"),
        ({"username": "thamdinh.lan", "password": PASSWORD, "role": "reviewer"}, "đã có người dùng"),
        ({"username": "nguoi.moi", "password": "ngan", "role": "reviewer"}, "ít nhất 10 ký tự"),
        ({"username": "nguoi.moi", "password": "p" * 300, "role": "reviewer"}, "dài quá 256"),
        ({"username": "nguoi.moi", "password": PASSWORD, "role": "vua"}, "Vai trò phải là"),
        ({"username": "nguoi.moi", "password": PASSWORD, "role": "reviewer", "display_name": "Tên " * 60}, "Họ tên dài quá"),
    ],
)
def test_bad_user_forms(client: TestClient, world: World, sessions: sessionmaker[Session], data: dict[str, str], message: str) -> None:
    token = login(client, "quantri")
    before = snapshot(sessions)
    r = client.post("/users", data={"csrf": token, **data})
    assert r.status_code == 400 and message in r.text
    assert snapshot(sessions) == before


@pytest.mark.parametrize(
    ("path", "data", "code", "message"),
    [
        ("/users/ADMIN/deactivate", {}, 403, "tự vô hiệu hóa"),
        ("/users/ADMIN/role", {"role": "reviewer"}, 403, "quản trị viên cuối cùng"),
        ("/users/9999/role", {"role": "reviewer"}, 404, "Không có người dùng số 9999"),
        ("/users/abc/role", {"role": "reviewer"}, 400, "phải là một số nguyên"),
        ("/users/REV/role", {"role": "superman"}, 400, "Vai trò phải là"),
        ("/users/REV/role", {"role": "reviewer"}, 400, "đã có vai trò này"),
        ("/users/REV/explode", {}, 404, "Không có thao tác"),
    ],
)
def test_bad_user_changes(client: TestClient, world: World, sessions: sessionmaker[Session], path: str, data: dict[str, str], code: int, message: str) -> None:
    token = login(client, "quantri")
    before = snapshot(sessions)
    r = client.post(path.replace("ADMIN", str(world.admin)).replace("REV", str(world.reviewer)), data={"csrf": token, **data})
    assert r.status_code == code and message in r.text
    assert snapshot(sessions) == before


def test_create_user_contract(sessions: sessionmaker[Session]) -> None:
    with sessions() as s, s.begin():
        user = create_user(s, "demo.reviewer", "mật-khẩu-demo-2026", Role.reviewer)
        assert user.id and user.role == Role.reviewer and user.active and user.password_hash.startswith("$argon2id$")
    with sessions() as s, pytest.raises(UserError, match="đã có người dùng"):
        create_user(s, "Demo.Reviewer", "mật-khẩu-demo-2026", Role.reviewer)
