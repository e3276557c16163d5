"""A4 printing through CUPS (``cups://QUEUE?server=HOST:PORT``) with the `lp` and `ipptool` clients.

Health comes from IPP Get-Printer-Attributes (printer-state, printer-state-reasons,
printer-is-accepting-jobs); job completion from the job's IPP state. Nothing here reads or logs
the document.
"""

from __future__ import annotations

import enum
import logging
import re
import subprocess
import tempfile
import time
from dataclasses import dataclass

from device_drivers.printer.errors import PrinterConfigError, PrinterNotReady, PrinterOffline
from madoguchi.device_urls import DeviceKind, DeviceUrlError, parse_device_url

__all__ = ["A4Health", "A4Status", "CupsPrinter", "JobState"]

_logger = logging.getLogger(__name__)

_ATTRS_TEST = """{
  NAME "get"
  OPERATION Get-Printer-Attributes
  GROUP operation-attributes-tag
  ATTR charset attributes-charset utf-8
  ATTR naturalLanguage attributes-natural-language en
  ATTR uri printer-uri $uri
  ATTR keyword requested-attributes printer-state,printer-state-reasons,printer-is-accepting-jobs
  STATUS successful-ok
  DISPLAY printer-state
  DISPLAY printer-state-reasons
  DISPLAY printer-is-accepting-jobs
}
"""
_JOB_TEST = """{
  NAME "job"
  OPERATION Get-Job-Attributes
  GROUP operation-attributes-tag
  ATTR charset attributes-charset utf-8
  ATTR naturalLanguage attributes-natural-language en
  ATTR uri printer-uri $uri
  ATTR integer job-id $job_id
  STATUS successful-ok
  DISPLAY job-state
}
"""
_BLOCKING = (
    "media-empty",
    "media-jam",
    "door-open",
    "cover-open",
    "offline",
    "paused",
    "shutdown",
    "toner-empty",
)


def _blocks(reason: str) -> bool:
    """An IPP printer-state-reason that stops printing (RFC 8011: no suffix or -error = error severity)."""
    if reason.endswith(("-report", "-warning")):
        return False
    return reason.endswith("-error") or reason.startswith(_BLOCKING)


class A4Health(enum.StrEnum):
    """Summary for the kiosk and the fleet link."""

    OK = "ok"
    WARNING = "warning"
    ERROR = "error"


class JobState(enum.IntEnum):
    """IPP job-state (RFC 8011)."""

    PENDING = 3
    HELD = 4
    PROCESSING = 5
    STOPPED = 6
    CANCELED = 7
    ABORTED = 8
    COMPLETED = 9


@dataclass(frozen=True)
class A4Status:
    """The A4 printer's state as CUPS reports it."""

    reachable: bool
    state: str = "unknown"  # idle, processing, stopped
    reasons: tuple[str, ...] = ()
    accepting: bool = False

    @property
    def health(self) -> A4Health:
        """ERROR when it cannot print (paper, jam, door, offline, stopped), WARNING on other reasons."""
        if not self.reachable or not self.accepting or self.state == "stopped":
            return A4Health.ERROR
        if any(_blocks(r) for r in self.reasons):
            return A4Health.ERROR
        return A4Health.WARNING if self.reasons else A4Health.OK


class CupsPrinter:
    """One CUPS queue."""

    def __init__(self, url: str, timeout: float = 5.0) -> None:
        try:
            parsed = parse_device_url(DeviceKind.A4_PRINTER, url)
        except DeviceUrlError as exc:
            raise PrinterConfigError(str(exc)) from exc
        if parsed.scheme != "cups":
            raise PrinterConfigError(f"{url!r} is not a CUPS queue; write cups://QUEUE?server=HOST:PORT")
        self.queue = parsed.target.strip("/")
        self.server = parsed.params.get("server", "localhost:631")
        self.timeout = timeout

    @property
    def printer_uri(self) -> str:
        """The queue's IPP URI."""
        return f"ipp://{self.server}/printers/{self.queue}"

    def _ipptool(self, test: str, **variables: str) -> str:
        # $uri in the test is the printer URI given on the command line (never pass it with -d).
        with tempfile.NamedTemporaryFile("w", suffix=".test") as spec:
            spec.write(test)
            spec.flush()
            args = ["ipptool", "-T", str(int(self.timeout))]
            for key, value in variables.items():
                args += ["-d", f"{key}={value}"]
            args += ["-t", self.printer_uri, spec.name]
            try:
                done = subprocess.run(
                    args, capture_output=True, text=True, timeout=self.timeout + 2, check=False
                )
            except (OSError, subprocess.TimeoutExpired) as exc:
                raise PrinterOffline(f"CUPS at {self.server} does not answer: {exc}") from exc
        if done.returncode != 0:
            raise PrinterOffline(f"CUPS queue {self.queue} at {self.server}: {done.stdout.strip()[-300:]}")
        return done.stdout

    def status(self) -> A4Status:
        """The queue's state; unreachable when CUPS or the queue does not answer."""
        try:
            text = self._ipptool(_ATTRS_TEST)
        except PrinterOffline as exc:
            _logger.info("A4 printer %s unreachable: %s", self.queue, exc.detail)
            return A4Status(reachable=False)
        values = dict(re.findall(r"^\s*([a-z-]+) \([^)]*\) = (.*)$", text, re.MULTILINE))
        reasons = tuple(
            r for r in values.get("printer-state-reasons", "none").split(",") if r and r != "none"
        )
        return A4Status(
            reachable=True,
            state=values.get("printer-state", "unknown"),
            reasons=reasons,
            accepting=values.get("printer-is-accepting-jobs", "false") == "true",
        )

    def submit(self, pdf: bytes, title: str) -> int:
        """Queue `pdf` on A4 after a health check; return the CUPS job id."""
        status = self.status()
        if status.health is A4Health.ERROR:
            problem = ", ".join(status.reasons) or status.state
            raise PrinterNotReady(
                f"A4 printer {self.queue} cannot print: {problem}", code="printer.a4_not_ready"
            )
        args = ["lp", "-h", self.server, "-d", self.queue, "-o", "media=A4", "-t", title, "-"]
        try:
            done = subprocess.run(
                args, input=pdf, capture_output=True, timeout=self.timeout + 10, check=False
            )
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise PrinterOffline(f"cannot submit to CUPS at {self.server}: {exc}") from exc
        match = re.search(rb"request id is \S+-(\d+)", done.stdout)
        if done.returncode != 0 or not match:
            raise PrinterNotReady(f"CUPS refused the job: {done.stderr.decode(errors='replace').strip()}")
        return int(match.group(1))

    def job_state(self, job_id: int) -> JobState:
        """The IPP state of job `job_id`."""
        text = self._ipptool(_JOB_TEST, job_id=str(job_id))
        match = re.search(r"job-state \([^)]*\) = (\S+)", text)
        names = {s.name.lower(): s for s in JobState}
        return names.get(match.group(1), JobState.PENDING) if match else JobState.PENDING

    def wait(self, job_id: int, timeout: float = 60.0) -> JobState:
        """Wait until the job ends (completed, aborted, canceled) or `timeout` passes."""
        deadline = time.monotonic() + timeout
        state = self.job_state(job_id)
        while state < JobState.STOPPED and time.monotonic() < deadline:
            if state in (JobState.PENDING, JobState.HELD) and self.status().state == "stopped":
                _logger.warning("A4 job %d waits on stopped queue %s", job_id, self.queue)
                break  # a filter or backend failed, or staff paused the queue: report, do not hang
            time.sleep(0.2)
            state = self.job_state(job_id)
        return state
