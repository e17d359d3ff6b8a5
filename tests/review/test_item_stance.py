"""The item page tells an item that repeats a registered false claim from one that refutes it."""

from __future__ import annotations

from fastapi.testclient import TestClient
from sqlalchemy import select
from sqlalchemy.orm import Session, sessionmaker

from store.models import ClaimMatch, Classification, ReviewItem
from tests.review.support import World, login

REPEATS, REFUTES = '<span class="stance">Lặp lại tin sai</span>', '<span class="stance">Bác bỏ tin sai</span>'


def test_item_page_says_repeats_or_refutes_the_claim(client: TestClient, world: World,
                                                     sessions: sessionmaker[Session]) -> None:
    login(client, "thamdinh.lan")
    rumour = client.get(f"/items/{world.rumour_item}").text
    assert REPEATS in rumour and REFUTES not in rumour
    with sessions() as s, s.begin():
        item = s.get(ReviewItem, world.merger_item)
        assert item is not None
        s.add(ClaimMatch(claim_id=world.claim, article_id=item.article_id, similarity=0.7, level="auto"))
        c = s.scalar(select(Classification).where(Classification.article_id == item.article_id))
        assert c is not None
        c.reasons = [*c.reasons, {"code": "debunk", "label": "Bác bỏ tin sai (bài cải chính, đính chính)",
                                  "weight": -0.8, "evidence": {"text": "bác bỏ thông tin", "start": 0, "end": 16,
                                                               "field": "title"}}]
    debunk = client.get(f"/items/{world.merger_item}").text
    assert REFUTES in debunk and REPEATS not in debunk
