"""Per-session data of the certificate flow, including personal data, wiped when the session ends.

The PIN digits and the holder's name live only here (and the PIN also in the one command that takes it
to the card). `wipe()` overwrites them; `repr` never shows them.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from madoguchi.contracts.issuance import Offer, Refusal

__all__ = ["IssuanceSession", "mask_name"]

_MASK_WIDE = "＊"
_MASK_NARROW = "*"


def mask_name(name: str) -> str:
    """Partly mask a name for the confirmation screen: first character of each part stays.

    `山田 太郎` → `山＊ 太＊`, `YAMADA TARO` → `Y***** T***`. Full-width masks for full-width text.
    """
    parts = name.replace("\u3000", " ").split()
    masked = []
    for part in parts:
        rest = part[1:]
        masked.append(part[0] + "".join(_MASK_NARROW if ch.isascii() else _MASK_WIDE for ch in rest))
    return " ".join(masked)


@dataclass
class IssuanceSession:
    """Everything one resident's certificate session knows; `wipe()` forgets the personal parts."""

    ref: str
    pin: list[str] = field(default_factory=list, repr=False)
    name: str = field(default="", repr=False)
    tries_left: int | None = None
    pin_error: bool = False
    refusal: Refusal | None = None
    problem: str = ""
    offers: tuple[Offer, ...] = ()
    refused: tuple[Refusal, ...] = ()
    type_id: str | None = None
    choices: dict[str, str] = field(default_factory=dict)
    copies: int = 1
    method_id: str | None = None
    payment_ref: str | None = None
    payment_phase: str = ""
    paid: bool = False
    cancel_requested: bool = False
    printed_pages: tuple[int, int] = (0, 0)
    reprints: int = 0
    wiped: bool = False

    @property
    def offer(self) -> Offer | None:
        """The offer of the chosen certificate type."""
        return next((o for o in self.offers if o.type_id == self.type_id), None)

    @property
    def fee_yen(self) -> int:
        """Total to pay: the type's fee times copies (0 before a type is chosen)."""
        offer = self.offer
        return offer.fee_yen * self.copies if offer is not None else 0

    def clear_pin(self) -> None:
        """Overwrite and drop the PIN digits."""
        for index in range(len(self.pin)):
            self.pin[index] = "0"
        self.pin.clear()

    def wipe(self) -> None:
        """Forget the PIN, the name and everything chosen; the session can no longer be used."""
        self.clear_pin()
        self.name = ""
        self.tries_left = None
        self.refusal = None
        self.offers = ()
        self.refused = ()
        self.type_id = None
        self.choices.clear()
        self.method_id = None
        self.wiped = True
