"""Writers for coverage reports: terminal table, CSV (one file), XLSX (a sheet per view), DOCX (administrative style)."""

from __future__ import annotations

import io
from datetime import datetime
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from report.cells import FORMULA_STARTS, csv_text, safe_cell, vn_number
from report.weekly import WeeklyCoverage
from report.weeks import local_text, readable, tz_caption
from store.models import ReviewStatus, Verdict

# the reviewers' words for the review states, read by the review app too, so a file says what the app said
# ("Chuyển Sở GD&ĐT", not a synonym); StrEnum keys also match the plain values stored in rows
STATUS_LABELS: dict[ReviewStatus, str] = {
    ReviewStatus.new: "Mới",
    ReviewStatus.in_progress: "Đang xử lý",
    ReviewStatus.escalated: "Chuyển Sở GD&ĐT",
    ReviewStatus.resolved: "Đã xử lý",
}
VERDICT_LABELS: dict[Verdict, str] = {
    Verdict.tin_gia: "Tin giả",
    Verdict.tin_sai_su_that: "Tin sai sự thật",
    Verdict.tin_xac_thuc: "Tin xác thực",
    Verdict.khong_lien_quan: "Không liên quan",
}
DEFAULT_TZ = "Asia/Ho_Chi_Minh"
KIND_LABELS = {"press": "Báo chí", "portal": "Cổng TTĐT", "agency": "Cơ quan", "school": "Trường học", "social": "Mạng xã hội"}
TIER_LABELS = {"city": "Thành phố", "national": "Trung ương"}
BODY_FONT = "Times New Roman"
SHEET_SUMMARY = "Tổng hợp"
SHEET_OUTLETS = "Theo cơ quan"
SHEET_ZERO = "Chưa có tin NQ71"
SHEET_FLAGGED = "Tin gắn cờ"
SHEET_TREND = "Xu hướng NQ71"


def cell(key: str, value: Any, tz_name: str = DEFAULT_TZ) -> Any:
    """A value as shown in tables and files (Vietnamese words for codes, local times, blanks for 'not applicable')."""
    if value is None:
        return ""
    if isinstance(value, bool):
        return "Có" if value else "Không"
    if key == "kind":
        return KIND_LABELS.get(value, value)
    if key == "tier":
        return TIER_LABELS.get(value, value)
    if key == "verdict":
        return VERDICT_LABELS.get(value, value)
    if key == "status":
        return STATUS_LABELS.get(value, value)
    if isinstance(value, datetime):
        return local_text(value, tz_name)
    return value


def doc_text(key: str, value: Any) -> str:
    """A value as written in the DOCX: like cell(), with Vietnamese number format (82,4)."""
    shown = cell(key, value)
    return vn_number(shown) if isinstance(shown, (int, float)) and not isinstance(shown, bool) else str(shown)


def period_text(cov: WeeklyCoverage) -> str:
    """'tuần 47 (16/11–22/11/2026)' (the week as the UI writes it) or 'từ ngày ... đến ngày ...'."""
    if cov.period.is_week:
        return readable(cov.period, "tuần")
    return f"từ ngày {cov.period.first_day:%d/%m/%Y} đến ngày {cov.period.last_day:%d/%m/%Y}"


