"""The virtual printer's TCP server (and optional pty): bytes in, replies out, one `VirtualPrinterCore`.

Binds 127.0.0.1 only. `start()` runs the accept loop in a background thread; `stop()` closes
everything. Nothing starts at import.
"""

from __future__ import annotations

import contextlib
import logging
import os
import select
import socket
import socketserver
import threading
import tty
from pathlib import Path

from device_drivers.printer.emulator.capabilities import Capabilities
from device_drivers.printer.emulator.machine import VirtualPrinterCore

__all__ = ["VirtualPrinterServer"]

_logger = logging.getLogger(__name__)


class _Handler(socketserver.BaseRequestHandler):
    server: _TcpServer

    def handle(self) -> None:
        core = self.server.core
        sock: socket.socket = self.request
        sock.settimeout(0.2)
        while not self.server.stopping.is_set():
            try:
                data = sock.recv(65536)
            except TimeoutError:
                late = core.poke()  # the state may have been fixed: print held data
                if late:
                    with contextlib.suppress(OSError):
                        sock.sendall(late)
                continue
            except OSError:
                break
            if not data:
                break
            reply = core.receive(data)
            if reply:
                try:
                    sock.sendall(reply)
                except OSError:
                    break
        core.flush()


class _TcpServer(socketserver.ThreadingTCPServer):
    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, address: tuple[str, int], core: VirtualPrinterCore) -> None:
        self.core = core
        self.stopping = threading.Event()
        super().__init__(address, _Handler)


class VirtualPrinterServer:
    """Serve one virtual printer on 127.0.0.1:`port` (0 = any free port) and optionally a pty."""

    def __init__(
        self,
        out_dir: Path,
        port: int = 9100,
        state_file: Path | None = None,
        width: int = 576,
        capabilities: Capabilities | None = None,
    ) -> None:
        self.core = VirtualPrinterCore(out_dir, state_file, width, capabilities)
        self._requested_port = port
        self._tcp: _TcpServer | None = None
        self._threads: list[threading.Thread] = []
        self._pty: tuple[int, int] | None = None
        self.pty_path: str | None = None

    @property
    def port(self) -> int:
        """The TCP port actually bound."""
        assert self._tcp is not None, "start() first"
        return int(self._tcp.server_address[1])

    @property
    def url(self) -> str:
        """The printer URL for the kiosk config."""
        return f"escpos+tcp://127.0.0.1:{self.port}"

    def start(self, with_pty: bool = False) -> None:
        """Bind and serve in background threads."""
        self._tcp = _TcpServer(("127.0.0.1", self._requested_port), self.core)
        thread = threading.Thread(target=self._tcp.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
        thread.start()
        self._threads.append(thread)
        if with_pty:
            master, slave = os.openpty()
            tty.setraw(slave)
            self._pty = (master, slave)
            self.pty_path = os.ttyname(slave)
            pty_thread = threading.Thread(target=self._serve_pty, args=(master,), daemon=True)
            pty_thread.start()
            self._threads.append(pty_thread)
        _logger.info(
            "virtual printer on 127.0.0.1:%d%s", self.port, f" and {self.pty_path}" if self.pty_path else ""
        )

    def _serve_pty(self, master: int) -> None:
        assert self._tcp is not None
        while not self._tcp.stopping.is_set():
            ready, _, _ = select.select([master], [], [], 0.2)
            if not ready:
                late = self.core.poke()
                if late:
                    os.write(master, late)
                continue
            try:
                data = os.read(master, 65536)
            except OSError:
                break
            reply = self.core.receive(data)
            if reply:
                os.write(master, reply)

    def stop(self) -> None:
        """Stop serving and close every socket and pty."""
        if self._tcp is not None:
            self._tcp.stopping.set()
            self._tcp.shutdown()
            self._tcp.server_close()
        for thread in self._threads:
            thread.join(timeout=2)
        if self._pty is not None:
            for fd in self._pty:
                with contextlib.suppress(OSError):
                    os.close(fd)
            self._pty = None

    def __enter__(self) -> VirtualPrinterServer:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()
