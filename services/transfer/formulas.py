"""Text a spreadsheet will not run as a formula, and back.

OWASP "CSV injection": = + - @ tab or CR at the start of a cell, or right after a separator
inside it, because the file may be opened with ; or tab as the separator, and then "x;=1+1"
is two cells, the second a formula that no quoting of the whole cell prevents. Export puts an
apostrophe in front of every such piece (after spaces and quotes, and before any apostrophes
already there); import takes exactly one off again, so the text comes back as it was.
"""

from __future__ import annotations

import re

_PIECE = r"(^|[,;\t])([ \"]*)"
_FORMULA_NEXT = r"(?=[=+\-@\t\r])"
_MARK = re.compile(_PIECE + r"('*)" + _FORMULA_NEXT)
_UNMARK = re.compile(_PIECE + r"'('*)" + _FORMULA_NEXT)


def safe(text: str | None) -> str:
    """Text as a spreadsheet will not run it as a formula, whatever separator it splits on."""
    return _MARK.sub(r"\1\2'\3", text) if text else ""


def unmarked(value: str) -> str:
    """A cell without the apostrophes `safe` puts before formula-like text."""
    return _UNMARK.sub(r"\1\2\3", value) if "'" in value else value
