"""End to end: a resident at a kiosk, from card to printed certificate, and a semi-self register payment.

Every boundary is the real one: the card through pyscard → pcscd → vpcd → the card emulator, the payment
terminal as bytes over a pty to the simulator, the receipt printer as ESC/POS to the virtual printer,
certificates on A4 through CUPS (cups-pdf), the central issuance and order services over Mosquitto, the
kiosk's one MQTT session shared by the fleet agent and the RPC calls. The flows are driven as the screens
drive them (the controller), without Kivy.
"""

from __future__ import annotations

import json
import subprocess
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from central_broker.broker import MosquittoBroker
from central_broker.issuance.store import DocState
from central_broker.orders.rpc import payment_handlers
from central_broker.rpc_server import RpcServer
from central_broker.store import FleetStore
from central_broker.web import WebContext
from device_drivers.card.emulator.personas import persona_by_name
from device_drivers.payment.driver import PaymentTerminal
from device_drivers.payment.journal import Journal
from device_drivers.payment.transport import SerialPortSource
from device_drivers.scanner import PtyScannerEmulator, SerialScanner
from kiosk_app.agent import FleetAgent, UnmonitoredDeviceHealth
from kiosk_app.flows import events as ev
from kiosk_app.flows.clock import monotonic_clock
from kiosk_app.flows.core import Event
from kiosk_app.issuance_client import IssuanceClient
from kiosk_app.orders_client import OrdersClient
from kiosk_app.runner import CupsA4, DeviceRunner, FolderA4, PcscCardSlot, ReceiptOutput, RunnerParts
from kiosk_app.runner.order_reports import OrderReports
from kiosk_app.ui.controller import KioskController, Service
from madoguchi.config.broker import BrokerConfig
from madoguchi.config.kiosk import simulated_kiosk_config
from madoguchi.contracts.catalog import load_sample_catalog
from madoguchi.contracts.issuance import cert_fingerprint
from madoguchi.contracts.orders import OrderStatus, slip_qr_payload
from tests.fixtures.issuance import IssuanceEnv
from tests.fixtures.pcsc import InsertCard, PcscDaemon
from tests.fixtures.printing import CupsPdf, VirtualPrinter
from tests.fixtures.serial_pty import StartSim

pytestmark = [pytest.mark.mosquitto, pytest.mark.slow]


@dataclass
class Kiosk:
    """A kiosk on real parts, driven through its controller."""

    controller: KioskController
    runner: DeviceRunner
    agent: FleetAgent
    terminal: PaymentTerminal

    def step(self) -> str:
        return self.controller.step_name()

    def wait_for(self, step: str, timeout: float = 30.0) -> None:
        """Pump device events (as the UI clock does) until the flow is at `step`."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            self.controller.drain()
            if self.step() == step:
                return
            time.sleep(0.05)
        raise AssertionError(f"the kiosk is at {self.step()!r}, not {step!r}, after {timeout:g} s")

    def tap(self, *events: Event) -> None:
        for event in events:
            self.controller.send(event)

    def scan_order(self, code: str) -> None:
        """The resident holds the order's slip up (from home or the scan step) and sees its summary."""
        self.tap(ev.SlipScanned(code))
        self.wait_for("order_summary")

    def pay_order(self, method: str, until: str = "done", timeout: float = 60.0) -> None:
        """From the order summary: pay with `method` and wait for `until`, then for the devices to settle."""
        self.tap(ev.Confirm())
        self.wait_for("choose_method")
        self.tap(ev.ChooseMethod(method))
        self.wait_for(until, timeout=timeout)
        assert self.runner.wait_idle(30)


def _wait_order(web_context: WebContext, code: str, status: OrderStatus, timeout: float, why: str) -> None:
    """Wait until the central's order store shows `status`."""
    deadline = time.monotonic() + timeout
    while web_context.orders.get(code).status is not status:
        assert time.monotonic() < deadline, why
        time.sleep(0.1)


KioskFactory = Callable[..., Kiosk]


