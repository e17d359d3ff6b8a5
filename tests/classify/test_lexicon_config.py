"""Every lexicon key is read (or refused at load), and the model refuses lexicons it was not trained with."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from classify.api import Classifier, ItemIn
from classify.errors import LexiconError, ModelError
from classify.explicit import ExplicitFinder
from classify.features import kind_bucket
from classify.lexicon import DEFAULT_DIR, Lexicons
from classify.model import Bundle
from classify.text import Doc
from jobs import reach
from store.models import Article, Outlet, OutletKind, Tier


def lexicon_copy(tmp_path: Path, name: str, old: str, new: str) -> Path:
    """The shipped lexicons with one text replacement in one file."""
    target = tmp_path / "lexicon"
    shutil.copytree(DEFAULT_DIR, target)
    path = target / f"{name}.toml"
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")
    return target


def test_an_unknown_key_is_refused_naming_it(tmp_path: Path) -> None:
    folder = lexicon_copy(tmp_path, "sources", "[kind.press]\n", "[kind.press]\noficial = true\n")
    with pytest.raises(LexiconError, match=r"sources.toml: .*kind\.press\.oficial"):
        Lexicons.load(folder)


def test_reach_comes_from_sources_toml(tmp_path: Path) -> None:
    article = Article(outlet=Outlet(kind=OutletKind.press, tier=Tier.national))
    shipped = Lexicons.load()
    changed = Lexicons.load(lexicon_copy(tmp_path, "sources", "national = 1.5", "national = 3.0"))
    assert reach(article, changed.reach) == pytest.approx(2 * reach(article, shipped.reach))
    # an article without an outlet takes the [reach] unknown factor
    assert reach(Article(), shipped.reach) == pytest.approx(shipped.reach["unknown"])


def test_official_kinds_come_from_sources_toml(tmp_path: Path) -> None:
    shipped = Lexicons.load()
    assert kind_bucket("portal", shipped.sources) == "official" and kind_bucket("press", shipped.sources) == "press"
    press_official = "[kind.press]\nlabel = \"Báo chí\"\nofficial = true"
    changed = Lexicons.load(lexicon_copy(tmp_path, "sources", "[kind.press]\nlabel = \"Báo chí\"\nofficial = false",
                                         press_official))
    assert kind_bucket("press", changed.sources) == "official"


def mentions(lex: Lexicons, title: str) -> list[tuple[str, bool]]:
    return [(m.why, m.explicit) for m in ExplicitFinder(lex).find(Doc.of(title, "", ""))]


def test_accepted_suffixes_come_from_explicit_toml(tmp_path: Path) -> None:
    title = "Hải Phòng ban hành kế hoạch thực hiện Nghị quyết 71-NQ/Trung ương trong các trường học"
    assert mentions(Lexicons.load(), title) == [("nq71_full", True)]
    narrowed = Lexicons.load(lexicon_copy(tmp_path, "explicit", ', "nq/trung ương"]', "]"))
    assert mentions(narrowed, title) == [("other_document_number", False)]


def test_party_issuer_names_the_resolution(tmp_path: Path) -> None:
    title = "Giáo viên vùng cao kỳ vọng gì ở Nghị quyết 71 của Bộ Chính trị"
    assert mentions(Lexicons.load(), title) == [("nq71_party", True)]
    emptied = Lexicons.load(lexicon_copy(tmp_path, "explicit", 'party_issuers = ["bộ chính trị", "trung ương"]',
                                         "party_issuers = []"))
    assert mentions(emptied, title) == [("nq71_short", True)]


def test_model_refuses_other_lexicons_in_one_line(tmp_path: Path) -> None:
    folder = lexicon_copy(tmp_path, "education", "[[group]]", "[[group]]\n# một dòng ghi chú mới")
    with pytest.raises(ModelError) as err:
        Classifier.load(lexicon_dir=folder)
    assert "nq71 train" in str(err.value) and "\n" not in str(err.value)
    # the same bundle with the lexicons it was trained with loads and scores
    assert Classifier(Bundle.load(), Lexicons.load()).score(ItemIn(title="Tuyển sinh lớp 10")).model_version


def test_the_working_folders_lexicon_files_override_the_shipped_ones(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert Lexicons.load().digest == Lexicons.load(DEFAULT_DIR).digest  # no config/lexicon/ here: the shipped files
    own = tmp_path / "config" / "lexicon"
    own.mkdir(parents=True)
    text = (DEFAULT_DIR / "sources.toml").read_text(encoding="utf-8")
    (own / "sources.toml").write_text(text.replace("national = 1.5", "national = 3.0", 1), encoding="utf-8")
    mine = Lexicons.load()  # sources.toml from the user's folder, the five others shipped
    assert mine.reach["national"] == 3.0 and mine.theme_names == Lexicons.load(DEFAULT_DIR).theme_names
