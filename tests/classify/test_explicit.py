"""Resolution 71 named explicitly, and other documents numbered 71 told apart."""

from __future__ import annotations

import pytest

from classify.api import Classifier, ItemIn

EXPLICIT = [
    "Nghị quyết 71 đặt mục tiêu đến năm 2030 Việt Nam có hệ thống giáo dục hiện đại",
    "Triển khai Nghị quyết số 71-NQ/TW của Bộ Chính trị tại các trường học Hải Phòng",
    "Giáo viên phấn khởi khi NQ 71 nâng phụ cấp ưu đãi nghề",
    "Thực hiện NQ71, thành phố rà soát đội ngũ giáo viên",
    "Hội nghị học tập nghị quyết về đột phá phát triển giáo dục và đào tạo",
    "Các trường quán triệt Nghị quyết 71/NQ-TW ngày 22/8/2025",
    "Kế hoạch thực hiện 71-NQ/TW của Thành ủy Hải Phòng về giáo dục",
]
NOT_EXPLICIT = [
    ("Chính phủ ban hành Nghị quyết 71/NQ-CP về phát triển nhà ở xã hội", "other_document_number"),
    ("Nghị định 71/2025/NĐ-CP quy định về kinh doanh xăng dầu được sửa đổi", None),
    ("Nghị quyết 71/2025/QH15 của Quốc hội về ngân sách nhà nước", "other_document_number"),
    ("HĐND thành phố thông qua Nghị quyết 71 của HĐND về phí tham quan", "other_issuer"),
    ("Nghị quyết số 71 của Chính phủ về cải cách thủ tục hành chính", "other_issuer"),
    ("Thông tư 71 hướng dẫn quản lý tài sản công", None),
]


@pytest.mark.parametrize("title", EXPLICIT)
def test_names_of_resolution_71_are_explicit(classifier: Classifier, title: str) -> None:
    result = classifier.score(ItemIn(title=title))
    assert result.relevance == "explicit", result.evidence
    assert result.relevance_score >= 0.9 and result.is_education
    ev = result.evidence["explicit"][0]
    assert title[ev["start"]:ev["end"]] == ev["text"] and ev["field"] == "title"


@pytest.mark.parametrize(("title", "why"), NOT_EXPLICIT)
def test_other_documents_numbered_71_are_not_explicit(classifier: Classifier, title: str, why: str | None) -> None:
    result = classifier.score(ItemIn(title=title))
    assert result.relevance != "explicit"
    if why:
        assert [m["why"] for m in result.evidence["excluded"]] == [why]


def test_policy_without_the_name_is_task_with_its_theme_and_evidence(classifier: Classifier) -> None:
    result = classifier.score(ItemIn(
        title="Bộ GD&ĐT đề xuất bỏ hội đồng trường tại các đại học công lập",
        summary="Dự thảo Luật Giáo dục đại học sửa đổi không còn quy định về hội đồng trường, hiệu trưởng do cơ quan quản lý bổ nhiệm.",
    ))
    assert result.relevance == "task" and 2 in result.themes
    phrases = {p["text"].lower() for p in result.evidence["phrases"]}
    assert "hội đồng trường" in phrases
    assert result.evidence["sentences"], "the sentence that decided must be returned"


def test_general_news_is_none(classifier: Classifier) -> None:
    result = classifier.score(ItemIn(title="Giá vàng miếng giảm mạnh sau phiên tăng kỷ lục",
                                     summary="Giá vàng trong nước quay đầu giảm theo đà thế giới."))
    assert result.relevance == "none" and not result.is_education and result.themes == []
