"""Side-by-side releases under `<data>/releases/<ver>/`, an atomic `current` symlink, health gate, rollback.

releases/1.4.0/{wheels/, venv/, manifest.json}
releases/current  -> 1.4.0      (what the units run: releases/current/venv/bin/kiosk)
releases/previous -> 1.3.2
releases/state.json             highest committed version and the history of attempts
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import shutil
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PublicKey

from madoguchi.errors import UserError
from provisioning.updates.bundle import VerifiedBundle, extract_wheels, open_bundle, version_key
from provisioning.updates.health import HealthCheck, Restarter

__all__ = ["ReleaseManager", "ReleaseStatus", "UpdateFailed", "install_reason"]

_logger = logging.getLogger(__name__)
KEEP_RELEASES = 3
HISTORY = 20


def install_reason(stderr: str, limit: int = 400) -> str:
    """pip's own error lines (`ERROR: ...`), else its last lines, trimmed to `limit` characters.

    pip reports requirements, wheel names, tags and paths under the release folder; nothing about residents.
    """
    lines = [line.strip() for line in stderr.splitlines() if line.strip()]
    errors = [line.removeprefix("ERROR: ") for line in lines if line.startswith("ERROR:")]
    text = "; ".join(errors or lines[-3:]) or "no error output"
    return text if len(text) <= limit else text[: limit - 3] + "..."


class UpdateFailed(UserError):
    """The new release did not pass the health gate; the previous one runs again."""


@dataclass(frozen=True)
class ReleaseStatus:
    """What `kiosk update status` shows."""

    current: str | None
    previous: str | None
    highest: str | None
    installed: list[str]
    history: list[dict[str, object]] = field(default_factory=list)


class ReleaseManager:
    """Installs verified bundles and switches between releases; one operation at a time (file lock)."""

    def __init__(
        self, data_dir: Path, python: str = sys.executable, with_pip: bool = True, root: Path | None = None
    ) -> None:
        self.root = root or data_dir / "releases"
        self.python = python
        self.with_pip = with_pip

    # -- state ---------------------------------------------------------------
    def _state(self) -> dict[str, object]:
        try:
            raw = json.loads((self.root / "state.json").read_text())
        except FileNotFoundError:
            return {"highest": None, "history": []}
        return raw if isinstance(raw, dict) else {"highest": None, "history": []}

    def _save(self, state: dict[str, object]) -> None:
        tmp = self.root / ".state.json.tmp"
        with tmp.open("w") as handle:
            json.dump(state, handle, indent=2)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, self.root / "state.json")
        self._fsync_dir()

    def _log(self, state: dict[str, object], version: str, action: str, result: str, detail: str) -> None:
        history = list(state.get("history", []))  # type: ignore[call-overload]
        history.append(
            {"version": version, "action": action, "result": result, "detail": detail, "at": int(time.time())}
        )
        state["history"] = history[-HISTORY:]
        self._save(state)

    def _target(self, name: str) -> str | None:
        """Raw target of `releases/<name>`: a version folder, or an absolute path (the image's factory release)."""
        try:
            return os.readlink(self.root / name)
        except OSError:
            return None

    def _link(self, name: str) -> str | None:
        target = self._target(name)
        return Path(target).name if target else None

    def status(self) -> ReleaseStatus:
        """Current, previous, highest committed and installed releases, and recent attempts."""
        state = self._state()
        installed = sorted(
            (p.name for p in self.root.glob("*") if p.is_dir() and not p.is_symlink() and (p / "manifest.json").exists()),
            key=version_key,
        ) if self.root.is_dir() else []  # fmt: skip
        highest = state.get("highest")
        return ReleaseStatus(
            self._link("current"),
            self._link("previous"),
            str(highest) if highest else None,
            installed,
            list(state.get("history", [])),  # type: ignore[call-overload]
        )

    # -- operations ----------------------------------------------------------
    @contextmanager
    def _locked(self) -> Iterator[None]:
        self.root.mkdir(parents=True, exist_ok=True)
        with (self.root / ".lock").open("w") as lock:
            try:
                fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                raise UserError("another update is running", "wait for it to finish") from None
            yield

    def apply(
        self,
        bundle: Path,
        keys: dict[str, Ed25519PublicKey],
        health: HealthCheck,
        restarter: Restarter,
        timeout_s: float,
    ) -> ReleaseStatus:
        """Verify, install side by side, switch, restart, gate on health; roll back when unhealthy.

        Raises:
            UserError: bad signature, tampered file, version not above the highest committed one.
            UpdateFailed: the health gate failed and the previous release was restored.
        """
        verified = open_bundle(bundle, keys)
        version = verified.manifest.version
        with self._locked():
            state = self._state()
            highest = state.get("highest")
            current = self._link("current")
            floor = max(
                [v for v in (str(highest) if highest else None, current) if v], key=version_key, default=None
            )
            if floor is not None and version_key(version) <= version_key(floor):
                self._log(state, version, "apply", "refused", f"not above {floor}")
                raise UserError(
                    f"release {version} is not newer than {floor}; going back to a lower version is refused",
                    "to undo a release, publish the old content as a new, higher version (or `kiosk update rollback`)",
                )
            self._install(verified, state)
            return self._switch_and_gate(version, "apply", health, restarter, timeout_s, state)

    def rollback(self, health: HealthCheck, restarter: Restarter, timeout_s: float) -> ReleaseStatus:
        """Switch back to the previous installed release (an operator action), with the same health gate."""
        with self._locked():
            previous = self._target("previous")
            if previous is None or not (self.root / previous / "manifest.json").exists():
                raise UserError("there is no previous release to go back to", "see `kiosk update status`")
            return self._switch_and_gate(previous, "rollback", health, restarter, timeout_s, self._state())

    def _install(self, verified: VerifiedBundle, state: dict[str, object]) -> None:
        manifest = verified.manifest
        dest = self.root / manifest.version
        if dest.exists():
            shutil.rmtree(dest)  # an earlier attempt of this version that never became current
        extract_wheels(verified, dest / "wheels")
        venv = [self.python, "-m", "venv", *([] if self.with_pip else ["--without-pip"]), str(dest / "venv")]
        pip = [
            self.python, "-m", "pip", "--python", str(dest / "venv" / "bin" / "python"), "install", "--quiet",
            "--no-index", "--no-cache-dir", "--disable-pip-version-check", "--find-links", str(dest / "wheels"),
            manifest.requirement(),
        ]  # fmt: skip
        for argv in (venv, pip):
            result = subprocess.run(argv, capture_output=True, text=True, timeout=900, check=False)
            if result.returncode != 0:
                shutil.rmtree(dest, ignore_errors=True)
                reason = f"installing release {manifest.version} failed: {install_reason(result.stderr)}"
                self._log(state, manifest.version, "apply", "failed", reason)  # the app reports it as FAILED
                raise UserError(
                    reason,
                    "the bundle's wheels must match this kiosk's Python and CPU (aarch64, cp311/cp313)",
                )
        (dest / "manifest.json").write_text(manifest.model_dump_json(indent=2))
        self._fsync_dir()

    def _switch_and_gate(
        self,
        target: str,
        action: str,
        health: HealthCheck,
        restarter: Restarter,
        timeout_s: float,
        state: dict[str, object],
    ) -> ReleaseStatus:
        version = Path(target).name
        before_target = self._target("current")
        before = Path(before_target).name if before_target else None
        previous_before = self._target("previous")
        self._point("current", target)
        if before_target is not None and before != version:
            self._point("previous", before_target)
        since = time.time()
        result = self._restart_and_wait(version, since, health, restarter, timeout_s)
        if result[0]:
            if action == "apply":
                state["highest"] = version
            self._log(state, version, action, "ok", result[1])
            self._prune()
            _logger.info("release %s is current (%s)", version, result[1])
            return self.status()
        _logger.error("release %s failed its health check: %s", version, result[1])
        if before_target is None or before is None or before == version:
            self._log(state, version, action, "failed", result[1])
            raise UpdateFailed(
                f"release {version} failed its health check: {result[1]}", "no earlier release to go back to"
            )
        self._point("current", before_target)
        if previous_before is not None:  # `previous` stays the last good release, never the failed one
            self._point("previous", previous_before)
        else:
            (self.root / "previous").unlink(missing_ok=True)
        back = self._restart_and_wait(before, time.time(), health, restarter, timeout_s)
        detail = f"{result[1]}; rolled back to {before} ({back[1]})"
        self._log(state, version, action, "rolled-back", detail)
        raise UpdateFailed(
            f"release {version} failed its health check and was rolled back to {before}", detail
        )

    @staticmethod
    def _restart_and_wait(
        version: str, since: float, health: HealthCheck, restarter: Restarter, timeout_s: float
    ) -> tuple[bool, str]:
        try:
            restarter.restart()
        except RuntimeError as exc:
            return False, str(exc)
        outcome = health.wait(version, since, timeout_s)
        return outcome.healthy, outcome.detail

    def _point(self, name: str, target: str) -> None:
        """Atomically make `releases/<name>` point at `target` (symlink + rename)."""
        tmp = self.root / f".{name}.tmp"
        tmp.unlink(missing_ok=True)
        os.symlink(target, tmp)
        os.replace(tmp, self.root / name)
        self._fsync_dir()

    def _fsync_dir(self) -> None:
        fd = os.open(self.root, os.O_RDONLY)
        try:
            os.fsync(fd)
        finally:
            os.close(fd)

    def _prune(self, keep: Sequence[str] = ()) -> None:
        live = {self._link("current"), self._link("previous"), *keep}
        installed = self.status().installed
        for version in installed[:-KEEP_RELEASES]:
            if version not in live:
                shutil.rmtree(self.root / version, ignore_errors=True)
