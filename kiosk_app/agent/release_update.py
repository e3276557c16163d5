"""Follow the app release named in `down/desired`: download, verify, hand over to the installer, report.

The centre names a release (`ReleaseRef`: version, sha256, length, https URL) in the kiosk's signed
`down/desired`. This agent part, running inside the kiosk app:

1. refuses a version not above both the running one and the highest ever committed (REJECTED), and
   never retries a version that already failed or was rolled back on this kiosk;
2. downloads the bundle over mutual TLS into `<releases>/incoming/` (QUEUED, DOWNLOADING), checks
   length and hash, then the bundle's own Ed25519 signature against the release keys baked into the
   image (VERIFIED) — a download error is retried after `[updates] retry_s`;
3. waits until no resident is being served (WAITING_IDLE), writes `<releases>/pending.json`
   (INSTALLING) and, when `[updates] apply_command` is set, starts it; on the image the
   `kiosk-update.path` unit starts `kiosk update apply-pending` instead. The installer restarts this
   app, so it cannot run inside it;
4. reports how the installer's attempt ended (APPLIED, ROLLED_BACK, FAILED, REJECTED) from the
   release history (`state.json`), once, whichever app process reads it first.

Progress is also written to `<releases>/agent.json` for `kiosk update status`.
"""

from __future__ import annotations

import json
import logging
import subprocess
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path

from kiosk_app.agent.durable import write_atomic
from kiosk_app.agent.release_fetch import FetchError, fetch_release
from kiosk_app.agent.telemetry import Telemetry
from madoguchi.contracts.messages import AckMessage, ReleaseAckStatus, Severity
from madoguchi.contracts.signed import ReleaseRef
from madoguchi.contracts.topics import Up, up
from madoguchi.errors import UserError
from provisioning.updates.bundle import open_bundle, version_key
from provisioning.updates.keys import load_public_keys
from provisioning.updates.manager import ReleaseManager

__all__ = ["PENDING_FILE", "RELEASE_ALERT", "ReleaseUpdater", "read_progress"]

_logger = logging.getLogger(__name__)

RELEASE_ALERT = "app-update"
PENDING_FILE = "pending.json"
PROGRESS_FILE = "agent.json"
_RESULTS = {
    "ok": ReleaseAckStatus.APPLIED,
    "rolled-back": ReleaseAckStatus.ROLLED_BACK,
    "failed": ReleaseAckStatus.FAILED,
    "refused": ReleaseAckStatus.REJECTED,
}


def read_progress(releases: Path) -> dict[str, object]:
    """What the agent last did with a release (for `kiosk update status`); empty before the first."""
    try:
        raw = json.loads((releases / PROGRESS_FILE).read_text())
    except (FileNotFoundError, ValueError):
        return {}
    return raw if isinstance(raw, dict) else {}


