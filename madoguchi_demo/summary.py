"""What a demo run did, read back from where each part keeps it (`madoguchi-demo --json` prints it at the end).

Kiosks online, statistics and the visit queue's journal from the central store; certificates from the issuance store and the
simulated A4 printer's folder (each printed PDF's QR verified against the issuance public key); payments
from the kiosk's payment journal.
"""

from __future__ import annotations

import logging
import sqlite3
from collections import Counter
from pathlib import Path
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.exc import SQLAlchemyError

from central_broker.issuance.qrcheck import Verdict, check_pdf, load_public_key
from central_broker.queue import EventKind
from central_broker.queue.schema import queue_event
from central_broker.store import DeviceStatus, open_store
from central_broker.store.telemetry_schema import kiosk_stat
from kiosk_app.payment_journal import journal_path
from madoguchi.errors import UserError

__all__ = ["demo_summary"]

_logger = logging.getLogger(__name__)


def _central(store_url: str) -> dict[str, Any]:
    try:
        store = open_store(store_url, create=False)
    except UserError:
        return {"kiosks_online": 0, "statistics_ingested": 0, "sessions": {}}
    try:
        online = sum(1 for d in store.devices() if d.status is DeviceStatus.ONLINE)
        with store.engine.connect() as conn:
            rows = conn.execute(select(kiosk_stat.c.kind, kiosk_stat.c.fields)).all()
    finally:
        store.close()
    sessions: Counter[str] = Counter(f"{kind}:{(fields or {}).get('outcome', '?')}" for kind, fields in rows)
    return {"kiosks_online": online, "statistics_ingested": len(rows), "sessions": dict(sessions)}


def _queue(store_url: str) -> dict[str, int]:
    """Journal entries of the visit queue by kind (every branch, every day of this store)."""
    kinds = (EventKind.ISSUED, EventKind.CALLED, EventKind.DONE, EventKind.FINISHED)
    counts = dict.fromkeys((k.value for k in kinds), 0)
    try:
        store = open_store(store_url, create=False)
    except UserError:
        return counts
    try:
        with store.engine.connect() as conn:
            rows = conn.execute(select(queue_event.c.kind, func.count()).group_by(queue_event.c.kind)).all()
    except SQLAlchemyError:  # the central never created the queue's tables
        return counts
    finally:
        store.close()
    counts.update({kind: n for kind, n in rows if kind in counts})
    return counts


def _certificates(issuance_db: Path, printed: Path, public_key: Path) -> dict[str, Any]:
    states: Counter[str] = Counter()
    if issuance_db.exists():
        with sqlite3.connect(f"file:{issuance_db}?mode=ro", uri=True) as db:
            states.update(state for (state,) in db.execute("SELECT state FROM documents"))
    pdfs = sorted(printed.glob("*.pdf")) if printed.is_dir() else []
    verified = 0
    if pdfs and public_key.exists():
        key = load_public_key(public_key)
        for pdf in pdfs:
            try:
                verdict = check_pdf(pdf, key).verdict
            except Exception as exc:
                _logger.warning("printed certificate %s does not verify: %s", pdf.name, exc)
                continue
            if verdict is Verdict.GENUINE:
                verified += 1
            else:
                _logger.warning("printed certificate %s: %s", pdf.name, verdict.value)
    return {
        "issued": sum(states.values()),
        "by_state": dict(states),
        "printed_files": len(pdfs),
        "verified": verified,
    }


def _payments(journal: Path) -> dict[str, Any]:
    if not journal.exists():
        return {"approved": 0, "amount_yen": 0}
    with sqlite3.connect(f"file:{journal}?mode=ro", uri=True) as db:
        rows = db.execute("SELECT result, amount FROM payments WHERE op = 'SALE'").fetchall()
    approved = [amount for result, amount in rows if result == "APPROVED"]
    return {"approved": len(approved), "amount_yen": sum(approved), "other": len(rows) - len(approved)}


def demo_summary(store_url: str, issuance_db: Path, kiosk_dir: Path) -> dict[str, Any]:
    """Counts of the run: kiosks online, sessions by kind and outcome, certificates, payments, statistics,
    visit numbers (issued, called, done, finished)."""
    central = _central(store_url)
    completed = sum(n for key, n in central["sessions"].items() if key.endswith(":completed"))
    return {
        "kiosks_online": central["kiosks_online"],
        "sessions_completed": completed,
        "sessions": central["sessions"],
        "statistics_ingested": central["statistics_ingested"],
        "certificates": _certificates(
            issuance_db, kiosk_dir / "printed" / "a4", kiosk_dir / "trust" / "issuance.pub"
        ),
        "payments": _payments(journal_path(kiosk_dir)),
        "queue": _queue(store_url),
    }
