"""Cells written to CSV and XLSX files: text a spreadsheet would run as a formula is made plain text."""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable
from typing import Any

# Excel, LibreOffice and Google Sheets start a formula (or a DDE call) with these; a crawled title or a
# reviewer's note must never run as one when a supervisor opens the export (OWASP "CSV injection")
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: Any) -> Any:
    """The value, with a leading apostrophe when it is text a spreadsheet would read as a formula."""
    if isinstance(value, str) and value.startswith(FORMULA_STARTS):
        return "'" + value
    return value


def safe_row(values: Iterable[Any]) -> list[Any]:
    """A row of safe cells."""
    return [safe_cell(v) for v in values]


def csv_text(header: list[str], rows: Iterable[Iterable[Any]]) -> str:
    """CSV text (UTF-8 BOM first, so Excel shows Vietnamese) with every cell made safe."""
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.writer(out)
    writer.writerow(safe_row(header))
    for row in rows:
        writer.writerow(safe_row(row))
    return out.getvalue()


def vn_number(value: Any, digits: int = 1) -> str:
    """A figure as Vietnamese write it: 82,4 and 1.234 (comma for decimals, dot for thousands); '—' for none."""
    if value is None:
        return "—"
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return str(value)
    text = f"{value:,}" if isinstance(value, int) else f"{value:,.{digits}f}"
    return text.translate(str.maketrans(",.", ".,"))
