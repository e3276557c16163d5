"""A Mosquitto with the device listener of contract §6 built from a PKI folder, for the provisioning tests."""

from __future__ import annotations

import socket
import subprocess
import time
from pathlib import Path

__all__ = ["TlsBroker", "publish"]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class TlsBroker:
    """Mosquitto with the device listener of contract §6, built from the PKI folder."""

    def __init__(self, pki: Path, workdir: Path) -> None:
        self.port = _free_port()
        self.conf = workdir / "mosquitto.conf"
        self.conf.write_text(
            f"listener {self.port} 127.0.0.1\n"
            f"cafile {pki / 'device-ca' / 'chain.pem'}\n"
            f"crlfile {pki / 'device-ca' / 'crl.pem'}\n"
            f"certfile {pki / 'services' / 'broker' / 'chain.pem'}\n"
            f"keyfile {pki / 'services' / 'broker' / 'key.pem'}\n"
            "require_certificate true\nuse_identity_as_username true\nallow_anonymous false\n"
            "tls_version tlsv1.2\n"
            "user root\n"  # pytest temp folders are 0700: the mosquitto user could not read them
        )
        self.proc: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        self.proc = subprocess.Popen(["mosquitto", "-c", str(self.conf)], stderr=subprocess.DEVNULL)
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                socket.create_connection(("127.0.0.1", self.port), timeout=0.2).close()
                return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("mosquitto did not start")

    def stop(self) -> None:
        if self.proc:
            self.proc.terminate()
            self.proc.wait(timeout=10)
            self.proc = None


def publish(broker: TlsBroker, root: Path, cert: Path, key: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        ["mosquitto_pub", "-h", "127.0.0.1", "-p", str(broker.port), "--cafile", str(root), "--cert", str(cert),
         "--key", str(key), "-t", "kiosk/v1/d/jp-131016-k01/up/state", "-m", "{}", "-V", "mqttv5"],
        capture_output=True, text=True, timeout=20, check=False,
    )  # fmt: skip
