"""Delegation exports: exactly the page's rows and columns for each viewer, and cells
that no spreadsheet runs as formulas."""

from __future__ import annotations

import csv
import io

import pytest
from openpyxl import load_workbook

from tests.test_delegation import build_delegation, delegation_path, page_rows
from webapp.extensions import db as _db
from webapp.services import exports
from webapp.services.delegation import COLUMNS

HEADER = [str(header) for _key, header in COLUMNS]
HYPERLINK = '=HYPERLINK("http://x","y")'
ROLES = ["organizer", "admin", "manager_a", "manager_b", "manager_c", "host"]


def _csv_rows(response) -> list[list[str]]:
    body = response.get_data()
    assert body.startswith(b"\xef\xbb\xbf"), "UTF-8 with a byte-order mark, for Excel"
    return list(csv.reader(io.StringIO(body.decode("utf-8-sig"), newline="")))


def _xlsx_sheet(response):
    return load_workbook(io.BytesIO(response.get_data())).active


def _neutralized(rows):
    return [[exports.neutralize(cell) for cell in row] for row in rows]


# --------------------------------------------------------------------------- the same as the page


@pytest.mark.parametrize("role", ROLES)
def test_csv_holds_exactly_the_pages_rows_and_columns(make, login_as, role):
    w = build_delegation(make)
    client = login_as(getattr(w, role))
    page = page_rows(client.get(delegation_path(w.event)).get_data(as_text=True))
    response = client.get(delegation_path(w.event, ".csv"))
    assert response.status_code == 200
    assert response.mimetype == "text/csv"
    disposition = response.headers["Content-Disposition"]
    assert disposition.startswith("attachment; filename=") and ".csv" in disposition
    assert _csv_rows(response) == [HEADER, *_neutralized(page)]


@pytest.mark.parametrize("role", ROLES)
def test_xlsx_holds_exactly_the_pages_rows_and_columns(make, login_as, role):
    w = build_delegation(make)
    client = login_as(getattr(w, role))
    page = page_rows(client.get(delegation_path(w.event)).get_data(as_text=True))
    response = client.get(delegation_path(w.event, ".xlsx"))
    assert response.status_code == 200
    assert response.headers["Content-Disposition"].startswith("attachment; filename=")
    sheet = _xlsx_sheet(response)
    values = [[cell if cell is not None else "" for cell in row]
              for row in sheet.iter_rows(values_only=True)]
    assert values == [HEADER, *page]  # typed cells hold the text as typed


def test_contact_columns_follow_the_viewer_in_the_files_too(make, login_as):
    w = build_delegation(make)
    emails = {w.ana.user.email, w.arno.user.email, w.bo.user.email, w.nina.user.email}
    for user, expected in ((w.host, {w.ana.user.email, w.bo.user.email}),
                           (w.manager_b, {w.bo.user.email}), (w.manager_c, set())):
        client = login_as(user)
        csv_text = client.get(delegation_path(w.event, ".csv")).get_data(as_text=True)
        xlsx = _xlsx_sheet(client.get(delegation_path(w.event, ".xlsx")))
        xlsx_text = " ".join(str(c.value) for row in xlsx.iter_rows() for c in row)
        assert {e for e in emails if e in csv_text} == expected
        assert {e for e in emails if e in xlsx_text} == expected


def test_xlsx_has_a_bold_frozen_header_and_column_widths(make, login_as):
    w = build_delegation(make)
    sheet = _xlsx_sheet(login_as(w.organizer).get(delegation_path(w.event, ".xlsx")))
    assert all(cell.font.bold for cell in sheet[1])
    assert not any(cell.font.bold for cell in sheet[2])
    assert sheet.freeze_panes == "A2"
    assert all(sheet.column_dimensions[letter].width > 5 for letter in "ABCDEFGHI")


def test_exports_are_refused_like_the_page(make, login_as):
    w = build_delegation(make)
    for suffix in (".csv", ".xlsx"):
        assert login_as(w.member).get(delegation_path(w.event, suffix)).status_code == 403
        assert login_as(w.other_host).get(delegation_path(w.event, suffix)).status_code == 403


# --------------------------------------------------------------------------- formula injection


def test_a_company_named_like_a_formula_comes_out_inert_in_both_files(make, login_as):
    w = build_delegation(make)
    w.ana.user.organization.name = HYPERLINK
    w.ana.user.organization.sector = "@SUM(1+1)"
    _db.session.flush()
    client = login_as(w.organizer)
    [ana] = [row for row in _csv_rows(client.get(delegation_path(w.event, ".csv")))
             if row[1] == "Ana Alpha"]
    assert ana[2] == "'" + HYPERLINK and ana[4] == "'@SUM(1+1)"
    sheet = _xlsx_sheet(client.get(delegation_path(w.event, ".xlsx")))
    [row] = [r for r in sheet.iter_rows(min_row=2) if r[1].value == "Ana Alpha"]
    # XLSX types its cells: text cells, as typed, that no spreadsheet evaluates.
    assert [(cell.data_type, cell.value) for cell in (row[2], row[4], row[8])] == [
        ("s", HYPERLINK), ("s", "@SUM(1+1)"), ("s", "+32 9 123 45 67")]


@pytest.mark.parametrize("text", ["=1+1", "+1", "-1", "@A1", "\t=1", "\r=1"])
def test_every_formula_trigger_is_prefixed_with_a_quote(text):
    assert exports.neutralize(text) == "'" + text


@pytest.mark.parametrize("text", ["Alpha", "", "1=1", " =1", "'quoted", "München"])
def test_ordinary_text_is_left_alone(text):
    assert exports.neutralize(text) == text


def test_xlsx_drops_control_characters_and_keeps_text_as_text():
    sheet = load_workbook(io.BytesIO(exports.xlsx_bytes(["A"], [["\x01=1+1"], ["ok\x02"]]))).active
    assert sheet["A2"].value == "=1+1" and sheet["A2"].data_type == "s"
    assert sheet["A3"].value == "ok"


def test_csv_round_trips_commas_quotes_and_newlines():
    rows = [["Smith, Jones & Co", 'He said "hi"', "two\nlines"]]
    parsed = list(csv.reader(io.StringIO(exports.csv_bytes(["a", "b", "c"], rows)
                                         .decode("utf-8-sig"), newline="")))
    assert parsed == [["a", "b", "c"], *rows]
