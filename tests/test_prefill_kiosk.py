"""書かない窓口 at the kiosk through the real card stack: pyscard → pcscd → vpcd → the card emulator, the kiosk's
controller and runner as the screens drive them, the A4 forms through a private CUPS (cups-pdf), and the
central's `prefill.attach` over Mosquitto."""

from __future__ import annotations

import json
import logging
import subprocess
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import paho.mqtt.client as mqtt
import pytest

from central_broker.broker import MosquittoBroker
from central_broker.ingest import Ingest
from central_broker.prefill import PrefillRpc
from central_broker.queue import QueueConfig, open_queue
from central_broker.queue_link.views import ticket_view
from central_broker.rpc_server import RpcServer
from central_broker.store import FleetStore
from device_drivers.card.constants import KenhojoEf
from device_drivers.card.emulator.card import EmulatedCard
from kiosk_app.agent import AgentOptions, FleetAgent, SimulatedDeviceHealth
from kiosk_app.flows import events as ev
from kiosk_app.flows import prefill_events as pe
from kiosk_app.flows.clock import monotonic_clock
from kiosk_app.runner import CupsA4, DeviceRunner, FolderA4, PcscCardSlot, RunnerParts
from kiosk_app.runner.outputs import A4Output
from kiosk_app.runner.prefill_client import PrefillClient
from kiosk_app.ui.controller import KioskController
from madoguchi.clock import SteppableClock
from madoguchi.config.broker import BrokerConfig
from madoguchi.config.kiosk import simulated_kiosk_config
from madoguchi.contracts.catalog import load_sample_catalog
from madoguchi.mqtt_client import make_client
from tests.fixtures.fleet import new_device_id
from tests.fixtures.fleet import running_agent as run_agent
from tests.fixtures.pcsc import ApduCounter, InsertCard, PcscDaemon
from tests.fixtures.printing import CupsPdf
from tests.prefill_helpers import FIELDS, open_prefill
from tests.test_card_kiosk_session import Kiosk as CardKiosk

pytestmark = [pytest.mark.pcsc, pytest.mark.slow]

PROCEDURES = ("shussei",)  # 出生届: the sample catalog's procedure with a form at 市民課


