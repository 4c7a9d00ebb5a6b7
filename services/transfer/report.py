"""What an import returns, and how it fails: all bad rows at once, by line number."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

MAX_ERRORS = 50  # bad rows listed in an ImportFailed; the rest are only counted


@dataclass(frozen=True)
class ImportReport:
    kind: str
    created: int
    updated: int
    skipped: int  # rows already in the database as they are (nothing to change)
    notes: list[str] = field(default_factory=list)  # e.g. "created service 'X' ..."


class ImportFailed(Exception):
    """Nothing was written: the file (its header or some of its rows) is bad.

    `errors` lists (line number, reason) for up to MAX_ERRORS bad rows, header = line 1;
    `total` counts all of them.
    """

    def __init__(self, errors: Sequence[tuple[int, str]], *, total: int | None = None) -> None:
        self.errors: list[tuple[int, str]] = list(errors[:MAX_ERRORS])
        self.total = max(total or 0, len(errors))
        super().__init__(self._message())

    def _message(self) -> str:
        if self.total == 1:
            head = "1 bad row:" if self.errors[0][0] > 1 else "the file is unusable:"
        else:
            head = f"{self.total} bad rows:"
        lines = [head, *(f"  line {line}: {reason}" for line, reason in self.errors)]
        if self.total > len(self.errors):
            lines.append(f"  … and {self.total - len(self.errors)} more")
        return "\n".join(lines)


class BadRows:
    """Bad rows of one file, kept in line order."""

    def __init__(self) -> None:
        self.items: list[tuple[int, str]] = []

    def add(self, line: int, reasons: Iterable[str]) -> None:
        self.items.append((line, "; ".join(reasons)))

    def raise_if_any(self) -> None:
        if self.items:
            self.items.sort(key=lambda item: item[0])
            raise ImportFailed(self.items, total=len(self.items))
