"""Which characters a font has, as compact code-point ranges cached on disk.

Reading a CJK font's cmap with fontTools costs the process ~40 MB that Python never gives back, so the
kiosk reads it once in a short-lived child process (`python -m kiosk_app.ui.cmap_cache FONT OUT`) and keeps
only the ranges (a few thousand integers) in `$XDG_CACHE_HOME/madoguchi/font-cmaps/`, keyed by the font
file's name, size and modification time.
"""

from __future__ import annotations

import bisect
import json
import logging
import os
import subprocess
import sys
from array import array
from dataclasses import dataclass
from pathlib import Path

__all__ = ["CodeRanges", "cache_dir", "font_ranges"]

_logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class CodeRanges:
    """Sorted, non-overlapping inclusive ranges of code points."""

    starts: array[int]
    ends: array[int]

    def __contains__(self, code: object) -> bool:
        if not isinstance(code, int):
            return False
        index = bisect.bisect_right(self.starts, code) - 1
        return index >= 0 and code <= self.ends[index]

    def __len__(self) -> int:
        return sum(end - start + 1 for start, end in zip(self.starts, self.ends, strict=True))


def cache_dir() -> Path:
    """`$XDG_CACHE_HOME/madoguchi/font-cmaps` (default `~/.cache/...`)."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "madoguchi" / "font-cmaps"


def _ranges_of(codes: list[int]) -> list[list[int]]:
    ranges: list[list[int]] = []
    for code in sorted(codes):
        if ranges and code == ranges[-1][1] + 1:
            ranges[-1][1] = code
        else:
            ranges.append([code, code])
    return ranges


def _compute(font: Path, out: Path) -> None:
    from fontTools.ttLib import TTFont

    # face 0 of a .ttc collection; only the cmap table is read
    loaded = TTFont(str(font), lazy=True, fontNumber=0 if font.suffix.lower() == ".ttc" else -1)
    try:
        ranges = _ranges_of(list(loaded.getBestCmap()))
    finally:
        loaded.close()
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(".tmp")
    tmp.write_text(json.dumps(ranges), encoding="ascii")
    tmp.replace(out)


def font_ranges(font: Path) -> CodeRanges:
    """The code points `font` has a glyph for (computed in a child process the first time)."""
    stat = font.stat()
    out = cache_dir() / f"{font.name}-{stat.st_size}-{int(stat.st_mtime)}.json"
    if not out.exists():
        done = subprocess.run(
            [sys.executable, "-m", "kiosk_app.ui.cmap_cache", str(font), str(out)],
            capture_output=True, text=True, timeout=120, check=False,
        )  # fmt: skip
        if done.returncode != 0:
            _logger.warning("font map of %s not cached (%s); reading it here", font.name, done.stderr[-300:])
            _compute(font, out)
    ranges = json.loads(out.read_text(encoding="ascii"))
    return CodeRanges(array("l", (r[0] for r in ranges)), array("l", (r[1] for r in ranges)))


if __name__ == "__main__":
    _compute(Path(sys.argv[1]), Path(sys.argv[2]))
