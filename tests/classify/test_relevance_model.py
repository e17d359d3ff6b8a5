"""Relevance and task group learned from real (department-format) labels; the sidecar tells the truth about it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

import jobs
from classify.api import Classifier, ItemIn, Rules, decide, task_groups
from classify.errors import TrainingDataError
from classify.explicit import ExplicitFinder
from classify.features import analyse
from classify.lexicon import Lexicons
from classify.model import (
    SIDECAR_FILE, LabelledItem, data_hash, model_version, read_department_labels, seed_items, train,
)
from classify.text import Doc
from settings import load_settings

PLACES = ["Kiến An", "Thủy Nguyên", "An Lão", "Tiên Lãng", "Vĩnh Bảo", "Cát Hải", "Đồ Sơn", "Hồng Bàng",
          "Lê Chân", "Ngô Quyền", "Hải An", "Dương Kinh"]
# title template | summary | edu | nq71 | group: written for this test, in the department's file format
TEMPLATES = [tuple(part.strip() for part in line.split("|")) for line in """
{p} tuyển dụng thêm {n} giáo viên để bù chỗ thiếu | Đợt tuyển dụng ưu tiên giáo viên tiếng Anh và tin học. | 1 | task | 5
{p} chi {n} tỷ đồng xây trường bán trú cho học sinh xã đảo | Công trình gồm nhà nội trú và bếp ăn. | 1 | task | 6
{p} đưa tiếng Anh thành ngôn ngữ thứ hai ở {n} trường tiểu học | Lộ trình năm năm, bắt đầu từ lớp 1. | 1 | task | 4
{p} triển khai học bạ số và sổ điểm điện tử cho {n} trường | Nhà trường thôi in học bạ giấy. | 1 | task | 3
Học sinh {p} giành {n} huy chương tại giải cờ vua học sinh | Đoàn của quận đứng thứ hai toàn đoàn. | 1 | none | 0
{p} khai mạc hội hoa xuân với {n} gian hàng cây cảnh | Hội hoa mở cửa miễn phí đến rằm tháng Giêng. | 0 | none | 0
Giá cá thu ở chợ {p} tăng {n} nghìn đồng mỗi cân | Tàu về ít do biển động nhiều ngày liền. | 0 | none | 0
Trường THCS ở {p} tổ chức hội thao chào mừng {n} năm thành lập | Các lớp thi kéo co và bóng đá mini. | 1 | none | 0
Cảnh sát giao thông {p} xử lý {n} xe chở quá tải | Các xe bị lập biên bản trên đường ven biển. | 0 | none | 0
""".strip().splitlines()]


def department_rows() -> list[dict[str, object]]:
    """Labelled rows in the department's format (no text of the shared data)."""
    rows: list[dict[str, object]] = []
    for t, (title, summary, edu, nq71, group) in enumerate(TEMPLATES):
        for i, place in enumerate(PLACES):
            rows.append({"id": f"t{t}-{i}", "title": title.format(p=place, n=3 + 7 * i), "summary": summary,
                         "edu": int(edu), "nq71": nq71, "group": int(group), "debunk": 0, "why": "test",
                         "drawn": "random" if i % 2 else "strict"})
    return rows


@pytest.fixture(scope="module")
def labels_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("labels") / "dev.jsonl"
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in department_rows()), encoding="utf-8")
    return path


def small_seed() -> list[LabelledItem]:
    items = seed_items()
    return items[::12]


def test_department_labels_are_read_as_real_items(labels_file: Path, tmp_path: Path) -> None:
    items = read_department_labels(labels_file)
    assert len(items) == len(TEMPLATES) * len(PLACES)
    first = items[0]
    assert first.real and first.weight > 1.0 and first.relevance == "task" and first.themes == [5]
    assert first.is_education and first.outlet_kind == "press" and first.stratum == "strict"
    bad = tmp_path / "bad.jsonl"
    bad.write_text('{"id": "a", "title": "x", "edu": 1, "nq71": "task", "group": 2}\n'
                   '{"id": "b", "title": "y", "edu": 1, "nq71": "maybe", "group": 0}\n', encoding="utf-8")
    with pytest.raises(TrainingDataError, match=r"bad.jsonl:2: .*maybe"):
        read_department_labels(bad)


def test_real_labels_teach_relevance_and_group_and_the_sidecar_holds_their_cv(
    labels_file: Path, tmp_path: Path
) -> None:
    real = read_department_labels(labels_file)
    meta = train(small_seed(), [], Lexicons.load(), tmp_path / "m", extra=real)
    side = json.loads((tmp_path / "m" / SIDECAR_FILE).read_text(encoding="utf-8"))
    assert side == meta and side["counts"]["real_labels"] == len(real)
    overall = side["scores"]["overall"]
    # no item here names the resolution: explicit F1 is undefined, so it is absent rather than 0
    assert set(overall) == {"education_f1", "related_f1", "group_top1"}
    for m in overall.values():
        assert 0.0 <= m["ci95"][0] <= m["mean"] <= m["ci95"][1] <= 1.0
    assert set(side["scores"]["strata"]) == {"random", "strict"}
    clf = Classifier.load(tmp_path / "m")
    # a place no label mentions: the pattern was learned, not the items
    hired = clf.score(ItemIn(title="Bạch Long Vĩ tuyển dụng thêm 6 giáo viên để bù chỗ thiếu"))
    assert hired.relevance == "task" and hired.themes[0] == 5 and hired.is_education
    medals = clf.score(ItemIn(title="Học sinh Bạch Long Vĩ giành 2 huy chương tại giải cờ vua học sinh"))
    assert medals.relevance == "none" and medals.is_education


def test_model_version_is_a_content_hash(tmp_path: Path) -> None:
    items, lex = small_seed(), Lexicons.load()
    claims = ["Thành phố cho học sinh nghỉ học cả tuần vì dịch cúm."]
    a = train(items, claims, lex, tmp_path / "a", evaluate=False)
    b = train(items, claims, lex, tmp_path / "b", evaluate=False)
    assert a["model_version"] == b["model_version"] == model_version(data_hash(items), lex.digest, claims)
    c = train(items, claims + ["Học phí tăng gấp ba từ tháng sau."], lex, tmp_path / "c", evaluate=False)
    assert c["model_version"] != a["model_version"]


def test_training_writes_under_the_data_dir_and_that_model_is_loaded(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import classify.model

    monkeypatch.setattr(classify.model, "seed_items", small_seed)
    settings = load_settings({"NQ71_DATA_DIR": str(tmp_path / "var")})
    shipped = jobs.model_dir(settings)
    before = (shipped / SIDECAR_FILE).read_bytes()
    meta = jobs.train_model(None, settings)
    assert (tmp_path / "var" / "models" / SIDECAR_FILE).exists()
    assert jobs.model_dir(settings) == tmp_path / "var" / "models"
    assert (shipped / SIDECAR_FILE).read_bytes() == before
    assert Classifier.load(jobs.model_dir(settings)).model_version == meta["model_version"]


def test_task_groups_put_the_most_likely_group_first() -> None:
    lex = Lexicons.load()
    a = analyse(Doc.of("Hải Phòng tăng phụ cấp cho giáo viên mầm non", "", ""), lex, ExplicitFinder(lex), "press")
    p = {"edu": 0.9, "rel": 0.8, "group5": 0.55, "group6": 0.35, "group4": 0.1}
    assert task_groups(a, p) == [5, 6]
    d = decide(a, p, Rules())
    assert d.relevance == "task" and d.themes == [5, 6] and d.is_education
    assert decide(a, {**p, "rel": 0.2}, Rules()).relevance == "none"
