"""Misinformation risk: each reason code on a hand-made example, with weight, label and evidence span."""

from __future__ import annotations

from typing import Any

from classify.api import Classifier, ItemIn, Result

CALM = ItemIn(
    title="Sở GD&ĐT Hải Phòng công bố lịch thi tuyển sinh lớp 10",
    summary="Theo thông báo của Sở Giáo dục và Đào tạo, kỳ thi tuyển sinh lớp 10 diễn ra ngày 2 và 3/6.",
    outlet_kind="portal",
)


def reason(result: Result, code: str) -> dict[str, Any]:
    found = [r for r in result.reasons if r["code"] == code]
    assert found, f"{code} missing in {[r['code'] for r in result.reasons]}"
    return found[0]


def check_span(item: ItemIn, r: dict[str, Any]) -> None:
    ev = r["evidence"]
    source = {"title": item.title, "summary": item.summary, "text": item.text}[ev["field"]]
    assert source[ev["start"]:ev["end"]] == ev["text"]
    assert r["label"] and r["label"][0].isupper()  # a Vietnamese sentence for reviewers


def spans_of(value: Any) -> list[dict[str, Any]]:
    """Every evidence span inside a result's JSON, however nested."""
    if isinstance(value, list):
        return [s for v in value for s in spans_of(v)]
    if not isinstance(value, dict):
        return []
    own = [value] if isinstance(value.get("start"), int) and value.get("field") in ("title", "summary", "text") else []
    return own + [s for v in value.values() for s in spans_of(v)]


def test_evidence_after_a_summary_repeated_in_the_body_names_its_own_words(classifier: Classifier) -> None:
    summary = "Phụ huynh lo lắng trước thông tin nhà trường thu thêm một khoản tiền mới từ đầu năm học."
    body = (f"{summary}\n\nNghe nói năm nay trường sẽ thu thêm tiền học thêm của học sinh lớp 9. "
            "Tin nóng: nhiều phụ huynh cho biết chưa nhận được thông báo chính thức nào của nhà trường.")
    item = ItemIn(title="Trường ở Hải Phòng thu thêm tiền học thêm?", summary=summary, text=body, outlet_kind="social")
    result = classifier.score(item)
    r = reason(result, "rumour_marker")
    assert r["evidence"]["field"] == "text" and r["evidence"]["start"] > len(summary)  # after the repeated summary
    check_span(item, r)
    spans = spans_of([result.reasons, result.evidence, result.claim_matches])
    assert any(s["field"] == "text" for s in spans)
    for s in spans:  # every span names a field and lies on its own words in that field's stored text
        source = {"title": item.title, "summary": item.summary, "text": item.text}[s["field"]]
        assert source[s["start"]:s["end"]] == s["text"], s


def test_rumour_marker(classifier: Classifier) -> None:
    item = ItemIn(title="Nghe nói năm nay trường sẽ thu thêm tiền học thêm của học sinh", outlet_kind="press")
    r = reason(classifier.score(item), "rumour_marker")
    assert r["weight"] > 0 and r["evidence"]["text"] == "Nghe nói"
    check_span(item, r)


def test_sensational(classifier: Classifier) -> None:
    item = ItemIn(title="Tin nóng: học sinh toàn thành phố sắp bị cấm dùng điện thoại", outlet_kind="press")
    r = reason(classifier.score(item), "sensational")
    assert r["evidence"]["text"].lower() in {"tin nóng", "sắp bị cấm"}
    check_span(item, r)


def test_shouting_caps_and_exclamations(classifier: Classifier) -> None:
    item = ItemIn(title="KHẨN: TOÀN BỘ HỌC SINH PHẢI NGHỈ HỌC NGAY", summary="Thông báo gấp!!!", outlet_kind="press")
    res = classifier.score(item)
    r = reason(res, "shouting")
    assert r["evidence"]["field"] == "title" and r["evidence"]["text"].startswith("KHẨN")
    check_span(item, r)
    plain = classifier.score(ItemIn(title="Thi tốt nghiệp THPT và tuyển sinh ĐH, CĐ năm 2026"))
    assert "shouting" not in [x["code"] for x in plain.reasons]  # acronyms are not shouting


def test_unsourced_policy_claim_but_not_when_an_official_source_is_named(classifier: Classifier) -> None:
    item = ItemIn(title="Từ tháng sau học sinh đi học muộn sẽ bị phạt tiền 200 nghìn đồng", outlet_kind="press")
    r = reason(classifier.score(item), "unsourced_policy")
    assert r["evidence"]["text"].lower() in {"phạt tiền", "phạt"}
    check_span(item, r)
    sourced = ItemIn(title="Sở GD&ĐT: học sinh đi học muộn không bị phạt tiền", outlet_kind="press")
    codes = [x["code"] for x in classifier.score(sourced).reasons]
    assert "unsourced_policy" not in codes and "official_source" in codes


