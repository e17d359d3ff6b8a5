"""Classification workers on the real test database: claims never overlap, a lease that ends frees a batch,
a revised text drops a stale claim, and a worker killed (SIGKILL) mid-batch loses nothing and doubles nothing."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import threading
from datetime import UTC, datetime, timedelta
from pathlib import Path

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session, sessionmaker

import jobs
from settings import Settings
from store.models import Article, Classification, Outlet, OutletKind, ReviewItem, Tier
from store.work import claim_batch, confirm_batch, load_articles, queue_state

ROOT = Path(__file__).resolve().parent.parent
NOW = datetime.now(UTC)

OPENINGS = [
    "Sở Giáo dục và Đào tạo Hải Phòng hướng dẫn các trường triển khai Nghị quyết 71-NQ/TW về đột phá phát triển giáo dục",
    "Phụ huynh ở huyện Thủy Nguyên phản ánh khoản thu đầu năm học chưa được công khai rõ ràng",
    "Trường tiểu học xã đảo Bạch Long Vĩ đón thêm giáo viên tăng cường từ đất liền",
    "Tin đồn học sinh phải nộp thêm tiền học thêm bắt buộc được nhà trường bác bỏ",
    "Thành phố dành ngân sách xây phòng học bộ môn và thư viện số cho các trường trung học cơ sở",
    "Giá thép xây dựng tại các đại lý ở Hải Phòng giảm nhẹ trong tuần qua",
]


def _outlet(session: Session) -> Outlet:
    o = Outlet(slug="bao-thu-nghiem", name="Báo Thử Nghiệm", kind=OutletKind.press, tier=Tier.city,
               homepage="https://bao-thu-nghiem.vn")
    session.add(o)
    session.flush()
    return o


def _articles(sessions: sessionmaker[Session], n: int) -> list[int]:
    """n stored, unclassified articles with their own Vietnamese text (as the crawl leaves them)."""
    with sessions() as s, s.begin():
        o = _outlet(s)
        rows = []
        for i in range(n):
            head = OPENINGS[i % len(OPENINGS)]
            rows.append(Article(
                url=f"https://bao-thu-nghiem.vn/tin-{i}.html", outlet_id=o.id, title=f"{head} (bài {i})",
                summary=f"{head}. Theo ghi nhận của phóng viên, nhiều ý kiến đề nghị làm rõ trong tháng {1 + i % 12}.",
                text=f"{head}. Ngày {1 + i % 28}, đại diện nhà trường cho biết sẽ họp với cha mẹ học sinh. "
                     "Các thầy cô mong muốn chính sách sớm đi vào cuộc sống.",
                content_hash=f"hash-{i}", published_at=NOW - timedelta(hours=i),
            ))
        s.add_all(rows)
        s.flush()
        return [a.id for a in rows]


def _worker_env(settings: Settings, tmp_path: Path, batch: int, log_level: str) -> dict[str, str]:
    """A worker process's environment: the test database, small batches, a one-second lease."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("NQ71_")}
    env.update(NQ71_DATABASE_URL=settings.database_url, NQ71_DATA_DIR=str(tmp_path / "var"),
               NQ71_CLASSIFY_BATCH=str(batch), NQ71_CLASSIFY_LEASE_SECONDS="1", NQ71_LOG_LEVEL=log_level)
    return env


def _classified(sessions: sessionmaker[Session]) -> dict[int, int]:
    with sessions() as s:
        return {int(k): int(v) for k, v in s.execute(
            select(Classification.article_id, func.count()).group_by(Classification.article_id))}


def test_claims_never_overlap_and_a_revised_text_drops_the_stale_claim(
    sessions: sessionmaker[Session], settings: Settings
) -> None:
    ids = _articles(sessions, 10)
    with sessions() as s, s.begin():
        first = claim_batch(s, "may-a", 4, 300)
    with sessions() as s, s.begin():
        second = claim_batch(s, "may-b", 4, 300)
    assert first == ids[:4] and second == ids[4:8] and not set(first) & set(second)
    with sessions() as s:
        assert queue_state(s).free == 2 and queue_state(s).leased == 8
    # the outlet revises an article while worker a scores it: a's claim on it falls (trigger of worker_0001)
    with sessions() as s, s.begin():
        s.execute(update(Article).where(Article.id == first[0]).values(content_hash="hash-moi", text="Bản sửa."))
    with sessions() as s, s.begin():
        assert confirm_batch(s, "may-a", first) == first[1:]
        assert confirm_batch(s, "may-a", second) == []  # another worker's claim is never confirmed
    with sessions() as s:
        row = s.get_one(Article, first[0])
        assert row.classify_due and row.classify_worker is None and row.classify_lease_until is None
        assert not s.get_one(Article, first[1]).classify_due


