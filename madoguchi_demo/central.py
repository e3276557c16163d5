"""The demo's central: a TOML configuration with certificate issuance (card emulator CA), its keys, the
always-open demo catalog and visit queue, staff-registered payment orders for the autopilot, and the summary read back.

Everything is written under `<data_dir>/central`; the kiosk gets the issuance public key in
`<data_dir>/kiosk/trust/issuance.pub`, where `kiosk run` looks for it.
"""

from __future__ import annotations

import base64
import logging
import os
from dataclasses import dataclass
from pathlib import Path

from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from central_broker.store import open_store
from central_broker.web.setup import open_orders
from madoguchi.contracts.catalog import load_catalog
from madoguchi.contracts.catalog_demo import write_always_open_catalog
from provisioning.updates.keys import generate_key, load_private_key

__all__ = ["DemoCentral"]

_logger = logging.getLogger(__name__)

DEMO_ORDER_ITEMS = (("joseki", 1),)


@dataclass
class DemoCentral:
    """Files of the demo's central under `folder` (= `<data_dir>/central`)."""

    folder: Path
    broker_url: str
    web_port: int

    @property
    def config_path(self) -> Path:
        """The central TOML."""
        return self.folder / "central.toml"

    @property
    def store_url(self) -> str:
        """The SQLite store."""
        return f"sqlite:///{self.folder / 'central.db'}"

    @property
    def issuance_db(self) -> Path:
        """The issuance service's store."""
        return self.folder / "issuance" / "issuance.sqlite"

    @property
    def catalog_path(self) -> Path:
        """The always-open demo catalog."""
        return self.folder / "catalog-always-open.json"

    def write(self, kiosk_trust: Path) -> Path:
        """Write the keys, catalog and configuration (keys kept across runs); give the kiosk the public key."""
        keys = self.folder / "issuance-keys"
        keys.mkdir(parents=True, exist_ok=True)
        sign = keys / "sign.pem"
        if not sign.exists():
            generate_key(sign)  # mode 0600, PKCS8 PEM
        audit = keys / "audit.key"
        if not audit.exists():
            audit.write_text(base64.b64encode(os.urandom(32)).decode())
            audit.chmod(0o600)
        kiosk_trust.mkdir(parents=True, exist_ok=True)
        (kiosk_trust / "issuance.pub").write_bytes(
            load_private_key(sign).public_key().public_bytes(Encoding.PEM, PublicFormat.SubjectPublicKeyInfo)
        )
        write_always_open_catalog(self.folder)
        self.config_path.write_text(
            "# Written by `madoguchi-demo`: certificate issuance against the card emulator's test CA.\n"
            f'[central]\ndata_dir = "."\nstore_url = "{self.store_url}"\ncatalog_file = "{self.catalog_path}"\n'
            f'[broker]\nurl = "{self.broker_url}"\n'
            f"[web]\nport = {self.web_port}\n"
            f'[issuance]\ndemo = true\nsigning_key = "{sign}"\naudit_key = "{audit}"\nrender_processes = 1\n'
            "# Visit numbers at every hour, like the catalog, so the demo works at night; the autopilot\n"
            "# residents come faster than real ones.\n"
            "[queue]\nalways_open = true\ntake_burst = 10\ntake_per_minute = 30\n",
            encoding="utf-8",
        )
        return self.config_path

    def create_orders(self, count: int) -> list[str]:
        """Register `count` payment orders as counter staff would; their codes."""
        store = open_store(self.store_url)
        try:
            orders = open_orders(store, load_catalog(self.catalog_path))
            return [orders.create(list(DEMO_ORDER_ITEMS), staff="demo-staff").code for _ in range(count)]
        finally:
            store.close()
