"""Notes and corrections: a note without a verdict, a note to dismiss a risky item, reopening one's own verdict, taking twice."""

from __future__ import annotations

from datetime import timedelta
from html import escape

from fastapi.testclient import TestClient
from sqlalchemy import select, update
from sqlalchemy.orm import Session, sessionmaker

from store.models import ReviewEvent, ReviewItem, ReviewStatus
from tests.review.support import World, item_version, login, post_action, snapshot

NOTE = "Đã gọi điện cho Phòng GD&ĐT quận Lê Chân, chờ trả lời."


def _events(sessions: sessionmaker[Session], item_id: int) -> list[ReviewEvent]:
    with sessions() as s:
        return list(s.scalars(select(ReviewEvent).where(ReviewEvent.review_item_id == item_id).order_by(ReviewEvent.id)))


def test_a_note_without_a_verdict_is_audited_and_changes_nothing_else(client: TestClient, world: World, sessions: sessionmaker[Session]) -> None:
    token = login(client, "thamdinh.minh")
    version = item_version(sessions, world.rumour_item)
    r = post_action(client, token, world.rumour_item, "note", None, note=NOTE)
    assert r.status_code == 303
    events = _events(sessions, world.rumour_item)
    assert [(e.action, e.note, e.user_id) for e in events] == [("note", NOTE, world.reviewer2)]
    assert events[0].before == events[0].after  # the item itself did not change
    assert item_version(sessions, world.rumour_item) == version  # so nobody else's open page goes stale
    page = client.get(r.headers["location"]).text
    assert "Đã lưu ghi chú." in page and escape(NOTE) in page


def test_an_empty_note_is_refused(client: TestClient, world: World, sessions: sessionmaker[Session]) -> None:
    token = login(client, "thamdinh.lan")
    before = snapshot(sessions)
    r = post_action(client, token, world.rumour_item, "note", None, note="   ")
    assert r.status_code == 400 and "Ghi chú không được để trống" in r.text
    assert snapshot(sessions) == before


def test_dismissing_a_high_risk_item_asks_for_a_note(client: TestClient, world: World, sessions: sessionmaker[Session]) -> None:
    token = login(client, "thamdinh.lan")
    before = snapshot(sessions)
    r = post_action(client, token, world.rumour_item, "verdict", 1, verdict="khong_lien_quan")  # risk 0.91
    assert r.status_code == 400 and "rủi ro 91%" in r.text and "vì sao Không liên quan" in r.text
    assert snapshot(sessions) == before
    ok = post_action(client, token, world.rumour_item, "verdict", 1, verdict="khong_lien_quan", note="Tin quảng cáo trường tư, không phải chính sách.")
    assert ok.status_code == 303
    # below 0.8 no note is needed (the merger rumour has risk 0.55)
    assert post_action(client, token, world.merger_item, "verdict", 1, verdict="khong_lien_quan").status_code == 303


def test_a_reviewer_reopens_their_own_verdict_within_a_day(client: TestClient, world: World, sessions: sessionmaker[Session]) -> None:
    token = login(client, "thamdinh.lan")
    post_action(client, token, world.merger_item, "verdict", 1, verdict="tin_xac_thuc")
    page = client.get(f"/items/{world.merger_item}").text
    assert 'action="/items/%d/reopen"' % world.merger_item in page and "trong vòng 24 giờ" in page
    r = post_action(client, token, world.merger_item, "reopen", item_version(sessions, world.merger_item), note="Chọn nhầm kết luận.")
    assert r.status_code == 303
    with sessions() as s:
        item = s.get(ReviewItem, world.merger_item)
        assert item is not None and item.status == ReviewStatus.in_progress and item.verdict is None
    assert [e.action for e in _events(sessions, world.merger_item)] == ["verdict", "reopen"]


def test_a_reviewer_cannot_reopen_an_old_or_someone_elses_verdict(client: TestClient, world: World, sessions: sessionmaker[Session]) -> None:
    token = login(client, "thamdinh.lan")
    post_action(client, token, world.merger_item, "verdict", 1, verdict="tin_xac_thuc")
    client.post("/logout", data={"csrf": token})
    other = login(client, "thamdinh.minh")
    assert 'action="/items/%d/reopen"' % world.merger_item not in client.get(f"/items/{world.merger_item}").text
    r = post_action(client, other, world.merger_item, "reopen", item_version(sessions, world.merger_item))
    assert r.status_code == 403 and "trong vòng 24 giờ" in r.text
    client.post("/logout", data={"csrf": other})
    token = login(client, "thamdinh.lan")
    with sessions() as s, s.begin():  # the verdict is now 25 hours old
        event = s.scalars(select(ReviewEvent).where(ReviewEvent.review_item_id == world.merger_item)).one()
        s.execute(update(ReviewEvent).where(ReviewEvent.id == event.id).values(at=event.at - timedelta(hours=25)))
    before = snapshot(sessions)
    r = post_action(client, token, world.merger_item, "reopen", item_version(sessions, world.merger_item))
    assert r.status_code == 403 and snapshot(sessions) == before


def test_take_is_not_offered_to_the_holder_and_taking_again_is_not_an_error(client: TestClient, world: World, sessions: sessionmaker[Session]) -> None:
    token = login(client, "thamdinh.lan")
    assert 'action="/items/%d/take"' % world.merger_item in client.get(f"/items/{world.merger_item}").text
    post_action(client, token, world.merger_item, "take", 1)
    page = client.get(f"/items/{world.merger_item}").text
    assert 'action="/items/%d/take"' % world.merger_item not in page and "Mục này đang giao cho bạn." in page
    before = snapshot(sessions)
    again = post_action(client, token, world.merger_item, "take", 2)  # e.g. a second tab
    assert again.status_code == 303
    shown = client.get(again.headers["location"]).text
    assert "đã giao cho bạn" in shown and 'role="alert"' not in shown
    assert snapshot(sessions) == before


def test_the_api_answers_note_and_taking_twice(client: TestClient, world: World, sessions: sessionmaker[Session]) -> None:
    login(client, "thamdinh.lan")
    token = client.get("/api/me").json()["csrf_token"]
    headers = {"X-CSRF-Token": token}
    r = client.post(f"/api/items/{world.rumour_item}/actions", json={"action": "note", "version": 1, "note": NOTE}, headers=headers)
    assert r.status_code == 200 and r.json()["message"] == "Đã lưu ghi chú."
    client.post(f"/api/items/{world.rumour_item}/actions", json={"action": "take", "version": 1}, headers=headers)
    twice = client.post(f"/api/items/{world.rumour_item}/actions", json={"action": "take", "version": 2}, headers=headers)
    assert twice.status_code == 200 and twice.json()["ok"] and "đã giao cho bạn" in twice.json()["message"]
    assert [e.action for e in _events(sessions, world.rumour_item)] == ["note", "take"]
