"""Durable issuance state in SQLite (WAL, synchronous=FULL): sessions, documents, serials and the audit log.

Every row is keyed by a random session id and bound to its device, nonce and card-certificate
fingerprint; there is no shared "current request" (Kawasaki 2023). State changes are
compare-and-set on the expected previous state, so two requests racing on one session cannot
both win. Document PDFs are stored only encrypted (`Vault`) and only until they are confirmed,
unless retention is configured. The audit log holds device, time, type, serial and a keyed hash
of the card certificate — never contents. For the online check a document row also keeps its content
digest and keyed hashes of the printed verification code and of the holder's name and birth date
(`checkcode.CheckKeys`), never those values themselves.
"""

from __future__ import annotations

import enum
import logging
import sqlite3
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

from madoguchi.sqlite import connect_durable

__all__ = ["AuditEntry", "DocState", "DocumentRow", "IssuanceStore", "SessionRow", "SessionState"]

_logger = logging.getLogger(__name__)


class SessionState(enum.StrEnum):
    """Life of a session."""

    BEGUN = "begun"  # nonce handed out, not yet used
    AUTHENTICATED = "authenticated"  # nonce consumed by a valid signature
    REFUSED = "refused"  # nonce consumed, resident refused (expired/revoked/unknown certificate)
    ISSUED = "issued"  # a document exists, not yet confirmed
    PRINT_FAILED = "print_failed"  # reprint allowed until the window closes
    PRINTED = "printed"
    VOID = "void"
    CANCELLED = "cancelled"  # superseded by a newer session of the same device
    EXPIRED = "expired"


class DocState(enum.StrEnum):
    """Life of a document."""

    ISSUED = "issued"
    PRINT_FAILED = "print_failed"
    PRINTED = "printed"
    VOID = "void"


@dataclass(frozen=True, repr=False)
class SessionRow:
    """One session (the nonce is secret until used; repr shows only the state)."""

    session_id: str
    device_id: str
    nonce: bytes
    created_ms: int
    expires_ms: int
    state: SessionState
    cert_fp: str | None
    resident_id: str | None
    auth_sig_sha: str | None
    authenticated_ms: int | None
    verdict: str | None  # outcome of the certificate check (ok, expired, revoked)

    def __repr__(self) -> str:
        return f"SessionRow({self.state.value})"


@dataclass(frozen=True, repr=False)
class DocumentRow:
    """One issued document: its binding, encrypted PDF (None once wiped) and state."""

    serial: str
    session_id: str
    device_id: str
    type_id: str
    payment_ref: str
    copies: int
    state: DocState
    issued_ms: int
    reprint_until_ms: int | None
    reprints: int
    binding_json: str
    binding_sig: str
    qr: str
    blob: bytes | None
    code_hmac: str | None = None  # keyed hash of the printed verification code (None: format-1 document)
    holder_hmac: str | None = None  # keyed hash of the holder's printed name and birth date
    content_digest: str | None = None  # the printed content's digest the QR code signs

    def __repr__(self) -> str:
        return f"DocumentRow({self.serial!r}, {self.state.value})"


@dataclass(frozen=True)
class AuditEntry:
    """One audit line (no personal data)."""

    ts_ms: int
    device_id: str
    event: str
    type_id: str
    serial: str
    cert_hmac: str


_SCHEMA = """
CREATE TABLE IF NOT EXISTS sessions (
    session_id TEXT PRIMARY KEY, device_id TEXT NOT NULL, nonce BLOB NOT NULL UNIQUE,
    created_ms INTEGER NOT NULL, expires_ms INTEGER NOT NULL, state TEXT NOT NULL,
    cert_fp TEXT, resident_id TEXT, auth_sig_sha TEXT, authenticated_ms INTEGER, verdict TEXT);
CREATE INDEX IF NOT EXISTS sessions_device ON sessions (device_id, state);
CREATE TABLE IF NOT EXISTS documents (
    serial TEXT PRIMARY KEY, session_id TEXT NOT NULL UNIQUE REFERENCES sessions (session_id),
    device_id TEXT NOT NULL, type_id TEXT NOT NULL, payment_ref TEXT NOT NULL, copies INTEGER NOT NULL,
    state TEXT NOT NULL, issued_ms INTEGER NOT NULL, reprint_until_ms INTEGER, reprints INTEGER NOT NULL,
    binding_json TEXT NOT NULL, binding_sig TEXT NOT NULL, qr TEXT NOT NULL, blob BLOB,
    code_hmac TEXT, holder_hmac TEXT, content_digest TEXT);
CREATE INDEX IF NOT EXISTS documents_state ON documents (state);
CREATE TABLE IF NOT EXISTS serials (day TEXT PRIMARY KEY, last INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS audit (
    id INTEGER PRIMARY KEY AUTOINCREMENT, ts_ms INTEGER NOT NULL, device_id TEXT NOT NULL,
    event TEXT NOT NULL, type_id TEXT NOT NULL, serial TEXT NOT NULL, cert_hmac TEXT NOT NULL);
"""

