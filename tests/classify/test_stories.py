"""Stories: paraphrased reports of one event from several outlets join; same-topic events and drifting chains do not."""

from __future__ import annotations

import json
from datetime import datetime, timedelta, timezone
from pathlib import Path

import pytest

from classify.stories import TERMS, StoryItem, cluster_stories, story_text

T0 = datetime(2026, 3, 2, 7, 0, tzinfo=timezone.utc)

# (key, hours after T0, title, summary); keys name the story: same letter = same event, except
# b2, b3: two provinces' own exam plans, the same topic as story a but two other events.
REPORTS = [
    ("a1", 0, "Hải Phòng chốt lịch thi vào lớp 10 năm học 2026-2027 vào ngày 3 và 4/6",
     "Sở GD&ĐT Hải Phòng cho biết kỳ thi tuyển sinh vào lớp 10 công lập gồm ba môn Toán, Ngữ văn, Tiếng Anh, "
     "tổ chức trong hai ngày 3 và 4/6."),
    ("a2", 5, "Thí sinh Hải Phòng thi ba môn để vào lớp 10 công lập, bắt đầu từ ngày 3/6",
     "Theo Sở Giáo dục và Đào tạo Hải Phòng, kỳ thi vào lớp 10 năm 2026 diễn ra ngày 3-4/6 với Toán, "
     "Ngữ văn và Tiếng Anh."),
    ("a3", 20, "Hải Phòng công bố phương án tuyển sinh lớp 10: thi Toán, Ngữ văn, Tiếng Anh",
     "Học sinh lớp 9 ở Hải Phòng sẽ làm ba bài thi vào ngày 3 và 4/6 để giành suất vào lớp 10 các trường công lập."),
    ("b2", 8, "Đà Nẵng giữ ba môn thi vào lớp 10, thêm điểm ưu tiên cho học sinh vùng núi",
     "Sở GD&ĐT Đà Nẵng công bố kỳ thi vào lớp 10 năm 2026 tổ chức ngày 1/6, học sinh Hòa Vang được cộng điểm."),
    ("b3", 10, "Quảng Ninh tuyển sinh lớp 10 bằng xét tuyển kết hợp thi tuyển",
     "Năm 2026, Quảng Ninh xét học bạ kết hợp bài thi Toán và Ngữ văn để tuyển học sinh vào lớp 10 công lập."),
    ("c1", 1, "Bão Wipha đổ bộ, Hải Phòng cho toàn bộ học sinh nghỉ học ngày 4/3",
     "UBND thành phố Hải Phòng yêu cầu các trường mầm non, phổ thông cho học sinh nghỉ học để tránh bão Wipha."),
    ("c2", 3, "Học sinh Hải Phòng nghỉ học một ngày vì bão Wipha",
     "Hơn 500.000 học sinh ở Hải Phòng được nghỉ học ngày 4/3 khi bão Wipha tiến gần đất liền, các trường chằng "
     "chống phòng học."),
    ("d1", 4, "Trường Đại học Hàng hải Việt Nam mở ngành logistics số",
     "Từ năm học tới, Đại học Hàng hải Việt Nam tuyển 120 sinh viên cho ngành logistics và chuỗi cung ứng số."),
    ("e1", 6, "Hải Phòng khen thưởng 45 học sinh đoạt giải học sinh giỏi quốc gia",
     "Thành phố trao bằng khen và tiền thưởng cho 45 học sinh đạt giải kỳ thi chọn học sinh giỏi quốc gia năm 2026."),
]


def item(key: str, hours: float, title: str, summary: str) -> StoryItem:
    """A fixture report as the clusterer sees it."""
    return StoryItem(key, story_text(title, summary), T0 + timedelta(hours=hours), title=title)


def window() -> list[tuple[StoryItem, int | str]]:
    """A pool as busy as a real one: the project's hand-written items, each its own story, four days earlier.

    IDF comes from the pool; a pool of a dozen items would make every shared word look rare. Four days
    back they weigh the words but cannot be joined (some of them report the same exam plans).
    """
    pool: list[tuple[StoryItem, int | str]] = []
    for name in ("general", "relevance"):
        path = Path(__file__).resolve().parents[2] / "fixtures" / "labelled" / f"{name}.jsonl"
        for n, line in enumerate(path.read_text(encoding="utf-8").splitlines()):
            row = json.loads(line)
            it = StoryItem(f"{name}{n}", story_text(row.get("title"), row.get("summary")), T0 - timedelta(days=4),
                           title=row.get("title", ""))
            pool.append((it, it.key))
    return pool