@pytest.fixture
def kiosk_on_real_parts(
    tmp_path: Path, mosquitto: object, pcsc_daemon: PcscDaemon, virtual_printer: VirtualPrinter
) -> Iterator[KioskFactory]:
    """Factory: `make(device_id, a4=..., terminal_path=..., issuance=fn(rpc)|None, orders=True)` → a started kiosk."""
    made: list[Kiosk] = []
    catalog = load_sample_catalog()

    def make(
        device_id: str,
        *,
        a4: CupsA4 | FolderA4,
        terminal_path: str,
        issuance: Callable[[FleetAgent], IssuanceClient] | None = None,
        orders: bool = False,
        scanner: SerialScanner | None = None,
    ) -> Kiosk:
        config = simulated_kiosk_config(tmp_path / device_id, mosquitto.url, device_id)  # type: ignore[attr-defined]
        agent = FleetAgent(config, UnmonitoredDeviceHealth())
        agent.start()
        assert agent.connected.wait(10), "the kiosk's fleet link did not connect"
        terminal = PaymentTerminal(
            SerialPortSource(terminal_path), Journal(tmp_path / f"{device_id}-payments.sqlite", device_id)
        )
        terminal.open()
        orders_client = OrdersClient(agent.rpc_client(retry_s=1.0), timeout_s=3) if orders else None
        parts = RunnerParts(
            catalog=catalog,
            card=PcscCardSlot(f"pcsc://{pcsc_daemon.readers[0]}", pcsc_daemon.readers[0]),
            a4=a4,
            receipt=ReceiptOutput(virtual_printer.url),
            terminal=terminal,
            issuance=issuance(agent) if issuance else None,
            orders=orders_client,
            order_reports=None
            if orders_client is None
            else OrderReports(
                tmp_path / f"{device_id}-order-reports.sqlite",
                orders_client,
                retry_s=0.5,
            ),
            telemetry=agent.telemetry,
            scanner=scanner,
        )
        runner = DeviceRunner(parts)
        controller = KioskController.for_catalog(catalog, runner.execute, monotonic_clock)
        runner.attach(controller.post)
        runner.start()
        kiosk = Kiosk(controller, runner, agent, terminal)
        made.append(kiosk)
        return kiosk

    yield make
    for kiosk in made:
        kiosk.runner.stop()
        kiosk.terminal.close()
        kiosk.agent.stop()


def _pdf_info(path: Path) -> str:
    return subprocess.run(["pdfinfo", str(path)], capture_output=True, text=True, check=True).stdout


