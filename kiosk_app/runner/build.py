"""Build the runner's parts from the kiosk configuration: device URLs pick the drivers, the agent gives the link.

    pcsc://<reader>                  PcscCardSlot          emulated://card?persona=NAME  EmulatedCardSlot
    cups://<queue>?server=H:P        CupsA4                emulated://a4?out=DIR         FolderA4
    escpos+tcp://, escpos+serial://  ReceiptOutput         emulated://printer?out=DIR    (virtual printer)
    serial:///dev/x?baud=N           PaymentTerminal       pty-sim://payment             (simulator on a pty)

Certificates are offered only when the issuance public key is configured (`[kiosk] issuance_key`, or
`<data_dir>/trust/issuance.pub`): without it no document could be checked before printing.
"""

from __future__ import annotations

import logging
from pathlib import Path

from device_drivers.card.emulator.material import default_data_dir
from device_drivers.card.emulator.transport import EmulatorBank
from device_drivers.errors import DeviceError
from device_drivers.payment.driver import PaymentTerminal
from device_drivers.payment.transport import port_from_url
from device_drivers.scanner.reader import open_scanner
from kiosk_app.agent.link import FleetAgent
from kiosk_app.issuance_client import IssuanceClient
from kiosk_app.orders_client import OrdersClient
from kiosk_app.payment_journal import open_kiosk_journal
from kiosk_app.runner.card_slot import CardSlot, EmulatedCardSlot, PcscCardSlot
from kiosk_app.runner.device_runner import RunnerParts
from kiosk_app.runner.order_reports import OrderReports
from kiosk_app.runner.outputs import A4Output, CupsA4, FolderA4, ReceiptOutput
from kiosk_app.runner.prefill_client import PrefillClient
from kiosk_app.runner.queue_parts import build_queue_parts
from kiosk_app.runner.sound import CuePlayer
from madoguchi.config.kiosk import KioskConfig
from madoguchi.contracts.catalog import Catalog
from madoguchi.contracts.issuance import load_issuance_key
from madoguchi.device_urls import DeviceKind, DeviceUrl

__all__ = ["build_parts", "issuance_key_path", "printed_dir"]

_logger = logging.getLogger(__name__)


def printed_dir(config: KioskConfig) -> Path:
    """Where the simulated printers put what they print: `<data_dir>/printed/{a4,receipts}`."""
    return config.kiosk.data_dir / "printed"


def issuance_key_path(config: KioskConfig) -> Path | None:
    """The configured issuance public key, else `<data_dir>/trust/issuance.pub` when it exists."""
    if config.kiosk.issuance_key is not None:
        return Path(config.kiosk.issuance_key)
    default = config.kiosk.data_dir / "trust" / "issuance.pub"
    return default if default.is_file() else None


def _card(url: DeviceUrl, persona: str | None) -> CardSlot:
    if url.scheme == "pcsc":
        return PcscCardSlot(url.raw, url.target or None)
    default = url.params.get("persona", "valid-adult")
    return EmulatedCardSlot(persona or default, EmulatorBank(default_data_dir()))


def _a4(url: DeviceUrl, config: KioskConfig) -> A4Output:
    if url.scheme == "cups":
        return CupsA4(url.raw)
    out = url.params.get("out")
    return FolderA4(Path(out) if out else printed_dir(config) / "a4")


def _receipt_url(url: str, config: KioskConfig) -> str:
    if url.startswith("emulated://") and "out=" not in url:
        folder = printed_dir(config) / "receipts"
        folder.mkdir(parents=True, exist_ok=True)
        state = config.kiosk.data_dir / "receipt-printer-state.json"
        return f"emulated://printer?out={folder}&state={state}"
    return url


def _terminal(url: str, config: KioskConfig) -> PaymentTerminal | None:
    journal = open_kiosk_journal(config.kiosk.data_dir, config.device_id)
    terminal = PaymentTerminal(port_from_url(url), journal)
    try:
        recovered = terminal.open()
    except DeviceError as exc:
        _logger.error(
            "payment terminal not ready at start (%s); payments are refused until it answers", exc.code
        )
        return terminal
    for record in recovered:
        _logger.warning(
            "payment %s left unresolved by the last run is now %s", record.ref, record.state.value
        )
    return terminal


def build_parts(
    config: KioskConfig,
    agent: FleetAgent,
    catalog: Catalog,
    *,
    persona: str | None = None,
    rpc_timeout_s: float = 15.0,
) -> RunnerParts:
    """Open every configured device and the central clients on the agent's connection (call after `agent.start()`)."""
    devices = config.devices
    (config.kiosk.data_dir / "payments").mkdir(parents=True, exist_ok=True)
    key_path = issuance_key_path(config)
    issuance = None
    if key_path is not None:
        issuance = IssuanceClient(
            agent.rpc_client(retry_s=2.0), load_issuance_key(key_path), timeout_s=rpc_timeout_s
        )
    else:
        _logger.warning("no issuance public key configured: the kiosk offers no certificates")
    orders = OrdersClient(agent.rpc_client(retry_s=2.0))
    reports = OrderReports(config.kiosk.data_dir / "payments" / "order-reports.sqlite", orders)
    return RunnerParts(
        catalog=catalog,
        card=_card(devices.url(DeviceKind.CARD_READER), persona),
        a4=_a4(devices.url(DeviceKind.A4_PRINTER), config),
        receipt=ReceiptOutput(_receipt_url(devices.receipt_printer, config)),
        terminal=_terminal(devices.payment, config),
        issuance=issuance,
        orders=orders,
        order_reports=reports,
        telemetry=agent.telemetry,
        scanner=open_scanner(devices.scanner),
        sound=CuePlayer(config.kiosk.data_dir / "sounds"),
        language=config.ui.language,
        staff_calls=agent.staff_calls,
        queue=build_queue_parts(config, agent),
        prefill=PrefillClient(agent.rpc_client(retry_s=2.0)),
    )
