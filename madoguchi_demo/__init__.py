"""The whole-system demo: Mosquitto, the central and one simulated kiosk, as `make demo` runs them.

Kept apart from `kiosk_app` and `central_broker`: it is the one package that imports both, so a kiosk
installs and runs without the central's packages. Run it as `madoguchi-demo` or `python -m madoguchi_demo`.
"""

from __future__ import annotations

__all__: list[str] = []
