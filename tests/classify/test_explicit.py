"""Resolution 71 named explicitly, and other documents numbered 71 told apart."""

from __future__ import annotations

import pytest

from classify.api import Classifier, ItemIn, Rules, decide, policy_vetoes
from classify.features import analyse
from classify.text import Doc

EXPLICIT = [
    "Nghị quyết 71 đặt mục tiêu đến năm 2030 Việt Nam có hệ thống giáo dục hiện đại",
    "Triển khai Nghị quyết số 71-NQ/TW của Bộ Chính trị tại các trường học Hải Phòng",
    "Giáo viên phấn khởi khi NQ 71 nâng phụ cấp ưu đãi nghề",
    "Thực hiện NQ71, thành phố rà soát đội ngũ giáo viên",
    "Hội nghị học tập nghị quyết về đột phá phát triển giáo dục và đào tạo",
    "Các trường quán triệt Nghị quyết 71/NQ-TW ngày 22/8/2025",
    "Kế hoạch thực hiện 71-NQ/TW của Thành ủy Hải Phòng về giáo dục",
    # the resolution by its issuer and subject, without its number
    "Giáo viên Kiến An bàn cách làm theo chỉ đạo của Bộ Chính trị về đột phá phát triển giáo dục",
    "Hiệu trưởng các trường mầm non học tập nghị quyết Bộ Chính trị về phát triển giáo dục",
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


def vetoes(classifier: Classifier, title: str, summary: str = "") -> set[str]:
    """The named title vetoes of the policy gate that fire on one item."""
    doc = Doc.of(title, summary, "")
    return policy_vetoes(analyse(doc, classifier.lex, classifier.finder, "press"))


def test_hospital_residency_is_not_a_boarding_school(classifier: Classifier) -> None:
    # "nội trú" of a hospital is not a boarding school (task group 6): the longer phrase is excluded
    result = classifier.score(ItemIn(
        title="Làm bác sĩ nội trú và bác sĩ chuyên khoa khác nhau ở điểm nào?",
        summary="Bác sĩ nội trú được đào tạo ba năm tại bệnh viện, học phí do người học tự chi trả."))
    assert result.relevance == "none", result.evidence
    assert not any(p["theme"] == 6 for p in result.evidence["phrases"])


# The title vetoes are measured one by one on the dev set (README): only "incident" is applied on top of the
# learned relevance head; all of them still form the policy gate of models trained without the department's labels.
@pytest.mark.parametrize(
    ("title", "veto"),
    [
        ("Nam sinh mồ côi đỗ thủ khoa được tặng 100 triệu, trường miễn học phí bốn năm", "individual"),
        ("Tân sinh viên vượt khó được trường đại học miễn học phí toàn khóa", "individual"),
        ("Sinh viên ngành điều dưỡng ở Mỹ lo lắng trước quy định thị thực mới", "foreign"),
        ("Hàn Quốc siết tuyển sinh đại học với thí sinh từng bạo lực học đường", "foreign"),
        ("Trường đại học y khoa ở TP.HCM giữ nguyên học phí năm học tới", "one_school"),
        ("Trường đại học tư thục ở Cần Thơ mở thêm 9 ngành, đặt cơ sở mới tại Vĩnh Long", "one_school"),
        ("Hàng chục học sinh ngộ độc sau bữa trưa bán trú ở một trường tiểu học", "incident"),
    ],
)
def test_title_vetoes_name_what_fired(classifier: Classifier, title: str, veto: str) -> None:
    assert veto in vetoes(classifier, title)


@pytest.mark.parametrize(
    "title",
    [
        "Bộ GD&ĐT đề xuất miễn học phí cho học sinh mồ côi từ năm học tới",
        "Trường mỹ thuật Hải Phòng đề xuất tăng học phí từ năm học tới",
        "Trường học tăng học phí gấp đôi từ tháng 9",
        "Trường học phải công khai các khoản thu theo quy định mới của Bộ GD&ĐT",
        "Bộ GD&ĐT siết tuyển sinh đại học, giảm điểm cộng chứng chỉ ngoại ngữ",
    ],
)
def test_policy_news_is_not_vetoed(classifier: Classifier, title: str) -> None:
    assert not vetoes(classifier, title)


def test_a_veto_turns_task_into_none_only_where_applied(classifier: Classifier) -> None:
    doc = Doc.of("Hàng chục học sinh ngộ độc sau bữa trưa bán trú ở một trường tiểu học", "", "")
    a = analyse(doc, classifier.lex, classifier.finder, "press")
    p = {"edu": 0.95, "rel": 0.8, "group6": 0.9}
    assert decide(a, p, Rules()).relevance == "none"
    assert decide(a, p, Rules(vetoes=frozenset())).relevance == "task"
