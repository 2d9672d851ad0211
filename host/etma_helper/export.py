"""The confirmation-codes table a tutor opens in a spreadsheet.

Everything in it - codes, eTMA's reasons, file counts, folder names - comes from a server or a
page, and a spreadsheet runs a cell that starts with a formula character (OWASP "CSV
Injection": =, +, -, @, tab, CR, LF). So every cell is neutralised before it is written
(`neutralise`), the CSV puts every field in double quotes (doubling any inside, RFC 4180), and
the Excel copy is written cell by cell as strings, never formulas.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable
from pathlib import Path

from .records import Outcome

COLUMNS = ["PI", "Code", "Status", "Reason", "Files", "Folder"]
SHEET_NAME = "Confirmation codes"

# A cell starting with one of these is quoted. OWASP's list, and NUL from OWASP ASVS 1.2.10.
TRIGGERS = ("=", "+", "-", "@", "\t", "\r", "\n", "\0")
# Inside a value: a separator or double quote, then any tabs or line breaks, then a formula
# character. A spreadsheet that splits the value there (one that reads ';' as the separator, or
# mishandles a quote or a line break inside a quoted field) would start a formula cell, so a
# quote goes after the separator too. The apostrophe is not a separator here: it is ordinary
# text ("student's") and the quote this module adds.
_FORMULA_AFTER_SEPARATOR = re.compile(r'(?<=[,;"\t\r\n])(?=[\t\r\n]*[=+\-@])')
# Characters XML 1.0 cannot hold, which openpyxl refuses (its ILLEGAL_CHARACTERS_RE).
_NOT_IN_XLSX = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


def neutralise(value: object) -> str:
    """`value` as text a spreadsheet shows and never runs (OWASP's CSV-injection advice).

    A value starting with =, +, -, @, tab, CR, LF or NUL gets a leading single quote, as does
    the rest of a value after a separator (, ; tab CR LF) or double quote that a formula
    character follows. Nothing else changes: "ABC-123" and "500 - error" stay as they are,
    while "-12" becomes "'-12" (no exception for numbers: every column here is text). Applying
    it again changes nothing, so a table read back from the CSV is not quoted twice.
    """
    text = "" if value is None or value != value else str(value)  # value != value: NaN
    text = _FORMULA_AFTER_SEPARATOR.sub("'", text)
    return "'" + text if text.startswith(TRIGGERS) else text


def write_codes_csv(path: Path, records: Iterable[Outcome]) -> Path:
    """Write (or update) the codes table as CSV, with an Excel copy beside it; return the CSV.

    One row per student.

    This job's results win, but a value this job did not learn (a codes-only run knows no files;
    a failed run may know no code) keeps what an earlier run wrote, and students not in this job
    keep their rows, so the table grows across runs.

    Every cell, whichever column it is in, is neutralised (`neutralise`): this job's values,
    and the earlier table's too, so one written before this protection is fixed when next
    written.
    """
    import pandas as pd  # heavy: imported only when a table is written

    rows = [
        {
            "PI": r.pi,
            "Code": r.code,
            "Status": r.state,
            "Reason": r.reason,
            "Files": str(len(r.files)) if r.folder else "",
            "Folder": r.folder or "",
        }
        for r in records
    ]
    table = pd.DataFrame(rows, columns=COLUMNS, dtype=str).fillna("").map(neutralise)
    table = table.set_index("PI")
    if path.exists():
        earlier = pd.read_csv(path, dtype=str, keep_default_na=False).map(neutralise)
        earlier = earlier.set_index("PI")
        for column in ("Code", "Files", "Folder"):
            known = earlier[column].reindex(table.index)
            table[column] = table[column].mask(table[column] == "", known)
        table = pd.concat([earlier.drop(index=table.index, errors="ignore"), table])
    table = table.fillna("").sort_index().reset_index()[COLUMNS]
    partial = path.with_name(path.name + ".part")
    table.to_csv(partial, index=False, quoting=csv.QUOTE_ALL)
    partial.replace(path)
    workbook = path.with_suffix(".xlsx")
    partial = workbook.with_name(workbook.name + ".part")
    _write_xlsx(partial, [list(table.columns), *table.itertuples(index=False, name=None)])
    partial.replace(workbook)
    return path


def _write_xlsx(path: Path, rows: Iterable[Iterable[object]]) -> None:
    """Write `rows` (the header first) to a one-sheet workbook, every cell a string.

    openpyxl stores a string starting with '=' as a formula; every value is neutralised, and
    each cell is marked a string besides. Characters a workbook cannot hold (control
    characters) become U+FFFD, and line breaks are stored as LF, which is how XML reads a CR
    anyway; the CSV keeps both as they were.
    """
    from openpyxl import Workbook  # heavy: imported only when a table is written

    book = Workbook()
    sheet = book.active
    sheet.title = SHEET_NAME
    for row_number, row in enumerate(rows, start=1):
        for column_number, value in enumerate(row, start=1):
            text = neutralise(value).replace("\r\n", "\n").replace("\r", "\n")
            text = _NOT_IN_XLSX.sub("\ufffd", text)
            if not text:
                continue
            cell = sheet.cell(row=row_number, column=column_number)
            cell.value = text
            cell.data_type = "s"
    book.save(path)
