"""The claim registry holds false claims only: a true report can never be registered to raise others' risk."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session, sessionmaker

import jobs
import review.service
from settings import Settings
from store.classifications import ClaimError, active_claims, add_claim
from store.models import Article, Claim, Classification, Outlet, OutletKind, Tier, Verdict

ROOT = Path(__file__).resolve().parents[2]
TRUE_TEXT = "Sở GD&ĐT Hải Phòng công bố lịch thi tuyển sinh vào lớp 10 công lập vào ngày 3 và 4 tháng 6."
REPORT = dict(title="Sở GD&ĐT Hải Phòng công bố lịch thi tuyển sinh vào lớp 10 công lập",
              summary="Theo Sở GD&ĐT, kỳ thi tuyển sinh vào lớp 10 công lập diễn ra vào ngày 3 và 4 tháng 6.")


@pytest.mark.parametrize("verdict", ["tin_xac_thuc", "khong_lien_quan", "dung"])
def test_add_claim_refuses_any_verdict_but_false_in_both_languages(
    sessions: sessionmaker[Session], verdict: str
) -> None:
    with sessions() as s, s.begin():
        with pytest.raises(ClaimError) as err:
            add_claim(s, TRUE_TEXT, verdict)
        assert "chỉ nhận kết luận tin_gia, tin_sai_su_that" in str(err.value)
        assert "a claim must have a false verdict" in str(err.value)
        assert s.scalar(select(func.count()).select_from(Claim)) == 0
        assert add_claim(s, TRUE_TEXT, "tin_sai_su_that").verdict == Verdict.tin_sai_su_that


def test_both_false_verdicts_are_registered_and_matched(sessions: sessionmaker[Session]) -> None:
    texts = {"tin_gia": "Hải Phòng bỏ kỳ thi tuyển sinh lớp 10 công lập từ năm học tới, chỉ xét học bạ.",
             "tin_sai_su_that": "Giáo viên mầm non Hải Phòng bị cắt toàn bộ phụ cấp ưu đãi nghề từ tháng sau."}
    with sessions() as s, s.begin():
        for verdict, text in texts.items():
            add_claim(s, text, verdict, "https://haiphong.edu.vn/cai-chinh")
        s.add(Claim(text=TRUE_TEXT, verdict=Verdict.khong_lien_quan))  # never through add_claim: never matched
    with sessions() as s:
        assert {c.verdict.value: c.text for c in active_claims(s)} == texts


def test_one_add_claim_serves_the_cli_and_the_review_app() -> None:
    assert review.service.add_claim is add_claim


def test_a_true_claim_left_in_an_old_database_raises_no_report(sessions: sessionmaker[Session], settings: Settings) -> None:
    with sessions() as s, s.begin():
        s.add(Claim(text=TRUE_TEXT, verdict=Verdict.tin_xac_thuc))  # registered before add_claim refused it
        portal = Outlet(slug="so-gddt", name="Sở GD&ĐT", kind=OutletKind.portal, tier=Tier.city, homepage="https://so.vn")
        s.add(portal)
        s.flush()
        report = Article(url="https://so.vn/lich-thi", outlet_id=portal.id, **REPORT)
        s.add(report)
        s.flush()
        assert active_claims(s) == []
        jobs.classify_articles(s, jobs.load_classifier(s, settings), [report], settings)
        c = s.scalar(select(Classification).where(Classification.article_id == report.id))
        assert c is not None and c.claim_matches == [] and c.risk_score < settings.review_threshold


def test_cli_claims_add_with_a_true_verdict_is_one_bilingual_line(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("NQ71_")}
    env.update({"NQ71_DATABASE_URL": f"sqlite:///{tmp_path / 'nq71.db'}", "NQ71_DATA_DIR": str(tmp_path)})
    cmd = [sys.executable, "-m", "cli"]
    assert subprocess.run([*cmd, "db", "upgrade"], cwd=ROOT, env=env, capture_output=True, timeout=120).returncode == 0
    result = subprocess.run([*cmd, "claims", "add", "--text", TRUE_TEXT, "--verdict", "tin_xac_thuc"], cwd=ROOT,
                            env=env, capture_output=True, text=True, timeout=120)
    assert result.returncode != 0 and "Traceback" not in result.stderr
    assert "Kho tin sai chỉ nhận" in result.stderr and "a claim must have a false verdict" in result.stderr
    listing = subprocess.run([*cmd, "claims", "list"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    assert "No claims yet" in listing.stdout
