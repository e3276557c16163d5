"""The kiosk's font maps: compact ranges computed in a child process and cached, equal to the font's cmap."""

from __future__ import annotations

from pathlib import Path

import pytest

from kiosk_app.ui import cmap_cache
from kiosk_app.ui.fonts import find_fonts


def test_ranges_hold_exactly_the_characters_of_the_font(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """GIVEN BIZ UD Gothic WHEN its map is built THEN every code point of its cmap is in the ranges and no other
    (checked around every range edge), 𠮷 is not in it (the CJK fallback draws it), and the map is cached."""
    from fontTools.ttLib import TTFont

    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    font = find_fonts().regular
    ranges = cmap_cache.font_ranges(font)
    truth = set(TTFont(str(font), lazy=True).getBestCmap())
    assert len(ranges) == len(truth)
    edges = {
        c + d
        for start, end in zip(ranges.starts, ranges.ends, strict=True)
        for c in (start, end)
        for d in (-1, 0, 1)
    }
    assert all((code in ranges) == (code in truth) for code in edges | {ord("あ"), ord("漢"), ord("A")})
    assert ord("𠮷") not in ranges and ord("窓") in ranges
    (cached,) = (tmp_path / "madoguchi" / "font-cmaps").glob(f"{font.name}-*.json")
    cached.write_text("[[65, 65]]")  # the cache is what is read next time
    assert ord("A") in cmap_cache.font_ranges(font) and ord("B") not in cmap_cache.font_ranges(font)
