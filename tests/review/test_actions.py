"""Item actions through the pages: every action and role, audit rows, conflicts and bad input."""

from __future__ import annotations

from html import escape
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from review.app import create_app
from settings import Settings
from store.models import Claim, ReviewEvent, ReviewItem, ReviewStatus, Verdict
from tests.review.support import World, item_version, login, post_action, snapshot

ROLES = {"reviewer": "thamdinh.lan", "supervisor": "giamsat.hoa", "admin": "quantri"}


def _events(sessions: sessionmaker[Session], item_id: int) -> list[ReviewEvent]:
    with sessions() as s:
        return list(s.scalars(select(ReviewEvent).where(ReviewEvent.review_item_id == item_id).order_by(ReviewEvent.id)))


def _item(sessions: sessionmaker[Session], item_id: int) -> ReviewItem:
    with sessions() as s:
        item = s.get(ReviewItem, item_id)
        assert item is not None
        return item


# (action, fields, item attribute of World, allowed roles)
MATRIX: list[tuple[str, dict[str, str], str, set[str]]] = [
    ("take", {}, "rumour_item", {"reviewer", "supervisor", "admin"}),
    ("assign", {"assignee_id": "WORLD.reviewer2"}, "rumour_item", {"supervisor", "admin"}),
    ("escalate", {"note": "Đề nghị Sở GD&ĐT xác nhận có dừng bán trú hay không."}, "rumour_item", {"reviewer", "supervisor", "admin"}),
    ("verdict", {"verdict": "tin_gia", "note": "Sở GD&ĐT khẳng định không có chủ trương dừng bán trú."}, "rumour_item", {"reviewer", "supervisor", "admin"}),
    ("reopen", {"note": "Có thông tin mới từ phụ huynh."}, "resolved_item", {"supervisor", "admin"}),
    ("claim", {"text": "Hải Phòng bắt phụ huynh tự mang cơm cho con vì dừng bán trú.", "refutation_url": "https://haiphong.edu.vn/bac-bo"}, "resolved_item", {"reviewer", "supervisor", "admin"}),
]


@pytest.mark.parametrize("role", ["reviewer", "supervisor", "admin"])
@pytest.mark.parametrize(("action", "fields", "target", "allowed"), MATRIX, ids=[m[0] for m in MATRIX])
def test_every_action_for_every_role(
    client: TestClient, world: World, sessions: sessionmaker[Session], role: str, action: str, fields: dict[str, str], target: str, allowed: set[str]
) -> None:
    token = login(client, ROLES[role])
    item_id = getattr(world, target)
    fields = {k: str(getattr(world, v[6:])) if v.startswith("WORLD.") else v for k, v in fields.items()}
    before = snapshot(sessions)
    r = post_action(client, token, item_id, action, item_version(sessions, item_id), **fields)
    if role in allowed:
        assert r.status_code == 303, r.text
        page = client.get(r.headers["location"])
        assert page.status_code == 200
        events = _events(sessions, item_id)
        assert events and events[-1].action == ("add_claim" if action == "claim" else action)
        assert events[-1].user_id == getattr(world, {"reviewer": "reviewer", "supervisor": "supervisor", "admin": "admin"}[role])
    else:
        assert r.status_code == 403, r.text
        assert "không có quyền" in r.text
        assert snapshot(sessions) == before


def test_take_then_verdict_writes_the_audit_and_history(client: TestClient, world: World, sessions: sessionmaker[Session]) -> None:
    token = login(client, "thamdinh.lan")
    assert post_action(client, token, world.rumour_item, "take", 1).status_code == 303
    item = _item(sessions, world.rumour_item)
    assert item.status == ReviewStatus.in_progress and item.assignee_id == world.reviewer and item.first_action_at is not None
    note = "Sở GD&ĐT Hải Phòng khẳng định không dừng bữa ăn bán trú; tin bịa đặt."
    assert post_action(client, token, world.rumour_item, "verdict", item.version, verdict="tin_gia", note=note).status_code == 303
    item = _item(sessions, world.rumour_item)
    assert item.status == ReviewStatus.resolved and item.verdict == Verdict.tin_gia and item.resolved_at is not None
    take, verdict = _events(sessions, world.rumour_item)
    assert take.before == {"status": "new", "verdict": None, "assignee": None}
    assert take.after == {"status": "in_progress", "verdict": None, "assignee": "thamdinh.lan"}
    assert verdict.before is not None and verdict.before["status"] == "in_progress" and verdict.after == {"status": "resolved", "verdict": "tin_gia", "assignee": "thamdinh.lan"}
    assert verdict.note == note
    page = client.get(f"/items/{world.rumour_item}").text
    assert "Đã lưu kết luận." in page and escape(note) in page and "Tin giả" in page and "Đang xử lý → Đã xử lý" in page