_SESSION_COLS = (
    "session_id, device_id, nonce, created_ms, expires_ms, state, cert_fp, resident_id, auth_sig_sha,"
    " authenticated_ms, verdict"
)
_DOC_COLS = (
    "serial, session_id, device_id, type_id, payment_ref, copies, state, issued_ms, reprint_until_ms,"
    " reprints, binding_json, binding_sig, qr, blob, code_hmac, holder_hmac, content_digest"
)
_ADDED_DOC_COLUMNS = ("code_hmac", "holder_hmac", "content_digest")  # databases made before the online check


def _session(row: tuple[object, ...]) -> SessionRow:
    values = list(row)
    values[5] = SessionState(str(values[5]))
    return SessionRow(*values)  # type: ignore[arg-type]


def _document(row: tuple[object, ...]) -> DocumentRow:
    values = list(row)
    values[6] = DocState(str(values[6]))
    return DocumentRow(*values)  # type: ignore[arg-type]


class IssuanceStore:
    """SQLite store shared by the service's worker threads (one connection, one lock, short transactions)."""

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path)
        self._db = connect_durable(path, check_same_thread=False)
        self._lock = threading.Lock()
        with self._lock:
            self._db.execute("PRAGMA foreign_keys=ON")
            self._db.executescript(_SCHEMA)
        self._add_missing_columns()

    def _add_missing_columns(self) -> None:
        with self._tx() as db:
            have = {row[1] for row in db.execute("PRAGMA table_info(documents)")}
            for column in _ADDED_DOC_COLUMNS:
                if column not in have:
                    db.execute(f"ALTER TABLE documents ADD COLUMN {column} TEXT")
                    _logger.info("issuance store: added documents.%s", column)

    def close(self) -> None:
        """Close the database."""
        with self._lock:
            self._db.close()

    @contextmanager
    def _tx(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")

    # --- sessions ------------------------------------------------------------------------------------

    def create_session(self, session_id: str, device_id: str, nonce: bytes, now_ms: int, ttl_ms: int) -> int:
        """Insert a new session and cancel the device's earlier open ones; returns how many were cancelled."""
        with self._tx() as db:
            cancelled = db.execute(
                "UPDATE sessions SET state = ? WHERE device_id = ? AND state IN (?, ?)",
                (SessionState.CANCELLED, device_id, SessionState.BEGUN, SessionState.AUTHENTICATED),
            ).rowcount
            db.execute(
                f"INSERT INTO sessions ({_SESSION_COLS}) VALUES (?, ?, ?, ?, ?, ?, NULL, NULL, NULL, NULL, NULL)",  # noqa: S608
                (session_id, device_id, nonce, now_ms, now_ms + ttl_ms, SessionState.BEGUN),
            )
        return cancelled

    def session(self, session_id: str) -> SessionRow | None:
        """A session by id."""
        with self._lock:
            row = self._db.execute(
                f"SELECT {_SESSION_COLS} FROM sessions WHERE session_id = ?",  # noqa: S608
                (session_id,),
            ).fetchone()
        return _session(row) if row else None

    def finish_authentication(
        self,
        session_id: str,
        state: SessionState,
        cert_fp: str,
        resident_id: str | None,
        auth_sig_sha: str,
        now_ms: int,
        verdict: str,
        audit: AuditEntry,
    ) -> bool:
        """Consume the nonce: BEGUN → `state` (audited in the same transaction); False if already consumed."""
        with self._tx() as db:
            changed = db.execute(
                "UPDATE sessions SET state = ?, cert_fp = ?, resident_id = ?, auth_sig_sha = ?,"
                " authenticated_ms = ?, verdict = ? WHERE session_id = ? AND state = ?",
                (state, cert_fp, resident_id, auth_sig_sha, now_ms, verdict, session_id, SessionState.BEGUN),
            ).rowcount
            if changed == 1:
                self._audit(db, audit)
        return changed == 1

    def set_session_state(
        self, session_id: str, expected: tuple[SessionState, ...], state: SessionState
    ) -> bool:
        """Compare-and-set the session state."""
        marks = ", ".join("?" * len(expected))
        with self._tx() as db:
            changed = db.execute(
                f"UPDATE sessions SET state = ? WHERE session_id = ? AND state IN ({marks})",  # noqa: S608
                (state, session_id, *expected),
            ).rowcount
        return changed == 1

    def sessions_of(self, device_id: str) -> list[SessionRow]:
        """A device's sessions, oldest first."""
        with self._lock:
            rows = self._db.execute(
                f"SELECT {_SESSION_COLS} FROM sessions WHERE device_id = ? ORDER BY created_ms",  # noqa: S608
                (device_id,),
            ).fetchall()
        return [_session(r) for r in rows]

    # --- documents -----------------------------------------------------------------------------------

    def next_serial(self, prefix: str, day: str) -> str:
        """A new serial `<prefix>-<day>-NNNNNN`, never reused."""
        with self._tx() as db:
            db.execute(
                "INSERT INTO serials VALUES (?, 1) ON CONFLICT (day) DO UPDATE SET last = last + 1", (day,)
            )
            (last,) = db.execute("SELECT last FROM serials WHERE day = ?", (day,)).fetchone()
        return f"{prefix}-{day}-{last:06d}"

    def store_document(self, doc: DocumentRow, audit: AuditEntry) -> bool:
        """Save a document and move its session AUTHENTICATED → ISSUED atomically; False if the session moved."""
        with self._tx() as db:
            changed = db.execute(
                "UPDATE sessions SET state = ? WHERE session_id = ? AND state = ?",
                (SessionState.ISSUED, doc.session_id, SessionState.AUTHENTICATED),
            ).rowcount
            if changed != 1:
                return False
            db.execute(
                f"INSERT INTO documents ({_DOC_COLS}) VALUES ({', '.join('?' * 17)})",  # noqa: S608
                (
                    doc.serial, doc.session_id, doc.device_id, doc.type_id, doc.payment_ref, doc.copies,
                    doc.state, doc.issued_ms, doc.reprint_until_ms, doc.reprints, doc.binding_json,
                    doc.binding_sig, doc.qr, doc.blob, doc.code_hmac, doc.holder_hmac, doc.content_digest,
                ),
            )  # fmt: skip
            self._audit(db, audit)
        return True

    def document_for_session(self, session_id: str) -> DocumentRow | None:
        """The session's document, if any."""
        with self._lock:
            row = self._db.execute(
                f"SELECT {_DOC_COLS} FROM documents WHERE session_id = ?",  # noqa: S608
                (session_id,),
            ).fetchone()
        return _document(row) if row else None

    def document(self, serial: str) -> DocumentRow | None:
        """A document by serial."""
        with self._lock:
            row = self._db.execute(
                f"SELECT {_DOC_COLS} FROM documents WHERE serial = ?",  # noqa: S608
                (serial,),
            ).fetchone()
        return _document(row) if row else None

    def update_document(
        self,
        serial: str,
        expected: tuple[DocState, ...],
        state: DocState,
        session_state: SessionState,
        audit: AuditEntry,
        *,
        wipe: bool = False,
        reprint_until_ms: int | None = None,
        count_reprint: bool = False,
    ) -> bool:
        """Compare-and-set a document (and its session) state, optionally wiping the PDF; audited."""
        marks = ", ".join("?" * len(expected))
        sets = "state = ?, reprint_until_ms = COALESCE(?, reprint_until_ms), reprints = reprints + ?"
        if wipe:
            sets += ", blob = NULL"
        with self._tx() as db:
            changed = db.execute(
                f"UPDATE documents SET {sets} WHERE serial = ? AND state IN ({marks})",  # noqa: S608
                (state, reprint_until_ms, int(count_reprint), serial, *expected),
            ).rowcount
            if changed != 1:
                return False
            db.execute(
                "UPDATE sessions SET state = ? WHERE session_id = (SELECT session_id FROM documents"
                " WHERE serial = ?)",
                (session_state, serial),
            )
            self._audit(db, audit)
        return True

    def stale_documents(self, now_ms: int) -> list[DocumentRow]:
        """Unconfirmed or failed documents whose reprint window has closed."""
        with self._lock:
            rows = self._db.execute(
                f"SELECT {_DOC_COLS} FROM documents WHERE state IN (?, ?) AND reprint_until_ms < ?",  # noqa: S608
                (DocState.ISSUED, DocState.PRINT_FAILED, now_ms),
            ).fetchall()
        return [_document(r) for r in rows]

    # --- audit ---------------------------------------------------------------------------------------

    @staticmethod
    def _audit(db: sqlite3.Connection, entry: AuditEntry) -> None:
        db.execute(
            "INSERT INTO audit (ts_ms, device_id, event, type_id, serial, cert_hmac) VALUES (?, ?, ?, ?, ?, ?)",
            (entry.ts_ms, entry.device_id, entry.event, entry.type_id, entry.serial, entry.cert_hmac),
        )

    def audit(self, entry: AuditEntry) -> None:
        """Append one audit line."""
        with self._tx() as db:
            self._audit(db, entry)

    def audit_log(self) -> list[AuditEntry]:
        """The whole audit log, oldest first."""
        with self._lock:
            rows = self._db.execute(
                "SELECT ts_ms, device_id, event, type_id, serial, cert_hmac FROM audit ORDER BY id"
            ).fetchall()
        return [AuditEntry(*r) for r in rows]
