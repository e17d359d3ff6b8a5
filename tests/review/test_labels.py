"""Reviewers teach the classifier: label corrections on any article, in the UI and the API, audited and trained on."""

from __future__ import annotations

from pathlib import Path

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from settings import Settings
from store.models import Article, LabelCorrection, Outlet, Relevance, ReviewItem
from tests.review.support import World, login

# An article nobody queued: a city school's library day, which the department counts as task group 6 coverage.
UNQUEUED_TITLE = "Trường THCS Lê Chân mở thư viện số, học sinh mượn sách bằng mã QR"
UNQUEUED_TEXT = (
    "Thực hiện kế hoạch chuyển đổi số trong giáo dục của thành phố, trường THCS Lê Chân đưa vào sử dụng thư viện "
    "số với hơn 3.000 đầu sách. Học sinh dùng thẻ có mã QR để mượn sách và đọc tài liệu ôn thi ngay trên máy tính bảng."
)


def _article_of(sessions: sessionmaker[Session], item_id: int) -> int:
    with sessions() as s:
        item = s.get(ReviewItem, item_id)
        assert item is not None
        return item.article_id


def _unqueued_article(sessions: sessionmaker[Session], world: World) -> int:
    with sessions() as s, s.begin():
        outlet = s.get(Outlet, world.outlet_city)
        assert outlet is not None
        a = Article(url=f"{outlet.homepage}/thu-vien-so-le-chan", outlet_id=outlet.id, title=UNQUEUED_TITLE,
                    text=UNQUEUED_TEXT)
        s.add(a)
        s.flush()
        return a.id


def _corrections(sessions: sessionmaker[Session]) -> list[tuple[int, int | None, bool, Relevance, int, object]]:
    with sessions() as s:
        rows = s.execute(select(LabelCorrection.article_id, LabelCorrection.user_id, LabelCorrection.is_education,
                                LabelCorrection.relevance, LabelCorrection.theme_mask, LabelCorrection.before)
                         .order_by(LabelCorrection.id))
        return [tuple(r) for r in rows]  # type: ignore[misc]


def test_reviewer_corrects_labels_from_the_item_page(client: TestClient, world: World, sessions: sessionmaker[Session]) -> None:
    csrf = login(client, "thamdinh.lan")
    article_id = _article_of(sessions, world.allowance_item)
    assert f'href="/articles/{article_id}"' in client.get(f"/items/{world.allowance_item}").text
    page = client.get(f"/articles/{article_id}")
    assert page.status_code == 200 and "Thuộc nhiệm vụ của Nghị quyết 71" in page.text and "Chưa ai sửa nhãn" in page.text
    r = client.post(f"/articles/{article_id}/labels", data={
        "csrf": csrf, "is_education": "1", "relevance": "task", "themes": ["2", "5"], "note": "Có cả sửa quy định phụ cấp."})
    assert r.status_code == 303 and r.headers["location"] == f"/articles/{article_id}"
    [(aid, uid, edu, rel, mask, before)] = _corrections(sessions)
    assert (aid, uid, edu, rel, mask) == (article_id, world.reviewer, True, Relevance.task, 0b10010)
    assert before == {"is_education": True, "relevance": "task", "themes": [5]}  # what the classifier said then
    history = client.get(f"/articles/{article_id}").text
    assert "thamdinh.lan" in history and "Có cả sửa quy định phụ cấp." in history and "N2, N5" in history


def test_a_bad_correction_is_refused_and_nothing_is_stored(client: TestClient, world: World, sessions: sessionmaker[Session]) -> None:
    article_id = _article_of(sessions, world.merger_item)
    assert client.get(f"/articles/{article_id}").status_code == 303  # login first
    csrf = login(client, "thamdinh.minh")
    cases = [
        ({"is_education": "1", "relevance": "task"}, "ít nhất một nhóm nhiệm vụ"),
        ({"is_education": "0", "relevance": "explicit", "themes": ["1"]}, "phải là tin giáo dục"),
        ({"is_education": "1", "relevance": "none", "themes": ["3"]}, "không có nhóm nhiệm vụ"),
        ({"is_education": "1", "relevance": "task", "themes": ["9"]}, "từ 1 đến 8"),
        ({"is_education": "1", "relevance": "maybe"}, "mức liên quan"),
        ({"relevance": "none"}, "tin giáo dục hay không"),
    ]
    for fields, message in cases:
        r = client.post(f"/articles/{article_id}/labels", data={"csrf": csrf, **fields})
        assert r.status_code == 400 and message in r.text, (fields, r.status_code)
    assert client.post(f"/articles/{article_id}/labels", data={"is_education": "0", "relevance": "none"}).status_code == 403
    assert client.get("/articles/99999999").status_code == 404
    assert _corrections(sessions) == []


