"""CSV downloads, streamed: rows are written as the database hands them over (RFC 4180, UTF-8 with a
byte-order mark so that spreadsheet programs read non-ASCII text right), every cell a spreadsheet
would read as a formula or a number kept as text (spreadsheet_cell)."""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable, Iterator, Sequence

from django.http import StreamingHttpResponse

BOM = "\ufeff"


# OWASP "CSV Injection": a cell starting with = + - @, a tab or a carriage return is read as a
# formula (ASVS 5.0 V1.2.10 adds NUL); quoting the field does not stop it.
FORMULA_START = ("=", "+", "-", "@", "\t", "\r", "\0")
_E164 = re.compile(r"\+[0-9]{1,15}")


def spreadsheet_cell(value: object) -> object:
    """`value` as a cell that LibreOffice Calc and Excel open as the text it is, never a formula.

    An E.164 phone gets a leading tab: both read it as text and show it unchanged (as `+7…`, where the
    bare number loses its `+` and becomes a number), and with digits only nothing in it can be a
    formula even where leading blanks are trimmed. Any other string starting with a FORMULA_START
    character gets OWASP's apostrophe (shown by LibreOffice as part of the text). The rest, unchanged."""
    if not isinstance(value, str) or not value.startswith(FORMULA_START):
        return value
    return ("\t" if _E164.fullmatch(value) else "'") + value


class _Line:
    """csv.writer writes to this; each row comes back as one string."""

    def write(self, value: str) -> str:
        return value


def csv_lines(*, header: Sequence[str], rows: Iterable[Sequence[object]]) -> Iterator[str]:
    writer = csv.writer(_Line(), lineterminator="\r\n")
    yield BOM + writer.writerow(header)
    for row in rows:
        yield writer.writerow([spreadsheet_cell(value) for value in row])


def csv_response(*, filename: str, header: Sequence[str], rows: Iterable[Sequence[object]]) -> StreamingHttpResponse:
    """A `text/csv` attachment named `filename`, streamed row by row."""
    response = StreamingHttpResponse(csv_lines(header=header, rows=rows), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "private, no-store"
    return response
