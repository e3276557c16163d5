"""Base of every contract model: strict types, JSON bytes in and out, clear validation errors."""

from __future__ import annotations

import json
import re
from typing import Annotated, Any, ClassVar, Self

from pydantic import BaseModel, ConfigDict, StringConstraints, ValidationError

__all__ = [
    "CONTRACT_VERSION",
    "DEVICE_ID_PATTERN",
    "ContractError",
    "DeviceId",
    "EpochMillis",
    "Message",
    "describe_validation_error",
    "municipality_of",
]

CONTRACT_VERSION = 1
DEVICE_ID_PATTERN = r"^[a-z0-9-]{3,64}$"
_DEVICE_FORM = re.compile(r"^jp-(\d{6})-k\d{2,}$")

DeviceId = Annotated[str, StringConstraints(pattern=DEVICE_ID_PATTERN)]
EpochMillis = Annotated[int, "milliseconds since the Unix epoch"]


class ContractError(ValueError):
    """A message or document that does not follow the contract; the text names the field."""


def describe_validation_error(exc: ValidationError, what: str) -> str:
    """Turn a pydantic error into lines that name each field, what is wrong and the value given."""
    lines = [f"{what} is not valid:"]
    for err in exc.errors():
        path = ".".join(str(p) for p in err["loc"]) or "(top level)"
        value = err.get("input")
        shown = "" if isinstance(value, dict | list) else f" (got {value!r})"
        lines.append(f"  {path}: {err['msg']}{shown}")
    return "\n".join(lines)


def municipality_of(device_id: str) -> str | None:
    """The 6-digit municipality code inside a device id of the form jp-NNNNNN-kNN, if any."""
    match = _DEVICE_FORM.match(device_id)
    return match.group(1) if match else None


class Message(BaseModel):
    """An MQTT payload: UTF-8 JSON; unknown fields are ignored (contract §2)."""

    model_config = ConfigDict(extra="ignore", frozen=True, populate_by_name=True)

    schema_name: ClassVar[str] = ""

    def to_bytes(self) -> bytes:
        """Serialise to compact UTF-8 JSON, leaving out fields that are None."""
        return self.model_dump_json(exclude_none=True, by_alias=True).encode()

    @classmethod
    def from_bytes(cls, data: bytes | str) -> Self:
        """Parse and validate a payload.

        Raises:
            ContractError: not JSON, or not of this message's shape.
        """
        try:
            raw: Any = json.loads(data)
        except (ValueError, UnicodeDecodeError) as exc:
            raise ContractError(f"{cls.__name__}: payload is not UTF-8 JSON ({exc})") from exc
        try:
            return cls.model_validate(raw)
        except ValidationError as exc:
            raise ContractError(describe_validation_error(exc, cls.__name__)) from exc