def test_api_corrects_any_article_and_keeps_the_history(client: TestClient, world: World, sessions: sessionmaker[Session]) -> None:
    login(client, "thamdinh.minh")
    token = client.get("/api/me").json()["csrf_token"]
    article_id = _unqueued_article(sessions, world)
    body = {"is_education": True, "relevance": "task", "themes": [3, 6], "note": "Chuyển đổi số trong trường học."}
    assert client.post(f"/api/articles/{article_id}/labels", json=body).status_code == 403  # no CSRF header
    first = client.post(f"/api/articles/{article_id}/labels", json=body, headers={"X-CSRF-Token": token})
    assert first.status_code == 200, first.text
    assert first.json()["model"] is None and first.json()["corrections"][0]["themes"] == [3, 6]
    second = client.post(f"/api/articles/{article_id}/labels", json={"is_education": True, "relevance": "none"},
                         headers={"X-CSRF-Token": token}).json()
    assert [c["relevance"] for c in second["corrections"]] == ["none", "task"]  # newest first
    assert second["corrections"][0]["user"] == "thamdinh.minh"
    bad = client.post(f"/api/articles/{article_id}/labels", json={"is_education": False, "relevance": "task", "themes": [1]},
                      headers={"X-CSRF-Token": token})
    assert bad.status_code == 400 and "phải là tin giáo dục" in bad.json()["detail"]
    assert client.get("/api/articles/424242/labels").status_code == 404
    assert len(_corrections(sessions)) == 2


def test_corrections_are_training_labels_and_outrank_verdicts(world: World, sessions: sessionmaker[Session]) -> None:
    import jobs
    from store.corrections import add_correction, corrections_since

    resolved_article = _article_of(sessions, world.resolved_item)  # decided tin_gia by a reviewer
    with sessions() as s, s.begin():
        before = {it.id: it for it in jobs.training_items_from_db(s)}
        assert before[f"review-{resolved_article}"].misinfo == 1 and before[f"review-{resolved_article}"].relevance is None
        for relevance, themes in [(Relevance.task, [6]), (Relevance.none, [])]:  # the newest correction counts
            article = s.get(Article, resolved_article)
            assert article is not None
            add_correction(s, article, world.reviewer, is_education=True, relevance=relevance, themes=themes, note=None)
        assert corrections_since(s, None) == 2
    with sessions() as s:
        items = {it.id: it for it in jobs.training_items_from_db(s)}
    got = items[f"review-{resolved_article}"]
    assert (got.misinfo, got.is_education, got.relevance, got.themes) == (1, True, "none", [])
    assert set(items) == set(before)


def test_a_correction_changes_the_next_model(world: World, sessions: sessionmaker[Session], settings: Settings,
                                             tmp_path: Path) -> None:
    import jobs
    from classify.api import Classifier, ItemIn
    from classify.model import seed_items
    from store.corrections import add_correction

    base = seed_items()[::15]  # a fifteenth of the seed set keeps the two trainings short
    article_id = _unqueued_article(sessions, world)
    item = ItemIn(title=UNQUEUED_TITLE, text=UNQUEUED_TEXT)
    with sessions() as s:
        jobs.train_model(s, settings, tmp_path / "before", base=base, evaluate=False)
    with sessions() as s, s.begin():
        article = s.get(Article, article_id)
        assert article is not None
        add_correction(s, article, world.reviewer, is_education=True, relevance=Relevance.task, themes=[3], note=None)
    with sessions() as s:
        meta = jobs.train_model(s, settings, tmp_path / "after", base=base, evaluate=False)
    before, after = (Classifier.load(tmp_path / d).score(item) for d in ("before", "after"))
    assert meta["counts"]["reviewer_verdicts"] >= 2  # the resolved seed item and the correction
    assert after.relevance_score > before.relevance_score + 0.02, (before.relevance_score, after.relevance_score)


def test_scheduled_retrain_counts_corrections(world: World, sessions: sessionmaker[Session]) -> None:
    from datetime import timedelta

    from store.corrections import add_correction, corrections_since
    from store.models import utcnow

    mark = utcnow() - timedelta(seconds=1)
    with sessions() as s, s.begin():
        assert corrections_since(s, mark) == 0
        article = s.get(Article, _article_of(sessions, world.merger_item))
        assert article is not None
        add_correction(s, article, None, is_education=True, relevance=Relevance.none, themes=[], note=None)
        assert corrections_since(s, mark) == 1 and corrections_since(s, utcnow() + timedelta(seconds=5)) == 0


def test_corrections_are_in_the_audit_csv_between_review_actions(client: TestClient, world: World, sessions: sessionmaker[Session]) -> None:
    import csv
    import io

    from tests.review.support import post_action

    token = login(client, "thamdinh.lan")
    post_action(client, token, world.merger_item, "take", 1)
    article_id = _article_of(sessions, world.merger_item)
    client.post(f"/articles/{article_id}/labels", data={"csrf": token, "is_education": "1", "relevance": "task",
                                                          "themes": ["7"], "note": "Sắp xếp mạng lưới đại học."})
    unqueued = _unqueued_article(sessions, world)
    client.post(f"/articles/{unqueued}/labels", data={"csrf": token, "is_education": "1", "relevance": "none"})
    client.post("/logout", data={"csrf": token})
    login(client, "giamsat.hoa")
    rows = list(csv.reader(io.StringIO(client.get("/audit.csv?from=2020-01-01&to=2030-12-31").content.decode("utf-8-sig"))))
    assert [row[6] for row in rows[1:]] == ["Nhận xử lý", "Sửa nhãn phân loại", "Sửa nhãn phân loại"]
    queued, other = rows[2], rows[3]
    assert queued[0].startswith("nhãn-") and queued[2] == str(world.merger_item) and queued[5] == "thamdinh.lan"
    assert '"relevance": "task"' in queued[7] and '"themes": [7]' in queued[8] and queued[9] == "Sắp xếp mạng lưới đại học."
    assert other[2] == "" and other[4] == UNQUEUED_TITLE and '"relevance": "none"' in other[8]