@pytest.mark.parametrize("verdict", ["tin_gia", "tin_sai_su_that"])
def test_false_verdicts_need_a_note(client: TestClient, world: World, sessions: sessionmaker[Session], verdict: str) -> None:
    token = login(client, "thamdinh.lan")
    before = snapshot(sessions)
    r = post_action(client, token, world.rumour_item, "verdict", 1, verdict=verdict, note="   ")
    assert r.status_code == 400 and "Ghi chú không được để trống" in r.text
    assert snapshot(sessions) == before


@pytest.mark.parametrize("verdict", ["tin_xac_thuc", "khong_lien_quan"])
def test_other_verdicts_need_no_note(client: TestClient, world: World, sessions: sessionmaker[Session], verdict: str) -> None:
    token = login(client, "thamdinh.lan")
    assert post_action(client, token, world.allowance_item, "verdict", 1, verdict=verdict).status_code == 303
    assert _item(sessions, world.allowance_item).verdict == Verdict(verdict)


def test_escalate_needs_a_note_and_sets_the_status(client: TestClient, world: World, sessions: sessionmaker[Session]) -> None:
    token = login(client, "thamdinh.lan")
    before = snapshot(sessions)
    empty = post_action(client, token, world.merger_item, "escalate", 1, note="")
    assert empty.status_code == 400 and "không được để trống" in empty.text and snapshot(sessions) == before
    assert post_action(client, token, world.merger_item, "escalate", 1, note="Nhờ Sở xác minh danh sách sáp nhập.").status_code == 303
    item = _item(sessions, world.merger_item)
    assert item.status == ReviewStatus.escalated and item.note == "Nhờ Sở xác minh danh sách sáp nhập."
    assert "Chuyển Sở GD&amp;ĐT" in client.get("/queue?status=escalated").text


def test_a_reviewer_cannot_act_on_someone_elses_item(client: TestClient, world: World, sessions: sessionmaker[Session]) -> None:
    token = login(client, "thamdinh.lan")
    post_action(client, token, world.rumour_item, "take", 1)
    client.post("/logout", data={"csrf": token})
    other = login(client, "thamdinh.minh")
    before = snapshot(sessions)
    r = post_action(client, other, world.rumour_item, "verdict", 2, verdict="khong_lien_quan")
    assert r.status_code == 403 and "giao cho người khác" in r.text
    assert snapshot(sessions) == before


def test_reopen_clears_the_verdict_and_keeps_history(client: TestClient, world: World, sessions: sessionmaker[Session]) -> None:
    token = login(client, "giamsat.hoa")
    assert post_action(client, token, world.resolved_item, "reopen", 1, note="Phụ huynh gửi thêm bằng chứng.").status_code == 303
    item = _item(sessions, world.resolved_item)
    assert item.status == ReviewStatus.in_progress and item.verdict is None and item.resolved_at is None
    [event] = _events(sessions, world.resolved_item)
    assert event.before == {"status": "resolved", "verdict": "tin_gia", "assignee": "thamdinh.lan"}
    assert event.after is not None and event.after["verdict"] is None
    # reopening something not resolved is a clear refusal
    again = post_action(client, token, world.resolved_item, "reopen", item.version)
    assert again.status_code == 400 and "Chỉ mở lại" in again.text


def test_add_to_claim_registry_once_and_only_from_a_false_item(client: TestClient, world: World, sessions: sessionmaker[Session]) -> None:
    token = login(client, "thamdinh.lan")
    text = "Hải Phòng bắt phụ huynh tự mang cơm cho con vì dừng bán trú."
    r = post_action(client, token, world.resolved_item, "claim", 1, text=text, refutation_url="https://haiphong.edu.vn/bac-bo")
    assert r.status_code == 303
    with sessions() as s:
        claim = s.scalar(select(Claim).where(Claim.text == text))
        assert claim is not None and claim.verdict == Verdict.tin_gia and claim.author_id == world.reviewer and claim.refutation_url
    page = client.get(f"/items/{world.resolved_item}").text
    assert "Đã thêm vào kho tin sai" in page and "đã có trong" in page
    assert "Đã đối chiếu lại" in page  # jobs.recheck_claim ran on the stored articles
    assert text in client.get("/claims").text
    before = snapshot(sessions)
    twice = post_action(client, token, world.resolved_item, "claim", 1, text=text)
    assert twice.status_code == 400 and "đã có trong kho tin sai" in twice.text
    not_false = post_action(client, token, world.rumour_item, "claim", 1, text=text)
    assert not_false.status_code == 400 and "Chỉ thêm vào kho tin sai" in not_false.text
    assert snapshot(sessions) == before


