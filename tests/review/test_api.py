"""The JSON API: same login, CSRF header on writes, clear errors, conflicts, and an OpenAPI document."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy.orm import Session, sessionmaker

from store.models import ReviewStatus, Verdict
from tests.review.support import World, login, snapshot


def _token(client: TestClient) -> str:
    me = client.get("/api/me").json()
    return str(me["csrf_token"])


def test_openapi_document_lists_the_api_only(client: TestClient, world: World) -> None:
    login(client, "thamdinh.lan")
    doc = client.get("/api/openapi.json").json()
    paths = set(doc["paths"])
    assert {"/api/queue", "/api/items/{item_id}", "/api/items/{item_id}/actions", "/api/claims", "/api/me"} <= paths
    assert not any(p.startswith("/items") or p == "/login" for p in paths)


def test_queue_and_item_as_json(client: TestClient, world: World) -> None:
    login(client, "thamdinh.lan")
    queue = client.get("/api/queue", params={"q": "bán trú", "status": "new"}).json()
    assert queue["total"] == 1 and queue["counts"]["resolved"] == 1
    [row] = queue["items"]
    assert row["id"] == world.rumour_item and row["status_label"] == "Mới" and row["themes"] == [6] and row["risk"] == 0.91
    item = client.get(f"/api/items/{world.rumour_item}").json()
    assert item["version"] == 1 and item["claims"][0]["similarity"] == 0.82
    assert any(h["text"] == "dừng tổ chức bữa ăn bán trú" for h in item["highlights"])
    assert item["story"][0]["outlet"] == "Báo và PT-TH Hải Phòng" and item["story"][0]["is_copy"] is True
    bad = client.get("/api/queue", params={"theme": "12"})
    assert bad.status_code == 400 and "1 đến 8" in bad.json()["detail"]
    assert client.get("/api/items/999999").status_code == 404
    assert client.get("/api/items/abc").status_code == 422


def test_actions_need_the_csrf_header(client: TestClient, world: World, sessions: sessionmaker[Session]) -> None:
    login(client, "thamdinh.lan")
    before = snapshot(sessions)
    r = client.post(f"/api/items/{world.rumour_item}/actions", json={"action": "take", "version": 1})
    assert r.status_code == 403 and "CSRF" in r.json()["detail"]
    assert snapshot(sessions) == before


def test_take_verdict_and_conflict_over_json(client: TestClient, world: World, sessions: sessionmaker[Session]) -> None:
    login(client, "thamdinh.lan")
    headers = {"X-CSRF-Token": _token(client)}
    url = f"/api/items/{world.rumour_item}/actions"
    took = client.post(url, json={"action": "take", "version": 1}, headers=headers)
    assert took.status_code == 200 and took.json()["item"]["status"] == ReviewStatus.in_progress
    before = snapshot(sessions)
    stale = client.post(url, json={"action": "verdict", "version": 1, "verdict": "tin_gia", "note": "Bịa đặt."}, headers=headers)
    assert stale.status_code == 409 and "Xung đột" in stale.json()["detail"]
    assert snapshot(sessions) == before
    no_note = client.post(url, json={"action": "verdict", "version": 2, "verdict": "tin_gia"}, headers=headers)
    assert no_note.status_code == 400 and "không được để trống" in no_note.json()["detail"]
    done = client.post(url, json={"action": "verdict", "version": 2, "verdict": "tin_gia", "note": "Sở GD&ĐT đã bác bỏ."}, headers=headers)
    body = done.json()
    assert done.status_code == 200 and body["item"]["verdict"] == Verdict.tin_gia and body["item"]["history"][-1]["note"] == "Sở GD&ĐT đã bác bỏ."


def test_api_bad_bodies_and_roles(client: TestClient, world: World, sessions: sessionmaker[Session]) -> None:
    login(client, "thamdinh.lan")
    headers = {"X-CSRF-Token": _token(client)}
    url = f"/api/items/{world.rumour_item}/actions"
    before = snapshot(sessions)
    for body in ({"action": "fly", "version": 1}, {"action": "take", "version": "một"}, {"action": "take"},
                 {"action": "escalate", "version": 1, "note": "x" * 2001}, {"action": "verdict", "version": 1, "verdict": "tin_bua"}):
        r = client.post(url, json=body, headers=headers)
        assert r.status_code == 422 and r.json()["detail"].startswith("Dữ liệu không hợp lệ")
    refused = client.post(url, json={"action": "assign", "version": 1, "assignee_id": world.reviewer2}, headers=headers)
    assert refused.status_code == 403 and "không có quyền" in refused.json()["detail"]
    missing = client.post("/api/items/999999/actions", json={"action": "take", "version": 1}, headers=headers)
    assert missing.status_code == 404
    assert snapshot(sessions) == before


def test_claims_json(client: TestClient, world: World) -> None:
    login(client, "thamdinh.lan")
    [claim] = client.get("/api/claims").json()
    assert claim["verdict"] == "tin_gia" and claim["matches"][0]["similarity"] == 0.82
