"""Fill a central store with history: N anonymous session statistics of a fleet over D days.

Used by `fleet_ingest.py --prefill` and `dashboard.py --prefill` to measure the central with a
month (or a year) of data instead of an empty store. Rows look like what kiosks send
(certificate and semi-self register sessions with method, fee, rating and step times), spread
evenly over the days with each kiosk's seqs 1..N/kiosks, and every kiosk's `through_seq` is set,
so the simulated kiosks continue at the next seq.

Bulk paths: SQLite gets `executemany` in transactions of 200,000 rows with `synchronous=OFF`
for the fill only (the store is a throw-away benchmark copy); PostgreSQL gets one
`INSERT … SELECT FROM generate_series` per 200,000 rows, computed in the server. Rows are
written in time order (all kiosks' seq 1, then seq 2 …) like the ingest writes them, so indexes
end up as fragmented as in a real store and block-range indexes as effective.

    .venv/bin/python -m benchmarks.stats_prefill --store sqlite:////tmp/h/central.db --rows 12000000
"""

from __future__ import annotations

import argparse
import json
import random
import sqlite3
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from sqlalchemy import text

from central_broker.store import open_store, sqlite_path

__all__ = ["PrefillResult", "fleet_ids", "prefill", "session_templates"]

DAY_MS = 86_400_000
SQLITE_TX_ROWS = 200_000
PG_ROWS_PER_STATEMENT = 200_000
TYPES = ["juminhyo", "inkan", "kazei", "koseki_zenbu"]
METHODS = ["cash", "cash", "cash", "credit", "emoney", "qr"]


@dataclass(frozen=True)
class PrefillResult:
    """What was written and how long it took."""

    rows: int
    per_device: int
    seconds: float


def fleet_ids(kiosks: int) -> list[str]:
    """The device ids `fleet_ingest.py` simulates: four kiosks per municipality code."""
    return [f"jp-{100000 + i // 4:06d}-k{i % 4 + 1:02d}" for i in range(kiosks)]


def session_templates(count: int = 64, seed: int = 7) -> list[tuple[str, str]]:
    """`count` (kind, fields JSON) pairs: 60 % certificate sessions, the rest semi-self register payments."""
    rng = random.Random(seed)
    templates = []
    for _ in range(count):
        if rng.random() < 0.6:
            kind = "certificate_session"
            fields: dict[str, Any] = {
                "outcome": "completed", "type": rng.choice(TYPES), "copies": rng.randint(1, 3),
                "method": rng.choice(METHODS), "rating": rng.randint(3, 5), "total_seconds": 95.0,
                "step_seconds": {"pin": 20.0, "type": 15.0, "pay": 30.0, "print": 30.0},
            }  # fmt: skip
        else:
            kind = "register_session"
            fields = {"outcome": "completed", "method": rng.choice(METHODS), "fee_yen": 750,
                      "total_seconds": 40.0, "step_seconds": {"scan": 10.0, "pay": 30.0}}  # fmt: skip
        templates.append((kind, json.dumps(fields)))
    return templates


def _sqlite_rows(
    device_ids: list[str], per_device: int, start_ms: int, step_ms: int
) -> Iterator[tuple[str, int, int, str, str, int]]:
    templates = session_templates()
    for seq in range(1, per_device + 1):  # in time order, as the ingest writes them
        for d, device_id in enumerate(device_ids):
            kind, fields = templates[(seq * 7 + d) % len(templates)]
            ts = start_ms + (seq - 1) * step_ms + (d * 997) % step_ms
            yield device_id, seq, ts, kind, fields, ts


def _fill_sqlite(path: str, device_ids: list[str], per_device: int, start_ms: int, step_ms: int) -> None:
    db = sqlite3.connect(path)
    try:
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=OFF")  # the fill only; the store itself runs synchronous=FULL
        db.execute("PRAGMA cache_size=-262144")  # 256 MiB: rows arrive in time order, the key index is random
        insert = (
            "INSERT INTO kiosk_stat (device_id, seq, ts, kind, fields, received_at) VALUES (?, ?, ?, ?, ?, ?)"
        )
        rows = _sqlite_rows(device_ids, per_device, start_ms, step_ms)
        while True:
            chunk = [row for _, row in zip(range(SQLITE_TX_ROWS), rows, strict=False)]
            if not chunk:
                break
            with db:
                db.executemany(insert, chunk)
        with db:
            db.executemany(
                "INSERT INTO kiosk_stat_progress (device_id, through_seq, updated_at) VALUES (?, ?, ?)",
                [(d, per_device, start_ms) for d in device_ids],
            )
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        db.execute("ANALYZE")
    finally:
        db.close()


