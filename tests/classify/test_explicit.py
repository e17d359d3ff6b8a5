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


@pytest.mark.parametrize(
    ("title", "summary"),
    [
        # "nội trú" of a hospital is not a boarding school (task group 6): the longer phrase is excluded
        ("Làm bác sĩ nội trú và bác sĩ chuyên khoa khác nhau ở điểm nào?",
         "Bác sĩ nội trú được đào tạo ba năm tại bệnh viện, học phí do người học tự chi trả."),
        # one pupil's story, even with a fee waiver for that pupil
        ("Nam sinh mồ côi đỗ thủ khoa được tặng 100 triệu, trường miễn học phí bốn năm", ""),
        ("Tân sinh viên vượt khó được trường đại học miễn học phí toàn khóa", ""),
    ],
)
def test_look_alikes_and_one_person_stories_are_not_task(classifier: Classifier, title: str, summary: str) -> None:
    result = classifier.score(ItemIn(title=title, summary=summary))
    assert result.relevance == "none", result.evidence
    assert not any(p["theme"] == 6 for p in result.evidence["phrases"])


def test_a_policy_for_orphans_is_still_task(classifier: Classifier) -> None:
    result = classifier.score(ItemIn(title="Bộ GD&ĐT đề xuất miễn học phí cho học sinh mồ côi từ năm học tới"))
    assert result.relevance == "task" and 6 in result.themes


def test_bare_my_is_the_united_states_but_not_inside_my_thuat(classifier: Classifier) -> None:
    foreign = classifier.score(ItemIn(title="Sinh viên ngành điều dưỡng ở Mỹ lo lắng trước quy định thị thực mới"))
    assert foreign.relevance == "none"
    home = classifier.score(ItemIn(title="Trường mỹ thuật Hải Phòng đề xuất tăng học phí từ năm học tới"))
    assert home.relevance == "task" and 6 in home.themes


@pytest.mark.parametrize(
    ("title", "relevance"),
    [
        ("Một trường đại học y ở TP.HCM giữ nguyên học phí năm học tới", "none"),
        ("Trường đại học tư thục ở Cần Thơ mở thêm 9 ngành, đặt cơ sở mới tại Vĩnh Long", "none"),
        # all schools, or one school under a new rule, are still policy news
        ("Trường học tăng học phí gấp đôi từ tháng 9", "task"),
        ("Trường học phải công khai các khoản thu theo quy định mới của Bộ GD&ĐT", "task"),
    ],
)
def test_a_title_led_by_one_school_is_that_schools_own_news(classifier: Classifier, title: str, relevance: str) -> None:
    assert classifier.score(ItemIn(title=title)).relevance == relevance