def test_an_expired_lease_is_taken_again_and_the_late_worker_writes_nothing(
    sessions: sessionmaker[Session], settings: Settings
) -> None:
    ids = _articles(sessions, 3)
    with sessions() as s, s.begin():
        assert claim_batch(s, "cham", 10, 60) == ids
    with sessions() as s, s.begin():
        assert claim_batch(s, "nhanh", 10, 60) == []  # a live lease is respected
        later = datetime.now(UTC) + timedelta(seconds=120)
        assert claim_batch(s, "nhanh", 10, 60, now=later) == ids
    with sessions() as s, s.begin():
        assert confirm_batch(s, "cham", ids) == []  # the slow worker's results would be written twice: refused
        assert confirm_batch(s, "nhanh", ids) == ids


CHILD = """
import json, threading
import jobs
from settings import load_settings
from store.db import make_engine, make_session_factory

settings = load_settings()
sessions = make_session_factory(make_engine(settings.database_url))
claims = 0

def on_claim(ids):
    global claims
    claims += 1
    print(json.dumps({"claimed": ids}), flush=True)
    if claims == 2:  # mid-batch: claimed, not written; the test kills us here
        threading.Event().wait()

def on_batch(batch):
    print(json.dumps({"written": batch.written}), flush=True)

jobs.classify_queue(sessions, settings, "may-bi-giet", on_batch=on_batch, on_claim=on_claim)
"""


def test_a_worker_killed_mid_batch_loses_nothing_and_classifies_nothing_twice(
    sessions: sessionmaker[Session], settings: Settings, tmp_path: Path
) -> None:
    ids = _articles(sessions, 14)
    env = _worker_env(settings, tmp_path, batch=4, log_level="WARNING")
    child = subprocess.Popen([sys.executable, "-c", CHILD], cwd=ROOT, env=env,
                             stdout=subprocess.PIPE, stderr=(tmp_path / "child.err").open("w"), text=True)
    events = []
    try:
        assert child.stdout is not None
        for line in child.stdout:
            events.append(json.loads(line))
            if len([e for e in events if "claimed" in e]) == 2:
                break
        held = events[-1]["claimed"]
        with sessions() as s:  # really mid-batch: leased to the child, nothing written for it yet
            rows = [s.get_one(Article, i) for i in held]
            assert all(r.classify_due and r.classify_worker == "may-bi-giet" for r in rows)
            assert not set(held) & set(_classified(sessions))
        child.send_signal(signal.SIGKILL)
        child.wait()
    finally:
        if child.poll() is None:
            child.kill()
            child.wait()
    assert child.returncode == -signal.SIGKILL, (tmp_path / "child.err").read_text()[-2000:]
    written_by_child = [i for e in events for i in e.get("written", [])]
    assert written_by_child == events[0]["claimed"]  # the first batch was written before the kill

    # another worker drains the queue: it waits out the dead worker's lease, then takes its batch
    rescued: list[int] = []
    done = jobs.classify_queue(sessions, settings.replace(classify_batch=4, classify_lease_seconds=1.0), "may-cuu",
                               stop=threading.Event(), drain=True, on_batch=lambda b: rescued.extend(b.written))
    assert done == len(rescued) == len(ids) - len(written_by_child)
    assert set(held) <= set(rescued)
    assert sorted(written_by_child + rescued) == ids  # every article written once, by exactly one worker
    assert _classified(sessions) == dict.fromkeys(ids, 1)
    with sessions() as s:
        assert queue_state(s).free == queue_state(s).leased == 0
        assert s.scalar(select(func.count()).select_from(Article).where(Article.classify_worker.is_not(None))) == 0
        per_article = s.execute(select(ReviewItem.article_id, func.count()).group_by(ReviewItem.article_id)).all()
        assert all(n == 1 for _, n in per_article)


def _children(pid: int) -> list[int]:
    """Process ids of a process's children (Linux /proc)."""
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return [int(c) for c in path.read_text().split()] if path.exists() else []


