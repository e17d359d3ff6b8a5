"""Retraining learns reviewers' verdicts: `jobs.train_model` and the scheduled retrain pick up new decisions."""

from __future__ import annotations

import json
from datetime import timedelta
from pathlib import Path

from sqlalchemy.orm import Session, sessionmaker

import jobs
import scheduler as sched
from classify.api import Classifier, ItemIn
from classify.model import SIDECAR_FILE, seed_items
from settings import Settings
from store.models import Article, Outlet, OutletKind, ReviewItem, ReviewStatus, Tier, Verdict, utcnow

# Rumours a reviewer decided were false: the same invented story in the words different pages used
RUMOURS = [
    ("Phụ huynh Hải Phòng phải nộp tiền mua máy tính bảng cho con trước ngày 15",
     "Các trường tiểu học yêu cầu mỗi học sinh có một máy tính bảng theo mẫu, phụ huynh đóng tiền qua giáo viên chủ nhiệm."),
    ("Học sinh tiểu học bắt buộc mua máy tính bảng theo mẫu của trường",
     "Tin nhắn lan truyền trong nhóm phụ huynh nói trường thu tiền máy tính bảng, ai không nộp con sẽ không được học."),
    ("Trường thu tiền máy tính bảng của học sinh lớp 1, phụ huynh bức xúc",
     "Nhiều phụ huynh chia sẻ thông báo nộp tiền mua máy tính bảng cho học sinh lớp 1 trước kỳ nghỉ Tết."),
]
PROBE = ItemIn(title="Phụ huynh lớp 2 được yêu cầu nộp tiền mua máy tính bảng cho con",
               summary="Thông báo trong nhóm lớp nói học sinh phải có máy tính bảng theo mẫu của trường.")


def _decide_rumours(sessions: sessionmaker[Session], verdict: Verdict) -> None:
    """Store the rumours from a social page, each resolved by a reviewer with `verdict`."""
    with sessions() as s, s.begin():
        page = Outlet(slug="goc-phu-huynh-hp", name="Góc phụ huynh Hải Phòng", kind=OutletKind.social, tier=Tier.city,
                      homepage="https://www.facebook.com/gocphuhuynhhp")
        s.add(page)
        s.flush()
        for n, (title, summary) in enumerate(RUMOURS):
            article = Article(url=f"https://www.facebook.com/gocphuhuynhhp/posts/{n}", outlet_id=page.id,
                              title=title, summary=summary)
            s.add(article)
            s.flush()
            s.add(ReviewItem(article_id=article.id, status=ReviewStatus.resolved, verdict=verdict,
                             resolved_at=utcnow() - timedelta(minutes=5)))


def test_new_verdicts_change_the_next_model(sessions: sessionmaker[Session], settings: Settings, tmp_path: Path) -> None:
    base = seed_items()[::15]  # a fifteenth of the seed set keeps the two trainings short
    with sessions() as s:
        before = jobs.train_model(s, settings, tmp_path / "before", base=base, evaluate=False)
    _decide_rumours(sessions, Verdict.tin_gia)
    with sessions() as s:
        after = jobs.train_model(s, settings, tmp_path / "after", base=base, evaluate=False)
    assert (before["counts"]["reviewer_verdicts"], after["counts"]["reviewer_verdicts"]) == (0, 3)
    assert after["model_version"] != before["model_version"]
    old, new = (Classifier.load(tmp_path / d).score(PROBE) for d in ("before", "after"))
    assert new.risk_score > old.risk_score + 0.05, (old.risk_score, new.risk_score)


def test_scheduled_retrain_runs_nq71_train_on_new_verdicts_once(sessions: sessionmaker[Session], settings: Settings) -> None:
    sched.configure(settings, sessions)
    _decide_rumours(sessions, Verdict.tin_sai_su_that)
    first = sched.run_now("retrain")  # `nq71 train` in a child process, on the seed set and the database
    assert first["trained"] is True and first["new_verdicts"] == 3
    side = json.loads((jobs.trained_model_dir(settings) / SIDECAR_FILE).read_text(encoding="utf-8"))
    assert side["counts"]["reviewer_verdicts"] == 3
    with sessions() as s:
        assert Classifier.load(jobs.model_dir(settings)).model_version == side["model_version"]
        assert jobs.load_classifier(s, settings).model_version == side["model_version"]  # what classification now uses
    assert sched.run_now("retrain") == {"trained": False, "new_verdicts": 0, "new_corrections": 0}  # nothing new since
