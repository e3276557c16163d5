"""`config check` for both command lines: load a file, print its effective settings or every problem."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel

from madoguchi.cli import emit
from madoguchi.config.problems import ConfigFileError

__all__ = ["check_config_file"]

C = TypeVar("C", bound=BaseModel)


def check_config_file(
    path: Path,
    load: Callable[..., C],
    describe: Callable[[C], str],
    *,
    as_json: bool,
    check_files: bool,
    redact: Callable[[C, dict[str, Any]], None] | None = None,
) -> int:
    """Load `path` with `load` and report: 0 when it is usable, 2 when it is not.

    With `as_json`, prints ``{"ok", "file", "config" | "problems"}`` on stdout in both cases;
    otherwise a summary on success, and on failure raises the `ConfigFileError` for the caller's
    error printer (which exits 2).

    Args:
        redact: removes secrets from the JSON form of the configuration before it is printed.
    """
    try:
        config = load(path, check_files=check_files)
    except ConfigFileError as exc:
        if not as_json:
            raise
        emit({"ok": False, "file": str(path), "problems": [p.to_dict() for p in exc.problems]}, as_json=True)
        return 2
    if as_json:
        data = config.model_dump(mode="json")
        if redact is not None:
            redact(config, data)
        emit({"ok": True, "file": str(path), "config": data}, as_json=True)
    else:
        note = "" if check_files else " (files named in it were not checked)"
        print(f"{path}: configuration is valid{note}\n{describe(config)}")
    return 0
