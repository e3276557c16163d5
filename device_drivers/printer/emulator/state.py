"""The virtual printer's state, read from a JSON file on every query so tests and people can flip it.

File format: ``{"online": true, "paper": "ok|near-end|out", "cover": "closed|open"}`` plus the
optional ``"cutter_error": true``, ``"responding": false`` (no answers at all) and
``"paper_out_after_rows": N`` (the roll ends after N printed dot rows).
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from pathlib import Path

__all__ = ["EmulatorState", "read_state", "status_byte", "write_state"]

_logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class EmulatorState:
    """What the virtual printer reports."""

    online: bool = True
    paper: str = "ok"
    cover: str = "closed"
    cutter_error: bool = False
    responding: bool = True
    paper_out_after_rows: int | None = None

    def effective(self, rows_printed: int) -> EmulatorState:
        """The state after `rows_printed` rows (the roll may have ended)."""
        limit = self.paper_out_after_rows
        if limit is not None and rows_printed >= limit:
            return EmulatorState(self.online, "out", self.cover, self.cutter_error, self.responding, limit)
        return self

    @property
    def printing(self) -> bool:
        """The mechanism prints (otherwise received data is held)."""
        return self.online and self.paper != "out" and self.cover == "closed" and not self.cutter_error


def read_state(path: Path | None) -> EmulatorState:
    """Read the state file; a missing file means a healthy printer, a broken one is reported and ignored."""
    if path is None or not path.exists():
        return EmulatorState()
    try:
        raw = json.loads(path.read_text(encoding="utf-8") or "{}")
        return EmulatorState(
            online=bool(raw.get("online", True)),
            paper=str(raw.get("paper", "ok")),
            cover=str(raw.get("cover", "closed")),
            cutter_error=bool(raw.get("cutter_error", False)),
            responding=bool(raw.get("responding", True)),
            paper_out_after_rows=raw.get("paper_out_after_rows"),
        )
    except (ValueError, AttributeError) as exc:
        _logger.warning("state file %s is not valid JSON (%s); using a healthy printer", path, exc)
        return EmulatorState()


def write_state(path: Path, **values: object) -> None:
    """Write a state file atomically (helper for tests and the command line)."""
    tmp = path.with_suffix(".tmp")
    tmp.write_text(json.dumps(values), encoding="utf-8")
    tmp.replace(path)


def status_byte(state: EmulatorState, n: int) -> int:
    """The DLE EOT n reply for `state` (fixed bits 0xx1xx10)."""
    base = 0x12
    if n == 1:
        return base | (0 if state.printing else 0x08)
    if n == 2:
        value = base
        if state.cover == "open":
            value |= 0x04
        if state.paper == "out":
            value |= 0x20
        if state.cutter_error:
            value |= 0x40
        return value
    if n == 3:
        return base | (0x08 if state.cutter_error else 0)
    if n == 4:
        return base | {"near-end": 0x0C, "out": 0x6C}.get(state.paper, 0)
    return base
