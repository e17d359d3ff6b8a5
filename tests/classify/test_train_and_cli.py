"""Training produces a loadable model with its sidecar; the batch CLI reports bad lines and skips them."""

from __future__ import annotations

import dataclasses
import json
import os
import subprocess
import sys
from pathlib import Path

from classify.api import Classifier, ItemIn
from classify.lexicon import Lexicons
from classify.model import SIDECAR_FILE, read_labelled, seed_items, train

ROOT = Path(__file__).resolve().parents[2]


def test_train_saves_a_loadable_model_with_sidecar_and_its_cv_scores(tmp_path: Path) -> None:
    items = seed_items()
    subset = items[::3] + items[1::7]
    meta = train(subset, ["Phụ huynh bị phạt tiền nếu con mang điện thoại đến trường."],
                 Lexicons.load(), tmp_path / "m", evaluate=True)
    side = json.loads((tmp_path / "m" / SIDECAR_FILE).read_text(encoding="utf-8"))
    assert side == meta
    assert set(side["libraries"]) >= {"scikit-learn", "numpy", "scipy", "underthesea", "python"}
    assert len(side["training_data_sha256"]) == 64 and side["model_version"]
    # the counts and cross-validated scores describe this training set, not constants
    assert side["counts"]["seed_items"] == len(subset) and side["counts"]["real_labels"] == 0
    assert side["counts"]["education"] == sum(1 for it in subset if it.is_education)
    assert 0.8 < side["scores"]["cv_education_f1"] <= 1.0  # the seed set's education labels are learnable
    clf = Classifier.load(tmp_path / "m")
    assert clf.model_version == side["model_version"]
    res = clf.score(ItemIn(title="Học sinh Hải Phòng được miễn học phí từ năm học mới"))
    assert res.is_education and 0.0 <= res.risk_score <= 1.0


def test_cv_scores_fall_when_the_labels_are_noise(tmp_path: Path) -> None:
    import random

    items = seed_items()[::6]
    noisy = [dataclasses.replace(it) for it in items]
    flips = [it.is_education for it in noisy]
    random.Random(71).shuffle(flips)  # the same share of education items, on the wrong articles
    for it, flip in zip(noisy, flips, strict=True):
        it.is_education = flip
    true_f1 = train(items, [], Lexicons.load(), tmp_path / "a", evaluate=True)["scores"]["cv_education_f1"]
    noise_f1 = train(noisy, [], Lexicons.load(), tmp_path / "b", evaluate=True)["scores"]["cv_education_f1"]
    assert noise_f1 < true_f1 - 0.2, (true_f1, noise_f1)


def test_bad_labelled_line_names_file_and_line(tmp_path: Path) -> None:
    import pytest

    from classify.errors import TrainingDataError

    path = tmp_path / "gold.jsonl"
    path.write_text('{"id": "1", "title": "Tuyển sinh", "relevance": "task"}\n{"id": "2", "relevance": "maybe"}\n',
                    encoding="utf-8")
    with pytest.raises(TrainingDataError, match=r"gold.jsonl:2: relevance 'maybe'"):
        read_labelled(path)


def run(tmp_path: Path, *args: str) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("NQ71_")}
    env.update({"NQ71_DATABASE_URL": f"sqlite:///{tmp_path / 'var' / 'nq71.db'}", "NQ71_DATA_DIR": str(tmp_path / "var")})
    return subprocess.run([sys.executable, "-m", "cli", *args], cwd=ROOT, env=env, capture_output=True, text=True,
                          timeout=300)