class ReleaseUpdater:
    """One kiosk's side of release rollouts.

    Args:
        device_id: this kiosk.
        releases: the side-by-side release folder (`ReleaseManager` root).
        release_keys: trusted release public key(s) (file or folder of `*.pub`).
        context: the mutual-TLS context for downloads (built when first needed).
        telemetry: for the `app-update` alert.
        publish: `(topic, payload)` on the agent's session.
        running_version: the app version this process runs.
        idle: whether no resident is being served.
        apply_command: started detached once a bundle is handed over (empty: a systemd path unit does it).
        retry_s: pause before a failed download is tried again.
    """

    def __init__(
        self,
        device_id: str,
        releases: Path,
        release_keys: Path,
        context: Callable[[], object],
        telemetry: Telemetry,
        *,
        publish: Callable[[str, bytes], bool],
        running_version: str,
        idle: Callable[[], bool] = lambda: True,
        apply_command: Sequence[str] = (),
        retry_s: float = 300.0,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.device_id = device_id
        self.releases = releases
        self.manager = ReleaseManager(releases.parent, root=releases)
        self._release_keys = release_keys
        self._context = context
        self._telemetry = telemetry
        self._publish = publish
        self.running_version = running_version
        self._idle = idle
        self._apply_command = list(apply_command)
        self._retry_s = retry_s
        self._clock = clock
        self._lock = threading.RLock()
        self._busy: str | None = None  # sha256 being fetched or verified
        self._verified: tuple[ReleaseRef, Path] | None = None
        self._retry: tuple[float, ReleaseRef] | None = None
        self._refused: set[str] = set()  # sha256s refused this run (one REJECTED per document)
        self._thread: threading.Thread | None = None

    # --- desired ------------------------------------------------------------------------------------

    def on_release(self, ref: ReleaseRef) -> None:
        """A verified `down/desired` names `ref`: start fetching it unless there is nothing to do."""
        with self._lock:
            if ref.sha256 in (self._busy, *self._refused) or self._handed_over(ref):
                return
            if self._verified is not None and self._verified[0].sha256 == ref.sha256:
                return
            if ref.version == self.running_version:
                self._retry = None
                return
            status = self.manager.status()
            floor = max(
                (v for v in (status.highest, self.running_version) if v), key=version_key, default=None
            )
            if floor is not None and version_key(ref.version) <= version_key(floor):
                self._refused.add(ref.sha256)
                self._fail(ref, ReleaseAckStatus.REJECTED,
                           f"release {ref.version} is not above {floor} (going back is refused; publish a higher version)")  # fmt: skip
                return
            if self._already_failed(ref.version, status.history):
                return  # reported when it failed; a new version is needed
            if self._integrity_failed(ref.sha256):
                return
            self._busy, self._retry = ref.sha256, None
            self._ack(ref, ReleaseAckStatus.QUEUED, "")
            self._thread = threading.Thread(
                target=self._fetch, args=(ref,), name="release-fetch", daemon=True
            )
            self._thread.start()

    def _fetch(self, ref: ReleaseRef) -> None:
        self._ack(ref, ReleaseAckStatus.DOWNLOADING, f"{ref.length} bytes")
        try:
            path = fetch_release(ref, self.releases / "incoming", self._context())  # type: ignore[arg-type]
        except FetchError as exc:
            with self._lock:
                self._busy = None
                if exc.integrity:
                    self._remember_integrity_failure(ref.sha256)
                    self._fail(ref, ReleaseAckStatus.FAILED, str(exc))
                else:
                    self._retry = (self._clock() + self._retry_s, ref)
                    self._fail(ref, ReleaseAckStatus.FAILED, f"{exc}; trying again in {self._retry_s:g} s")
            return
        try:
            manifest = open_bundle(path, load_public_keys(self._release_keys)).manifest
            if manifest.version != ref.version:
                raise UserError(
                    f"the bundle is release {manifest.version}, the desired document says {ref.version}"
                )
        except UserError as exc:
            path.unlink(missing_ok=True)
            with self._lock:
                self._busy = None
                self._remember_integrity_failure(ref.sha256)
                self._fail(ref, ReleaseAckStatus.REJECTED, f"bundle refused: {exc.message}")
            return
        with self._lock:
            self._busy = None
            self._verified = (ref, path)
            self._ack(
                ref,
                ReleaseAckStatus.VERIFIED,
                f"signed release {manifest.version}, {len(manifest.files)} wheels",
            )
            if not self._idle():
                self._ack(ref, ReleaseAckStatus.WAITING_IDLE, "installed after the current resident")
                return
        self._hand_over()

    # --- periodic -----------------------------------------------------------------------------------

    def tick(self) -> None:
        """Retry a failed download when due, hand over a verified bundle once idle, report results."""
        retry = self._retry
        if retry is not None and self._clock() >= retry[0]:
            self._retry = None
            self.on_release(retry[1])
        if self._verified is not None and self._idle():
            self._hand_over()
        self.report_results()

    def _hand_over(self) -> None:
        with self._lock:
            verified, self._verified = self._verified, None
            if verified is None:
                return
            ref, path = verified
            record = {"version": ref.version, "sha256": ref.sha256, "bundle": str(path), "at": self._clock()}
            write_atomic(self.releases / PENDING_FILE, json.dumps(record).encode())
            self._ack(
                ref,
                ReleaseAckStatus.INSTALLING,
                "installing side by side; the app restarts on the new release",
            )
        if self._apply_command:
            log = (self.releases / "apply.log").open("ab")
            try:
                subprocess.Popen(
                    self._apply_command,
                    stdin=subprocess.DEVNULL,
                    stdout=log,
                    stderr=log,
                    start_new_session=True,
                )
            except OSError as exc:
                _logger.error("%s: starting the release installer failed: %s", self.device_id, exc)
                self._fail(ref, ReleaseAckStatus.FAILED, f"could not start the installer: {exc}")
            finally:
                log.close()

    def report_results(self) -> None:
        """Ack each attempt the installer finished that no process has reported yet."""
        with self._lock:
            progress = read_progress(self.releases)
            reported = [str(k) for k in progress.get("reported", [])]  # type: ignore[attr-defined]
            fresh = []
            for entry in self.manager.status().history:
                key = f"{entry.get('version')}|{entry.get('at')}|{entry.get('result')}"
                if entry.get("action") == "apply" and key not in reported and entry.get("result") in _RESULTS:
                    fresh.append((key, entry))
            if not fresh:
                return
            for key, entry in fresh:
                status = _RESULTS[str(entry["result"])]
                name = f"release-{entry['version']}"
                self._ack(name, status, str(entry.get("detail", "")))
                if status is ReleaseAckStatus.APPLIED:
                    self._telemetry.clear_alert(RELEASE_ALERT)
                else:
                    self._telemetry.raise_alert(RELEASE_ALERT, f"release_{status.value.lower()}", Severity.ERROR,
                                                f"{name}: {entry.get('detail', '')}"[:500])  # fmt: skip
                reported.append(key)
            last = fresh[-1][1]
            step = {"version": last.get("version"), "status": _RESULTS[str(last["result"])].value,
                    "detail": str(last.get("detail", ""))[:500], "at": last.get("at")}  # fmt: skip
            self._save_progress(reported=reported[-40:], step=step)

    # --- state --------------------------------------------------------------------------------------

    def _handed_over(self, ref: ReleaseRef) -> bool:
        try:
            pending = json.loads((self.releases / PENDING_FILE).read_text())
        except (FileNotFoundError, ValueError):
            return False
        return isinstance(pending, dict) and pending.get("sha256") == ref.sha256

    @staticmethod
    def _already_failed(version: str, history: list[dict[str, object]]) -> bool:
        return any(
            e.get("version") == version
            and e.get("action") == "apply"
            and e.get("result") in ("rolled-back", "failed")
            for e in history
        )

    def _integrity_failed(self, sha256: str) -> bool:
        return sha256 in [str(s) for s in read_progress(self.releases).get("integrity_failed", [])]  # type: ignore[attr-defined]

    def _remember_integrity_failure(self, sha256: str) -> None:
        failed = [str(s) for s in read_progress(self.releases).get("integrity_failed", [])]  # type: ignore[attr-defined]
        self._save_progress(integrity_failed=[*failed, sha256][-20:])

    def _save_progress(self, **values: object) -> None:
        progress = read_progress(self.releases) | values
        self.releases.mkdir(parents=True, exist_ok=True)
        write_atomic(self.releases / PROGRESS_FILE, json.dumps(progress).encode())

    # --- reporting ----------------------------------------------------------------------------------

    def _ack(self, ref: ReleaseRef | str, status: ReleaseAckStatus, detail: str) -> None:
        name = ref if isinstance(ref, str) else f"release-{ref.version}"
        message = AckMessage(ref=name, kind="release", status=status.value, detail=detail[:500],
                             ts=int(self._clock() * 1000))  # fmt: skip
        self._publish(up(self.device_id, Up.ACK), message.to_bytes())
        if not isinstance(ref, str):
            self._save_progress(step={"version": ref.version, "status": status.value, "detail": detail[:500],
                                      "at": int(self._clock())})  # fmt: skip

    def _fail(self, ref: ReleaseRef, status: ReleaseAckStatus, detail: str) -> None:
        _logger.error("%s: release %s %s: %s", self.device_id, ref.version, status.value, detail)
        self._ack(ref, status, detail)
        self._telemetry.raise_alert(RELEASE_ALERT, f"release_{status.value.lower()}", Severity.ERROR,
                                    f"release-{ref.version}: {detail}"[:500])  # fmt: skip

    def wait_idle(self, timeout_s: float = 30.0) -> None:
        """Tests and shutdown: wait for a running download to end."""
        thread = self._thread
        if thread is not None:
            thread.join(timeout_s)
