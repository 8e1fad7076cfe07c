"""Append rows to a CSV file as they come (header once), so a crash keeps what was already written."""

from __future__ import annotations

import csv
from collections.abc import Iterable, Sequence
from pathlib import Path


class CsvAppender:
    """`with CsvAppender(path, columns) as out: out.write(rows)`; keys outside `columns` are ignored."""

    def __init__(self, path: Path, columns: Sequence[str]):
        self.path = path
        new = not path.exists() or path.stat().st_size == 0
        self._file = open(path, "a", newline="")  # noqa: SIM115 - closed in close()
        self._writer = csv.DictWriter(self._file, fieldnames=list(columns), extrasaction="ignore")
        if new:
            self._writer.writeheader()
            self._file.flush()

    def write(self, rows: Iterable[dict]) -> None:
        self._writer.writerows(rows)
        self._file.flush()

    def close(self) -> None:
        self._file.close()

    def __enter__(self) -> CsvAppender:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