def test_batch_cli_scores_good_lines_and_reports_bad_ones(tmp_path: Path) -> None:
    src = tmp_path / "items.jsonl"
    lines = [
        json.dumps({"id": "x1", "title": "Triển khai Nghị quyết 71-NQ/TW tại các trường học Hải Phòng",
                    "summary": "Các trường xây dựng kế hoạch hành động.", "url": "https://a.vn/1", "outlet": "Báo A"},
                   ensure_ascii=False),
        "{not json",
        json.dumps({"id": "x2", "title": "Chính phủ ban hành Nghị quyết 71/NQ-CP về nhà ở xã hội"}, ensure_ascii=False),
        json.dumps({"id": "x3", "title": ["không", "phải", "chuỗi"]}, ensure_ascii=False),
        "",
        json.dumps({"id": "x4"}),
        json.dumps({"id": "x5", "title": "Triển khai Nghị quyết 71-NQ/TW tại các trường học Hải Phòng",
                    "summary": "Các trường xây dựng kế hoạch hành động.", "outlet": "Báo B"}, ensure_ascii=False),
    ]
    src.write_text("\n".join(lines) + "\n", encoding="utf-8")
    dst = tmp_path / "scored.jsonl"
    result = run(tmp_path, "classify", "--in", str(src), "--out", str(dst))
    assert result.returncode == 0, result.stderr
    assert f"{src}:2: skipped" in result.stderr and f"{src}:4: skipped" in result.stderr
    assert "scored 4 item(s), skipped 2 bad line(s)" in result.stdout
    out = [json.loads(line) for line in dst.read_text(encoding="utf-8").splitlines()]
    assert [o["id"] for o in out] == ["x1", "x2", "x4", "x5"]
    keys = {"id", "is_education", "education_score", "relevance", "relevance_score", "themes", "risk_score",
            "reasons", "claim_matches", "cluster"}
    assert all(keys <= set(o) for o in out)
    by_id = {o["id"]: o for o in out}
    assert by_id["x1"]["relevance"] == "explicit" and by_id["x2"]["relevance"] == "none"
    assert by_id["x4"]["relevance"] == "none" and by_id["x4"]["is_education"] is False  # empty item, no crash
    assert by_id["x5"]["cluster"] == "x1" and by_id["x1"]["cluster"] == "x1"  # same story, first item's id
    missing = run(tmp_path, "classify", "--in", str(tmp_path / "nope.jsonl"), "--out", str(dst))
    assert missing.returncode == 2 and "cannot read the input file" in missing.stderr and "Traceback" not in missing.stderr


def test_eval_prints_per_label_scores_and_confusion(tmp_path: Path) -> None:
    gold = tmp_path / "gold.jsonl"
    rows = [
        {"id": "g1", "title": "Hải Phòng triển khai Nghị quyết 71-NQ/TW trong các trường học", "is_education": True,
         "relevance": "explicit", "themes": [1], "misinfo": 0},
        {"id": "g2", "title": "Bộ GD&ĐT đề xuất bỏ hội đồng trường ở đại học công lập", "is_education": True,
         "relevance": "task", "themes": [2], "misinfo": 0},
        {"id": "g3", "title": "Giá lúa tăng, nông dân phấn khởi", "is_education": False, "relevance": "none",
         "themes": [], "misinfo": 0},
        {"id": "g4", "title": "CHIA SẺ GẤP: nghe nói tất cả trường tư thục sắp bị giải thể!!!", "outlet_kind": "social",
         "is_education": True, "relevance": "task", "themes": [6], "misinfo": 1},
    ]
    gold.write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in rows) + "\n", encoding="utf-8")
    result = run(tmp_path, "eval", "--gold", str(gold))
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "== education (n=4)" in out and "== relevance (n=4)" in out and "confusion" in out
    assert "roc_auc: 1.0" in out
    data = json.loads(run(tmp_path, "eval", "--gold", str(gold), "--json").stdout)
    rel = next(r for r in data if r["task"] == "relevance")
    assert rel["per_label"]["explicit"]["f1"] == 1.0 and rel["confusion"][2] == [0, 0, 1]


def test_eval_real_without_data_is_one_clear_line(tmp_path: Path) -> None:
    result = run(tmp_path, "eval-real", "--data", str(tmp_path / "no-data"))
    assert result.returncode == 2
    assert "not found: pass --data" in result.stderr and "Traceback" not in result.stderr


def test_education_probability_blends_the_tfidf_and_naive_bayes_heads(classifier: Classifier) -> None:
    import pytest
    import scipy.sparse as sp

    from classify.features import analyse
    from classify.model import NB_SHARE, presence
    from classify.text import Doc

    bundle = classifier.bundle
    assert bundle.edu_nb is not None and bundle.nb_ratio is not None
    doc = Doc.of("Thí sinh làm bài môn Ngữ văn trong ngày thi đầu tiên", "", "")
    a = analyse(doc, classifier.lex, classifier.finder, None)
    x = bundle.design([doc.features], a.dense[None, :])
    tfidf_p = bundle.edu.predict_proba(x)[0, 1]
    nb_p = bundle.edu_nb.predict_proba(presence(x, len(bundle.nb_ratio)) @ sp.diags(bundle.nb_ratio))[0, 1]
    assert abs(tfidf_p - nb_p) > 1e-3  # two different heads
    assert bundle.predict(x)["edu"][0] == pytest.approx((1 - NB_SHARE) * tfidf_p + NB_SHARE * nb_p)