class Kiosk(CardKiosk):
    """The kiosk's controller and runner on the private pcscd's first reader."""

    def type_pin(self, pin: str) -> None:
        self.tap(*(ev.Digit(d) for d in pin), ev.Confirm())

    def settle(self, seconds: float = 1.0) -> None:
        """Keep pumping for a while (to see that nothing more happens by itself)."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            self.controller.drain()
            time.sleep(0.05)


def _kiosk(reader: str, a4: A4Output, prefill: PrefillClient | None = None) -> Kiosk:
    catalog = load_sample_catalog()
    parts = RunnerParts(
        catalog=catalog,
        card=PcscCardSlot(f"pcsc://{reader}", reader),
        a4=a4,
        receipt=None,
        terminal=None,
        issuance=None,
        orders=None,
        prefill=prefill,
    )
    runner = DeviceRunner(parts)
    controller = KioskController.for_catalog(catalog, runner.execute, monotonic_clock)
    runner.attach(controller.post)
    runner.start()
    return Kiosk(controller, runner)


@pytest.fixture
def kiosk(pcsc_daemon: PcscDaemon, tmp_path: Path) -> Iterator[Kiosk]:
    """A kiosk printing A4 into a folder (no central)."""
    made = _kiosk(pcsc_daemon.readers[0], FolderA4(tmp_path / "a4"))
    yield made
    made.runner.stop()


class PullAtRead:
    """Wraps a card: after the kenhojo PIN is verified, the card leaves when the basic four are read."""

    def __init__(self, card: EmulatedCard) -> None:
        self.card = card
        self.atr = card.atr
        self.verified = False
        self.pulled = False

    def power_off(self) -> None:
        self.card.power_off()

    def power_on(self) -> None:
        self.card.power_on()

    def reset(self) -> None:
        self.card.reset()

    def process(self, apdu: bytes) -> bytes | None:
        if self.pulled or (self.verified and apdu[1] == 0xB0):
            self.pulled = True
            return None  # pulled out while the basic four are being read
        answer = self.card.process(apdu)
        if apdu[1] == 0x20 and len(apdu) > 5 and answer == b"\x90\x00":
            self.verified = True
        return answer


def _start(kiosk: Kiosk) -> None:
    kiosk.controller.start_prefill(PROCEDURES, None)
    kiosk.wait_for("prefill_consent")
    kiosk.tap(ev.Confirm())  # consent given
    kiosk.wait_for("prefill_pin")


def pdftotext(path: Path) -> str:
    """The text of a PDF, whitespace-collapsed."""
    text = subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True, check=True).stdout
    return " ".join(text.split())


def test_right_pin_prints_the_forms_through_cups_with_must_write_fields_marked(
    pcsc_daemon: PcscDaemon, insert_card: InsertCard, cups_pdf: CupsPdf
) -> None:
    """GIVEN the valid-adult card and consent WHEN the right kenhojo PIN is typed and print is chosen THEN the
    CUPS queue prints the 出生届 with name, address, birth date, sex and today as 届出日, the signature and
    telephone boxes marked ご記入ください; the My Number EF was never read; after the session nothing is held."""
    counter = insert_card("valid-adult", wrap=ApduCounter)
    kiosk = _kiosk(pcsc_daemon.readers[0], CupsA4(cups_pdf.url))
    try:
        _start(kiosk)
        view = kiosk.controller.view()
        assert getattr(view, "tries_left", None) == 3
        kiosk.type_pin("1234")
        kiosk.wait_for("prefill_choose")
        assert getattr(kiosk.controller.view(), "masked_name", "") == "窓＊ 花＊"
        kiosk.tap(pe.ChoosePrefillTarget(pe.PrefillTarget.PRINT))
        kiosk.wait_for("prefill_done", timeout=90)
        output = cups_pdf.wait_for_pdf()
        # cups-pdf re-distils through PostScript and drops the CID fonts' Unicode maps: read the text from the
        # document CUPS spooled for the job (PreserveJobFiles Yes), the page size from cups-pdf's output.
        spooled = max((cups_pdf.root / "spool").glob("d*-001"), key=lambda p: p.stat().st_mtime)
        text = pdftotext(spooled)
        info = subprocess.run(["pdfinfo", str(output)], capture_output=True, text=True, check=True).stdout
        assert "(A4)" in info
        kiosk.tap(ev.Confirm())
        kiosk.wait_for("home")
        kiosk.runner.wait_idle()
        assert kiosk.runner.prefill is not None and kiosk.runner.prefill.holding == 0
    finally:
        kiosk.runner.stop()
    for expected in (
        "出生届",
        FIELDS.name,
        FIELDS.address,
        "1980年4月1日",
        "女",
        "署名",
        "電話番号",
        "届出日",
    ):
        assert expected in text, expected
    assert text.count("ご記入ください") == 2  # one box per field the resident writes
    card = counter.link.card
    assert isinstance(card, ApduCounter)
    assert ("kenhojo", KenhojoEf.MY_NUMBER) not in card.reads
    assert card.reads >= {("kenhojo", KenhojoEf.BASIC_FOUR)}
    assert card.persona.my_number not in text


def test_wrong_pin_shows_tries_left_and_is_never_retried(kiosk: Kiosk, insert_card: InsertCard) -> None:
    """GIVEN consent WHEN a wrong kenhojo PIN is typed THEN the keypad comes back saying it was wrong with 2
    tries left, and the card saw exactly one VERIFY with a PIN, however long the kiosk waits."""
    inserted = insert_card("valid-adult", wrap=ApduCounter)
    _start(kiosk)
    kiosk.type_pin("9999")
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline and not getattr(kiosk.controller.view(), "pin_error", False):
        kiosk.settle(0.1)
    view = kiosk.controller.view()
    assert kiosk.controller.step_name() == "prefill_pin"
    assert getattr(view, "pin_error", False) and getattr(view, "tries_left", None) == 2
    assert getattr(view, "pin_length", None) == 0  # the wrong digits are gone
    kiosk.settle(2.0)
    card = inserted.link.card
    assert isinstance(card, ApduCounter)
    assert card.pin_verifies["kenhojo"] == 1 and card.pin_verifies["JPKI"] == 0
    assert card.card.tries_left("kenhojo", KenhojoEf.PIN) == 2
    assert kiosk.controller.step_name() == "prefill_pin"


def test_card_removed_during_the_read_leaves_nothing_behind(
    kiosk: Kiosk, insert_card: InsertCard, tmp_path: Path
) -> None:
    """GIVEN the right PIN WHEN the card leaves while the basic four are read THEN the kiosk says so, shows no
    name, holds no card data and printed nothing."""
    insert_card("valid-adult", wrap=PullAtRead)
    _start(kiosk)
    kiosk.type_pin("1234")
    kiosk.wait_for("prefill_card_removed")
    kiosk.runner.wait_idle()
    view = kiosk.controller.view()
    assert getattr(view, "masked_name", None) == ""
    assert kiosk.runner.prefill is not None and kiosk.runner.prefill.holding == 0
    assert not list((tmp_path / "a4").glob("*.pdf"))
    kiosk.tap(ev.Confirm())
    kiosk.wait_for("home")


class Sniffer:
    """Every message on `kiosk/v1/#`, as an outsider subscribed to the broker sees it."""

    def __init__(self, broker: MosquittoBroker) -> None:
        self.messages: list[tuple[str, bytes]] = []
        self._lock = threading.Lock()
        self._ready = threading.Event()
        self.client = make_client(f"sniffer-{uuid.uuid4().hex[:8]}", BrokerConfig(url=broker.url))
        self.client.on_connect = lambda c, *_a: c.subscribe("kiosk/v1/#", qos=1)
        self.client.on_subscribe = lambda *_a: self._ready.set()
        self.client.on_message = self._on_message
        config = BrokerConfig(url=broker.url)
        self.client.connect_async(config.host, config.port)
        self.client.loop_start()
        assert self._ready.wait(10), "the sniffer did not subscribe"

    def _on_message(self, _c: mqtt.Client, _u: object, msg: mqtt.MQTTMessage) -> None:
        with self._lock:
            self.messages.append((msg.topic, bytes(msg.payload)))

    def on(self, *parts: str) -> list[tuple[str, bytes]]:
        """Messages whose topic has one of `parts` as a level."""
        with self._lock:
            return [(t, p) for t, p in self.messages if set(t.split("/")) & set(parts)]

    def stop(self) -> None:
        self.client.disconnect()
        self.client.loop_stop()


def test_attached_to_the_visit_and_never_on_stats_health_or_logs(
    pcsc_daemon: PcscDaemon,
    insert_card: InsertCard,
    mosquitto: MosquittoBroker,
    ingest_for: Callable[[MosquittoBroker], Ingest],
    central_store: FleetStore,
    queue_clock: SteppableClock,
    tmp_path: Path,
    caplog: pytest.LogCaptureFixture,
) -> None:
    """GIVEN a kiosk with its fleet agent, the central's prefill service and the visit the kiosk just issued
    WHEN the resident reads the card and chooses the counter THEN the central keeps the basic four for that
    visit; the session's anonymous record goes out on up/stats with outcome, target and language only; and
    neither the name nor the address appears on any stats, health, event or state message, nor in any log."""
    caplog.set_level(logging.DEBUG)
    ingest_for(mosquitto)
    sniffer = Sniffer(mosquitto)
    dev = new_device_id()
    catalog = load_sample_catalog()
    queue = open_queue(central_store.engine, catalog, QueueConfig(), clock=queue_clock)
    store = open_prefill(queue, tmp_path, queue_clock)
    server = RpcServer(
        BrokerConfig(url=mosquitto.url),
        PrefillRpc(queue, store).handlers(),
        group=f"rpc-{uuid.uuid4().hex[:8]}",
    )
    server.start()
    ticket = queue.take("本庁舎", "moving", device_id=dev)
    insert_card("valid-adult")
    config = simulated_kiosk_config(tmp_path / "kiosk", mosquitto.url, dev)
    options = AgentOptions(
        reconnect_min_s=0.2, reconnect_max_s=1.0, tick_s=0.05, drain_start_delay=lambda: 0.0
    )
    agent = FleetAgent(config, SimulatedDeviceHealth(config), options=options, clock_is_synced=lambda: True)
    try:
        with run_agent(agent):
            kiosk = _kiosk(
                pcsc_daemon.readers[0],
                FolderA4(tmp_path / "a4"),
                PrefillClient(agent.rpc_client(retry_s=1.0)),
            )
            kiosk.runner.parts.telemetry = agent.telemetry
            try:
                kiosk.controller.start_prefill(
                    PROCEDURES, ticket_view(ticket, catalog, "https://madoguchi.invalid")
                )
                kiosk.wait_for("prefill_consent")
                kiosk.tap(ev.Confirm())
                kiosk.wait_for("prefill_pin")
                kiosk.type_pin("1234")
                kiosk.wait_for("prefill_choose")
                kiosk.tap(pe.ChoosePrefillTarget(pe.PrefillTarget.COUNTER))
                kiosk.wait_for("prefill_done")
                assert getattr(kiosk.controller.view(), "number", None) == ticket.visit.number
                kiosk.tap(ev.Confirm())
                kiosk.wait_for("home")
                kiosk.runner.wait_idle()
                deadline = time.monotonic() + 20
                while time.monotonic() < deadline and not any(
                    b"prefill_session" in p for _, p in sniffer.on("stats")
                ):
                    time.sleep(0.1)
            finally:
                kiosk.runner.stop()
    finally:
        server.stop()
        sniffer.stop()
        queue.close()
    kept = store.read(ticket.visit.id)
    assert kept is not None and kept.fields == FIELDS and kept.procedures == PROCEDURES
    (stats,) = [json.loads(p) for _, p in sniffer.on("stats") if b"prefill_session" in p]
    (item,) = [i for i in stats["items"] if i["kind"] == "prefill_session"]
    assert {k: v for k, v in item.items() if k not in ("seq", "ts", "kind")} == {
        "outcome": "completed", "target": "counter", "language": "ja"
    }  # fmt: skip
    personal = (FIELDS.name, FIELDS.address, "花子", "霞が関", FIELDS.birth_date)
    secrets = [text.encode("utf-8") for text in personal]
    watched = sniffer.on("stats", "health", "event", "state", "alert", "reported", "staff_call")
    assert watched, "the agent published nothing to watch"
    for topic, payload in watched:
        for secret in secrets:
            assert secret not in payload, (topic, secret.decode())
    logged = "\n".join(r.getMessage() for r in caplog.records)
    for text in personal:
        assert text not in logged, text