def test_source_kind_social_raises_and_official_outlet_lowers(classifier: Classifier) -> None:
    base = "Trường tiểu học tổ chức bữa ăn bán trú cho học sinh từ tuần sau"
    social = classifier.score(ItemIn(title=base, outlet="Góc phụ huynh", outlet_kind="social"))
    portal = classifier.score(ItemIn(title=base, outlet="Cổng thông tin phường", outlet_kind="portal"))
    assert reason(social, "source_kind")["weight"] > 0
    assert reason(portal, "official_outlet")["weight"] < 0
    assert social.risk_score > portal.risk_score


def test_official_denial_lowers_the_risk_of_the_same_words(classifier: Classifier) -> None:
    rumour = ItemIn(title="Tất cả trường tư thục sẽ bị giải thể từ năm học tới", outlet_kind="social")
    denial = ItemIn(
        title="Sở GD&ĐT bác bỏ thông tin trường tư thục sẽ bị giải thể",
        summary="Sở Giáo dục và Đào tạo khẳng định thông tin tất cả trường tư thục bị giải thể là sai sự thật.",
        outlet_kind="press",
    )
    r_rumour, r_denial = classifier.score(rumour), classifier.score(denial)
    assert reason(r_denial, "official_denial")["weight"] < 0
    assert r_rumour.risk_score >= 0.5 > r_denial.risk_score


def test_clickbait_and_informal(classifier: Classifier) -> None:
    item = ItemIn(title="Cái kết đau lòng cho cô giáo mầm non, các mẹ đọc mà xót xa", outlet_kind="social")
    res = classifier.score(item)
    check_span(item, reason(res, "clickbait"))
    check_span(item, reason(res, "informal"))


def test_learned_component_and_calm_news(classifier: Classifier) -> None:
    rumour = ItemIn(
        title="CHIA SẺ GẤP: danh sách trường đại học bị sáp nhập, giải thể năm 2026!!!",
        summary="Nghe nói Bộ đã chốt danh sách, ai có con sắp thi đại học lưu ý.",
        outlet_kind="social",
    )
    res = classifier.score(rumour)
    assert reason(res, "learned")["weight"] > 0
    assert res.risk_score >= 0.8
    calm = classifier.score(CALM)
    assert calm.risk_score < 0.2 and calm.is_education


def test_claim_match_reason(classifier: Classifier) -> None:
    from classify.api import ClaimRef

    clf = Classifier(classifier.bundle, classifier.lex)
    clf.set_claims([ClaimRef(7, "Hải Phòng dừng tổ chức bữa ăn bán trú tại các trường mầm non và tiểu học công lập", "tin_gia")])
    item = ItemIn(title="Hải Phòng sẽ dừng tổ chức bữa ăn bán trú ở các trường mầm non, tiểu học công lập", outlet_kind="social")
    r = reason(clf.score(item), "claim_match")
    assert "#7" in r["label"] and r["weight"] > 0.3
    check_span(item, r)


def test_dated_report_lowers_risk_but_a_deadline_is_not_a_dateline(classifier: Classifier) -> None:
    report = ItemIn(title="Học sinh trường Lê Quý Đôn trải nghiệm hướng nghiệp",
                    summary="Sáng 12/11, hơn 300 học sinh lớp 12 tham quan nhà máy đóng tàu.", outlet_kind="press")
    r = reason(classifier.score(report), "dated_report")
    assert r["weight"] < 0 and r["evidence"]["text"] == "Sáng 12/11"
    check_span(report, r)
    deadline = ItemIn(title="Từ ngày 1/1 học sinh đi học muộn sẽ bị phạt tiền", outlet_kind="social")
    assert "dated_report" not in [x["code"] for x in classifier.score(deadline).reasons]


def test_source_reasons_read_as_plain_vietnamese(classifier: Classifier) -> None:
    social = ItemIn(title="Phụ huynh chia sẻ chuyện học thêm ở trường", outlet_kind="social")
    unknown = ItemIn(title="Phụ huynh chia sẻ chuyện học thêm ở trường", outlet_kind=None)
    assert reason(classifier.score(social), "source_kind")["label"] == "Đăng trên trang mạng xã hội, không phải kênh chính thức"
    assert reason(classifier.score(unknown), "source_kind")["label"] == "Không rõ ai đăng tin này"


def test_claim_and_model_labels_say_what_they_mean() -> None:
    from classify.api import LABELS, claim_label

    assert claim_label(LABELS["claim_match"], 12, "auto") == "Lặp lại một tin sai đã được xác minh (kho tin sai #12, khớp chắc chắn)"
    assert claim_label(LABELS["claim_match"], 3, "suggest").endswith("(kho tin sai #3, gợi ý, cần xem lại)")
    assert LABELS["learned"] == "Giống những tin người thẩm định đã kết luận là sai"
