"""The confirmation-codes table a tutor opens in a spreadsheet."""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

from .records import Outcome

COLUMNS = ["PI", "Code", "Status", "Reason", "Files", "Folder"]


def write_codes_csv(path: Path, records: Iterable[Outcome]) -> Path:
    """Write (or update) the codes table as CSV, with an Excel copy beside it; return the CSV.

    One row per student.

    This job's results win, but a value this job did not learn (a codes-only run knows no files;
    a failed run may know no code) keeps what an earlier run wrote, and students not in this job
    keep their rows, so the table grows across runs.
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
    table = pd.DataFrame(rows, columns=COLUMNS, dtype=str).set_index("PI")
    if path.exists():
        earlier = pd.read_csv(path, dtype=str, keep_default_na=False).set_index("PI")
        for column in ("Code", "Files", "Folder"):
            known = earlier[column].reindex(table.index)
            table[column] = table[column].mask(table[column] == "", known)
        table = pd.concat([earlier.drop(index=table.index, errors="ignore"), table])
    table = table.fillna("").sort_index().reset_index()[COLUMNS]
    partial = path.with_name(path.name + ".part")
    table.to_csv(partial, index=False)
    partial.replace(path)
    workbook = path.with_suffix(".xlsx")
    partial = workbook.with_name(workbook.name + ".part")
    table.to_excel(partial, index=False, sheet_name="Confirmation codes", engine="openpyxl")
    partial.replace(workbook)
    return path
