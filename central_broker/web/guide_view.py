"""What the web guide's result page shows: procedures grouped by counter in visit order, and QR images.

The grouping only presents `ProcedureGuide.results` (the kiosk's very list); nothing is decided here.
"""

from __future__ import annotations

import base64
import io
from collections.abc import Collection
from dataclasses import dataclass, field

import qrcode
import qrcode.constants
import qrcode.image.pil

from central_broker.web.resident_i18n import ResidentText
from madoguchi.contracts.catalog_guide import Counter, GuideItem, GuideStatus, Route

__all__ = ["CounterGroup", "ProcedureRow", "group_by_counter", "qr_data_uri"]


@dataclass(frozen=True)
class ProcedureRow:
    """One procedure as the page lists it, every text in the page's language."""

    id: str
    name: str
    summary: str
    route: int
    status: str
    route_text: str
    documents: list[str]
    deadline: str
    fee: str
    online_url: str
    optional: bool  # route ④ ("consult if you wish"): the resident may keep it on the visit
    kept: bool


@dataclass
class CounterGroup:
    """A counter and its procedures."""

    id: str
    name: str
    place: str
    procedures: list[ProcedureRow] = field(default_factory=list)


def _route_text(item: GuideItem, t: ResidentText) -> str:
    if item.status is GuideStatus.OPTIONAL:
        return t("Please consult us if you wish.")
    if item.status is GuideStatus.ASK:
        return t("Ask at the counter whether you need this.")
    if item.procedure.route is Route.GUIDED_RECEPTION_REQUIRED:
        return t("You need to apply at this counter.")
    return t("We accept this at the counter.")


def _place(counter: Counter, t: ResidentText) -> str:
    parts = [t("Counter %(number)s", number=counter.number)] if counter.number else []
    parts.append(t("Floor %(floor)s", floor=counter.floor))
    return " · ".join(parts)


def _row(item: GuideItem, t: ResidentText, kept: Collection[str]) -> ProcedureRow:
    lang = t.language
    p = item.procedure
    documents = [
        d.names.text(lang) + ("" if d.required else f" ({t('if you have it')})") for d in p.documents
    ]
    return ProcedureRow(
        id=p.id,
        name=p.names.text(lang),
        summary=p.summary.text(lang),
        route=int(p.route),
        status=item.status.value,
        route_text=_route_text(item, t),
        documents=documents,
        deadline=p.deadline.text(lang) if p.deadline else "",
        fee=p.fee.text(lang) if p.fee else "",
        online_url=p.online_url or "",
        optional=item.status is GuideStatus.OPTIONAL,
        kept=item.status is GuideStatus.OPTIONAL and p.id in kept,
    )


def group_by_counter(
    items: list[GuideItem], t: ResidentText, kept: Collection[str] = ()
) -> list[CounterGroup]:
    """The result's procedures under their counters, counters in visit order (as `results` sorted them);
    route ④ items in `kept` are marked kept."""
    groups: dict[str, CounterGroup] = {}
    for item in items:
        counter = item.counter
        group = groups.get(counter.id)
        if group is None:
            group = groups[counter.id] = CounterGroup(
                counter.id, counter.names.text(t.language), _place(counter, t)
            )
        group.procedures.append(_row(item, t, kept))
    return list(groups.values())


def qr_data_uri(text: str) -> str:
    """A QR code of `text` as a small 1-bit PNG data URI (a few hundred bytes; the CSP allows data: images)."""
    qr = qrcode.QRCode(error_correction=qrcode.constants.ERROR_CORRECT_M, box_size=6, border=4)
    qr.add_data(text)
    image = qr.make_image(image_factory=qrcode.image.pil.PilImage)
    out = io.BytesIO()
    image.save(out, format="PNG")
    return "data:image/png;base64," + base64.b64encode(out.getvalue()).decode("ascii")