def summary(cov: WeeklyCoverage, tz_name: str = DEFAULT_TZ) -> list[tuple[str, Any]]:
    """The headline figures of a period, labelled in Vietnamese."""
    t = cov.totals
    return [
        ("Kỳ báo cáo", readable(cov.period)),
        (f"Thời điểm lập báo cáo ({tz_caption(tz_name, cov.generated_at)})", local_text(cov.generated_at, tz_name)),
        ("Số cơ quan theo dõi", t["outlets"]),
        ("Tổng số tin (tin đăng lại tính cho từng cơ quan)", t["items"]),
        ("Số câu chuyện (bản gốc và bản đăng lại tính một lần)", t["stories"]),
        ("Tin giáo dục", t["education"]),
        ("Tin về NQ71 (nêu rõ + theo nhiệm vụ)", t["nq71"]),
        ("  - nêu rõ Nghị quyết 71", t["nq71_explicit"]),
        ("  - liên quan nhiệm vụ của Nghị quyết", t["nq71_task"]),
        ("Câu chuyện về NQ71", t["nq71_stories"]),
        ("Tỷ lệ tin NQ71 trên tin giáo dục (%)", t["nq71_share"] if t["nq71_share"] is not None else "—"),
        ("Cơ quan có tin NQ71", f"{t['outlets_with_nq71']}/{t['outlets']}"),
        ("Cơ quan báo chí thành phố có tin NQ71", f"{t['city_press_with_nq71']}/{t['city_press']}"),
        ("Cơ quan báo chí thành phố có chuyên mục NQ71", f"{t['city_press_with_section']}/{t['city_press']}"),
        ("Tin bị gắn cờ để thẩm định", t["flagged"]),
        ("Kết luận tin giả", t["tin_gia"]),
        ("Kết luận tin sai sự thật", t["tin_sai_su_that"]),
        ("Trung vị số giờ đến kết luận", t["median_hours"] if t["median_hours"] is not None else "—"),
        ("Tin không xác định được ngày đăng (không tính vào kỳ)", t["undated"]),
    ]


TABLE_KEYS = ["outlet", "items", "copies", "education", "nq71_explicit", "nq71_task", "nq71_share",
              "flagged", "tin_gia", "tin_sai_su_that", "median_hours", "undated"]
TABLE_HEADS = ["outlet", "items", "copies", "edu", "nq71:expl", "nq71:task", "share%",
               "flagged", "tin_gia", "sai_st", "med_h", "undated"]


def render_table(cov: WeeklyCoverage) -> str:
    """A plain-text table for the terminal (the CLI prints it)."""
    rows = [[str(cell(k, r[k])) for k in TABLE_KEYS] for r in cov.rows]
    total = ["TỔNG"] + [str(cell(k, cov.totals.get(k))) for k in TABLE_KEYS[1:]]
    grid = [TABLE_HEADS] + rows + [total]
    widths = [max(len(line[i]) for line in grid) for i in range(len(TABLE_HEADS))]

    def fmt(line: list[str]) -> str:
        return "  ".join(v.ljust(widths[0]) if i == 0 else v.rjust(widths[i]) for i, v in enumerate(line))

    out = [f"Báo cáo {period_text(cov)} — {cov.label}", fmt(TABLE_HEADS), "-" * (sum(widths) + 2 * len(widths))]
    out += [fmt(r) for r in rows] + ["-" * (sum(widths) + 2 * len(widths)), fmt(total)]
    t = cov.totals
    out.append(
        f"stories: {t['stories']} (NQ71: {t['nq71_stories']}); outlets with NQ71: {t['outlets_with_nq71']}/{t['outlets']}; "
        f"city press with NQ71: {t['city_press_with_nq71']}/{t['city_press']}; undated: {cov.undated}"
    )
    if cov.zero_coverage:
        names = ", ".join(z["outlet"] + ("*" if z["city_press"] else "") for z in cov.zero_coverage)
        out.append(f"no NQ71 item (* = city press agency): {names}")
    return "\n".join(out)


def _labels(cov: WeeklyCoverage) -> list[str]:
    return [label for _, label in cov.columns]


def csv_bytes(covs: list[WeeklyCoverage]) -> bytes:
    """One combined CSV: a row per outlet per period plus a total row per period (UTF-8 with BOM for Excel)."""
    rows: list[list[Any]] = []
    for cov in covs:
        for r in cov.rows:
            rows.append([cov.label] + [cell(k, r.get(k)) for k, _ in cov.columns])
        totals = {**cov.totals, "outlet": "TONG", "outlet_name": "TỔNG CỘNG", "kind": "", "tier": "", "has_nq71_section": None}
        rows.append([cov.label] + [cell(k, totals.get(k)) for k, _ in cov.columns])
    return csv_text(["Kỳ"] + _labels(covs[0]), rows).encode("utf-8")


