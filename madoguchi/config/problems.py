"""Configuration problems: one line each naming the file, key, value given, what is wrong and the fix.

Validators raise `ConfigValueError` with one or more `Issue`s (what is wrong and how to fix it);
`problems_from_validation` turns a pydantic `ValidationError` into `ConfigProblem`s, writing a fix
for pydantic's own errors (missing key, unknown key, wrong type, out of range) from the models'
field descriptions and examples. `ConfigFileError` carries all problems of one file at once.
"""

from __future__ import annotations

import difflib
import types
import typing
from dataclasses import dataclass
from typing import Any

import annotated_types
from pydantic import BaseModel, ValidationError
from pydantic.fields import FieldInfo

from madoguchi.errors import ConfigError

__all__ = [
    "MISSING",
    "ConfigFileError",
    "ConfigProblem",
    "ConfigValueError",
    "Issue",
    "problems_from_validation",
    "show_value",
    "toml_value",
]

MISSING = "(missing)"
_MAX_SHOWN = 80


@dataclass(frozen=True)
class ConfigProblem:
    """One thing wrong in a configuration.

    Attributes:
        source: the file (or a label such as "simulated defaults") the configuration came from.
        key: dotted key path, e.g. ``devices.payment``; empty for problems with the whole file.
        value: the value as given, shown as TOML, or ``(missing)``; for a syntax error, the line.
        problem: what is wrong.
        fix: what to do about it.
    """

    source: str
    key: str
    value: str
    problem: str
    fix: str

    def __str__(self) -> str:
        if not self.key:
            near = f" in `{self.value}`" if self.value else ""
            return f"{self.source}: {self.problem}{near}; fix: {self.fix}"
        where = self.key or "(file)"
        shown = f" {MISSING}" if self.value == MISSING else (f" = {self.value}" if self.value else "")
        return f"{self.source}: {where}{shown}: {self.problem}; fix: {self.fix}"

    def to_dict(self) -> dict[str, str]:
        """The problem as plain JSON-ready fields."""
        return {
            "file": self.source,
            "key": self.key,
            "value": self.value,
            "problem": self.problem,
            "fix": self.fix,
        }


class ConfigFileError(ConfigError):
    """Every problem found in one configuration, one line each."""

    def __init__(self, source: str, problems: typing.Sequence[ConfigProblem]) -> None:
        self.source = source
        self.problems = tuple(problems)
        count = len(self.problems)
        header = f"{source}: {count} problem{'s' if count != 1 else ''} in the configuration:"
        super().__init__("\n".join([header, *(f"  {p}" for p in self.problems)]))


@dataclass(frozen=True)
class Issue:
    """What a validator found wrong: `key` is relative to the validated field (empty: the field itself)."""

    problem: str
    fix: str
    key: str = ""
    value: str | None = None  # shown value; None: the input pydantic reports


class ConfigValueError(ValueError):
    """Raised inside a validator; carries one or more issues with their fixes."""

    def __init__(self, *issues: Issue) -> None:
        super().__init__("; ".join(f"{i.problem} ({i.fix})" for i in issues))
        self.issues = issues