def test_a_resident_goes_from_card_to_printed_certificate_on_real_parts(
    issuance_server: tuple[IssuanceEnv, object],
    kiosk_on_real_parts: KioskFactory,
    insert_card: InsertCard,
    payment_sim: StartSim,
    cups_pdf: CupsPdf,
) -> None:
    """GIVEN a kiosk on pcscd+vpcd, the pty terminal, CUPS, the virtual printer and the central issuance over
    Mosquitto WHEN a resident places the card, types the PIN, picks 住民票, pays by credit card THEN exactly
    the fee is charged once, the certificate with their own name comes out of the A4 printer, the central
    records it printed for this kiosk, and the session statistic holds no personal data."""
    env, _server = issuance_server
    sim = payment_sim("approve")
    device = "jp-999999-k81"

    def issuance(agent: FleetAgent) -> IssuanceClient:
        return IssuanceClient(
            agent.rpc_client(clock=env.clock, retry_s=1.0), env.signing_key.public_key(), timeout_s=15
        )

    kiosk = kiosk_on_real_parts(device, a4=CupsA4(cups_pdf.url), terminal_path=sim.path, issuance=issuance)
    persona = persona_by_name("valid-adult")

    kiosk.controller.start(Service.CERTIFICATE)
    kiosk.tap(ev.ChooseLanguage("ja"))
    kiosk.wait_for("place_card")
    card = insert_card("valid-adult")
    kiosk.wait_for("pin_entry")
    view = kiosk.controller.certificate.view()
    assert view.tries_left == 3
    kiosk.tap(*(ev.Digit(d) for d in persona.pin), ev.Confirm())
    kiosk.wait_for("name_confirm")
    shown = kiosk.controller.certificate.view().masked_name
    assert (
        shown and shown != persona.full_name and shown[0] == persona.full_name[0]
    )  # partly masked, never whole
    kiosk.tap(ev.Confirm())
    kiosk.wait_for("choose_type")
    kiosk.tap(ev.ChooseType("juminhyo"))
    kiosk.wait_for("choose_options")
    kiosk.tap(ev.Confirm())
    kiosk.wait_for("copies")
    kiosk.tap(ev.Confirm())
    kiosk.wait_for("fee_summary")
    fee = kiosk.controller.certificate.view().fee_yen
    kiosk.tap(ev.Confirm())
    kiosk.wait_for("choose_method")
    kiosk.tap(ev.ChooseMethod("credit"))
    kiosk.wait_for("take_certificate", timeout=90)

    printed = cups_pdf.wait_for_pdf()
    assert "Pages:           1" in _pdf_info(printed)  # one copy of a one-page 住民票 went through CUPS
    assert [c.amount for c in sim.ledger.charges()] == [fee] and fee > 0
    kiosk.tap(ev.Confirm())
    kiosk.wait_for("take_card")
    card.remove()
    kiosk.wait_for("rating")
    kiosk.tap(ev.Rate(5))
    kiosk.wait_for("home")
    assert kiosk.runner.wait_idle(15)

    sessions = env.store.sessions_of(device)
    document = env.store.document_for_session(sessions[-1].session_id)
    assert document is not None and document.state is DocState.PRINTED and document.device_id == device
    own_card = cert_fingerprint(env.ca.material(persona).auth_cert)
    assert json.loads(document.binding_json)["cert_fingerprint"] == own_card  # bound to this resident's card
    assert kiosk.runner.certificates is not None and not kiosk.runner.certificates.live  # wiped at the end
    batch = kiosk.agent.telemetry.outbox.next_batch()
    stored = (
        json.dumps([item.model_dump(mode="json") for item in batch.items], ensure_ascii=False)
        if batch
        else ""
    )
    assert '"type": "juminhyo"' in stored and '"outcome": "completed"' in stored and '"rating": 5' in stored
    assert persona.full_name not in stored and persona.pin not in stored


def test_a_register_payment_is_scanned_paid_on_the_terminal_and_receipted(
    web_context: WebContext,
    payment_rpc: object,
    kiosk_on_real_parts: KioskFactory,
    payment_sim: StartSim,
    virtual_printer: VirtualPrinter,
    tmp_path: Path,
) -> None:
    """GIVEN an order registered by counter staff WHEN the resident holds its slip under the kiosk's scanner (a
    real serial port) on the home screen and pays by e-money on the pty terminal THEN the order total is charged
    once, the central shows the order paid by this kiosk, and the receipt printer printed a 領収書."""
    order = web_context.orders.create([("joseki", 2)], staff="staff1")
    sim = payment_sim("approve")
    device = "jp-999999-k82"
    slips = PtyScannerEmulator(symlink=tmp_path / "scanner")
    slips.open()
    scanner = SerialScanner(slips.path, retry_s=0.1)
    kiosk = kiosk_on_real_parts(
        device, a4=FolderA4(tmp_path / "a4"), terminal_path=sim.path, orders=True, scanner=scanner
    )
    deadline = time.monotonic() + 5
    while not scanner.online:
        assert time.monotonic() < deadline, "the scanner port did not open"
        time.sleep(0.02)

    slips.scan(slip_qr_payload(order.code, order.total_yen))
    kiosk.wait_for("order_summary")
    assert kiosk.controller.register.view().order.total_yen == order.total_yen  # type: ignore[union-attr]
    kiosk.tap(ev.Confirm())
    kiosk.wait_for("choose_method")
    kiosk.tap(ev.ChooseMethod("emoney"))
    kiosk.wait_for("done", timeout=60)
    assert kiosk.runner.wait_idle(15)

    stored = web_context.orders.get(order.code)
    assert (stored.status, stored.device_id, stored.method) == (OrderStatus.PAID, device, "emoney")
    assert [c.amount for c in sim.ledger.charges()] == [order.total_yen]
    (receipt,) = virtual_printer.job_files()  # the 領収書, as the printer rendered it
    assert receipt.stat().st_size > 5_000
    slips.close()


