"""Claim registry matching: suggest and auto levels, paraphrases, unrelated items."""

from __future__ import annotations

from classify.api import ClaimRef, Classifier, ItemIn

CLAIMS = [
    ClaimRef(1, "Phụ huynh sẽ bị phạt tiền nếu học sinh mang điện thoại di động đến trường.", "tin_gia"),
    ClaimRef(2, "Tất cả trường tư thục, dân lập sẽ bị giải thể và chuyển thành trường công lập.", "tin_gia"),
]


def scorer(base: Classifier) -> Classifier:
    clf = Classifier(base.bundle, base.lex, suggest=0.35, auto=0.6)
    clf.set_claims(CLAIMS)
    return clf


def test_near_copy_is_auto(classifier: Classifier) -> None:
    res = scorer(classifier).score(ItemIn(title="Phụ huynh sẽ bị phạt tiền nếu học sinh mang điện thoại di động tới trường!"))
    assert res.claim_matches[0]["claim_id"] == 1 and res.claim_matches[0]["level"] == "auto"
    assert res.claim_matches[0]["similarity"] >= 0.6


def test_paraphrase_is_suggested(classifier: Classifier) -> None:
    item = ItemIn(
        title="Chuyện học đường",
        summary="Có tin các trường tư thục và dân lập sắp bị giải thể, học sinh phải chuyển sang trường công.",
    )
    matches = scorer(classifier).score(item).claim_matches
    assert [m["claim_id"] for m in matches] == [2]
    assert matches[0]["level"] == "suggest" and 0.35 <= matches[0]["similarity"] < 0.6
    assert matches[0]["evidence"]["field"] == "summary"


def test_unrelated_item_matches_nothing(classifier: Classifier) -> None:
    res = scorer(classifier).score(ItemIn(title="Giá xăng giảm nhẹ từ chiều nay", summary="Liên Bộ Công Thương - Tài chính điều chỉnh giá xăng dầu."))
    assert res.claim_matches == []
    assert not any(r["code"] == "claim_match" for r in res.reasons)


def test_no_claims_no_matches(classifier: Classifier) -> None:
    assert classifier.score(ItemIn(title=CLAIMS[0].text)).claim_matches == []