_PG_FILL = text(
    """
    INSERT INTO kiosk_stat (device_id, seq, ts, kind, fields, received_at)
    SELECT d.id, s.seq, t.ts, (CAST(:kinds AS text[]))[1 + t.pick], CAST((CAST(:fields AS text[]))[1 + t.pick] AS json), t.ts
    FROM generate_series(CAST(:first AS bigint), CAST(:last AS bigint)) AS s(seq)
    CROSS JOIN unnest(CAST(:ids AS text[])) WITH ORDINALITY AS d(id, n)
    CROSS JOIN LATERAL (
        SELECT CAST(:start AS bigint) + (s.seq - 1) * CAST(:step AS bigint)
                   + ((d.n - 1) * 997) % CAST(:step AS bigint) AS ts,
               (s.seq * 7 + d.n - 1) % CAST(:k AS bigint) AS pick
    ) AS t
    ORDER BY s.seq, d.n
    """
)


def _fill_postgres(url: str, device_ids: list[str], per_device: int, start_ms: int, step_ms: int) -> None:
    templates = session_templates()
    store = open_store(url)
    try:
        params = {"kinds": [k for k, _ in templates], "fields": [f for _, f in templates], "k": len(templates),
                  "ids": device_ids, "start": start_ms, "step": step_ms}  # fmt: skip
        seqs = max(1, PG_ROWS_PER_STATEMENT // len(device_ids))
        for first in range(1, per_device + 1, seqs):  # in time order, as the ingest writes them
            with store.engine.begin() as conn:
                conn.execute(_PG_FILL, {**params, "first": first, "last": min(per_device, first + seqs - 1)})
        with store.engine.begin() as conn:
            conn.execute(
                text("INSERT INTO kiosk_stat_progress (device_id, through_seq, updated_at) "
                     "SELECT id, :per_device, :start FROM unnest(CAST(:ids AS text[])) AS id"),
                {"ids": device_ids, "per_device": per_device, "start": start_ms},
            )  # fmt: skip
        with store.engine.connect() as conn:
            conn.execution_options(isolation_level="AUTOCOMMIT").execute(text("VACUUM ANALYZE kiosk_stat"))
    finally:
        store.close()


def prefill(
    url: str, device_ids: list[str], rows: int, days: int, now_ms: int | None = None
) -> PrefillResult:
    """Write `rows` statistics for `device_ids` over the `days` before `now_ms` into an empty store at `url`."""
    began = time.perf_counter()
    open_store(url).close()  # creates the schema
    per_device = max(1, rows // len(device_ids))
    end_ms = now_ms if now_ms is not None else int(time.time() * 1000)
    start_ms = end_ms - days * DAY_MS
    step_ms = max(1, days * DAY_MS // per_device)
    path = sqlite_path(url)
    if path is not None:
        _fill_sqlite(str(path), device_ids, per_device, start_ms, step_ms)
    else:
        _fill_postgres(url, device_ids, per_device, start_ms, step_ms)
    return PrefillResult(per_device * len(device_ids), per_device, time.perf_counter() - began)


def main() -> None:
    """Fill a store from the command line and say how long it took."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--store", required=True, help="an EMPTY store: sqlite:////path/central.db or postgresql://…"
    )
    parser.add_argument(
        "--rows", type=int, default=12_000_000, help="statistics (12 M = a month at 2,000 kiosks)"
    )
    parser.add_argument("--kiosks", type=int, default=2000)
    parser.add_argument("--days", type=int, default=30)
    args = parser.parse_args()
    result = prefill(args.store, fleet_ids(args.kiosks), args.rows, args.days)
    print(f"prefill: {result.rows:,} statistics of {args.kiosks} kiosks over {args.days} days in "
          f"{result.seconds:.0f} s ({result.rows / result.seconds:,.0f} rows/s)")  # fmt: skip


if __name__ == "__main__":
    main()
