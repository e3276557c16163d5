"""`collect_logs`: gather a diagnostics bundle on the kiosk and upload it to the centre on `up/diag`.

The bundle is gzip-compressed JSON: this kiosk's latest health, the last hour of health snapshots,
outbox fill, open alerts and the most recent log lines (the app's journal under systemd, else the
files in `<data_dir>/logs/`). Log lines never carry personal data (nothing logs it); as a second line
of defence every run of 8 or more digits, or 4-digit groups as in `1234 5678 9012` (a My Number has 12
digits, a card number 16), and anything shaped
like an e-mail address is masked before the bundle leaves the kiosk. The bundle is capped at
`DIAG_MAX_PARTS` × `DIAG_PART_BYTES`: the oldest log lines are dropped first. A copy stays on the
kiosk in `<data_dir>/diagnostics/<cmd_id>.json.gz`.
"""

from __future__ import annotations

import base64
import gzip
import json
import logging
import os
import re
import shutil
import subprocess
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from madoguchi.contracts.messages import DIAG_MAX_PARTS, DIAG_PART_BYTES, DiagnosticsPart, Severity
from madoguchi.contracts.signed import CommandDocument
from madoguchi.contracts.topics import Up, up

if TYPE_CHECKING:
    from kiosk_app.agent.link import FleetAgent

__all__ = ["LogSource", "collect_logs_operation", "recent_log_lines", "redact", "split_bundle"]

_logger = logging.getLogger(__name__)

LogSource = Callable[[], list[str]]
LOG_LINES = 2000
_DIGITS = re.compile(r"\b(?:\d{8,}|\d{4}(?:[ -]\d{4}){2,3})\b")  # not dates or times
_EMAIL = re.compile(r"[\w.+-]+@[\w-]+\.[\w.-]+")
_UNITS = ("kiosk-ui.service", "kiosk-agent.service", "kiosk-enrol.service")


def redact(line: str) -> str:
    """Mask long digit runs and e-mail addresses."""
    return _EMAIL.sub("<email>", _DIGITS.sub("<digits>", line))


def recent_log_lines(data_dir: Path, limit: int = LOG_LINES) -> list[str]:
    """The newest `limit` log lines: the kiosk units' journal under systemd, else `<data_dir>/logs/*`."""
    journalctl = shutil.which("journalctl")
    if journalctl and os.environ.get("INVOCATION_ID"):
        units = [arg for unit in _UNITS for arg in ("-u", unit)]
        try:
            done = subprocess.run(
                [journalctl, *units, "-n", str(limit), "-o", "short-iso", "--no-pager"],
                capture_output=True,
                text=True,
                timeout=20,
                check=False,
            )
            if done.returncode == 0:
                return done.stdout.splitlines()[-limit:]
        except (OSError, subprocess.TimeoutExpired) as exc:
            _logger.warning("journalctl failed: %s", exc)
    lines: list[str] = []
    folder = data_dir / "logs"
    for path in sorted(folder.glob("*.log*"), key=lambda p: p.stat().st_mtime) if folder.is_dir() else []:
        try:
            lines += path.read_text(encoding="utf-8", errors="replace").splitlines()
        except OSError as exc:
            lines.append(f"(cannot read {path.name}: {exc.strerror})")
    return lines[-limit:]


def _compress(report: dict[str, Any], logs: list[str]) -> bytes:
    """gzip JSON of `report` plus as many of the newest `logs` as fit the cap."""
    cap = DIAG_MAX_PARTS * DIAG_PART_BYTES
    keep = len(logs)
    while True:
        body = dict(report, logs=logs[len(logs) - keep :], logs_dropped=len(logs) - keep)
        blob = gzip.compress(json.dumps(body, ensure_ascii=False).encode(), mtime=0)
        if len(blob) <= cap or keep == 0:
            return blob
        keep = keep * 3 // 4


def split_bundle(cmd_id: str, blob: bytes, ts: int) -> list[DiagnosticsPart]:
    """The `up/diag` messages carrying `blob`."""
    chunks = [blob[i : i + DIAG_PART_BYTES] for i in range(0, len(blob), DIAG_PART_BYTES)] or [b""]
    return [
        DiagnosticsPart(
            cmd_id=cmd_id, part=i, parts=len(chunks), data=base64.b64encode(chunk).decode(), ts=ts
        )
        for i, chunk in enumerate(chunks)
    ]


def collect_logs_operation(
    agent: FleetAgent, folder: Path, log_source: LogSource | None = None
) -> Callable[[CommandDocument], str]:
    """The `collect_logs` command: build, keep and upload the bundle; the detail names its size."""
    source = log_source or (lambda: recent_log_lines(agent.config.kiosk.data_dir))

    def collect(command: CommandDocument) -> str:
        fill = agent.telemetry.outbox.fill()
        report = {
            "device_id": agent.device_id,
            "cmd_id": command.cmd_id,
            "health": json.loads(agent.health().to_bytes()),
            "health_ring": [json.loads(h) for h in agent.telemetry.outbox.health_ring(60)],
            "outbox": fill.__dict__,
            "alerts": {k: json.loads(v.to_bytes()) for k, v in agent.telemetry.active_alerts().items()},
        }
        blob = _compress(report, [redact(line) for line in source()])
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"{command.cmd_id}.json.gz").write_bytes(blob)
        parts = split_bundle(command.cmd_id, blob, int(agent.clock() * 1000))
        topic = up(agent.device_id, Up.DIAG)
        sent = sum(1 for part in parts if agent.publish(topic, part.to_bytes()))
        if sent != len(parts):
            agent.emit_event("diagnostics_kept", Severity.WARNING, "not connected: bundle kept on the kiosk")
            raise RuntimeError(f"only {sent} of {len(parts)} diagnostics parts could be queued")
        agent.emit_event("diagnostics_uploaded", Severity.INFO, f"{len(blob)} bytes in {len(parts)} parts")
        return f"diagnostics uploaded: {len(blob)} bytes in {len(parts)} part(s)"

    return collect
