"""The kiosk's epoch counter (contract §3): +1 and on disk before every CONNECT.

The epoch orders a kiosk's connections (Sparkplug bdSeq, never wrapped): the centre keeps the
latest birth's epoch and ignores a will carrying an older one.
"""

from __future__ import annotations

import logging
import os
import threading
from pathlib import Path

from madoguchi.errors import UserError

__all__ = ["EpochCounter", "EpochError"]

_logger = logging.getLogger(__name__)


class EpochError(UserError):
    """The epoch file cannot be read or written."""


class EpochCounter:
    """A persisted, increasing counter in one small text file (written atomically, fsynced)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self._lock = threading.Lock()

    def current(self) -> int:
        """The last epoch handed out (0 before the first connection)."""
        try:
            text = self.path.read_text(encoding="ascii").strip()
        except FileNotFoundError:
            return 0
        except (OSError, UnicodeDecodeError) as exc:
            raise EpochError(
                f"cannot read the epoch file {self.path}: {exc}", "check the data folder"
            ) from exc
        if not text.isdigit():
            raise EpochError(
                f"the epoch file {self.path} holds {text[:20]!r}, not a whole number",
                "write a number larger than the epoch `kiosk-central fleet` shows for this kiosk into it",
            )
        return int(text)

    def next(self) -> int:
        """Add one, write it durably (temp file, fsync, rename, fsync folder) and return it."""
        with self._lock:
            value = self.current() + 1
            self.path.parent.mkdir(parents=True, exist_ok=True)
            tmp = self.path.with_name(self.path.name + ".tmp")
            try:
                with tmp.open("w", encoding="ascii") as handle:
                    handle.write(f"{value}\n")
                    handle.flush()
                    os.fsync(handle.fileno())
                tmp.replace(self.path)
                folder = os.open(self.path.parent, os.O_RDONLY)
                try:
                    os.fsync(folder)
                finally:
                    os.close(folder)
            except OSError as exc:
                raise EpochError(
                    f"cannot write the epoch file {self.path}: {exc}", "check the data folder"
                ) from exc
            _logger.debug("epoch %d persisted in %s", value, self.path)
            return value