def toml_value(value: Any) -> str:
    """Render a value the way it is written in TOML."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, dict):
        return "{ " + ", ".join(f"{k} = {toml_value(v)}" for k, v in value.items()) + " }"
    if isinstance(value, list | tuple):
        return "[" + ", ".join(toml_value(v) for v in value) + "]"
    text = str(value.value if hasattr(value, "value") else value)
    out = []
    for char in text:
        if char in '"\\':
            out.append("\\" + char)
        elif ord(char) < 0x20 or ord(char) == 0x7F:
            out.append(f"\\u{ord(char):04x}")
        else:
            out.append(char)
    return '"' + "".join(out) + '"'


def show_value(value: Any) -> str:
    """A value as given, shortened for an error line."""
    text = toml_value(value)
    return text if len(text) <= _MAX_SHOWN else text[: _MAX_SHOWN - 3] + "..."


def _model_of(annotation: Any) -> type[BaseModel] | None:
    """The model class behind `annotation` (unwrapping `X | None`), if it is a model."""
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        models = [m for a in typing.get_args(annotation) if (m := _model_of(a)) is not None]
        return models[0] if models else None
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return annotation
    return None


def _model_at(root: type[BaseModel], path: typing.Sequence[str]) -> type[BaseModel] | None:
    model: type[BaseModel] | None = root
    for name in path:
        field = model.model_fields.get(name) if model is not None else None
        model = _model_of(field.annotation) if field is not None else None
    return model


def _field_at(root: type[BaseModel], path: typing.Sequence[str]) -> FieldInfo | None:
    parent = _model_at(root, path[:-1]) if path else None
    return parent.model_fields.get(path[-1]) if parent is not None else None


def _example(field: FieldInfo | None) -> Any:
    if field is None:
        return None
    if field.examples:
        return field.examples[0]
    if field.default is not None and not callable(field.default) and not isinstance(field.default, BaseModel):
        return field.default
    return None


def _range(field: FieldInfo | None) -> str:
    low = high = None
    for item in field.metadata if field is not None else ():
        if isinstance(item, annotated_types.Ge):
            low = item.ge
        elif isinstance(item, annotated_types.Le):
            high = item.le
    if low is not None and high is not None:
        return f"a whole number from {low} to {high}"
    if low is not None:
        return f"a whole number of at least {low}"
    return ""


def _section_sample(model: type[BaseModel]) -> str:
    required = [(n, f) for n, f in model.model_fields.items() if f.is_required()]
    return ", ".join(f"{n} = {toml_value(_example(f))}" for n, f in required if _example(f) is not None)


def _missing(root: type[BaseModel], loc: tuple[str, ...]) -> tuple[str, str]:
    field = _field_at(root, loc)
    section = _model_of(field.annotation) if field is not None else None
    if section is not None:
        sample = _section_sample(section)
        return f"required section [{'.'.join(loc)}] is missing", (
            f"add a [{'.'.join(loc)}] section" + (f" with {sample}" if sample else "")
        )
    example = _example(field)
    where = f" under [{'.'.join(loc[:-1])}]" if len(loc) > 1 else ""
    shown = f"{loc[-1]} = {toml_value(example)}" if example is not None else loc[-1]
    return "required key is missing", f"add {shown}{where}"


def _unknown(root: type[BaseModel], loc: tuple[str, ...]) -> tuple[str, str]:
    parent = _model_at(root, loc[:-1])
    known = list(parent.model_fields) if parent is not None else []
    where = f"[{'.'.join(loc[:-1])}]" if len(loc) > 1 else "the top level"
    what = "unknown key" if len(loc) > 1 else "unknown section"
    close = difflib.get_close_matches(loc[-1], known, n=1, cutoff=0.6)
    if close:
        return what, f"did you mean {close[0]!r}? rename it (keys allowed in {where}: {', '.join(known)})"
    return what, f"remove it; the keys allowed in {where} are {', '.join(known)}"


def _generic(root: type[BaseModel], loc: tuple[str, ...], err: Any) -> tuple[str, str]:
    field = _field_at(root, loc)
    msg = str(err["msg"])
    problem = msg[0].lower() + msg[1:] if msg else "invalid value"
    if err["type"] in ("model_type", "dict_type"):
        return "must be a table (section)", f"write it as a [{'.'.join(loc)}] section with its keys below"
    if err["type"] == "enum":
        return problem.replace("input should be", "must be"), f"use one of {err['ctx']['expected']}"
    example = _example(field)
    wanted = _range(field)
    fix = f"use {wanted}" if wanted else "correct the value"
    if example is not None:
        fix += f", e.g. {loc[-1]} = {toml_value(example)}"
    return problem.replace("input should be", "must be"), fix


def problems_from_validation(exc: ValidationError, root: type[BaseModel], source: str) -> list[ConfigProblem]:
    """Turn pydantic's errors for `root` into config problems, each with a fix."""
    found: list[ConfigProblem] = []
    for err in exc.errors():
        loc = tuple(str(p) for p in err["loc"] if isinstance(p, str) and "[" not in p)
        key = ".".join(loc)
        given = err.get("input")
        cause = err.get("ctx", {}).get("error")
        if isinstance(cause, ConfigValueError):
            for issue in cause.issues:
                sub = f"{key}.{issue.key}" if issue.key and key else issue.key or key
                shown = issue.value if issue.value is not None else show_value(given)
                found.append(ConfigProblem(source, sub, shown, issue.problem, issue.fix))
            continue
        if err["type"] == "missing":
            problem, fix = _missing(root, loc)
            found.append(ConfigProblem(source, key, MISSING, problem, fix))
            continue
        if err["type"] == "extra_forbidden":
            problem, fix = _unknown(root, loc)
        else:
            problem, fix = _generic(root, loc, err)
        shown = "(table)" if isinstance(given, dict) else show_value(given)
        found.append(ConfigProblem(source, key, shown, problem, fix))
    return found
