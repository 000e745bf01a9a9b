"""The agent's log file, kept small: rotated by size with a few older files.

What `logging.handlers.RotatingFileHandler` does, in a few lines: that module
imports pickle, queue and the socket handlers' helpers, ~0.7 MiB of the
always-running agent's memory for one class.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path


class RotatingLog(logging.FileHandler):
    """A UTF-8 log file that stays under `max_bytes`; `path.1` ... `path.N` hold older lines.

    Before a record would take the file past `max_bytes`, the file becomes
    `path.1`, `path.1` becomes `path.2` and so on, `path.N` being dropped.
    """

    def __init__(self, path: Path, *, max_bytes: int, backups: int) -> None:
        super().__init__(path, encoding="utf-8")
        self.max_bytes = max_bytes
        self.backups = backups

    def emit(self, record: logging.LogRecord) -> None:
        """Write one record, rotating first if it would not fit."""
        try:
            if self.stream is not None:
                line = self.format(record) + self.terminator
                if self.stream.tell() + len(line.encode("utf-8")) > self.max_bytes:
                    self._rotate()
        except Exception:
            self.handleError(record)
            return
        super().emit(record)

    def _rotate(self) -> None:
        self.stream.close()
        # FileHandler.emit opens the file again (empty) when it has no stream.
        self.stream = None  # type: ignore[assignment]
        base = self.baseFilename
        for n in range(self.backups - 1, 0, -1):
            if os.path.exists(f"{base}.{n}"):
                os.replace(f"{base}.{n}", f"{base}.{n + 1}")
        if os.path.exists(base):
            os.replace(base, f"{base}.1")
