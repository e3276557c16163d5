"""The simulator's end of the line: a pty pair whose master it reads and writes.

The slave is put in raw mode at once (in canonical mode 0x03 is the interrupt character and the
line is lost). The simulator keeps its own slave descriptor open so the master never reads EIO
while the kiosk is away. The slave path is published in a link file and/or a stable symlink
(like a udev SYMLINK); `unplug()` closes the master, `replug()` opens a new pair and re-points both.
"""

from __future__ import annotations

import contextlib
import errno
import fcntl
import logging
import os
import select
import tty
from collections.abc import Callable
from pathlib import Path

from device_drivers.payment.errors import LinkLost

__all__ = ["PtyDevice"]

_logger = logging.getLogger(__name__)


class PtyDevice:
    """A pty pair playing the terminal's serial port.

    Args:
        link_file: text file that receives the slave path (replaced atomically).
        symlink: stable symlink pointing at the slave (replaced atomically).
        poll: seconds one `read()` waits.
    """

    def __init__(
        self, link_file: Path | None = None, symlink: Path | None = None, poll: float = 0.01
    ) -> None:
        self.link_file = link_file
        self.symlink = symlink
        self.poll = poll
        self.path = ""
        self._master: int | None = None
        self._slave: int | None = None
        self.rx_filter: Callable[[bytes], bytes] | None = None
        self.plugs = 0

    @property
    def plugged(self) -> bool:
        """True while the master is open."""
        return self._master is not None

    def open(self) -> str:
        """Create the pair, publish the slave path and return it."""
        master, slave = os.openpty()
        tty.setraw(slave)
        flags = fcntl.fcntl(master, fcntl.F_GETFL)
        fcntl.fcntl(master, fcntl.F_SETFL, flags | os.O_NONBLOCK)
        self._master, self._slave = master, slave
        self.plugs += 1
        self.path = os.ttyname(slave)
        self._publish()
        return self.path

    def _publish(self) -> None:
        if self.link_file is not None:
            tmp = self.link_file.with_name(self.link_file.name + ".tmp")
            tmp.write_text(self.path + "\n", encoding="utf-8")
            os.replace(tmp, self.link_file)
        if self.symlink is not None:
            tmp = self.symlink.with_name(self.symlink.name + ".tmp")
            with contextlib.suppress(FileNotFoundError):
                tmp.unlink()
            os.symlink(self.path, tmp)
            os.replace(tmp, self.symlink)

    def read(self, max_bytes: int) -> bytes:
        """Bytes from the kiosk, waiting at most one poll."""
        master = self._master
        if master is None:
            raise LinkLost("simulator unplugged")
        ready, _, _ = select.select([master], [], [], self.poll)
        if not ready:
            return b""
        try:
            data = os.read(master, max_bytes)
        except BlockingIOError:
            return b""
        except OSError as exc:
            if exc.errno == errno.EIO:
                return b""
            raise LinkLost(f"pty master read failed: {exc}") from exc
        if self.rx_filter is not None:
            data = self.rx_filter(data)
        return data

    def write(self, data: bytes) -> None:
        """Write to the kiosk; bytes that do not fit (nobody reading) are lost, like on a wire."""
        master = self._master
        if master is None:
            raise LinkLost("simulator unplugged")
        view = memoryview(data)
        while view:
            try:
                written = os.write(master, view)
            except BlockingIOError:
                _logger.debug("pty full: %d bytes lost", len(view))
                return
            except OSError as exc:
                raise LinkLost(f"pty master write failed: {exc}") from exc
            view = view[written:]

    def unplug(self) -> None:
        """Close the master (the kiosk's reads fail as on a pulled cable)."""
        for fd in (self._master, self._slave):
            if fd is not None:
                with contextlib.suppress(OSError):
                    os.close(fd)
        self._master = self._slave = None
        _logger.info("simulator unplugged from %s", self.path)

    def replug(self) -> str:
        """Open a new pair and re-point the link file and symlink."""
        self.unplug()
        path = self.open()
        _logger.info("simulator re-plugged on %s", path)
        return path

    def close(self) -> None:
        """Close both ends and remove the published symlink."""
        self.unplug()
        if self.symlink is not None:
            with contextlib.suppress(FileNotFoundError):
                self.symlink.unlink()