def _to_method_choice(kiosk: Kiosk, insert_card: InsertCard) -> None:
    """A resident at the payment-method screen for one 住民票."""
    kiosk.controller.start(Service.CERTIFICATE)
    kiosk.tap(ev.ChooseLanguage("ja"))
    insert_card("valid-adult")
    kiosk.wait_for("pin_entry")
    kiosk.tap(*(ev.Digit(d) for d in "1234"), ev.Confirm())
    kiosk.wait_for("name_confirm")
    kiosk.tap(ev.Confirm())
    kiosk.wait_for("choose_type")
    kiosk.tap(ev.ChooseType("juminhyo"), ev.Confirm(), ev.Confirm(), ev.Confirm())
    kiosk.wait_for("choose_method")


def _issuance(env: IssuanceEnv) -> Callable[[FleetAgent], IssuanceClient]:
    def make(agent: FleetAgent) -> IssuanceClient:
        rpc = agent.rpc_client(clock=env.clock, retry_s=1.0)
        return IssuanceClient(rpc, env.signing_key.public_key(), timeout_s=15)

    return make


def test_no_money_is_taken_when_the_a4_printer_cannot_print(
    issuance_server: tuple[IssuanceEnv, object],
    kiosk_on_real_parts: KioskFactory,
    insert_card: InsertCard,
    payment_sim: StartSim,
    cups_pdf: CupsPdf,
    ingest: object,
    central_store: FleetStore,
) -> None:
    """GIVEN the A4 queue stopped in CUPS WHEN the resident picks a payment method THEN the kiosk says the
    printer cannot print, the staff call reaches the centre, and the terminal never charges anything."""
    env, _server = issuance_server
    sim = payment_sim("approve")
    kiosk = kiosk_on_real_parts(
        "jp-999999-k83", a4=CupsA4(cups_pdf.url), terminal_path=sim.path, issuance=_issuance(env)
    )
    _to_method_choice(kiosk, insert_card)
    subprocess.run(["cupsdisable", "-h", cups_pdf.server, cups_pdf.queue], check=True)
    try:
        kiosk.tap(ev.ChooseMethod("credit"))
        kiosk.wait_for("printer_unavailable")
    finally:
        subprocess.run(["cupsenable", "-h", cups_pdf.server, cups_pdf.queue], check=True)
    assert kiosk.runner.wait_idle(10)
    assert sim.ledger.charges() == []
    deadline = time.monotonic() + 10
    while not [e for e in central_store.device_events("jp-999999-k83") if e.code == "staff_call"]:
        assert time.monotonic() < deadline, "the staff call did not reach the centre"
        time.sleep(0.1)


def test_a_jammed_print_after_payment_is_voided_with_a_signed_unissued_slip(
    issuance_server: tuple[IssuanceEnv, object],
    kiosk_on_real_parts: KioskFactory,
    insert_card: InsertCard,
    payment_sim: StartSim,
    virtual_printer: VirtualPrinter,
    tmp_path: Path,
) -> None:
    """GIVEN an A4 printer that jams on the next job WHEN the resident has paid THEN the kiosk shows the print
    failure, and when the resident voids it the receipt printer prints the 未交付 slip, the central holds the
    document void with a print_failed incident for this kiosk, and the charge stands once (re-issued free)."""
    env, _server = issuance_server
    sim = payment_sim("approve")
    a4 = FolderA4(tmp_path / "a4")
    a4.folder.mkdir()
    (a4.folder / "jam").touch()
    device = "jp-999999-k84"
    kiosk = kiosk_on_real_parts(device, a4=a4, terminal_path=sim.path, issuance=_issuance(env))
    _to_method_choice(kiosk, insert_card)
    kiosk.tap(ev.ChooseMethod("qr"))
    kiosk.wait_for("print_failed", timeout=60)
    assert a4.printed == []
    kiosk.tap(ev.VoidDocument())
    kiosk.wait_for("voided")
    assert kiosk.runner.wait_idle(15)

    (slip,) = virtual_printer.job_files()  # the 未交付 slip with the central's signed QR
    assert slip.stat().st_size > 5_000
    document = env.store.document_for_session(env.store.sessions_of(device)[-1].session_id)
    assert document is not None and document.state is DocState.VOID
    incidents = [i for i in env.service.incidents.incidents() if i.device_id == device]
    assert "print_failed" in [i.kind.value for i in incidents]
    assert len(sim.ledger.charges()) == 1


