"""The visit ticket (整理券, docs/queue.md): one number for every counter of the visit.

Large number, the counters in visit order with their floor, people ahead, the wait as a range, the time
issued and a QR code to the status page; each text in the resident's language and, below it, in Japanese
(for staff and signs). A ticket issued by the kiosk while the centre was unreachable says so.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from device_drivers.printer.document import Align, Block, Document, Feed, Qr, Rule, Text, TextSize
from device_drivers.printer.strings import tr

__all__ = ["VisitStop", "VisitTicket", "floor_text", "visit_ticket_document"]

JAPANESE = ("ja",)


@dataclass(frozen=True)
class VisitStop:
    """One counter to visit: its name in the resident's language and in Japanese, its floor and number."""

    name: str
    name_ja: str
    floor: int | None = None
    number: str | None = None


@dataclass(frozen=True)
class VisitTicket:
    """Everything printed on a visit ticket (the status URL carries the token: printed, never logged)."""

    number: str
    category: str
    category_ja: str
    stops: tuple[VisitStop, ...]
    issued_at: datetime
    people_ahead: int | None = None
    wait_min_minutes: int | None = None
    wait_max_minutes: int | None = None
    status_url: str | None = None
    offline: bool = False

    def __repr__(self) -> str:
        return f"VisitTicket(number={self.number!r}, offline={self.offline})"


def floor_text(floor: int | None, lang: str) -> str:
    """ "2階" / "Floor 2" / "地下1階" ("" when the floor is unknown)."""
    if floor is None:
        return ""
    if floor < 0:
        return tr("visit.floor_basement", lang, floor=-floor)
    return tr("visit.floor", lang, floor=floor)


def _both(
    lang: str, make: Callable[[str], str], size: TextSize = TextSize.NORMAL, *, bold: bool = False
) -> list[Block]:
    """A text in the resident's language, then the same in Japanese (small) unless they are the same."""
    own = make(lang)
    blocks: list[Block] = [Text(own, size, Align.CENTER, bold=bold)]
    if lang not in JAPANESE:
        japanese = make("ja")
        if japanese != own:
            blocks.append(Text(japanese, TextSize.SMALL, Align.CENTER))
    return blocks


def _stop(index: int, stop: VisitStop, lang: str) -> str:
    name = stop.name if lang != "ja" else stop.name_ja
    if stop.number:
        name = tr("visit.counter_number", lang, number=stop.number, counter=name)
    return tr("visit.stop", lang, n=index, counter=name, floor=floor_text(stop.floor, lang)).strip()


def _stop_line(index: int, stop: VisitStop) -> Callable[[str], str]:
    return lambda lg: _stop(index, stop, lg)


def visit_ticket_document(ticket: VisitTicket, lang: str = "ja") -> Document:
    """The ticket as a printable document in `lang` + Japanese."""
    blocks: list[Block] = []
    blocks += _both(
        lang, lambda lg: ticket.category if lg == lang else ticket.category_ja, TextSize.LARGE, bold=True
    )
    blocks += _both(lang, lambda lg: tr("ticket.title", lg))
    blocks.append(Text(ticket.number, TextSize.HUGE, Align.CENTER, bold=True))
    if ticket.offline:
        blocks += _both(lang, lambda lg: tr("visit.offline", lg), bold=True)
    blocks.append(Rule())
    for index, stop in enumerate(ticket.stops, start=1):
        blocks += _both(lang, _stop_line(index, stop))
    if ticket.people_ahead is not None:
        blocks += _both(lang, lambda lg: tr("ticket.ahead", lg, count=ticket.people_ahead))
    if ticket.wait_min_minutes is not None and ticket.wait_max_minutes is not None:
        low, high = ticket.wait_min_minutes, max(ticket.wait_max_minutes, ticket.wait_min_minutes)
        blocks += _both(lang, lambda lg: tr("visit.wait", lg, low=low, high=high))
    blocks.append(Rule(dashed=True))
    if ticket.status_url:
        blocks += [Qr(ticket.status_url), Feed(8)]
        blocks += _both(lang, lambda lg: tr("ticket.scan", lg), TextSize.SMALL)
    issued = ticket.issued_at.strftime("%Y-%m-%d %H:%M")
    blocks += _both(lang, lambda lg: tr("ticket.issued", lg, time=issued), TextSize.SMALL)
    return Document("visit_ticket", tuple(blocks))
