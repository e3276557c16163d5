"""Timing knobs of the kiosk agent (defaults follow the MQTT contract; tests shorten them)."""

from __future__ import annotations

import random
from collections.abc import Callable
from dataclasses import dataclass, field

from kiosk_app.agent.outbox import DEFAULT_MAX_BYTES
from kiosk_app.agent.sender import random_start_delay

__all__ = ["AgentOptions"]


def _jittered_min_delay() -> float:
    # Contract §4.10: a random first reconnect delay per device spreads reconnect storms.
    return round(random.uniform(1.0, 5.0), 2)  # noqa: S311 - jitter, not cryptography


@dataclass(frozen=True)
class AgentOptions:
    """How the agent paces itself.

    Args:
        reconnect_min_s: first reconnect delay (doubles up to `reconnect_max_s`); random per device.
        reconnect_max_s: longest reconnect delay.
        recreate_after_s: build a fresh MQTT client after this long offline (contract §4.10).
        shutdown_timeout_s: how long a clean stop waits for the broker's PUBACK.
        tick_s: how often the agent checks its health timer and component changes.
        max_queued: paho's queue cap (the stats outbox, not RAM, is the queue; contract §4.9).
        drain_start_delay: seconds to wait after each connect before sending statistics (random 0–30 s).
        resend_after_s: resend a statistics batch when its `down/ack` has not come after this long.
        min_batch_interval_s: least time between two statistics batches (rate limit).
        outbox_max_bytes: outbox payload cap before health and events are shed.
    """

    reconnect_min_s: float = field(default_factory=_jittered_min_delay)
    reconnect_max_s: float = 120.0
    recreate_after_s: float = 600.0
    shutdown_timeout_s: float = 5.0
    tick_s: float = 1.0
    max_queued: int = 10
    drain_start_delay: Callable[[], float] = random_start_delay
    resend_after_s: float = 60.0
    min_batch_interval_s: float = 0.05
    outbox_max_bytes: int = DEFAULT_MAX_BYTES
