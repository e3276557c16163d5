"""Which kiosks are in which rollout stage: deterministic, so a re-run plans the same cohorts.

Kiosks are ordered by SHA-256 of their device id (a stable shuffle: no municipality or numbering
bias), then taken cumulatively: the test kiosk, the pilot municipality, then each percentage of the
whole fleet (kiosks already in an earlier stage count towards it).
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Sequence
from dataclasses import dataclass

from madoguchi.contracts.base import municipality_of

__all__ = ["Stage", "plan_stages"]


@dataclass(frozen=True)
class Stage:
    """One rollout stage and the kiosks it adds."""

    name: str
    devices: tuple[str, ...]


def _order(device_id: str) -> str:
    return hashlib.sha256(device_id.encode()).hexdigest()


def plan_stages(
    devices: Sequence[str],
    *,
    test_device: str | None = None,
    pilot_municipality: str | None = None,
    percents: Sequence[int] = (10, 50, 100),
) -> list[Stage]:
    """The stages over `devices` (stages that would add nobody are left out; the last one takes everyone).

    Raises:
        ValueError: the test kiosk is not among `devices`, or a percentage is outside 1..100 or not rising.
    """
    ordered = sorted(set(devices), key=_order)
    if test_device is not None and test_device not in ordered:
        raise ValueError(f"the test kiosk {test_device} is not among the {len(ordered)} target kiosks")
    if list(percents) != sorted(set(percents)) or any(not 1 <= p <= 100 for p in percents):
        raise ValueError(f"stage percentages must rise within 1..100, got {list(percents)}")
    taken: list[str] = []
    stages: list[Stage] = []

    def add(name: str, wanted: Sequence[str]) -> None:
        new = tuple(d for d in wanted if d not in taken)
        if new:
            taken.extend(new)
            stages.append(Stage(name, new))

    add("test kiosk", [test_device or ordered[0]] if ordered else [])
    if pilot_municipality is not None:
        add(f"pilot {pilot_municipality}", [d for d in ordered if municipality_of(d) == pilot_municipality])
    for percent in percents:
        add(f"{percent} %", ordered[: math.ceil(len(ordered) * percent / 100)])
    add("100 %", ordered)
    return stages