def test_two_reviewers_at_once_the_second_gets_a_conflict_and_keeps_the_note(
    client: TestClient, app_settings: Settings, world: World, sessions: sessionmaker[Session]
) -> None:
    token_a = login(client, "thamdinh.lan")
    app = create_app(app_settings)
    with TestClient(app, follow_redirects=False) as second:
        token_b = login(second, "giamsat.hoa")
        seen = item_version(sessions, world.rumour_item)  # both opened the item at this version
        assert post_action(client, token_a, world.rumour_item, "take", seen).status_code == 303
        before = snapshot(sessions)
        note = "Đã gọi Sở GD&ĐT: không có văn bản dừng bán trú. Kết luận tin giả."
        r = post_action(second, token_b, world.rumour_item, "verdict", seen, verdict="tin_gia", note=note)
        assert r.status_code == 409
        assert "Xung đột" in r.text and "thamdinh.lan" in r.text and "Chưa có gì được lưu" in r.text
        assert escape(note) in r.text  # the note typed is still in the form
        assert 'value="tin_gia" checked' in r.text
        assert snapshot(sessions) == before
        # with the fresh version the same action goes through
        assert post_action(second, token_b, world.rumour_item, "verdict", seen + 1, verdict="tin_gia", note=note).status_code == 303
    app.state.engine.dispose()


def test_the_version_column_catches_a_race_past_the_check(world: World, sessions: sessionmaker[Session]) -> None:
    """Two sessions load version 1; the first commits; the second's flush must fail as a conflict."""
    from review import service
    from store.models import User

    with sessions() as a, sessions() as b:
        a.begin()
        b.begin()
        ua, ub = a.get(User, world.reviewer), b.get(User, world.supervisor)
        assert ua is not None and ub is not None
        held = b.get(ReviewItem, world.rumour_item)  # b holds version 1 (a strong reference keeps it mapped)
        assert held is not None and held.version == 1
        service.take(a, world.rumour_item, ua, 1)
        a.commit()
        with pytest.raises(service.ConflictError):
            service.give_verdict(b, world.rumour_item, ub, Verdict.khong_lien_quan, "Bài quảng cáo, không phải tin giáo dục.", None)
        b.rollback()
    assert _item(sessions, world.rumour_item).status == ReviewStatus.in_progress


BAD: list[tuple[str, dict[str, Any], int, str]] = [
    ("verdict", {"verdict": "tin_gia", "note": "x" * 2001}, 400, "quá dài"),
    ("verdict", {"verdict": "tin_bua", "note": "ghi chú"}, 400, "Hãy chọn một kết luận"),
    ("verdict", {"verdict": "", "note": ""}, 400, "Hãy chọn một kết luận"),
    ("escalate", {"note": "y" * 5000}, 400, "quá dài"),
    ("assign", {"assignee_id": "abc"}, 400, "phải là một số nguyên"),
    ("assign", {"assignee_id": "999999"}, 404, "Không có người dùng"),
    ("assign", {"assignee_id": ""}, 400, "phải là một số nguyên"),
    ("claim", {"text": "ngắn"}, 400, "quá ngắn"),
    ("claim", {"text": "Tin đồn dừng bán trú ở Hải Phòng", "refutation_url": "javascript:alert(1)"}, 400, "URL http(s)"),
    ("claim", {"text": ""}, 400, "không được để trống"),
    ("reopen", {"note": "z" * 2001}, 400, "quá dài"),
]


@pytest.mark.parametrize(("action", "fields", "code", "message"), BAD, ids=[f"{b[0]}-{i}" for i, b in enumerate(BAD)])
def test_bad_input_gets_a_clear_message_and_changes_nothing(
    client: TestClient, world: World, sessions: sessionmaker[Session], action: str, fields: dict[str, Any], code: int, message: str
) -> None:
    token = login(client, "giamsat.hoa")
    target = world.resolved_item if action in {"claim", "reopen"} else world.rumour_item
    before = snapshot(sessions)
    r = post_action(client, token, target, action, 1, **fields)
    assert r.status_code == code, r.text
    assert message in r.text
    assert snapshot(sessions) == before


@pytest.mark.parametrize(
    ("path", "data", "code", "message"),
    [
        ("/items/999999/take", {"version": "1"}, 404, "Không có mục thẩm định số 999999"),
        ("/items/abc/take", {"version": "1"}, 404, "Không có mục thẩm định"),
        ("/items/ITEM/fly", {"version": "1"}, 404, "Không có thao tác"),
        ("/items/ITEM/take", {"version": "mot"}, 400, "phải là một số nguyên"),
        ("/items/ITEM/take", {}, 400, "Thiếu phiên bản"),
    ],
)
def test_unknown_ids_and_wrong_types(
    client: TestClient, world: World, sessions: sessionmaker[Session], path: str, data: dict[str, str], code: int, message: str
) -> None:
    token = login(client, "thamdinh.lan")
    before = snapshot(sessions)
    r = client.post(path.replace("ITEM", str(world.rumour_item)), data={"csrf": token, **data})
    assert r.status_code == code and message in r.text
    assert snapshot(sessions) == before
    assert client.get("/items/424242").status_code == 404
