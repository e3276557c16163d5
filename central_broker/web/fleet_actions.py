"""Operator actions that reach kiosks: signed remote commands (`down/cmd`) and the issuance kill switch
(retained, signed `fleet/control`), both signed with the centre's online key from `[web] signing_keys_dir`.

Without that folder the web shows why the actions are unavailable instead of the buttons.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path

from central_broker.catalog_push import SigningKeys
from central_broker.catalog_push.commands import command_message
from central_broker.catalog_push.publisher import publish_documents
from central_broker.issuance.control import fetch_control, publish_control, switched
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
    """

    def __init__(self, broker: BrokerConfig, keys_dir: Path | None) -> None:
        self.broker = broker
        self.keys_dir = keys_dir

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

    def send_command(self, device_id: str, op: CommandOp) -> CommandDocument:
        """Sign and publish one command for one kiosk (its progress comes back on `up/ack`)."""
        command, message = command_message(self._keys(), device_id, op)
        publish_documents(self.broker, [message])
        _logger.info("command %s (%s) sent to %s", command.op, command.cmd_id, device_id)
        return command

    def control(self) -> ControlDocument | None:
        """The kill-switch document in force (None when none was ever published)."""
        return fetch_control(self.broker, wait_s=1.0)

    def switch_issuance(
        self,
        suspend: bool,
        *,
        municipality: str | None = None,
        device: str | None = None,
        message: str | None = None,
    ) -> ControlDocument:
        """Suspend or resume issuance fleet-wide, for a municipality or a device; publishes the next version."""
        key = self._keys().catalog_key()
        document = switched(
            self.control(), suspend, municipality=municipality, device=device, message=message
        )
        publish_control(self.broker, document, key)
        return document
