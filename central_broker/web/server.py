"""Run the web app with uvicorn on a background thread (for `kiosk-central serve` and the browser tests)."""

from __future__ import annotations

import asyncio
import gc
import logging
import socket
import threading
import time

import uvicorn
from fastapi import FastAPI

from madoguchi.errors import UserError

__all__ = ["WebServer", "freeze_startup_objects"]

_logger = logging.getLogger(__name__)


def freeze_startup_objects() -> None:
    """Move everything allocated so far (modules, app, catalog) out of the cyclic GC's reach.

    A full (generation 2) collection otherwise walks every object of FastAPI, SQLAlchemy and pydantic
    and pauses a request by 100-200 ms every few fleet-page rebuilds; after this it walks only what
    was allocated since. Call once, after start-up.
    """
    gc.collect()
    gc.freeze()


class WebServer:
    """uvicorn serving `app` on `host:port` until `stop()`.

    Args:
        app: the ASGI app.
        host: loopback unless the configuration says otherwise.
        port: TCP port.
    """

    def __init__(self, app: FastAPI, host: str, port: int) -> None:
        self.host = host
        self.port = port
        config = uvicorn.Config(
            app, host=host, port=port, log_level="warning", access_log=False, timeout_graceful_shutdown=2
        )
        self._server = uvicorn.Server(config)
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        """Base URL, e.g. http://127.0.0.1:8080."""
        return f"http://{self.host}:{self.port}"

    def start(self, timeout: float = 10.0) -> None:
        """Start serving; wait until the port accepts connections.

        Raises:
            UserError: the server did not come up (port taken, …).
        """
        freeze_startup_objects()
        self._thread = threading.Thread(target=self._run, name="web", daemon=True)
        self._thread.start()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._server.started:
                _logger.info("web serving on %s", self.url)
                return
            if not self._thread.is_alive():
                break
            time.sleep(0.05)
        raise UserError(
            f"the web server could not listen on {self.host}:{self.port} (is the port taken?)",
            "choose another port with --web-port N or [web] port, or 0 to run without the web",
        )

    def _run(self) -> None:
        asyncio.run(self._server.serve())

    def stop(self, timeout: float = 10.0) -> None:
        """Stop serving and wait for the thread."""
        self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout)

    @staticmethod
    def free_port(host: str = "127.0.0.1") -> int:
        """A TCP port nobody listens on right now."""
        with socket.socket() as sock:
            sock.bind((host, 0))
            port: int = sock.getsockname()[1]
            return port
