"""Optional satisfaction rating, 1 to 5."""

from __future__ import annotations

from kiosk_app.flows import events as ev
from kiosk_app.ui.screens.base import FlowScreen

__all__ = ["RatingScreen"]


class RatingScreen(FlowScreen):
    """Five buttons and "skip"."""

    def refresh(self) -> None:
        t = self.texts
        self.ids.title.text = t.t("rating.title")
        self.ids.stars.clear_widgets()
        for stars in range(1, 6):
            self.ids.stars.add_widget(
                self.button(t.t("rating.stars", stars=stars), ev.Rate(stars), base_size=32)
            )
        self.ids.skip.text = t.t("button.skip")

    def skip(self) -> None:
        """No rating."""
        self.controller.send(ev.SkipRating())
