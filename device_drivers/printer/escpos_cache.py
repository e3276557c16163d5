"""python-escpos' capability database, cached in a folder of ours instead of a new temp folder per process.

python-escpos 3.1 reads its printer capabilities when `escpos.capabilities` is imported and pickles them
into `$ESCPOS_CAPABILITIES_PICKLE_DIR`; it calls `tempfile.mkdtemp()` for the default even when that
variable is set, so every process that imported it left an empty folder in /tmp. `load_escpos()`
imports it with the cache in `cache_dir()` (the kiosk's `<data_dir>/cache/escpos` once `use_data_dir()`
was called, else `$XDG_CACHE_HOME/madoguchi/escpos`) and removes the empty folder it makes. Import
python-escpos only after `load_escpos()`.
"""

from __future__ import annotations

import importlib
import logging
import os
import sys
import tempfile
import threading
from pathlib import Path

__all__ = ["CACHE_ENV", "cache_dir", "load_escpos", "use_data_dir"]

_logger = logging.getLogger(__name__)

CACHE_ENV = "ESCPOS_CAPABILITIES_PICKLE_DIR"
_MODULE = "escpos.capabilities"
_lock = threading.Lock()


def use_data_dir(data_dir: Path) -> None:
    """Keep the capability cache in `<data_dir>/cache/escpos`, unless the environment already names one."""
    os.environ.setdefault(CACHE_ENV, str(Path(data_dir).absolute() / "cache" / "escpos"))


def cache_dir() -> Path:
    """`$ESCPOS_CAPABILITIES_PICKLE_DIR`, else `$XDG_CACHE_HOME/madoguchi/escpos` (default `~/.cache/...`)."""
    named = os.environ.get(CACHE_ENV)
    if named:
        return Path(named)
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "madoguchi" / "escpos"


def load_escpos() -> None:
    """Import python-escpos' capabilities with their cache in `cache_dir()`, leaving no temp folder."""
    with _lock:
        if _MODULE in sys.modules:
            return
        directory = cache_dir()
        directory.mkdir(parents=True, exist_ok=True)
        os.environ[CACHE_ENV] = str(directory)
        before = set(directory.iterdir())
        # Its unconditional mkdtemp() lands in our folder instead of /tmp, and is removed below. The
        # default temp dir is ours only while the import runs (once per process, at the first job).
        saved, tempfile.tempdir = tempfile.tempdir, str(directory)
        try:
            importlib.import_module(_MODULE)
        finally:
            tempfile.tempdir = saved
            for made in set(directory.iterdir()) - before:
                if made.is_dir() and not any(made.iterdir()):
                    made.rmdir()
        _logger.debug("python-escpos capabilities cached in %s", directory)
