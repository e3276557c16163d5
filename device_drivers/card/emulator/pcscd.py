"""A private pcscd with vsmartcard's vpcd reader, for tests, benchmarks and demos.

pcsc-lite 1.9.9 (Debian 12) has a fixed socket path (/run/pcscd/pcscd.comm) in the daemon,
while the client library honours ``PCSCLITE_CSOCK_NAME``. So the daemon runs in its own mount
namespace (``unshare --mount``) with a private directory bound over /run/pcscd, and clients
point ``PCSCLITE_CSOCK_NAME`` at it: no collision with a system pcscd. Without unshare rights
it falls back to the standard path when no system pcscd runs. The generated reader.conf puts
vpcd on a free port pair: reader ``<name> 00 00`` on P, ``<name> 00 01`` on P+1. Note that
vpcd itself listens on all addresses (libifdvpcd has no bind-address option); its reverse mode
(``DEVICENAME 127.0.0.1:port``, vpcd connects to the card) would avoid that, but on Debian 12 it
aborts pcscd ("bit out of range 0 - FD_SETSIZE on fd_set"), so it is not used.
"""

from __future__ import annotations

import logging
import shutil
import signal
import socket
import subprocess
import time
from pathlib import Path

__all__ = ["VPCD_DRIVER", "PrivatePcscd", "can_unshare", "free_port_pair", "wait_card_state"]

_logger = logging.getLogger(__name__)

VPCD_DRIVER = Path("/usr/lib/pcsc/drivers/serial/libifdvpcd.so")
SYSTEM_SOCKET = Path("/run/pcscd/pcscd.comm")


def _port_free(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        try:
            s.bind(("0.0.0.0", port))  # noqa: S104 - probing the port vpcd will bind on all addresses
        except OSError:
            return False
    return True


def free_port_pair() -> int:
    """A port P with P and P+1 free (vpcd opens one port per slot)."""
    for _ in range(50):
        with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
            s.bind(("127.0.0.1", 0))
            port = int(s.getsockname()[1])
        if port < 65535 and _port_free(port) and _port_free(port + 1):
            return port
    raise RuntimeError("no free port pair for vpcd")


def can_unshare() -> bool:
    """Whether this user may run pcscd in a private mount namespace."""
    if shutil.which("unshare") is None:
        return False
    probe = subprocess.run(
        ["unshare", "--mount", "--propagation", "private", "true"], capture_output=True, check=False
    )
    return probe.returncode == 0


class PrivatePcscd:
    """A pcscd serving two vpcd readers on `port` and `port + 1`, with its log in `workdir`."""

    def __init__(
        self, workdir: Path, port: int, *, private: bool, friendly: str = "Madoguchi Test PCD"
    ) -> None:
        self.workdir = workdir
        self.port = port
        self.private = private
        self.friendly = friendly
        self.proc: subprocess.Popen[bytes] | None = None

    @property
    def readers(self) -> list[str]:
        """The two reader names pcscd shows for vpcd."""
        return [f"{self.friendly} 00 00", f"{self.friendly} 00 01"]

    @property
    def reader(self) -> str:
        """The first vpcd reader."""
        return self.readers[0]

    @property
    def socket_path(self) -> Path:
        """The daemon's client socket (set ``PCSCLITE_CSOCK_NAME`` to it before the first PC/SC call)."""
        return self.workdir / "run" / "pcscd.comm" if self.private else SYSTEM_SOCKET

    def client_env(self) -> dict[str, str]:
        """Environment for PC/SC clients of this daemon."""
        return {"PCSCLITE_CSOCK_NAME": str(self.socket_path)} if self.private else {}

    def start(self, timeout: float = 10.0) -> None:
        """Start pcscd and wait until it lists the vpcd readers (the caller's env must be set)."""
        conf = self.workdir / "reader.conf.d"
        conf.mkdir(parents=True, exist_ok=True)
        (conf / "vpcd").write_text(
            f'FRIENDLYNAME "{self.friendly}"\nDEVICENAME /dev/null:0x{self.port:04X}\n'
            f"LIBPATH {VPCD_DRIVER}\nCHANNELID 0x{self.port:04X}\n"
        )
        run = self.workdir / "run"
        run.mkdir(exist_ok=True)
        for stale in run.iterdir():
            stale.unlink()
        if self.private:
            Path("/run/pcscd").mkdir(parents=True, exist_ok=True)
            script = f'mount --bind "{run}" /run/pcscd && exec pcscd -f -c "{conf}"'
            argv = ["unshare", "--mount", "--propagation", "private", "sh", "-c", script]
        else:
            argv = ["pcscd", "-f", "-c", str(conf)]
        with (self.workdir / "pcscd.log").open("ab") as log:
            self.proc = subprocess.Popen(argv, stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
        _logger.info("pcscd started (pid %d), vpcd on ports %d-%d", self.proc.pid, self.port, self.port + 1)
        self._wait_ready(timeout)

    def _wait_ready(self, timeout: float) -> None:
        from smartcard import scard

        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.proc is not None
            if self.proc.poll() is not None:
                tail = (self.workdir / "pcscd.log").read_text(errors="replace")[-2000:]
                raise RuntimeError(f"pcscd exited early: {tail}")
            if self.socket_path.exists():
                hr, ctx = scard.SCardEstablishContext(scard.SCARD_SCOPE_USER)
                if hr == scard.SCARD_S_SUCCESS:
                    hr, names = scard.SCardListReaders(ctx, [])
                    scard.SCardReleaseContext(ctx)
                    if hr == scard.SCARD_S_SUCCESS and self.reader in names:
                        return
            time.sleep(0.05)
        raise RuntimeError(f"pcscd did not list the vpcd readers within {timeout} s")

    def stop(self) -> None:
        """Stop pcscd (SIGTERM, then SIGKILL)."""
        if self.proc is None:
            return
        if self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)
        self.proc = None

    def restart(self) -> None:
        """Stop and start again on the same socket and ports."""
        self.stop()
        self.start()


def wait_card_state(reader: str, present: bool, timeout: float = 5.0) -> None:
    """Block until pcscd reports the card in `reader` as present (or absent); TimeoutError if not."""
    from smartcard import scard

    hr, ctx = scard.SCardEstablishContext(scard.SCARD_SCOPE_USER)
    if hr != scard.SCARD_S_SUCCESS:
        raise TimeoutError(f"pcscd not reachable while waiting for {reader!r}")
    try:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            hr, states = scard.SCardGetStatusChange(ctx, 0, [(reader, scard.SCARD_STATE_UNAWARE)])
            if hr == scard.SCARD_S_SUCCESS and bool(states[0][1] & scard.SCARD_STATE_PRESENT) == present:
                return
            time.sleep(0.05)
    finally:
        scard.SCardReleaseContext(ctx)
    raise TimeoutError(f"card in {reader!r} not {'present' if present else 'absent'} after {timeout} s")
