"""The store's `clock-unsynced` alert follows the health's `clock_synced`, message by message (issue 17 item 7)."""

from __future__ import annotations

from central_broker.store import FleetStore
from central_broker.store.clock_alert import CLOCK_ALERT, CLOCK_ALERT_CODE
from madoguchi.clock import SteppableClock
from madoguchi.contracts.messages import (
    ComponentHealth,
    ComponentStatus,
    HealthMessage,
    PrinterHealth,
    StateMessage,
)

DEV = "jp-131016-k04"
OK = ComponentHealth(status=ComponentStatus.OK)


def _health(epoch: int, ts: int, synced: bool) -> HealthMessage:
    return HealthMessage(
        ts=ts, epoch=epoch, app_ver="1.0", uptime=120, load=0, mem=1, disk=1,
        printer=PrinterHealth(status=ComponentStatus.OK), card_reader=OK, payment=OK, scanner=OK, touch=OK,
        net=OK, outbox_depth=0, clock_synced=synced,
    )  # fmt: skip


def _clock_alerts(store: FleetStore, open_only: bool = True) -> list[tuple[str, int | None]]:
    return [
        (a.code, a.cleared_at)
        for a in store.alerts(open_only=open_only, device_id=DEV)
        if a.alert_id == CLOCK_ALERT
    ]


def test_one_alert_per_unsynchronised_stretch_cleared_by_a_synchronised_health(
    central_store: FleetStore, store_clock: SteppableClock
) -> None:
    """GIVEN an online kiosk WHEN three healths say unsynchronised THEN one warning is open, dated by the
    centre; WHEN a health of a dead connection says synchronised THEN it stays; WHEN the current
    connection's health says synchronised THEN it is cleared, and a later unsynchronised boot raises a new one."""
    central_store.record_state(DEV, StateMessage(online=True, epoch=5, ts=1, boot_id="b", app_ver="1.0"))
    for n in range(3):
        central_store.record_health(DEV, _health(5, 10_000 + n, synced=False))
    (alert,) = [a for a in central_store.alerts(device_id=DEV) if a.alert_id == CLOCK_ALERT]
    assert (alert.code, alert.severity) == (CLOCK_ALERT_CODE, "warning")
    store_clock.advance(3600)  # the centre's clock, not the kiosk's `ts`, dates the alert
    assert 0 < central_store.now_ms() - alert.raised_at - 3_600_000 < 60_000
    assert "from the centre's clock" in alert.detail

    central_store.record_health(DEV, _health(4, 20_000, synced=True))  # older epoch: ignored
    assert _clock_alerts(central_store) == [(CLOCK_ALERT_CODE, None)]

    central_store.record_health(DEV, _health(5, 30_000, synced=True))
    assert _clock_alerts(central_store) == []
    central_store.record_health(DEV, _health(5, 31_000, synced=True))  # nothing left to clear
    central_store.record_state(DEV, StateMessage(online=True, epoch=6, ts=2, boot_id="c", app_ver="1.0"))
    central_store.record_health(DEV, _health(6, 40_000, synced=False))
    assert _clock_alerts(central_store) == [(CLOCK_ALERT_CODE, None)]
    assert len(_clock_alerts(central_store, open_only=False)) == 2


def test_a_revoked_kiosk_gets_no_clock_alert(central_store: FleetStore) -> None:
    """GIVEN a revoked kiosk WHEN it still manages to send an unsynchronised health THEN no alert is raised."""
    central_store.record_state(DEV, StateMessage(online=True, epoch=1, ts=1, boot_id="b", app_ver="1.0"))
    central_store.mark_revoked(DEV)
    central_store.record_health(DEV, _health(1, 10_000, synced=False))
    assert _clock_alerts(central_store, open_only=False) == []
