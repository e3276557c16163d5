"""Optional satisfaction rating, 1 to 5: a drawn face and a word for each (no bare numbers)."""

from __future__ import annotations

from typing import Any

from kivy.graphics import Color, Ellipse, Line
from kivy.properties import NumericProperty
from kivy.uix.behaviors import ButtonBehavior
from kivy.uix.boxlayout import BoxLayout
from kivy.uix.widget import Widget

from kiosk_app.flows import events as ev
from kiosk_app.i18n.keys import rating_key
from kiosk_app.ui.screens.base import FlowScreen
from kiosk_app.ui.widgets import KButton

__all__ = ["Face", "RatingScreen"]

# Very bad (red) … very good (green); dark features are readable on each.
FACE_COLOURS = {
    1: (0.85, 0.2, 0.15, 1),
    2: (0.95, 0.55, 0.15, 1),
    3: (0.95, 0.8, 0.2, 1),
    4: (0.55, 0.8, 0.3, 1),
    5: (0.2, 0.7, 0.3, 1),
}


class Face(ButtonBehavior, Widget):  # type: ignore[misc]
    """A drawn face: frowning (`mood` 1) to smiling (`mood` 5); tapping it rates like its word."""

    mood = NumericProperty(3)

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        for name in ("pos", "size", "mood"):
            self.fbind(name, self._draw)
        self._draw()

    def _draw(self, *_args: Any) -> None:
        mood = int(self.mood)
        radius = max(1.0, min(self.width, self.height) * 0.45)
        cx, cy = self.center
        curve = (mood - 3) / 2  # -1 frown … +1 smile
        mouth = []
        for step in range(11):
            share = step / 10
            x = cx + (share - 0.5) * radius
            y = cy - radius * 0.4 - curve * radius * 0.22 * (1 - (2 * share - 1) ** 2)
            mouth += [x, y]
        self.canvas.clear()
        with self.canvas:
            Color(*FACE_COLOURS.get(mood, FACE_COLOURS[3]))
            Ellipse(pos=(cx - radius, cy - radius), size=(2 * radius, 2 * radius))
            Color(0.1, 0.1, 0.1, 1)
            Line(circle=(cx, cy, radius), width=2)
            eye = radius * 0.14
            for side in (-1, 1):
                Ellipse(
                    pos=(cx + side * radius * 0.35 - eye, cy + radius * 0.2 - eye), size=(2 * eye, 2 * eye)
                )
            Line(points=mouth, width=max(2.0, radius * 0.07), cap="round", joint="round")


class RatingScreen(FlowScreen):
    """Five faces with words (very bad … very good) and "skip"."""

    def refresh(self) -> None:
        t = self.texts
        self.ids.title.text = t.t("rating.title")
        self.ids.skip.text = t.t("button.skip")
        words = [t.t(rating_key(stars)) for stars in range(1, 6)]
        if [w.text for w in self.words()] == words:
            return
        self.ids.stars.clear_widgets()
        for stars, text in enumerate(words, start=1):
            cell = BoxLayout(spacing=12)
            face = Face(mood=stars)
            face.bind(on_release=self._rate(stars))
            cell.add_widget(face)
            cell.add_widget(self.button(text, ev.Rate(stars), base_size=36))
            self.ids.stars.add_widget(cell)
        self._arrange()

    def on_size(self, *_args: Any) -> None:
        """Portrait: face beside its word; landscape: face above it."""
        self._arrange()

    def _arrange(self) -> None:
        portrait = self.height >= self.width
        for cell in self.ids.stars.children:
            face = cell.children[1]
            cell.orientation = "horizontal" if portrait else "vertical"
            face.size_hint = (0.25, 1) if portrait else (1, 0.55)

    def _rate(self, stars: int) -> Any:
        return lambda *_args: self.controller.send(ev.Rate(stars))

    def words(self) -> list[KButton]:
        """The word buttons, very bad first."""
        return [cell.children[0] for cell in reversed(self.ids.stars.children)]

    def skip(self) -> None:
        """No rating."""
        self.controller.send(ev.SkipRating())