def groups(mapping: dict[int | str, int | str]) -> set[frozenset[int | str]]:
    """The partition a clustering makes."""
    out: dict[int | str, set[int | str]] = {}
    for key, story in mapping.items():
        out.setdefault(story, set()).add(key)
    return {frozenset(g) for g in out.values()}


def test_paraphrases_from_several_outlets_join_and_same_topic_events_stay_apart() -> None:
    got = cluster_stories([item(*r) for r in REPORTS], window())
    assert groups(got) == {frozenset({"a1", "a2", "a3"}), frozenset({"b2"}),
                           frozenset({"b3"}), frozenset({"c1", "c2"}),
                           frozenset({"d1"}), frozenset({"e1"})}
    assert got["a3"] == "a1" and got["c2"] == "c1"  # a story is named after its first item


def test_new_items_join_known_stories_incrementally() -> None:
    first = cluster_stories([item(*r) for r in REPORTS if r[0] in ("a1", "c1", "d1")], window())
    known = window() + [(item(*r), first[r[0]]) for r in REPORTS if r[0] in ("a1", "c1", "d1")]
    later = cluster_stories([item(*r) for r in REPORTS if r[0] in ("a2", "c2", "b2")], known)
    assert later == {"a2": "a1", "c2": "c1", "b2": "b2"}


# Each report shares most of its words with the next; the first and the last share almost none.
CHAIN = [
    ("g1", 0, "Giáo viên Hải Phòng được tăng phụ cấp ưu đãi nghề từ tháng 3",
     "Giáo viên mầm non và phổ thông ở Hải Phòng được tăng phụ cấp ưu đãi nghề theo nghị quyết mới của thành phố."),
    ("g2", 3, "Giáo viên vùng khó khăn ở Hải Phòng được tăng phụ cấp ưu đãi nghề và hỗ trợ nhà ở công vụ",
     "Ngoài phụ cấp ưu đãi nghề, giáo viên vùng khó khăn ở Hải Phòng còn được hỗ trợ nhà ở công vụ."),
    ("g3", 6, "Giáo viên vùng khó khăn ở Hải Phòng được hỗ trợ nhà ở công vụ tại xã đảo Bạch Long Vĩ",
     "Nhà ở công vụ cho giáo viên vùng khó khăn tại xã đảo Bạch Long Vĩ được xây mới với 12 căn hộ."),
    ("g4", 9, "Xã đảo Bạch Long Vĩ khánh thành nhà ở công vụ 12 căn hộ",
     "Công trình nhà ở công vụ 12 căn hộ trên xã đảo Bạch Long Vĩ được khánh thành, phục vụ cán bộ và bác sĩ."),
]


def test_a_drifting_chain_does_not_become_one_story() -> None:
    got = cluster_stories([item(*r) for r in CHAIN], window())
    keys = [r[0] for r in CHAIN]
    # neighbours may share a story; items two or more steps apart along the drift never do
    for i, a in enumerate(keys):
        for b in keys[i + 2:]:
            assert got[a] != got[b], (a, b, got)


def test_no_story_spans_more_than_the_window() -> None:
    a1, a2 = (item(*r) for r in REPORTS[:2])
    late = StoryItem("a9", a2.text, T0 + timedelta(days=4), title=REPORTS[1][2])
    assert cluster_stories([a1, late])["a9"] == "a9"  # same words, but four days after the story began
    # a known story whose first member is outside the pool keeps its start: it cannot creep forward
    near = StoryItem("a2", a2.text, T0 + timedelta(days=2), title=REPORTS[1][2])
    after = StoryItem("a8", a1.text, T0 + timedelta(days=4, hours=12), title=REPORTS[0][2])
    assert cluster_stories([after], [(near, "a1")])["a8"] == "a1"
    assert cluster_stories([after], [(near, "a1")], starts={"a1": T0})["a8"] == "a8"


def test_forgetting_old_terms_between_pools_changes_no_decision(monkeypatch: pytest.MonkeyPatch) -> None:
    items = [item(*r) for r in REPORTS]
    before = cluster_stories(items, window())
    monkeypatch.setattr(TERMS, "MAX_TEXTS", 5)  # a long-running worker's cache, full after every pool
    assert cluster_stories(items, window()) == before
    assert cluster_stories(items, window()) == before
