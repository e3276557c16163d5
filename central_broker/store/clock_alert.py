"""The centre's own alert for a kiosk whose clock is not synchronised (its health says `clock_synced: false`).

A kiosk that booted without network starts on its saved clock (docs/provisioning.md) and says so in every
health message until NTP answers. The store turns that flag into an operator alert, `clock-unsynced`
(code `clock_unsynced`, warning), in the same transaction as the health: raised by the first health
that says unsynchronised, left as it is by the next ones, cleared by the first that says synchronised.
Its times are the centre's (the kiosk's own clock is the one in doubt); the detail gives the kiosk's
offset from the centre when it was raised. The kiosk never publishes this alert id itself.
"""

from __future__ import annotations

import logging

from sqlalchemy import Connection, select, update

from central_broker.store.telemetry_schema import kiosk_alert
from madoguchi.contracts.messages import HealthMessage, Severity

__all__ = ["CLOCK_ALERT", "CLOCK_ALERT_CODE", "apply_clock_alert"]

_logger = logging.getLogger(__name__)

CLOCK_ALERT = "clock-unsynced"
CLOCK_ALERT_CODE = "clock_unsynced"


def _detail(message: HealthMessage, now: int) -> str:
    offset_s = (message.ts - now) / 1000
    return (
        f"kiosk clock not synchronised with NTP since its boot (uptime {message.uptime:.0f} s); "
        f"it was {offset_s:+.0f} s from the centre's clock when raised"
    )


def apply_clock_alert(conn: Connection, device_id: str, message: HealthMessage, now: int) -> str:
    """Raise, keep or clear `clock-unsynced` for one accepted health; returns `raised`, `cleared` or `unchanged`."""
    same = (kiosk_alert.c.device_id == device_id) & (kiosk_alert.c.alert_id == CLOCK_ALERT)
    still_open = same & kiosk_alert.c.cleared_at.is_(None)
    if message.clock_synced:
        cleared = conn.execute(update(kiosk_alert).where(still_open).values(cleared_at=now, updated_ts=now))
        if cleared.rowcount:
            _logger.info("%s: clock synchronised again; alert %s cleared", device_id, CLOCK_ALERT)
            return "cleared"
        return "unchanged"
    if conn.execute(select(kiosk_alert.c.id).where(still_open).limit(1)).first() is not None:
        return "unchanged"
    conn.execute(
        kiosk_alert.insert().values(
            device_id=device_id,
            alert_id=CLOCK_ALERT,
            code=CLOCK_ALERT_CODE,
            severity=Severity.WARNING.value,
            detail=_detail(message, now),
            raised_at=now,
            updated_ts=now,
            received_at=now,
        )
    )
    _logger.warning("%s: clock not synchronised; alert %s raised", device_id, CLOCK_ALERT)
    return "raised"
