"""書かない窓口 contract: a kiosk attaches the card's basic four to a visit for the counter staff (issue 19).

RPC method over the generic MQTT 5 RPC of contract §2 (`up/rpc` → `down/rpc`), like `queue.take`:

- `prefill.attach` (`AttachParams` → `AttachView`): the basic four read from the card's 券面事項入力補助AP
  (with the resident's consent and PIN), bound to the visit the kiosk has just issued (its status token,
  which only the ticket and the issuing kiosk know), for the procedures whose forms it prefills.

Rules: never the 個人番号; never on statistics, health or event topics; never logged (the models' reprs
hide the data). The central keeps it encrypted, shows it to the counter that has called the visit and
deletes it when the visit ends or at midnight JST. Refusals: `NOT_FOUND` (no active visit for the token, or
another kiosk's visit), `INVALID_ARGUMENT` (bad fields).
"""

from __future__ import annotations

import enum
from typing import Annotated

from pydantic import Field, StringConstraints

from madoguchi.contracts.base import EpochMillis, Message
from madoguchi.contracts.catalog_base import Identifier

__all__ = ["AttachParams", "AttachView", "PrefillFields", "PrefillMethod", "Sex"]

BirthDate = Annotated[str, StringConstraints(pattern=r"^[0-9]{8}$")]


class PrefillMethod(enum.StrEnum):
    """The RPC methods of the prefill service."""

    ATTACH = "prefill.attach"


class Sex(enum.StrEnum):
    """As the card says (ISO 5218 codes 1/2/9)."""

    MALE = "male"
    FEMALE = "female"
    NOT_APPLICABLE = "not_applicable"


class PrefillFields(Message):
    """The basic four as printed on the card (personal data: never log, never put on stats)."""

    name: str = Field(min_length=1, max_length=200)
    address: str = Field(min_length=1, max_length=400)
    birth_date: BirthDate = Field(description="YYYYMMDD as stored on the card")
    sex: Sex

    def __repr__(self) -> str:
        return "PrefillFields(<personal data>)"

    __str__ = __repr__


class AttachParams(Message):
    """Attach the basic four to the visit behind `status_token` for `procedures` (catalog ids with a form)."""

    status_token: str = Field(min_length=22, max_length=128, description="the ticket's status token")
    procedures: list[Identifier] = Field(min_length=1, max_length=20)
    fields: PrefillFields

    def __repr__(self) -> str:
        return f"AttachParams(procedures={self.procedures!r}, <personal data>)"

    __str__ = __repr__


class AttachView(Message):
    """The data is held for the visit `number` until the visit ends, at the latest `expires_at`."""

    number: str = Field(max_length=16)
    expires_at: EpochMillis
