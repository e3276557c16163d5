"""How long the fleet's CRLs stay valid, in the PKI and in the broker's copies.

A CRL past its nextUpdate makes OpenSSL refuse every certificate of that CA: for the device CA that
is the whole fleet at its next reconnect. `crl_checks` lists every CRL with the time left and a
problem when it is expired, due within `warn_s`, or when the broker's copy is older than the PKI's
(the daily refresh wrote a new CRL that never reached Mosquitto).
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
import time
from dataclasses import dataclass
from pathlib import Path

from cryptography import x509

from central_broker.broker_fleet import broker_crls
from central_broker.pki.authority import DEVICE, SERVICE

__all__ = ["DEFAULT_WARN_S", "CrlCheck", "CrlWatch", "crl_checks", "next_update"]

_logger = logging.getLogger(__name__)

DEFAULT_WARN_S = 3 * 86_400  # CRLs are valid 7 days and refreshed daily: 3 days left = 4 refreshes missed


@dataclass(frozen=True)
class CrlCheck:
    """One CRL file and what is wrong with it ("" when nothing)."""

    name: str  # e.g. "pki device-ca", "broker device-ca"
    path: Path
    next_update: float | None  # epoch seconds; None when unreadable
    problem: str

    def to_dict(self, now: float) -> dict[str, object]:
        """For `--json`."""
        left = None if self.next_update is None else round((self.next_update - now) / 3600, 1)
        return {"name": self.name, "path": str(self.path), "next_update": self.next_update,
                "hours_left": left, "problem": self.problem}  # fmt: skip


def next_update(path: Path) -> tuple[float | None, int | None]:
    """(nextUpdate as epoch seconds, CRL number of entries) of a PEM CRL; (None, None) when unreadable."""
    try:
        crl = x509.load_pem_x509_crl(path.read_bytes())
    except (OSError, ValueError):
        return None, None
    when = crl.next_update_utc
    return (None if when is None else when.timestamp()), len(crl)


def _date(epoch: float) -> str:
    return dt.datetime.fromtimestamp(epoch, dt.UTC).strftime("%Y-%m-%d %H:%M UTC")


def crl_checks(
    pki_dir: Path | None, broker_dir: Path | None, *, warn_s: float = DEFAULT_WARN_S, now: float | None = None
) -> list[CrlCheck]:
    """Check the PKI's CRLs and the broker's copies (either folder may be None)."""
    now = time.time() if now is None else now
    pki_next: dict[str, float | None] = {}
    files: list[tuple[str, str, Path]] = []
    if pki_dir is not None:
        files += [("pki", ca, pki_dir / ca / "crl.pem") for ca in (DEVICE, SERVICE)]
    if broker_dir is not None:
        files += [("broker", ca, path) for ca, path in broker_crls(broker_dir).items()]
    checks: list[CrlCheck] = []
    for where, ca, path in files:
        when, _entries = next_update(path)
        if where == "pki":
            pki_next[ca] = when
        if when is None:
            problem = f"{path} is missing or not a CRL"
        elif when <= now:
            problem = f"expired {_date(when)}: every {ca} certificate is refused; run `kiosk-central ca crl`"
        elif when - now <= warn_s:
            problem = f"expires {_date(when)}; the daily `kiosk-central ca crl` has not run (timer stopped?)"
        elif where == "broker" and (pki_next.get(ca) or 0) > when:
            problem = (
                f"older than the PKI's CRL (expires {_date(when)}): the refresh did not reach the broker; "
                "run `kiosk-central ca crl --broker-dir` and reload Mosquitto"
            )
        else:
            problem = ""
        checks.append(CrlCheck(f"{where} {ca}", path, when, problem))
    return checks


class CrlWatch:
    """The CRL problems for the dashboard, checked at most once a minute; each new problem is logged.

    Args:
        pki_dir / broker_dir: what `crl_checks` reads (either may be None).
        warn_s: how long before nextUpdate a CRL counts as a problem.
    """

    def __init__(
        self, pki_dir: Path | None, broker_dir: Path | None, *, warn_s: float = DEFAULT_WARN_S
    ) -> None:
        self._pki_dir = pki_dir
        self._broker_dir = broker_dir
        self._warn_s = warn_s
        self._lock = threading.Lock()
        self._checked_at = float("-inf")
        self._problems: list[str] = []

    def problems(self) -> list[str]:
        """One line per CRL that is expired, due soon, unreadable or stale at the broker."""
        with self._lock:
            if time.monotonic() - self._checked_at >= 60:
                self._checked_at = time.monotonic()
                found = [
                    f"CRL {c.name}: {c.problem}"
                    for c in crl_checks(self._pki_dir, self._broker_dir, warn_s=self._warn_s)
                    if c.problem
                ]
                for line in set(found) - set(self._problems):
                    _logger.warning("%s", line)
                self._problems = found
            return list(self._problems)
