"""Write a file so that it survives a power cut: a temporary file, fsynced, renamed over the target,
then the folder fsynced. Readers see the old file or the whole new one, never a part."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import BinaryIO

__all__ = ["write_durably"]


def write_durably(target: Path, write: Callable[[BinaryIO], object]) -> None:
    """Create or replace `target` with what `write(handle)` writes, durably (its folder is created)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_name(f".{target.name}.tmp")
    with tmp.open("wb") as out:
        write(out)
        out.flush()
        os.fsync(out.fileno())
    os.replace(tmp, target)
    fd = os.open(target.parent, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
