"""CSV for spreadsheets: the reader's separators, and cells a spreadsheet will not run as formulas.

Every CSV the service writes for people to open (the call list, the audit trail, the retention policies, a research
package's calls.csv) goes through these: a cell beginning `=`, `+`, `-` or `@` is a formula to Excel, and a value
someone else wrote (a queue name sent by the telephony system) could make it fetch a URL or run a command.
"""

from __future__ import annotations

from dataclasses import dataclass

from recordings_service.decimals import one_decimal

BYTE_ORDER_MARK = "\ufeff"


@dataclass(frozen=True)
class SpreadsheetDialect:
    """The separators a spreadsheet of the reader's locale opens a CSV file with when it is double-clicked.

    Excel splits the rows at the locale's list separator and reads numbers with its decimal separator: in Finnish
    (as in most of Europe) ";" and ",". A comma-separated file opened as one column of text there, and a duration of
    23.7 s or a score of 80.5 became a date (23 July, 80 May was left as text)."""

    delimiter: str = ","
    decimal: str = "."

    def number(self, value: float) -> str:
        return f"{one_decimal(value):.1f}".replace(".", self.decimal)


COMMAS = SpreadsheetDialect()
SEMICOLONS = SpreadsheetDialect(delimiter=";", decimal=",")
_FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")


def spreadsheet_safe(value: object) -> str:
    """A CSV cell a spreadsheet will not run as a formula."""
    text = "" if value is None else str(value)
    return "'" + text if text.startswith(_FORMULA_STARTS) else text
