"""Tiny offline wheels of a throwaway app (`kioskfake`) for the update and image tests."""

from __future__ import annotations

import base64
import hashlib
import zipfile
from pathlib import Path

__all__ = ["make_wheel"]

# The throwaway app: writes the readiness file like the kiosk does (READY, then a heartbeat) and exits.
# A "broken" release comes up (READY) but its main loop never beats.
_MAIN = """
import json, os, sys, time
from kioskfake import VERSION, HEALTHY
path = sys.argv[1]
now = time.time()
record = {"version": VERSION, "pid": os.getpid(), "ready_at": now, "heartbeat_at": now + 0.001 if HEALTHY else 0}
with open(path + ".tmp", "w") as f:
    json.dump(record, f)
os.replace(path + ".tmp", path)
"""


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(hashlib.sha256(data).digest()).rstrip(b"=").decode()


def make_wheel(
    folder: Path,
    version: str,
    healthy: bool = True,
    *,
    name: str = "kioskfake",
    tag: str = "py3-none-any",
    requires: tuple[str, ...] = (),
) -> Path:
    """A valid wheel of `kioskfake` (PEP 427), written by hand: no network, no build backend.

    `name` makes another distribution (same code), `tag` claims another platform (e.g. an x86_64 build),
    `requires` adds `Requires-Dist` lines (a dependency missing from the bundle makes pip fail on the kiosk).
    """
    info = f"{name}-{version}.dist-info"
    metadata = f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n" + "".join(
        f"Requires-Dist: {r}\n" for r in requires
    )
    files = {
        "kioskfake/__init__.py": f"VERSION = {version!r}\nHEALTHY = {healthy!r}\n".encode(),
        "kioskfake/__main__.py": _MAIN.encode(),
        f"{info}/METADATA": metadata.encode(),
        f"{info}/WHEEL": f"Wheel-Version: 1.0\nGenerator: madoguchi-tests\nRoot-Is-Purelib: true\nTag: {tag}\n".encode(),
    }
    record = "".join(f"{name},sha256={_b64(data)},{len(data)}\n" for name, data in files.items())
    files[f"{info}/RECORD"] = (record + f"{info}/RECORD,,\n").encode()
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}-{version}-{tag}.whl"
    with zipfile.ZipFile(path, "w") as wheel:
        for name, data in files.items():
            wheel.writestr(name, data)
    return path
