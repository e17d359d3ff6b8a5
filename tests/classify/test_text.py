"""Text preparation: NFC, clean-up, sentences, one tokenisation per item."""

from __future__ import annotations

import unicodedata
from pathlib import Path

from classify.api import Classifier, ItemIn
from classify.text import Doc, clean, split_sentences


def test_nfd_and_nfc_inputs_score_identically(classifier: Classifier) -> None:
    title = "Hải Phòng miễn học phí cho học sinh từ năm học 2025-2026"
    summary = "Nghe nói trường tư thục sẽ bị giải thể, chia sẻ gấp!!!"
    nfd = ItemIn(title=unicodedata.normalize("NFD", title), summary=unicodedata.normalize("NFD", summary))
    nfc = ItemIn(title=title, summary=summary)
    assert nfd.title != nfc.title  # the inputs really differ byte-wise
    a, b = classifier.score(nfd).to_dict(), classifier.score(nfc).to_dict()
    assert a == b
    assert a["is_education"] and a["relevance"] in ("task", "none") and a["education_score"] > 0.5


def test_clean_removes_invisible_characters_entities_and_repeated_punctuation() -> None:
    raw = "Học\u200b sinh&nbsp;nghỉ   học&#33;!!!!!!  \n\n\n\nNgày mai đi học lại"
    out = clean(raw)
    assert out == "Học sinh nghỉ học!!!\n\nNgày mai đi học lại"
    assert clean(unicodedata.normalize("NFD", "Giáo dục")) == "Giáo dục"


def test_sentences_carry_offsets_into_the_field() -> None:
    text = "Sở GD&ĐT đã bác bỏ thông tin. Học sinh vẫn đi học bình thường! Phụ huynh yên tâm."
    spans = split_sentences(text)
    assert [text[s:e] for s, e in spans] == [
        "Sở GD&ĐT đã bác bỏ thông tin.",
        "Học sinh vẫn đi học bình thường!",
        "Phụ huynh yên tâm.",
    ]


def test_doc_tokenises_once_and_drops_a_summary_repeated_in_the_text() -> None:
    doc = Doc.of("Tuyển sinh lớp 10", "Thành phố giữ ba môn thi.", "Thành phố giữ ba môn thi. Lịch thi vào tháng 6.")
    assert doc.text == "Lịch thi vào tháng 6."
    first = doc.tokens
    assert doc.tokens is first  # cached: every model reuses the same token list
    assert "tuyển_sinh" in doc.features


def test_a_broken_lexicon_file_is_named_in_the_error(tmp_path: Path) -> None:
    import shutil

    import pytest

    from classify.errors import LexiconError
    from classify.lexicon import DEFAULT_DIR, Lexicons

    for f in DEFAULT_DIR.glob("*.toml"):
        shutil.copy(f, tmp_path / f.name)
    assert Lexicons.load(tmp_path).digest == Lexicons.load().digest
    (tmp_path / "risk.toml").write_text('[[signal]]\ncode = "x"\nterms = ["a", \n', encoding="utf-8")
    with pytest.raises(LexiconError, match=r"risk\.toml: not valid TOML"):
        Lexicons.load(tmp_path)


def test_model_features_hold_words_syllables_and_pairs_but_no_pair_across_punctuation() -> None:
    features = Doc.of("Học sinh Hải Phòng: thi vào lớp 10", "", "").features.split()
    assert {"học_sinh", "học", "sinh", "học~sinh", "hải_phòng", "lớp~10"} <= set(features)
    assert "phòng~thi" not in features  # the colon ends the run of syllable pairs


def test_doc_remembers_where_the_text_starts_after_a_repeated_summary() -> None:
    summary = "Thành phố giữ ba môn thi."
    doc = Doc.of("Tuyển sinh lớp 10", summary, f"{summary}\n\nLịch thi vào tháng 6.")
    assert doc.text_from == len(summary) + 2
    moved = doc.stored({"reasons": [{"text": "tháng 6", "start": 13, "end": 20, "field": "text"},
                                    {"text": "ba môn", "start": 14, "end": 20, "field": "summary"}]})
    assert moved["reasons"][0] == {"text": "tháng 6", "start": 40, "end": 47, "field": "text"}
    assert f"{summary}\n\nLịch thi vào tháng 6."[40:47] == "tháng 6"
    assert moved["reasons"][1]["start"] == 14  # other fields keep their offsets
    assert Doc.of("Tuyển sinh", "Khác hẳn.", "Lịch thi vào tháng 6.").text_from == 0
