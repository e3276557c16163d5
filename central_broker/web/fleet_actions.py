"""Operator actions that reach kiosks: signed remote commands (`down/cmd`) and the issuance kill switch
(retained, signed `fleet/control`), both signed with the centre's online key from `[web] signing_keys_dir`.
The kill switch is built from the central store's history (`central_broker.issuance.control`), never from
what the broker holds.

Without that folder the web shows why the actions are unavailable instead of the buttons.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

from central_broker.catalog_push import SigningKeys
from central_broker.catalog_push.bodies import CatalogBodies
from central_broker.catalog_push.commands import command_message
from central_broker.catalog_push.publisher import publish_documents
from central_broker.issuance.control import (
    Confirmation,
    confirmation,
    current_control,
    publish_switch,
    read_retained_control,
)
from central_broker.store import FleetStore
from madoguchi.config.broker import BrokerConfig
from madoguchi.contracts.signed import CommandDocument, CommandOp, ControlDocument
from madoguchi.errors import UserError

__all__ = ["NO_CATALOG_KEY", "NO_SIGNING_KEYS", "FleetActions"]

_logger = logging.getLogger(__name__)

# Why actions are unavailable: English msgids of the web catalog (`%(folder)s` is the key folder).
NO_SIGNING_KEYS = "no signing keys are configured: set [web] signing_keys_dir in the central configuration"
NO_CATALOG_KEY = "no catalog.key in %(folder)s: create it with the catalog signing-key command"


def _english(message: str, **values: object) -> str:
    return message % values if values else message


class FleetActions:
    """Send commands and switch issuance for the web.

    Args:
        broker: how the centre reaches the broker (service identity).
        keys_dir: the signing-key folder, or None when this centre does not sign.
        store: the central store (the kill switch's history and the kiosks' confirmations).
        download_url / bodies: `[fleet] download_url` and the body folder, for publishing catalogs
            too large for MQTT (`central_broker.catalog_push.documents.body_url`).
    """

    def __init__(
        self,
        broker: BrokerConfig,
        keys_dir: Path | None,
        store: FleetStore,
        *,
        download_url: str | None = None,
        bodies: CatalogBodies | None = None,
    ) -> None:
        self.broker = broker
        self.keys_dir = keys_dir
        self.store = store
        self.download_url = download_url  # catalogs too large for MQTT: HTTPS address and body folder
        self.bodies = bodies

    @property
    def unavailable(self) -> str:
        """Why actions cannot be sent, in English ("" when they can)."""
        return self.unavailable_in(_english)

    def unavailable_in(self, translate: Callable[..., str]) -> str:
        """Why actions cannot be sent through `translate(msgid, **values)` (the pages pass their gettext)."""
        if self.keys_dir is None:
            return translate(NO_SIGNING_KEYS)
        if not (self.keys_dir / "catalog.key").is_file():
            return translate(NO_CATALOG_KEY, folder=str(self.keys_dir))
        return ""

    def _keys(self) -> SigningKeys:
        if self.unavailable or self.keys_dir is None:
            raise UserError("remote actions are not available", self.unavailable)
        return SigningKeys(self.keys_dir)

    def send_command(self, device_id: str, op: CommandOp, *, ref: str | None = None) -> CommandDocument:
        """Sign and publish one command for one kiosk (its progress comes back on `up/ack`); `ref` names
        what it is about (a staff call's id for `staff_call_ack` / `staff_call_close`)."""
        command, message = command_message(self._keys(), device_id, op, ref=ref)
        publish_documents(self.broker, [message], store=self.store)
        _logger.info("command %s (%s) sent to %s", command.op, command.cmd_id, device_id)
        return command

    def control(self) -> ControlDocument | None:
        """The kill-switch document in force according to the centre (None when none was ever published)."""
        return current_control(self.store)

    def control_confirmation(self) -> Confirmation | None:
        """Which kiosks reported the version in force."""
        document = self.control()
        return None if document is None else confirmation(self.store, document.version)

    def switch_issuance(
        self,
        suspend: bool,
        *,
        actor: str,
        municipality: str | None = None,
        device: str | None = None,
        message: str | None = None,
    ) -> ControlDocument:
        """Suspend or resume issuance fleet-wide, for a municipality or a device; publishes the next version."""
        key = self._keys().catalog_key()
        retained = None
        if self.store.control_current() is None:  # a centre that kept no history: adopt a verified one
            retained = read_retained_control(self.broker, key.public_key(), wait_s=1.0)
        return publish_switch(
            self.store, self.broker, key, suspend, actor=actor, municipality=municipality, device=device,
            message=message, retained=retained,
        )  # fmt: skip
