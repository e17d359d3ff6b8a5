"""The item page marks evidence on the words the classifier found, in the field it found them in."""

from __future__ import annotations

import html
import re

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

import jobs
from settings import Settings
from store.models import Article, Classification, ReviewItem
from tests.review.support import World, login

SUMMARY = "Phụ huynh lo lắng trước thông tin nhà trường thu thêm một khoản tiền mới từ đầu năm học."
BODY = (f"{SUMMARY}\n\nNghe nói năm nay trường sẽ thu thêm tiền học thêm của học sinh lớp 9. "
        "Tin nóng: nhiều phụ huynh cho biết chưa nhận được thông báo chính thức nào của nhà trường.")
MARK = re.compile(r"<mark [^>]*>(.*?)<sup")


def _marks(page: str, opening: str, closing: str) -> list[str]:
    """The marked words inside one part of the page (from ``opening`` to the next ``closing``)."""
    part = page.split(opening, 1)[1].split(closing, 1)[0]
    return [html.unescape(m) for m in MARK.findall(part)]


def _article_of(sessions: sessionmaker[Session], item_id: int) -> int:
    with sessions() as s:
        item = s.get(ReviewItem, item_id)
        assert item is not None
        return item.article_id


def test_a_summary_repeated_in_the_body_leaves_the_marks_on_their_words(
    client: TestClient, world: World, sessions: sessionmaker[Session], app_settings: Settings
) -> None:
    article_id = _article_of(sessions, world.merger_item)
    with sessions() as s, s.begin():
        article = s.get(Article, article_id)
        assert article is not None
        article.summary, article.text = SUMMARY, BODY
        s.flush()
        jobs.classify_articles(s, jobs.cached_classifier(s, app_settings), [article], app_settings)
    with sessions() as s:
        c = s.scalar(select(Classification).where(Classification.article_id == article_id))
        assert c is not None
        rumour = next(r["evidence"] for r in c.reasons if r["code"] == "rumour_marker")
    assert rumour["field"] == "text" and BODY[rumour["start"]:rumour["end"]] == rumour["text"] == "Nghe nói"
    login(client, "thamdinh.lan")
    page = client.get(f"/items/{world.merger_item}").text
    marked = _marks(page, '<div class="text">', "</div>")
    assert "Nghe nói" in marked
    assert all(m in BODY for m in marked)
    api = client.get(f"/api/items/{world.merger_item}").json()
    for h in api["highlights"]:  # each highlight names its field and lies on that field's stored words
        stored = {"title": api["title"], "summary": SUMMARY, "text": api["text"]}[h["field"]]
        assert stored[h["start"]:h["end"]] == h["text"]


def test_a_span_whose_offsets_land_on_other_words_is_not_marked_elsewhere(
    client: TestClient, world: World, sessions: sessionmaker[Session]
) -> None:
    article_id = _article_of(sessions, world.merger_item)
    with sessions() as s, s.begin():
        article = s.get(Article, article_id)
        c = s.scalar(select(Classification).where(Classification.article_id == article_id))
        assert article is not None and c is not None
        article.summary, article.text = SUMMARY, BODY
        # offsets 0-8 computed on a body without its summary: in the stored text they cover "Phụ huyn"
        c.reasons = [{"code": "rumour_marker", "label": "Dấu hiệu tin đồn", "weight": 0.4,
                      "evidence": {"text": "Nghe nói", "start": 0, "end": 8, "field": "text"}},
                     {"code": "sensational", "label": "Giật gân", "weight": 0.3,
                      "evidence": {"text": "lo lắng", "start": 10, "end": 17, "field": "summary"}}]
        c.evidence = {}
    login(client, "thamdinh.lan")
    page = client.get(f"/items/{world.merger_item}").text
    assert _marks(page, '<div class="text">', "</div>") == []  # no guess by searching the text for "Nghe nói"
    assert _marks(page, '<p class="summary">', "</p>") == ["lo lắng"]
    assert "— không có đoạn đánh dấu trong bài" in page  # the reason is listed, said to have no mark
