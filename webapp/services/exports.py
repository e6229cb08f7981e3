"""Tables as files: CSV for any spreadsheet, XLSX for Excel, both safe to open.

A spreadsheet runs a cell that starts with `=`, `+`, `-` or `@` as a formula (and tab
or CR can smuggle one past the first character), so a company that names itself
`=HYPERLINK(...)` could make a manager's Excel fetch a URL. In CSV, which has no types,
every such cell is written as text by prefixing a single quote, the convention
spreadsheets themselves use for "this is text". XLSX says each cell's type: every cell is
a string cell holding the text exactly as typed, which Excel shows and never runs, so it
needs no quote (openpyxl alone would store a string starting with `=` as a formula).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable, Sequence

from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r")
# A bare type: the response adds the charset of every text type (UTF-8) itself, and a
# type that named it too would declare it twice.
CSV_MIMETYPE = "text/csv"
XLSX_MIMETYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
# Excel's own limit for a column is 255 characters wide; beyond ~60 a column only hides
# its neighbours, and long profiles wrap better in the cell than in the width.
MAX_COLUMN_WIDTH = 60


def neutralize(value: object) -> str:
    """The cell's text, prefixed with `'` when a spreadsheet would read it as a formula."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(FORMULA_TRIGGERS) else text


def csv_bytes(header: Sequence[str], rows: Iterable[Sequence[object]]) -> bytes:
    """UTF-8 with a byte-order mark: without it Excel reads the file as the local code
    page and mangles every accented name."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\r\n")
    writer.writerow([neutralize(cell) for cell in header])
    for row in rows:
        writer.writerow([neutralize(cell) for cell in row])
    return buffer.getvalue().encode("utf-8-sig")


def xlsx_bytes(header: Sequence[str], rows: Iterable[Sequence[object]], *,
               title: str = "Sheet") -> bytes:
    """One sheet: a bold header row that stays in view (frozen panes) and columns as wide
    as their content, within reason."""
    workbook = Workbook()
    sheet = workbook.active
    # Sheet titles are at most 31 characters and may not hold []:*?/\ (Excel refuses them).
    sheet.title = "".join(c for c in title if c not in "[]:*?/\\")[:31] or "Sheet"
    widths = [len(str(name)) for name in header]
    for cell in _text_row(sheet, 1, header):
        cell.font = Font(bold=True)
    for number, row in enumerate(rows, start=2):
        for index, cell in enumerate(_text_row(sheet, number, row)):
            widths[index] = max(widths[index], len(cell.value))
    sheet.freeze_panes = "A2"
    for index, width in enumerate(widths, start=1):
        sheet.column_dimensions[get_column_letter(index)].width = min(width + 2, MAX_COLUMN_WIDTH)
    buffer = io.BytesIO()
    workbook.save(buffer)
    return buffer.getvalue()


def _text_row(sheet, number: int, values: Sequence[object]) -> list:
    """Row `number` of string cells, each holding its value's text as typed."""
    cells = []
    for column, value in enumerate(values, start=1):
        cell = sheet.cell(row=number, column=column)
        cell.value = _xlsx_text(value)
        # Set after the value: assigning text that starts with `=` makes openpyxl type the
        # cell as a formula.
        cell.data_type = "s"
        cells.append(cell)
    return cells


def _xlsx_text(value: object) -> str:
    # Control characters make openpyxl refuse the whole file and carry no meaning here.
    text = "" if value is None else str(value)
    return ILLEGAL_CHARACTERS_RE.sub("", text)