def test_an_unknown_e_money_result_leaves_the_order_for_staff_and_never_retries(
    web_context: WebContext,
    payment_rpc: object,
    kiosk_on_real_parts: KioskFactory,
    payment_sim: StartSim,
    virtual_printer: VirtualPrinter,
    tmp_path: Path,
) -> None:
    """GIVEN a terminal that ends an e-money payment 処理未了 (result unknown) WHEN a resident pays an order THEN
    the kiosk says to ask staff, the central shows the order UNKNOWN for staff to resolve, no receipt is printed
    and the kiosk never charges again by itself."""
    order = web_context.orders.create([("joseki", 1)], staff="staff1")
    sim = payment_sim("emoney-unknown")
    kiosk = kiosk_on_real_parts(
        "jp-999999-k85", a4=FolderA4(tmp_path / "a4"), terminal_path=sim.path, orders=True
    )
    kiosk.scan_order(order.code)
    kiosk.pay_order("emoney", until="payment_unknown", timeout=90)
    _wait_order(
        web_context, order.code, OrderStatus.UNKNOWN, 10, "the central never heard the payment is unknown"
    )
    assert virtual_printer.job_files() == []
    assert len([e for e in sim.ledger.entries() if e.kind == "charge"]) <= 1


def test_an_unknown_payment_for_a_certificate_opens_an_incident_and_prints_nothing(
    issuance_server: tuple[IssuanceEnv, object],
    kiosk_on_real_parts: KioskFactory,
    insert_card: InsertCard,
    payment_sim: StartSim,
    tmp_path: Path,
) -> None:
    """GIVEN a terminal whose e-money result is unknown WHEN a resident pays for a certificate THEN nothing is
    printed, the kiosk tells them to ask staff, and the central holds a payment_unknown incident for this kiosk."""
    env, _server = issuance_server
    sim = payment_sim("emoney-unknown")
    a4 = FolderA4(tmp_path / "a4")
    device = "jp-999999-k86"
    kiosk = kiosk_on_real_parts(device, a4=a4, terminal_path=sim.path, issuance=_issuance(env))
    _to_method_choice(kiosk, insert_card)
    kiosk.tap(ev.ChooseMethod("emoney"))
    kiosk.wait_for("payment_unknown", timeout=90)
    assert kiosk.runner.wait_idle(30)
    assert a4.printed == []
    kinds = [i.kind.value for i in env.service.incidents.incidents() if i.device_id == device]
    assert kinds == ["payment_unknown"]


def test_a_payment_report_waits_for_an_unreachable_central_and_is_delivered_later(
    web_context: WebContext,
    payment_rpc: RpcServer,
    mosquitto: MosquittoBroker,
    kiosk_on_real_parts: KioskFactory,
    payment_sim: StartSim,
    tmp_path: Path,
) -> None:
    """GIVEN an order looked up at a kiosk WHEN the central's order service goes away before the terminal
    approves THEN the resident still gets the receipt, the report waits in the kiosk's journal, and when the
    service is back the central shows the order paid by this kiosk — nothing is lost, nothing charged twice."""
    order = web_context.orders.create([("joseki", 1)], staff="staff1")
    sim = payment_sim("approve")
    device = "jp-999999-k87"
    kiosk = kiosk_on_real_parts(device, a4=FolderA4(tmp_path / "a4"), terminal_path=sim.path, orders=True)
    kiosk.scan_order(order.code)
    payment_rpc.stop()  # the central's order service is unreachable from here on
    kiosk.pay_order("credit")
    reports = kiosk.runner.parts.order_reports
    assert reports is not None and [r.order_code for r in reports.pending()] == [order.code]
    assert web_context.orders.get(order.code).status is OrderStatus.WAITING
    back = RpcServer(
        BrokerConfig(url=mosquitto.url),
        payment_handlers(web_context.orders),
        group="rpc-back",
        clock=web_context.clock,
    )
    back.start()
    try:
        _wait_order(
            web_context, order.code, OrderStatus.PAID, 20, "the waiting report never reached the central"
        )
    finally:
        back.stop()
    stored = web_context.orders.get(order.code)
    assert stored.device_id == device and reports.pending() == []
    assert not [
        a for a in kiosk.agent.telemetry.active_alerts() if a.startswith("order-")
    ]  # no false refusal
    assert [c.amount for c in sim.ledger.charges()] == [order.total_yen]


