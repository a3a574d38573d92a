"""A table as a French spreadsheet opens it: `;`, UTF-8 with its BOM, CRLF, and no formula run.

A text that a spreadsheet would read as a formula is written with a quote before it (OWASP).
"""

from __future__ import annotations

import csv
import io
from collections.abc import Iterable

# What makes Excel, LibreOffice or Google Sheets read a cell as a formula (=HYPERLINK(…),
# +cmd|' /C calc'!A0, @SUM(…)), and a tab or a return that may hide one (OWASP, CSV injection).
FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def inert(cell: object) -> object:
    """Return a cell a spreadsheet will not run: a text starting like a formula gets a `'` first.

    Spaces before the formula do not save it (a spreadsheet may trim them). Numbers the app
    counts (ints) stay numbers, negative ones too: only text typed by someone carries a formula.
    """
    if isinstance(cell, str) and (cell.startswith(FORMULA_STARTS)
                                  or cell.lstrip().startswith(FORMULA_STARTS)):
        return "'" + cell
    return cell


def french_csv(header: list[str], lines: Iterable[Iterable]) -> str:
    """Return rows as a French spreadsheet reads them: `;`, UTF-8 with its BOM, CRLF; inert."""
    out = io.StringIO()
    out.write("\ufeff")
    writer = csv.writer(out, delimiter=";", lineterminator="\r\n")
    writer.writerow([inert(cell) for cell in header])
    writer.writerows([inert(cell) for cell in line] for line in lines)
    return out.getvalue()