def test_nq71_worker_classify_starts_a_killed_worker_again_and_stops_on_sigterm(
    sessions: sessionmaker[Session], settings: Settings, tmp_path: Path
) -> None:
    ids = _articles(sessions, 9)
    env = _worker_env(settings, tmp_path, batch=3, log_level="INFO")
    log = tmp_path / "worker.log"
    with log.open("w", encoding="utf-8") as err:
        proc = subprocess.Popen([sys.executable, "-m", "cli", "worker", "classify", "--procs", "1"], cwd=ROOT, env=env,
                                stdout=subprocess.DEVNULL, stderr=err, text=True)
    try:
        while not _children(proc.pid):  # multiprocessing's resource tracker comes first, then the worker
            assert proc.poll() is None, log.read_text()
            threading.Event().wait(0.1)
        first = set(_children(proc.pid))
        while "classification worker" not in log.read_text(encoding="utf-8"):
            assert proc.poll() is None, log.read_text()
            threading.Event().wait(0.1)
        killed = max(first)  # the worker (started after the tracker)
        os.kill(killed, signal.SIGKILL)
        for _ in range(1200):  # failsafe: at most 10 minutes on a busy machine
            if _classified(sessions).keys() == set(ids):
                break
            threading.Event().wait(0.5)
        assert killed not in _children(proc.pid) and len(_children(proc.pid)) >= 1  # another worker took over
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=120) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    text = log.read_text(encoding="utf-8")
    assert "exited with -9: starting another" in text
    assert _classified(sessions) == dict.fromkeys(ids, 1)
    assert sum(int(n) for n in re.findall(r"classified (\d+) articles", text)) == len(ids)  # none written twice


POOL_PARENT = """
import threading
import workers
from settings import load_settings

pool = workers.Pool(load_settings(), 1).start()
print(pool.procs[0].pid, flush=True)
threading.Event().wait()
"""


def test_workers_of_a_parent_killed_with_kill_9_exit_on_their_own(settings: Settings, tmp_path: Path) -> None:
    env = _worker_env(settings, tmp_path, batch=3, log_level="WARNING")
    parent = subprocess.Popen([sys.executable, "-c", POOL_PARENT], cwd=ROOT, env=env, stdout=subprocess.PIPE, text=True)
    assert parent.stdout is not None
    child = int(parent.stdout.readline())
    parent.send_signal(signal.SIGKILL)
    parent.wait()
    for _ in range(1200):  # failsafe: the orphan notices within a poll (half a second) once it has started
        if not Path(f"/proc/{child}").exists() or "Z" in Path(f"/proc/{child}/stat").read_text().split()[2]:
            break
        threading.Event().wait(0.25)
    assert not Path(f"/proc/{child}").exists() or "Z" in Path(f"/proc/{child}/stat").read_text().split()[2]


def test_two_workers_placing_reports_of_one_event_at_once_make_one_story(sessions: sessionmaker[Session]) -> None:
    title = "Hải Phòng chốt lịch thi vào lớp 10 công lập năm học 2026-2027 vào ngày 3 và 4/6"
    summary = "Sở GD&ĐT Hải Phòng cho biết kỳ thi vào lớp 10 công lập gồm ba môn Toán, Ngữ văn, Tiếng Anh."
    with sessions() as s, s.begin():
        ids = []
        for n, slug in enumerate(("bao-a", "bao-b")):
            o = Outlet(slug=slug, name=slug, kind=OutletKind.press, tier=Tier.city, homepage=f"https://{slug}.vn")
            s.add(o)
            s.flush()
            a = Article(url=f"https://{slug}.vn/lich-thi", outlet_id=o.id, title=title, summary=summary,
                        published_at=NOW - timedelta(hours=n))
            s.add(a)
            s.flush()
            a.cluster_id = a.id  # as the crawl stores an original
            ids.append(a.id)
    plans = []
    for i in ids:  # both workers plan before either writes: each sees the other's report alone in its story
        with sessions() as s:
            plans.append(jobs.plan_story_clusters(s, load_articles(s, [i])))
    assert plans[0].mapping[ids[0]] == ids[1] and plans[1].mapping[ids[1]] == ids[0]  # stale plans would swap them
    for i, plan in zip(ids, plans):
        with sessions() as s, s.begin():
            rows = load_articles(s, [i])
            jobs.apply_story_clusters(s, rows, jobs.replan_if_moved(s, rows, plan).mapping)
    with sessions() as s:
        assert len({s.get_one(Article, i).cluster_id for i in ids}) == 1
