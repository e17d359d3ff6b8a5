"""The nq71 command as a user runs it: a real subprocess on a real SQLite file."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent


def run(tmp_path: Path, *args: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    full_env = {k: v for k, v in os.environ.items() if not k.startswith("NQ71_")}
    full_env.update({"NQ71_DATABASE_URL": f"sqlite:///{tmp_path / 'var' / 'nq71.db'}", "NQ71_DATA_DIR": str(tmp_path / "var")})
    full_env.update(env or {})
    return subprocess.run([sys.executable, "-m", "cli", *args], cwd=ROOT, env=full_env, capture_output=True, text=True, timeout=120)


def test_sync_then_stats_reports_the_configured_sources(tmp_path: Path) -> None:
    first = run(tmp_path, "sources", "sync")
    assert first.returncode == 0, first.stderr
    stats = json.loads(run(tmp_path, "stats", "--json").stdout)
    assert stats["outlets"] >= 15 and stats["feeds"] >= stats["outlets"]
    assert stats["articles"] == 0 and stats["review_items"] == {"new": 0, "in_progress": 0, "escalated": 0, "resolved": 0}
    second = run(tmp_path, "sources", "sync")
    assert "unchanged" in second.stdout and "+0 ~0 -0" in second.stdout
    assert json.loads(run(tmp_path, "stats", "--json").stdout) == stats
    listing = run(tmp_path, "sources", "list")
    assert "vnexpress" in listing.stdout and "never" in listing.stdout


def test_bad_sources_file_is_one_clear_message_and_exit_2(tmp_path: Path) -> None:
    bad = tmp_path / "bad.toml"
    bad.write_text('[[outlet]]\nslug = "x"\nname = "X"\nkind = "báo"\ntier = "city"\nhomepage = "https://x.vn"\n', encoding="utf-8")
    result = run(tmp_path, "sources", "sync", "--file", str(bad))
    assert result.returncode == 2
    assert "outlet #1 'x', kind = 'báo': không có loại này" in result.stderr and "Traceback" not in result.stderr
    stats = json.loads(run(tmp_path, "stats", "--json").stdout)
    assert stats["outlets"] == 0


def test_bad_setting_is_one_line_naming_the_variable(tmp_path: Path) -> None:
    result = run(tmp_path, "stats", env={"NQ71_LOG_LEVEL": "LOUD"})
    assert result.returncode == 2 and "NQ71_LOG_LEVEL" in result.stderr and "Traceback" not in result.stderr


def test_every_command_has_help() -> None:
    from click import Group
    from click.testing import CliRunner

    from cli import main

    def walk(group: Group, path: list[str]) -> list[list[str]]:
        out = [path]
        for name, cmd in group.commands.items():
            out += walk(cmd, path + [name]) if isinstance(cmd, Group) else [path + [name]]
        return out

    runner = CliRunner()
    paths = walk(main, [])
    assert len(paths) >= 6
    for path in paths:
        result = runner.invoke(main, [*path, "--help"])
        assert result.exit_code == 0 and "Usage:" in result.output, (path, result.output)


def test_classify_in_skips_hostile_lines_with_their_numbers_and_accepts_a_bom(tmp_path: Path) -> None:
    src = tmp_path / "items.jsonl"
    good = json.dumps({"id": "b1", "title": "Hải Phòng triển khai Nghị quyết 71-NQ/TW ở các trường tiểu học"}, ensure_ascii=False)
    lines = [
        b"\xef\xbb\xbf" + good.encode("utf-8"),  # a BOM before the first item (Notepad, Excel)
        b'{"id": "s1", "title": "Tin \\ud800 h\xe1\xbb\x8fng"}',  # a lone surrogate escape
        b"[" * 100_000,  # nesting a JSON parser cannot follow
        b'{"id": "c1", "title": "Tr\xf0\xf4\xecng h\xe7c"}',  # a legacy code page, not UTF-8
        json.dumps({"id": "g2", "title": "Sở GD&ĐT Hải Phòng công bố lịch thi vào lớp 10"}, ensure_ascii=False).encode("utf-8"),
    ]
    src.write_bytes(b"\n".join(lines) + b"\n")
    dst = tmp_path / "scored.jsonl"
    result = run(tmp_path, "classify", "--in", str(src), "--out", str(dst))
    assert result.returncode == 0 and "Traceback" not in result.stderr, result.stderr[-2000:]
    assert f"{src}:2: skipped: text holds a lone surrogate" in result.stderr
    assert f"{src}:3: skipped: JSON nested too deeply" in result.stderr
    assert f"{src}:4: skipped: not UTF-8 (byte 0xf0 at column 26)" in result.stderr
    assert "scored 2 item(s), skipped 3 bad line(s)" in result.stdout
    assert [json.loads(line)["id"] for line in dst.read_text(encoding="utf-8").splitlines()] == ["b1", "g2"]


def _closed_port() -> int:
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])  # closed again when the block ends: nothing listens there


@pytest.mark.parametrize("command", [["stats"], ["crawl", "--quiet"], ["db", "upgrade"], ["serve", "--port", "1"]])
def test_a_database_that_is_down_is_one_line_naming_it(tmp_path: Path, command: list[str]) -> None:
    url = f"postgresql+psycopg://thamdinh:mat-khau-bi-mat@127.0.0.1:{_closed_port()}/nq71"
    result = run(tmp_path, *command, env={"NQ71_DATABASE_URL": url})
    lines = result.stderr.strip().splitlines()
    assert result.returncode == 1 and "Traceback" not in result.stderr, result.stderr[-1500:]
    assert lines[-1].startswith("Lỗi / error:") and "Connection refused" in lines[-1]
    assert "thamdinh:***@127.0.0.1" in lines[-1] and "mat-khau-bi-mat" not in result.stderr + result.stdout


@pytest.mark.parametrize("command", [["stats"], ["db", "upgrade"]])
def test_a_database_that_refuses_the_user_or_is_missing_is_one_line(tmp_path: Path, command: list[str]) -> None:
    from sqlalchemy.engine import make_url

    pg = os.environ.get("NQ71_TEST_DATABASE_URL", "")
    if not pg:
        pytest.skip("NQ71_TEST_DATABASE_URL not set")
    base = make_url(pg).set(drivername="postgresql+psycopg")
    for url, reason in [(base.set(username="khong_co_ai", password="sai"), 'role "khong_co_ai" does not exist'),
                        (base.set(database="khong_co_csdl_nay"), 'database "khong_co_csdl_nay" does not exist')]:
        result = run(tmp_path, *command, env={"NQ71_DATABASE_URL": url.render_as_string(hide_password=False)})
        assert result.returncode == 1 and "Traceback" not in result.stderr, result.stderr[-1500:]
        assert reason in result.stderr.strip().splitlines()[-1] and "sai@" not in result.stderr
    sqlite = run(tmp_path, *command, env={"NQ71_DATABASE_URL": "sqlite:////proc/khong-ghi-duoc/nq71.db"})
    assert sqlite.returncode == 1 and "Traceback" not in sqlite.stderr, sqlite.stderr[-1500:]


def test_db_option_reads_another_database_and_never_creates_an_empty_one(tmp_path: Path) -> None:
    from datetime import UTC, datetime, timedelta

    from sqlalchemy.orm import Session

    from store.db import make_engine, upgrade
    from store.models import Article, Outlet, OutletKind, Tier

    other = tmp_path / "khac" / "nq71-khac.db"
    other.parent.mkdir()
    engine = make_engine(f"sqlite:///{other}")
    upgrade(engine)
    with Session(engine) as s, s.begin():
        outlet = Outlet(slug="bao-hp", name="Báo Hải Phòng", kind=OutletKind.press, tier=Tier.city, homepage="https://baohaiphong.vn")
        s.add(outlet)
        s.flush()
        s.add(Article(url="https://baohaiphong.vn/tuyen-sinh-lop-10", outlet_id=outlet.id, title="Hải Phòng công bố chỉ tiêu tuyển sinh lớp 10",
                      published_at=datetime.now(UTC) - timedelta(days=7)))
    engine.dispose()
    default_db = tmp_path / "var" / "nq71.db"

    read = run(tmp_path, "--db", str(other), "report", "weekly")
    assert read.returncode == 0, read.stderr
    assert "chưa có bài nào" not in read.stderr and not default_db.exists()  # the default database was not touched
    missing = run(tmp_path, "--db", str(tmp_path / "khong-co.db"), "report", "weekly")
    assert missing.returncode == 2 and "no database file" in missing.stderr and "khong-co.db" in missing.stderr
    demo = run(tmp_path, "--db", "demo", "stats")
    assert demo.returncode == 2 and "make demo" in demo.stderr
    empty = run(tmp_path, "report", "weekly")  # a newcomer's default: an empty database, said so with its name
    assert empty.returncode == 0 and "has no articles yet" in empty.stderr and str(default_db) in empty.stderr