def _atomic_write(path: Path, data: bytes) -> None:
    # a report half-written when the process stops would be worse than none: write aside, then rename
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".part")
    tmp.write_bytes(data)
    tmp.replace(path)


def _neutralise(sheet: Any) -> None:
    """Every text cell of a sheet made safe (openpyxl would store "=..." as a formula)."""
    for row in sheet.iter_rows():
        for c in row:
            if isinstance(c.value, str) and c.value.startswith(FORMULA_STARTS):
                c.value = safe_cell(c.value)


def xlsx_bytes(
    covs: list[WeeklyCoverage], trend: tuple[list[str], dict[str, dict[str, Any]]] | None = None, tz_name: str = DEFAULT_TZ,
) -> bytes:
    """An XLSX with one sheet per view: summary, per outlet, zero coverage, flagged items, NQ71 trend."""
    from openpyxl import Workbook
    from openpyxl.styles import Alignment, Font, PatternFill

    bold = Font(bold=True)
    head_fill = PatternFill("solid", fgColor="DDEBF7")
    wb = Workbook()
    ws = wb.active
    assert ws is not None
    ws.title = SHEET_SUMMARY
    ws.append(["Chỉ tiêu"] + [c.label for c in covs])
    for i, (label, _) in enumerate(summary(covs[0], tz_name)):
        ws.append([label] + [summary(c, tz_name)[i][1] for c in covs])
    ws.column_dimensions["A"].width = 55

    ws = wb.create_sheet(SHEET_OUTLETS)
    ws.append(["Kỳ"] + _labels(covs[0]))
    for cov in covs:
        for r in cov.rows:
            ws.append([cov.label] + [cell(k, r.get(k)) for k, _ in cov.columns])
    ws.column_dimensions["C"].width = 45
    ws.freeze_panes = "D2"

    ws = wb.create_sheet(SHEET_ZERO)
    ws.append(["Kỳ", "Mã cơ quan", "Cơ quan", "Loại", "Cấp", "Cơ quan báo chí thành phố", "Có chuyên mục NQ71", "Tổng tin"])
    for cov in covs:
        for z in cov.zero_coverage:
            ws.append([cov.label, z["outlet"], z["outlet_name"], cell("kind", z["kind"]), cell("tier", z["tier"]),
                       cell("", z["city_press"]), cell("", z["has_nq71_section"]), z["items"]])

    ws = wb.create_sheet(SHEET_FLAGGED)
    clock = tz_caption(tz_name)
    ws.append(["Kỳ", "Cơ quan", "Tiêu đề", "Địa chỉ", f"Ngày đăng ({clock})", "Trạng thái", "Kết luận",
               f"Gắn cờ lúc ({clock})", f"Kết luận lúc ({clock})"])
    for cov in covs:
        for f in cov.flagged:
            ws.append([cov.label, f["outlet"], f["title"], f["url"], cell("", f["published_at"], tz_name),
                       cell("status", f["status"]), cell("verdict", f["verdict"]), cell("", f["created_at"], tz_name),
                       cell("", f["resolved_at"], tz_name)])

    if trend is not None:
        labels, data = trend
        ws = wb.create_sheet(SHEET_TREND)
        ws.append(["Mã cơ quan", "Cơ quan"] + labels)
        for slug, t in data.items():
            ws.append([slug, t["name"]] + list(t["counts"]))
    for sheet in wb.worksheets:
        _neutralise(sheet)
        for c in sheet[1]:
            c.font = bold
            c.fill = head_fill
            c.alignment = Alignment(wrap_text=True, vertical="top")
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def write_file(data: bytes, path: Path) -> Path:
    """Write a report file whole or not at all."""
    _atomic_write(path, data)
    return path


