"""The central store on a real PostgreSQL server (`--db postgresql://…`), started by the tests."""

from __future__ import annotations

import base64
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest
from sqlalchemy import text

from central_broker.broker import MosquittoBroker
from central_broker.ingest import Ingest
from central_broker.store import DeviceStatus, FleetStore, open_store
from central_broker.store.signed_docs import SignedRecord, catalog_document
from central_broker.web.fleet_read import FleetReader
from madoguchi.clock import SteppableClock
from madoguchi.config.central import local_central_config
from madoguchi.contracts.messages import (
    AlertMessage,
    DiagnosticsPart,
    Severity,
    StateMessage,
    StatsBatch,
    StatsItem,
)
from tests.fixtures.fleet import new_device_id
from tests.test_fleet_stats import running_agent, wait_until

pytestmark = pytest.mark.postgres

BIN = Path(sys.executable).parent


def _batch(first: int, last: int) -> StatsBatch:
    items = [
        StatsItem.model_validate({"seq": s, "ts": s, "kind": "payment", "yen": 300})
        for s in range(first, last + 1)
    ]
    return StatsBatch(batch=(first, last), items=items)


def test_presence_alerts_and_rollout_work_on_postgresql(postgres_url: str) -> None:
    """GIVEN a PostgreSQL store WHEN a birth, a stale will, an alert raise/clear and a desired catalog
    are recorded THEN reads give the same answers as on SQLite."""
    clock = SteppableClock()
    store = open_store(postgres_url, clock=clock)
    try:
        assert store.engine.dialect.name == "postgresql"
        dev = "jp-131016-k01"
        store.record_state(dev, StateMessage(online=True, epoch=4, ts=10, boot_id="b", app_ver="1.0"))
        store.record_state(dev, StateMessage(online=False, epoch=3, ts=5, reason="lwt"))
        record = store.device(dev)
        assert record is not None and record.status is DeviceStatus.ONLINE
        assert [e.code for e in store.events(dev)] == ["online", "stale_will_ignored"]
        assert (
            store.record_alert(dev, "printer", AlertMessage(ts=20, code="paper_out", severity=Severity.ERROR))
            == "raised"
        )
        assert [a.code for a in store.alerts()] == ["paper_out"]
        assert store.record_alert(dev, "printer", None) == "cleared"
        assert store.alerts() == [] and store.alerts(open_only=False)[0].cleared_at is not None
        store.record_desired([dev], 7, "a" * 64)
        assert store.rollout()[0].state == "pending"
        clock.advance(181)
        assert store.device(dev).status is DeviceStatus.STALE  # type: ignore[union-attr]
    finally:
        store.close()


def test_concurrent_duplicate_batches_are_counted_once_on_postgresql(postgres_url: str) -> None:
    """GIVEN two store connections (two ingest workers) WHEN both write overlapping and repeated batches
    of one kiosk at the same time THEN every seq is stored once and through_seq is the contiguous end."""
    stores = [open_store(postgres_url) for _ in range(2)]
    dev = "jp-131016-k02"
    batches = [_batch(f, f + 49) for f in range(1, 1000, 50)]
    errors: list[BaseException] = []

    def worker(store: FleetStore) -> None:
        try:
            for batch in batches:
                store.record_stats(dev, batch)
                store.record_stats(dev, batch)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(s,)) for s in stores]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    try:
        assert errors == []
        assert stores[0].stats_seqs(dev) == list(range(1, 1001))
        assert stores[1].stats_through(dev) == 1000
    finally:
        for store in stores:
            store.close()


@pytest.mark.mosquitto
def test_ingest_and_fleet_command_on_postgresql(
    postgres_url: str, mosquitto: MosquittoBroker, tmp_path: Path
) -> None:
    """GIVEN the ingest writing PostgreSQL WHEN a kiosk sends 120 statistics THEN all are stored once,
    and `kiosk-central fleet --store postgresql://…` lists the kiosk."""
    store = open_store(postgres_url)
    config = local_central_config(Path("/nonexistent-unused"), mosquitto.url)
    ingest = Ingest(store, config.broker, group=f"pg-{time.monotonic_ns()}")
    ingest.start()
    try:
        assert ingest.subscribed.wait(10)
        dev = new_device_id()
        with running_agent(mosquitto, tmp_path / "k", dev) as agent:
            for n in range(120):
                agent.emit_statistic("certificate_issued", fee_yen=300, n=n)
            wait_until(lambda: agent.telemetry.outbox.depth() == 0, 20, "the outbox to drain")
            wait_until(lambda: FleetReader(store).record(dev) is not None, 20, "the kiosk in the fleet")
        assert store.stats_seqs(dev) == list(range(1, 121))
        record = FleetReader(store).record(dev)  # the dashboard's reader parses the stored health
        assert record is not None and record[0].health is not None
        result = subprocess.run([str(BIN / "kiosk-central"), "fleet", "--store", postgres_url, "--json"],
                                capture_output=True, text=True, timeout=60, check=False)  # fmt: skip
        assert result.returncode == 0, result.stderr
        assert dev in result.stdout
    finally:
        ingest.stop()
        store.close()


def test_time_indexes_signing_records_and_diagnostics_on_postgresql(postgres_url: str) -> None:
    """GIVEN a PostgreSQL store THEN statistics carry BRIN indexes on device and arrival time; signing
    records are replaced in place and a diagnostics part delivered twice is stored once."""
    store = open_store(postgres_url)
    try:
        with store.engine.connect() as conn:
            indexes = dict(
                conn.execute(
                    text("SELECT indexname, indexdef FROM pg_indexes WHERE tablename = 'kiosk_stat'")
                ).all()
            )
        assert "USING brin (ts)" in indexes["ix_kiosk_stat_ts_brin"]
        assert "USING brin (received_at)" in indexes["ix_kiosk_stat_received_brin"]

        store.record_signed(SignedRecord(catalog_document(3), 3, "b" * 64, 10, 1_000, 2_000))
        store.record_signed(SignedRecord(catalog_document(3), 3, "b" * 64, 10, 5_000, 9_000))
        (record,) = [r for r in store.signed_documents() if r.name == catalog_document(3)]
        assert (record.signed_at, record.expires) == (5_000, 9_000)

        dev = new_device_id()
        part = DiagnosticsPart(cmd_id="c1", part=0, parts=1, data=base64.b64encode(b"gz").decode(), ts=1)
        store.record_diag_part(dev, part)
        store.record_diag_part(dev, part)
        assert store.diagnostics_bundle(dev, "c1") == b"gz"
        assert [(r.parts, r.received, r.size) for r in store.diagnostics(dev)] == [(1, 1, 2)]
    finally:
        store.close()
