"""Reading configuration files: TOML (stdlib `tomllib`) into frozen pydantic models.

Every problem of a file is collected into one `ConfigFileError`. Relative paths resolve against
the folder of the file they are written in; file paths that must exist (TLS certificates, a
catalog) are checked when the configuration is loaded from a file (``check_files=True``).
"""

from __future__ import annotations

import logging
import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, TypeVar

from pydantic import AfterValidator, BaseModel, BeforeValidator, ConfigDict, ValidationError, ValidationInfo

from madoguchi.config.problems import (
    ConfigFileError,
    ConfigProblem,
    ConfigValueError,
    Issue,
    problems_from_validation,
)

__all__ = [
    "ConfigModel",
    "ConfigPath",
    "ExistingFile",
    "LoadContext",
    "load_context",
    "load_model",
    "read_toml",
    "validate_model",
]

_logger = logging.getLogger(__name__)

M = TypeVar("M", bound=BaseModel)

_POSITION = re.compile(r"\(at line (\d+), column (\d+)\)")


class ConfigModel(BaseModel):
    """Base of every configuration model: unknown keys are errors, instances are immutable."""

    model_config = ConfigDict(extra="forbid", frozen=True)


@dataclass(frozen=True)
class LoadContext:
    """What validators need to know about where a configuration comes from."""

    source: str
    base_dir: Path | None = None
    check_files: bool = False


def load_context(info: ValidationInfo) -> LoadContext:
    """The `LoadContext` of the validation in progress (a neutral one when built in code)."""
    ctx = info.context
    found = ctx.get("load") if isinstance(ctx, dict) else None
    return found if isinstance(found, LoadContext) else LoadContext(source="(in code)")


def _not_empty(value: Any) -> Any:
    if isinstance(value, str) and not value.strip():
        raise ConfigValueError(
            Issue("a path cannot be empty", "write a file or folder path, or remove the key")
        )
    return value


def _resolve(value: Path, info: ValidationInfo) -> Path:
    base = load_context(info).base_dir
    if base is None or value.is_absolute():
        return value
    return Path(os.path.normpath(base / value))


def _resolve_existing(value: Path, info: ValidationInfo) -> Path:
    ctx = load_context(info)
    resolved = _resolve(value, info)
    if not ctx.check_files or resolved.is_file():
        return resolved
    problem = "is a folder, not a file" if resolved.is_dir() else "file does not exist"
    note = f" (relative paths count from {ctx.base_dir})" if not value.is_absolute() and ctx.base_dir else ""
    raise ConfigValueError(Issue(problem, f"put the file at {resolved} or correct the path{note}"))


ConfigPath = Annotated[Path, BeforeValidator(_not_empty), AfterValidator(_resolve)]
"""A file or folder path; relative paths resolve against the configuration file's folder."""

ExistingFile = Annotated[Path, BeforeValidator(_not_empty), AfterValidator(_resolve_existing)]
"""A path to a file that must exist when the configuration is loaded from a file."""


def read_toml(path: Path, *, create_hint: str) -> dict[str, Any]:
    """Read and parse a TOML file.

    Args:
        path: the file.
        create_hint: what to do when the file does not exist (e.g. how to write a starting one).

    Raises:
        ConfigFileError: the file is missing, unreadable, not UTF-8 or not valid TOML.
    """
    source = str(path)
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise ConfigFileError(
            source, [ConfigProblem(source, "", "", "file not found", create_hint)]
        ) from None
    except OSError as exc:
        problem = f"cannot read the file ({exc.strerror or exc})"
        fix = "check the path and that this user may read it"
        raise ConfigFileError(source, [ConfigProblem(source, "", "", problem, fix)]) from None
    try:
        text = raw.decode("utf-8-sig")  # accept the BOM some Windows editors write
    except UnicodeDecodeError as exc:
        problem = f"not UTF-8 text (bad byte at offset {exc.start})"
        raise ConfigFileError(
            source, [ConfigProblem(source, "", "", problem, "save the file as UTF-8")]
        ) from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigFileError(source, [_syntax_problem(source, text, exc)]) from None


def _syntax_problem(source: str, text: str, exc: tomllib.TOMLDecodeError) -> ConfigProblem:
    message = str(exc)
    match = _POSITION.search(message)
    what = _POSITION.sub("", message).strip() or "invalid TOML"
    if match is None:
        return ConfigProblem(source, "", "", f"TOML syntax error: {message}", "correct the TOML syntax")
    line, column = int(match.group(1)), int(match.group(2))
    lines = text.splitlines()
    given = lines[line - 1].strip() if 0 < line <= len(lines) else ""
    fix = (
        f"correct line {line} at column {column}: write key = value, strings in double quotes "
        '(e.g. branch = "本庁舎"), sections as [name]'
    )
    problem = f"TOML syntax error at line {line}, column {column}: {what}"
    return ConfigProblem(source, "", given, problem, fix)


def validate_model(
    model: type[M],
    data: Mapping[str, Any],
    *,
    source: str,
    base_dir: Path | None = None,
    check_files: bool = False,
) -> M:
    """Validate `data` as `model`.

    Raises:
        ConfigFileError: with every problem found, each naming key, value and fix.
    """
    ctx = LoadContext(source=source, base_dir=base_dir, check_files=check_files)
    try:
        return model.model_validate(dict(data), context={"load": ctx})
    except ValidationError as exc:
        raise ConfigFileError(source, problems_from_validation(exc, model, source)) from None


def load_model(model: type[M], path: Path, *, check_files: bool, create_hint: str) -> M:
    """Read the TOML file at `path` and validate it as `model` (relative paths against its folder)."""
    path = Path(path)
    data = read_toml(path, create_hint=create_hint)
    config = validate_model(
        model, data, source=str(path), base_dir=path.absolute().parent, check_files=check_files
    )
    _logger.info("loaded configuration %s", path)
    return config
