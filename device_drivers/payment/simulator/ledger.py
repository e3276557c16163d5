"""The simulator's ledger: every real charge and refund, appended and fsynced before it is reported.

Tests read it to prove a payment was charged at most once, whatever happened on the line.
"""

from __future__ import annotations

import dataclasses
import json
import os
import threading
from dataclasses import dataclass
from pathlib import Path

__all__ = ["Ledger", "LedgerEntry"]


@dataclass(frozen=True)
class LedgerEntry:
    """One money movement at the acquirer: `kind` is "charge" or "refund"."""

    kind: str
    ref: str
    amount: int
    method: str
    txn_id: str
    note: str = ""


class Ledger:
    """JSON-lines ledger file (or memory only when `path` is None)."""

    def __init__(self, path: Path | None = None) -> None:
        self.path = path
        self._memory: list[LedgerEntry] = []
        self._lock = threading.Lock()

    def append(self, entry: LedgerEntry) -> None:
        """Record `entry` durably."""
        with self._lock:
            self._memory.append(entry)
            if self.path is None:
                return
            with open(self.path, "a", encoding="utf-8") as handle:
                handle.write(json.dumps(dataclasses.asdict(entry), ensure_ascii=False) + "\n")
                handle.flush()
                os.fsync(handle.fileno())

    def entries(self) -> list[LedgerEntry]:
        """Everything recorded (read back from the file when there is one)."""
        with self._lock:
            if self.path is None:
                return list(self._memory)
            if not self.path.exists():
                return []
            lines = self.path.read_text(encoding="utf-8").splitlines()
        return [LedgerEntry(**json.loads(line)) for line in lines if line.strip()]

    def charges(self, ref: str | None = None) -> list[LedgerEntry]:
        """Charges, optionally for one reference."""
        return [e for e in self.entries() if e.kind == "charge" and (ref is None or e.ref == ref)]
