"""The procedure guide's list on the receipt printer (案内リスト, issue 19): counters in visit order.

Each counter (floor and number) with its procedures: the route's words, what to bring, the deadline, the fee,
the online address; at the bottom a QR code that opens the same list on a phone. Every text is given already
translated, once in the resident's language and once in Japanese (for staff); the Japanese line is printed
small below the resident's unless the two are the same. The paper carries no personal data.
"""

from __future__ import annotations

from dataclasses import dataclass

from device_drivers.printer.document import Align, Block, Document, Feed, Qr, Rule, Text, TextSize

__all__ = ["GuideListPaper", "ListedCounter", "ListedProcedure", "Twin", "guide_list_document"]


@dataclass(frozen=True)
class Twin:
    """One text in the resident's language and in Japanese."""

    own: str
    ja: str


@dataclass(frozen=True)
class ListedProcedure:
    """A procedure: its name and the lines under it (route words, bring, deadline, fee, online)."""

    name: Twin
    lines: tuple[Twin, ...]


@dataclass(frozen=True)
class ListedCounter:
    """A counter to visit ("1. 2階 3番 市民課") and its procedures."""

    place: Twin
    procedures: tuple[ListedProcedure, ...]


@dataclass(frozen=True)
class GuideListPaper:
    """Everything printed on the list."""

    title: Twin
    counters: tuple[ListedCounter, ...]
    issued: Twin  # "{time} 作成" with the time filled in
    phone_url: str = ""
    scan: Twin | None = None  # the caption under the phone QR
    notes: tuple[Twin, ...] = ()  # e.g. "no procedure at a counter is needed"

    def __repr__(self) -> str:
        return f"GuideListPaper(counters={len(self.counters)})"


def _both(text: Twin, size: TextSize, align: Align = Align.LEFT, *, bold: bool = False) -> list[Block]:
    blocks: list[Block] = [Text(text.own, size, align, bold=bold)]
    if text.ja != text.own:
        blocks.append(Text(text.ja, TextSize.SMALL, align))
    return blocks


def guide_list_document(paper: GuideListPaper) -> Document:
    """The list as a printable document (resident's language + Japanese)."""
    blocks: list[Block] = [*_both(paper.title, TextSize.LARGE, Align.CENTER, bold=True), Rule()]
    for note in paper.notes:
        blocks += _both(note, TextSize.NORMAL)
    for counter in paper.counters:
        blocks += _both(counter.place, TextSize.NORMAL, bold=True)
        for procedure in counter.procedures:
            blocks += _both(procedure.name, TextSize.NORMAL, bold=True)
            for line in procedure.lines:
                blocks += _both(line, TextSize.SMALL)
            blocks.append(Feed(8))
        blocks.append(Rule(dashed=True))
    if paper.phone_url:
        blocks += [Qr(paper.phone_url), Feed(8)]
        if paper.scan is not None:
            blocks += _both(paper.scan, TextSize.SMALL, Align.CENTER)
    blocks += _both(paper.issued, TextSize.SMALL, Align.CENTER)
    return Document("guide_list", tuple(blocks))
