"""整理券: category buttons with their 混雑 lamp, the wait while the number prints, the number, refusals.

A lamp is a coloured dot AND its word (空いています / やや混んでいます / 混んでいます), never colour alone;
the wait is a range (約10〜20分). A category the central closed is shown disabled with the reason.
"""

from __future__ import annotations

from typing import Any

from kivy.graphics import Color, Ellipse, Line
from kivy.properties import ColorProperty
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.widget import Widget

from kiosk_app.flows import events as ev
from kiosk_app.flows import queue_events as qe
from kiosk_app.flows.queue_flow import QueueStep, QueueView
from kiosk_app.i18n.keys_queue import LEVEL_KEYS, refusal_key
from kiosk_app.ui.screens.base import FlowScreen
from kiosk_app.ui.screens.message_content import counter_line
from kiosk_app.ui.text import Texts
from kiosk_app.ui.theme import MIN_TOUCH_PX
from kiosk_app.ui.widgets import KLabel, fit_height
from madoguchi.contracts.queue import CategoryLamp

__all__ = ["LAMP_COLOURS", "LampDot", "TicketScreen"]

RGBA = tuple[float, float, float, float]
LAMP_COLOURS: dict[str, RGBA] = {
    "calm": (0.1, 0.6, 0.25, 1),
    "busy": (0.95, 0.65, 0.0, 1),
    "crowded": (0.85, 0.1, 0.1, 1),
}


class LampDot(Widget):  # type: ignore[misc]
    """The lamp's colour as a filled circle with a dark ring (readable on both themes)."""

    color = ColorProperty((0.5, 0.5, 0.5, 1))

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.bind(pos=self._draw, size=self._draw, color=self._draw)

    def _draw(self, *_args: Any) -> None:
        d = min(self.width, self.height, 56)
        x, y = self.center_x - d / 2, self.center_y - d / 2
        self.canvas.clear()
        with self.canvas:
            Color(*self.color)
            Ellipse(pos=(x, y), size=(d, d))
            Color(0.1, 0.1, 0.1, 1)
            Line(ellipse=(x, y, d, d), width=2)


