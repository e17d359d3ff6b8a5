"""MinHash LSH copies: a near-identical text joins the earliest article's group and cluster."""

from __future__ import annotations

import unicodedata

from classify.near_dup import NearDupIndex, jaccard, long_enough, shingles, signature

STORY = (
    "Từ học kỳ II năm học 2025-2026, toàn bộ trẻ em mầm non và học sinh phổ thông đang học tại các trường công lập "
    "trên địa bàn thành phố Hải Phòng được miễn học phí. Chính sách áp dụng cho hơn 620 nghìn học sinh, trong đó có "
    "học sinh của các xã, phường thuộc tỉnh Hải Dương cũ sau khi hợp nhất. Các trường không thu học phí từ tháng 1."
)
REPOST = STORY.replace("Chính sách áp dụng", "Chính sách này áp dụng") + " (Theo Báo Hải Phòng)"
OTHER = (
    "Sáng nay, nhà thầu đã hoàn thành đốt hợp long cuối cùng của cầu Nguyễn Trãi bắc qua sông Cấm. Cầu dài gần 1,5 km, "
    "rộng 6 làn xe, có tổng vốn đầu tư hơn 2.000 tỷ đồng từ ngân sách thành phố và dự kiến thông xe trước Tết."
)


def test_shingles_are_nfc_and_keep_diacritics() -> None:
    assert shingles(unicodedata.normalize("NFD", STORY)) == shingles(STORY)
    assert shingles("Bỏ học phí", k=3) != shingles("Bố học phí", k=3)
    assert jaccard(STORY, REPOST) > 0.8 > jaccard(STORY, OTHER)
    assert long_enough(STORY) and not long_enough("Tin ngắn về học phí.")


def test_a_copy_joins_the_root_of_its_group_and_its_cluster() -> None:
    index = NearDupIndex()
    index.add(10, STORY)  # an original: its own root and cluster
    index.add(11, OTHER)
    match = index.match(REPOST)
    assert match is not None and (match.copy_of_id, match.cluster_id) == (10, 10) and match.similarity > 0.8
    index.add(12, REPOST, root=match.copy_of_id, cluster=match.cluster_id)
    again = index.match(REPOST + " Bản đăng lại.", exclude=None)
    assert again is not None and again.copy_of_id == 10  # a copy of a copy still points at the earliest article
    assert index.match(signature("Một bài hoàn toàn khác về lịch nghỉ Tết của học sinh toàn thành phố năm nay.")) is None
    index.remove(10)
    assert 10 not in index and len(index) == 2


def test_build_from_recent_rows_keeps_groups_and_skips_short_texts() -> None:
    rows = [(1, STORY, None, 7), (2, REPOST, 1, 7), (3, "ngắn", None, 3), (4, OTHER, None, None)]
    index = NearDupIndex.build(rows)
    assert len(index) == 3
    match = index.match(STORY)
    assert match is not None and match.copy_of_id == 1 and match.cluster_id == 7  # cluster kept from the store
    other = index.match(OTHER)
    assert other is not None and (other.copy_of_id, other.cluster_id) == (4, 4)
