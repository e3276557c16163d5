"""Writing a configuration back as TOML, each key preceded by its description as a comment.

The configuration files are flat: top-level sections of scalar keys, so a small writer is enough.
Keys whose value is unset (None) are written commented out with an example.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import BaseModel

from madoguchi.config.problems import toml_value

__all__ = ["dump_toml"]


def _scalar(value: object) -> str:
    return toml_value(str(value) if isinstance(value, Path) else value)


def dump_toml(config: BaseModel, header: str = "") -> str:
    """Render `config` (a model of sections) as commented TOML that loads back to an equal model."""
    lines = [f"# {line}" if line else "#" for line in header.splitlines()]
    for section_name, section_field in type(config).model_fields.items():
        section = getattr(config, section_name)
        if not isinstance(section, BaseModel):
            raise TypeError(f"{section_name}: only sections of scalar keys can be written")
        if lines:
            lines.append("")
        if section_field.description:
            lines.append(f"# {section_field.description}")
        lines.append(f"[{section_name}]")
        for name, field in type(section).model_fields.items():
            if field.description:
                lines.append(f"# {field.description}")
            value = getattr(section, name)
            if value is None:
                example = field.examples[0] if field.examples else ""
                lines.append(f"# {name} = {_scalar(example)}")
            else:
                lines.append(f"{name} = {_scalar(value)}")
    return "\n".join(lines) + "\n"
