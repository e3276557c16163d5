"""`RubyLabel`: a Kivy label that draws furigana (ruby) above the kanji of やさしい日本語.

Kivy has no ruby layout. When a label's text carries `{漢字|かんじ}` words (`Texts.t` keeps them for
ja-x-easy), `RubyLabel` lays the text out itself (`ruby_layout.layout_ruby`: wrapping by word at
`text_size[0]`, `halign`, readings at half the font size centred over each word) and draws each run as
a texture on `canvas.after`. Its own label texture becomes a transparent pixel of the block's size, so
`texture_size`, `fit_height()`, the button background and the large-text scale (`font_size`) keep working
as for any label. Texts without readings take Kivy's normal path.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Any

from kivy.core.text import Label as CoreLabel
from kivy.graphics import Color, InstructionGroup, Rectangle
from kivy.graphics.texture import Texture
from kivy.properties import BooleanProperty, NumericProperty, ObjectProperty
from kivy.uix.label import Label

from kiosk_app.i18n.ruby import has_ruby
from kiosk_app.ui.ruby_layout import READING_SCALE, RubyLayout, layout_ruby

__all__ = ["Rect", "RubyLabel"]

Rect = tuple[float, float, float, float]  # x, y, width, height in window coordinates

_MEASURERS: dict[tuple[str, float], Any] = {}
_TEXTURES: OrderedDict[tuple[str, str, float], Texture] = OrderedDict()
_TEXTURE_CACHE = 512
_blank: Texture | None = None
_MIN_FIT = 0.6  # a text that is too tall for its label shrinks, down to this share of its font size


def _measure(text: str, font: str, size: float) -> tuple[float, float]:
    """Width and height of `text` as Kivy's core label renders it."""
    key = (font, size)
    label = _MEASURERS.get(key)
    if label is None:
        if len(_MEASURERS) > 64:
            _MEASURERS.clear()
        label = CoreLabel(font_name=font, font_size=size)
        label.resolve_font_name()
        _MEASURERS[key] = label
    width, height = label.get_extents(text)
    return float(width), float(height)


def _texture(text: str, font: str, size: float) -> Texture:
    """The rendered run (white, tinted by the label colour when drawn); the last 512 are kept."""
    key = (text, font, size)
    texture = _TEXTURES.get(key)
    if texture is None:
        label = CoreLabel(text=text, font_name=font, font_size=size)
        label.refresh()
        texture = label.texture
        _TEXTURES[key] = texture
        if len(_TEXTURES) > _TEXTURE_CACHE:
            _TEXTURES.popitem(last=False)
    else:
        _TEXTURES.move_to_end(key)
    return texture


def _blank_texture() -> Texture:
    """A transparent pixel: the label's own texture while the runs are drawn on `canvas.after`."""
    global _blank
    if _blank is None:
        _blank = Texture.create(size=(1, 1), colorfmt="rgba")
        _blank.blit_buffer(b"\x00\x00\x00\x00", colorfmt="rgba", bufferfmt="ubyte")
    return _blank


class RubyLabel(Label):  # type: ignore[misc]
    """A label that shows `{漢字|かんじ}` readings above the words; any other text renders as in `Label`."""

    reading_scale = NumericProperty(READING_SCALE)
    fit_text = BooleanProperty(True)
    """Shrink the text (to 60 % at most) when it is taller than the label (large text on a small panel);
    off for labels whose height follows the text (`fit_height`)."""
    ruby_layout = ObjectProperty(None, allownone=True)
    """The `RubyLayout` drawn while the text carries readings, else None."""

    def __init__(self, **kwargs: Any) -> None:
        self._ruby_group = InstructionGroup()
        self._ruby_key: tuple[Any, ...] | None = None
        super().__init__(**kwargs)
        self.canvas.after.add(self._ruby_group)
        for name in ("pos", "size", "color", "disabled_color", "disabled", "texture_size"):
            self.fbind(name, self._draw_ruby)
        for name in ("reading_scale", "fit_text", "height"):
            self.fbind(name, self._ruby_resize)

    def _ruby_resize(self, *_args: Any) -> None:
        if self.ruby_layout is not None:
            self._trigger_texture()

    def texture_update(self, *largs: Any) -> None:
        """Lay out and draw the readings, or render as a plain `Label` when the text has none."""
        if not has_ruby(self.text):
            if self.ruby_layout is not None:
                self._ruby_key = self.ruby_layout = None
                self._ruby_group.clear()
            super().texture_update(*largs)
            return
        width = self.text_size[0]
        room = self.height if self.fit_text and self.text_size[1] is None else None
        key = (self.text, self.font_name, self.font_size, width, self.halign, self.reading_scale, room)
        if key != self._ruby_key or self.ruby_layout is None:
            size = float(self.font_size)
            layout = self._layout(size, width)
            floor = size * _MIN_FIT
            while room is not None and room > 1 and layout.height > room and size > floor:
                size = max(floor, float(round(size * 0.9)))
                layout = self._layout(size, width)
            self.ruby_layout = layout
            self._ruby_key = key
        placed: RubyLayout = self.ruby_layout
        height = self.text_size[1] if self.text_size[1] is not None else placed.height
        self.texture = _blank_texture()
        self.texture_size = [round(placed.width), round(height)]
        self._draw_ruby()

    def _layout(self, size: float, width: float | None) -> RubyLayout:
        return layout_ruby(
            self.text,
            font=self.font_name,
            size=size,
            measure=_measure,
            width=float(width) if width is not None else None,
            halign=self.halign,
            reading_scale=self.reading_scale,
        )

    def _origin(self) -> tuple[float, float]:
        """Bottom-left of the block in the widget's parent coordinates (where `Label` draws its texture)."""
        layout: RubyLayout = self.ruby_layout
        width, height = self.texture_size
        x = int(self.center_x - width / 2)
        y = int(self.center_y - height / 2)
        slack = height - layout.height  # text_size taller than the text: valign
        shift = {"top": slack, "bottom": 0.0}.get(self.valign, slack / 2)
        return x, y + shift

    def _draw_ruby(self, *_args: Any) -> None:
        group = self._ruby_group
        group.clear()
        layout: RubyLayout | None = self.ruby_layout
        if layout is None:
            return
        left, bottom = self._origin()
        top = bottom + layout.height
        group.add(Color(rgba=self.disabled_color if self.disabled else self.color))
        for item in layout.items:
            texture = _texture(item.text, item.font, item.size)
            group.add(
                Rectangle(
                    texture=texture,
                    pos=(round(left + item.x), round(top - item.top - item.height)),
                    size=texture.size,
                )
            )

    def ruby_boxes(self) -> list[tuple[Rect, Rect]]:
        """Window rectangles (x, y, width, height) of each word with a reading: (the word, its reading)."""
        layout: RubyLayout | None = self.ruby_layout
        if layout is None:
            return []
        left, bottom = self._origin()
        top = bottom + layout.height
        boxes = []
        for _index, (bases, readings) in sorted(layout.words().items()):
            rects = []
            for runs in (bases, readings):
                x0 = min(run.x for run in runs)
                x1 = max(run.x + run.width for run in runs)
                y1 = max(top - run.top for run in runs)
                y0 = min(top - run.top - run.height for run in runs)
                wx, wy = self.to_window(left + x0, y0)
                rects.append((wx, wy, x1 - x0, y1 - y0))
            boxes.append((rects[0], rects[1]))
        return boxes