def _body_font_headings(doc: Any) -> None:
    """Headings in the body's font and black: Word's default headings are blue Calibri Light (theme fonts)."""
    from docx.oxml.ns import qn
    from docx.shared import RGBColor

    for name in ("Title", "Heading 1", "Heading 2", "Heading 3"):
        font = doc.styles[name].font
        font.name, font.color.rgb = BODY_FONT, RGBColor(0, 0, 0)
        fonts = doc.styles[name].element.rPr.rFonts
        for attr in ("w:asciiTheme", "w:hAnsiTheme", "w:eastAsiaTheme", "w:cstheme"):
            fonts.attrib.pop(qn(attr), None)  # a theme font overrides the named one in Word
        fonts.set(qn("w:eastAsia"), BODY_FONT)
        fonts.set(qn("w:cs"), BODY_FONT)


def docx_bytes(
    cov: WeeklyCoverage,
    agency: str = "Sở Văn hóa, Thể thao và Du lịch",
    agency_code: str = "SVHTTDL",
    city: str = "thành phố Hải Phòng",
    place: str = "Hải Phòng",
    tz_name: str = DEFAULT_TZ,
    chart: bytes | None = None,
) -> bytes:
    """A periodic report in Vietnamese administrative style (Nghị định 30/2020/NĐ-CP layout) for Sở GD&ĐT."""
    from docx import Document
    from docx.enum.section import WD_ORIENT
    from docx.enum.text import WD_ALIGN_PARAGRAPH
    from docx.shared import Cm, Pt

    doc = Document()
    style = doc.styles["Normal"]
    style.font.name = BODY_FONT
    style.font.size = Pt(13)
    _body_font_headings(doc)
    sec = doc.sections[0]
    sec.page_width, sec.page_height = Cm(21), Cm(29.7)
    sec.top_margin, sec.bottom_margin, sec.left_margin, sec.right_margin = Cm(2), Cm(2), Cm(3), Cm(2)

    def para(text: str, bold: bool = False, italic: bool = False, center: bool = False, size: int | None = None, container: Any = None) -> Any:
        p = (container or doc).add_paragraph()
        run = p.add_run(text)
        run.bold, run.italic = bold, italic
        if size:
            run.font.size = Pt(size)
        if center:
            p.alignment = WD_ALIGN_PARAGRAPH.CENTER
        p.paragraph_format.space_after = Pt(0)
        return p

    today = datetime.now(ZoneInfo(tz_name)).date()
    header = doc.add_table(rows=1, cols=2)
    left, right = header.rows[0].cells
    left.paragraphs[0].add_run(f"ỦY BAN NHÂN DÂN {city.upper()}").font.size = Pt(12)
    left.paragraphs[0].alignment = WD_ALIGN_PARAGRAPH.CENTER
    para(agency.upper(), bold=True, center=True, size=12, container=left)
    para(f"Số:      /BC-{agency_code}", center=True, size=12, container=left)
    r = right.paragraphs[0].add_run("CỘNG HÒA XÃ HỘI CHỦ NGHĨA VIỆT NAM")
    r.bold, r.font.size = True, Pt(12)
    right.paragraphs[0].alignment = WD_ALIGN_PARAGRAPH.CENTER
    para("Độc lập - Tự do - Hạnh phúc", bold=True, center=True, size=13, container=right)
    para(f"{place}, ngày {today.day:02d} tháng {today.month:02d} năm {today.year}", italic=True, center=True, size=13, container=right)

    para("")
    para("BÁO CÁO", bold=True, center=True, size=14)
    para("Kết quả theo dõi thông tin về Nghị quyết số 71-NQ/TW của Bộ Chính trị", bold=True, center=True)
    para(f"trên báo chí, cổng thông tin điện tử và mạng xã hội, {period_text(cov)}", bold=True, center=True)
    para("")
    para(f"Kính gửi: Sở Giáo dục và Đào tạo {city}", center=True)
    para("")
    para(
        f"Thực hiện Kế hoạch truyền thông Nghị quyết số 71-NQ/TW ngày 22/8/2025 của Bộ Chính trị về đột phá phát triển "
        f"giáo dục và đào tạo, {agency} báo cáo kết quả theo dõi thông tin {period_text(cov)} như sau:"
    )
    doc.add_heading("I. SỐ LIỆU TỔNG HỢP", level=2)
    table = doc.add_table(rows=0, cols=2)
    table.style = "Table Grid"
    for label, value in summary(cov, tz_name):
        cells = table.add_row().cells
        cells[0].text, cells[1].text = label, doc_text("", value)

    doc.add_heading("II. SỐ LIỆU THEO CƠ QUAN", level=2)
    keys = [("outlet_name", "Cơ quan"), ("items", "Tổng tin"), ("education", "Tin GD"), ("nq71_explicit", "NQ71 nêu rõ"),
            ("nq71_task", "NQ71 nhiệm vụ"), ("nq71_share", "Tỷ lệ NQ71 (%)"), ("has_nq71_section", "Chuyên mục NQ71"),
            ("flagged", "Gắn cờ"), ("undated", "Không rõ ngày")]
    table = doc.add_table(rows=1, cols=len(keys) + 1)
    table.style = "Table Grid"
    for c, text in zip(table.rows[0].cells, ["TT"] + [label for _, label in keys], strict=True):
        c.text = text
        for run in c.paragraphs[0].runs:
            run.bold, run.font.size = True, Pt(10)
    for i, row in enumerate(cov.rows, start=1):
        cells = table.add_row().cells
        for c, text in zip(cells, [str(i)] + [doc_text(k, row[k]) for k, _ in keys], strict=True):
            c.text = text
            for run in c.paragraphs[0].runs:
                run.font.size = Pt(10)
    if chart:
        doc.add_picture(io.BytesIO(chart), width=Cm(16))

    doc.add_heading("III. CƠ QUAN CHƯA CÓ TIN VỀ NGHỊ QUYẾT 71", level=2)
    if cov.zero_coverage:
        city_press = [z for z in cov.zero_coverage if z["city_press"]]
        if city_press:
            para("Cơ quan báo chí thành phố chưa có tin về Nghị quyết (chỉ tiêu 100% cơ quan báo chí có chuyên mục): "
                 + "; ".join(z["outlet_name"] for z in city_press) + ".")
        others = [z for z in cov.zero_coverage if not z["city_press"]]
        if others:
            para("Các cơ quan, đơn vị khác: " + "; ".join(z["outlet_name"] for z in others) + ".")
    else:
        para("Tất cả cơ quan theo dõi đều có tin về Nghị quyết trong kỳ.")

    doc.add_heading("IV. TIN BỊ GẮN CỜ VÀ KẾT QUẢ XỬ LÝ", level=2)
    if cov.flagged:
        table = doc.add_table(rows=1, cols=5)
        table.style = "Table Grid"
        for c, text in zip(table.rows[0].cells, ["TT", "Cơ quan", "Tiêu đề", "Trạng thái", "Kết luận"], strict=True):
            c.text = text
        for i, f in enumerate(cov.flagged, start=1):
            cells = table.add_row().cells
            values = [str(i), f["outlet"], f["title"], str(cell("status", f["status"])), str(cell("verdict", f["verdict"])) or "—"]
            for c, text in zip(cells, values, strict=True):
                c.text = text
    else:
        para("Trong kỳ không có tin nào bị gắn cờ để thẩm định.")

    para("")
    closing = doc.add_table(rows=1, cols=2)
    left, right = closing.rows[0].cells
    left.paragraphs[0].add_run("Nơi nhận:").bold = True
    for line in ("- Sở Giáo dục và Đào tạo;", "- Lãnh đạo Sở;", "- Lưu: VT."):
        para(line, size=11, container=left)
    right.paragraphs[0].add_run("GIÁM ĐỐC").bold = True
    right.paragraphs[0].alignment = WD_ALIGN_PARAGRAPH.CENTER
    sec.orientation = WD_ORIENT.PORTRAIT
    buf = io.BytesIO()
    doc.save(buf)
    return buf.getvalue()


def default_name(cov: WeeklyCoverage, ext: str, weeks: int = 1) -> str:
    """A file name like bao-cao-nq71-2026-W47.xlsx."""
    label = cov.label.replace("..", "_")
    suffix = f"-{weeks}tuan" if weeks > 1 else ""
    return f"bao-cao-nq71-{label}{suffix}.{ext}"

