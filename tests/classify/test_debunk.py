"""Debunks: an item reporting a rumour as false is tagged `debunk`, scored low, and refutes the claim it matches."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from classify.api import Classifier, ClaimRef, ItemIn

CLAIM = ClaimRef(7, "Hải Phòng dừng tổ chức bữa ăn bán trú ở tất cả trường tiểu học công lập từ tháng sau.")
RUMOUR = ItemIn(
    title="Hải Phòng dừng bữa ăn bán trú ở tất cả trường tiểu học công lập từ tháng sau",
    summary="Phụ huynh truyền tai nhau rằng từ tháng sau các trường tiểu học công lập sẽ dừng tổ chức bán trú.",
    outlet_kind="social",
)
DEBUNK = ItemIn(
    title="Sở GD&ĐT Hải Phòng bác bỏ thông tin dừng bữa ăn bán trú ở trường tiểu học",
    summary="Thông tin Hải Phòng dừng tổ chức bữa ăn bán trú ở tất cả trường tiểu học công lập từ tháng sau là "
            "không đúng sự thật, các trường vẫn nấu ăn cho học sinh như thường lệ.",
    outlet_kind="social",
)


@pytest.fixture()
def with_claim(classifier: Classifier) -> Iterator[Classifier]:
    classifier.set_claims([CLAIM])
    yield classifier
    classifier.set_claims([])


def codes(classifier: Classifier, item: ItemIn) -> set[str]:
    return {r["code"] for r in classifier.score(item).reasons}


def test_a_debunk_refutes_the_claim_and_is_low_risk_while_the_rumour_repeats_it(with_claim: Classifier) -> None:
    rumour, debunk = with_claim.score(RUMOUR), with_claim.score(DEBUNK)
    assert rumour.claim_matches and rumour.claim_matches[0]["stance"] == "repeats"
    assert "claim_match" in {r["code"] for r in rumour.reasons} and "debunk" not in {r["code"] for r in rumour.reasons}
    assert debunk.claim_matches and debunk.claim_matches[0]["claim_id"] == 7
    assert debunk.claim_matches[0]["stance"] == "refutes"
    by_code = {r["code"]: r for r in debunk.reasons}
    assert by_code["debunk"]["weight"] < 0 and by_code["debunk"]["evidence"]["text"] == "bác bỏ thông tin"
    assert "claim_refuted" in by_code and "claim_match" not in by_code
    assert debunk.risk_score < 0.4 <= rumour.risk_score  # the review app's "low" band ends at 0.4


@pytest.mark.parametrize("title", [
    "Thông tin học sinh Hải Phòng phải học bù cả thứ Bảy là không đúng sự thật",
    "Trường THPT Ngô Quyền lên tiếng về thông tin sai sự thật trên mạng xã hội",
    "Tin đồn thất thiệt về việc đóng cửa trường mầm non khiến phụ huynh hoang mang",
])
def test_each_way_of_calling_a_claim_false_is_a_debunk(classifier: Classifier, title: str) -> None:
    assert "debunk" in codes(classifier, ItemIn(title=title, outlet_kind="press"))


def test_rejecting_an_appeal_or_reporting_a_rumour_is_not_a_debunk(classifier: Classifier) -> None:
    assert "debunk" not in codes(classifier, ItemIn(title="Tòa bác bỏ kháng cáo của cựu hiệu trưởng", outlet_kind="press"))
    assert "debunk" not in codes(classifier, RUMOUR)