class TicketScreen(FlowScreen):
    """Every step of the ticket flow: title, big number, info, rows, back / OK / cancel."""

    def refresh(self) -> None:
        view = self.controller.view()
        if not isinstance(view, QueueView):
            return
        t = self.texts
        ids = self.ids
        ids.rows.clear_widgets()
        ids.number.text = ""
        ids.info.text = ""
        ids.back.text = t.t("button.back")
        ids.ok.text = t.t("button.ok")
        ids.cancel.text = t.t("button.cancel")
        step = view.step
        self._buttons(
            back=step in (QueueStep.CATEGORIES, QueueStep.REFUSED),
            ok=step in (QueueStep.DONE, QueueStep.REFUSED, QueueStep.UNAVAILABLE),
            cancel=step in (QueueStep.CATEGORIES, QueueStep.REFUSED, QueueStep.UNAVAILABLE),
        )
        if step is QueueStep.CATEGORIES:
            self._categories(view, t)
        elif step is QueueStep.TAKING:
            ids.title.text = t.t("queue.taking")
        elif step is QueueStep.DONE and view.ticket is not None:
            self._done(view.ticket, t)
        elif step is QueueStep.REFUSED:
            ids.title.text = t.t("queue.refused.title")
            ids.info.text = t.t(refusal_key(view.refusal_kind))
            if view.refusal_detail:
                ids.rows.add_widget(self._row(t.t("queue.refused.detail", detail=view.refusal_detail), 28))
        elif step is QueueStep.UNAVAILABLE:
            ids.title.text = t.t("queue.refused.title")
            ids.info.text = t.t("queue.unavailable")

    def _buttons(self, *, back: bool, ok: bool, cancel: bool) -> None:
        for name, shown in (("back", back), ("ok", ok), ("cancel", cancel)):
            button = self.ids[name]
            button.disabled = not shown
            button.opacity = 1 if shown else 0

    def _row(self, text: str, base_size: int = 32) -> KLabel:
        label = KLabel(text=text, base_size=base_size)
        fit_height(label, 60)
        return label

    # --- categories ------------------------------------------------------------------------------------

    def _categories(self, view: QueueView, t: Texts) -> None:
        self.ids.title.text = t.t("queue.choose.title")
        info = t.t("queue.choose.info")
        if not view.lamps:
            info += "\n" + t.t("queue.no_lamps")
        self.ids.info.text = info
        for category in view.categories:
            self.ids.rows.add_widget(self._category_row(category, view.lamps.get(category), t))

    def _category_row(self, category: str, lamp: CategoryLamp | None, t: Texts) -> BoxLayout:
        name = t.data(self._category_name(category))
        closed = lamp is not None and lamp.closed
        text = name
        if closed:
            text += "\n" + t.t("queue.closed")
        elif lamp is not None:
            text += "\n" + t.t(
                "queue.wait",
                low=lamp.wait_min_minutes,
                high=max(lamp.wait_min_minutes, lamp.wait_max_minutes),
            )
        button = self.button(text, qe.ChooseCategory(category), base_size=34)
        button.disabled = closed
        fit_height(button, MIN_TOUCH_PX)
        row = BoxLayout(orientation="horizontal", spacing=16, size_hint_y=None, height=button.height)
        button.bind(height=lambda _w, h: setattr(row, "height", h))
        button.size_hint_x = 0.64
        row.add_widget(button)
        lamp_box = BoxLayout(orientation="horizontal", spacing=8, size_hint_x=0.36)
        if lamp is not None and not closed:
            dot = LampDot(
                size_hint_x=None, width=64, color=LAMP_COLOURS.get(lamp.level.value, (0.5, 0.5, 0.5, 1))
            )
            words = t.t(LEVEL_KEYS.get(lamp.level.value, "queue.level.busy"))
            words += "\n" + t.t("queue.waiting", count=lamp.waiting)
            label = KLabel(text=words, base_size=28, halign="left")
            lamp_box.add_widget(dot)
            lamp_box.add_widget(label)
        row.add_widget(lamp_box)
        return row

    def _category_name(self, category: str) -> str:
        catalog = self.controller.catalog
        try:
            return (
                catalog.queue_category(category).names.text(self.controller.language) if catalog else category
            )
        except LookupError:
            return category

    # --- the number ------------------------------------------------------------------------------------

    def _done(self, ticket: qe.IssuedTicket, t: Texts) -> None:
        ids = self.ids
        ids.title.text = t.t("queue.done.title", number=ticket.number)
        ids.number.text = t.data(ticket.number)
        notes = []
        if not ticket.printed:
            notes.append(t.t("queue.print_failed"))
        if ticket.offline:
            notes.append(t.t("queue.offline"))
        ids.info.text = "\n".join(notes)
        rows = ids.rows
        rows.add_widget(self._row(t.t("queue.done.route")))
        language = self.controller.language
        for index, stop in enumerate(ticket.stops, start=1):
            place = counter_line(t, self.controller.catalog, stop.counter, language) or t.data(stop.counter)
            rows.add_widget(self._row(f"{index}. {place}", 34))
        if ticket.people_ahead is not None:
            rows.add_widget(self._row(t.t("queue.ahead", count=ticket.people_ahead)))
        if ticket.wait_min_minutes is not None and ticket.wait_max_minutes is not None:
            high = max(ticket.wait_min_minutes, ticket.wait_max_minutes)
            rows.add_widget(self._row(t.t("queue.wait", low=ticket.wait_min_minutes, high=high)))

    def send(self, name: str) -> None:
        """back / ok / cancel."""
        self.controller.send({"back": ev.Back(), "ok": ev.Confirm(), "cancel": ev.Cancel()}[name])
