"""The touchscreen: Kivy screens that observe the flows through `KioskController` (Kivy imported lazily).

`kiosk_app.ui.controller` has no Kivy; `kiosk_app.ui.root.build_root()` builds the widget tree for the
app and for the UI tests (tests/ui, one Kivy window per pytest process).
"""

from __future__ import annotations

__all__: list[str] = []