def test_with_issuance_unreachable_certificates_are_refused_clearly_and_the_register_still_works(
    web_context: WebContext,
    payment_rpc: RpcServer,
    kiosk_on_real_parts: KioskFactory,
    insert_card: InsertCard,
    payment_sim: StartSim,
    tmp_path: Path,
) -> None:
    """GIVEN a kiosk whose certificate service does not answer (the order service does) WHEN a resident tries
    for a certificate THEN after the PIN the kiosk says issuance is unavailable, no money is taken and the card
    is handed back; WHEN the next resident pays an order THEN that works."""
    sim = payment_sim("approve")
    key = Ed25519PrivateKey.generate().public_key()

    def silent_issuance(agent: FleetAgent) -> IssuanceClient:
        return IssuanceClient(agent.rpc_client(retry_s=0.5), key, timeout_s=2)  # nobody serves certificate.*

    kiosk = kiosk_on_real_parts(
        "jp-999999-k88",
        a4=FolderA4(tmp_path / "a4"),
        terminal_path=sim.path,
        issuance=silent_issuance,
        orders=True,
    )
    kiosk.controller.start(Service.CERTIFICATE)
    kiosk.tap(ev.ChooseLanguage("ja"))
    card = insert_card("valid-adult")
    kiosk.wait_for("pin_entry")
    kiosk.tap(*(ev.Digit(d) for d in "1234"), ev.Confirm())
    kiosk.wait_for("issuance_unavailable", timeout=30)
    kiosk.tap(ev.Confirm())
    kiosk.wait_for("take_card")
    card.remove()
    kiosk.wait_for("home")
    assert sim.ledger.charges() == []

    order = web_context.orders.create([("joseki", 1)], staff="staff1")
    kiosk.scan_order(order.code)
    kiosk.pay_order("qr")
    _wait_order(web_context, order.code, OrderStatus.PAID, 10, "the next resident's order was not paid")


def test_an_order_cancelled_while_the_resident_pays_keeps_the_payment_and_alerts_staff(
    web_context: WebContext,
    payment_rpc: RpcServer,
    kiosk_on_real_parts: KioskFactory,
    payment_sim: StartSim,
    tmp_path: Path,
) -> None:
    """GIVEN an order looked up at a kiosk WHEN staff cancel it at the counter before the terminal approves THEN
    the central refuses the kiosk's report, the resident is not charged again, and the kiosk raises a retained
    alert naming the order and the terminal's slip so staff can refund it."""
    order = web_context.orders.create([("joseki", 1)], staff="staff1")
    sim = payment_sim("approve")
    kiosk = kiosk_on_real_parts(
        "jp-999999-k89", a4=FolderA4(tmp_path / "a4"), terminal_path=sim.path, orders=True
    )
    kiosk.scan_order(order.code)
    web_context.orders.cancel(order.code, note="resident left the queue", staff="staff1")
    kiosk.pay_order("credit")
    alerts = kiosk.agent.telemetry.active_alerts()
    alert = alerts.get(f"order-{order.code.lower()}")
    assert alert is not None and alert.code == "order_report_refused" and order.code in alert.detail
    assert web_context.orders.get(order.code).status is OrderStatus.CANCELLED
    assert [c.amount for c in sim.ledger.charges()] == [order.total_yen]
    assert kiosk.runner.parts.order_reports is not None and kiosk.runner.parts.order_reports.pending() == []
