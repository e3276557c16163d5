"""整理券 on the real screens: home → 番号札を取る → category (lamp as colour and words) → done → home.

The centre is a stub `QueueClient` answering `queue.take` at the client boundary (the screen tests have no
MQTT); the runner's real `TicketDesk` turns its answer into the flow's event and prints on a recording
printer. Japanese and English always run; `KIOSK_UI_ALL_LANGUAGES=1` adds the other languages.
"""

from __future__ import annotations

import os
import re
import time
from pathlib import Path
from typing import Any

import pytest

from device_drivers.printer.document import Document, Text
from kiosk_app.flows import queue_events as qe
from kiosk_app.flows.clock import FakeClock
from kiosk_app.flows.core import Command
from kiosk_app.queue_client import QueueRefused
from kiosk_app.runner.queue_journal import QueueJournal
from kiosk_app.runner.tickets import TicketDesk
from kiosk_app.ui.controller import KioskController
from kiosk_app.ui.root import KioskRoot, build_root
from madoguchi.contracts.catalog import load_sample_catalog
from madoguchi.contracts.languages import LANGUAGES
from madoguchi.contracts.queue import (
    CategoryLamp,
    Congestion,
    CongestionView,
    CounterStop,
    QueueRefusal,
    TakeParams,
    TicketView,
)
from tests.ui.conftest import SIZE, Ui
from tests.ui.tofu import tofu_in

ORIENTATION = "portrait" if SIZE == "1080x1920" else "landscape"
CHECKED = LANGUAGES if os.environ.get("KIOSK_UI_ALL_LANGUAGES") == "1" else ("ja", "en")
_TAGS = re.compile(r"\[[^\]]*\]|\{([^|}]*)\|[^}]*\}")


def _plain(markup: str) -> str:
    return _TAGS.sub(lambda m: m.group(1) or "", markup)


class StubCentre:
    """Answers `queue.take` like the central would (A-12 at 市民課 then 保険年金課)."""

    def __init__(self) -> None:
        self.taken: list[TakeParams] = []
        self.refuse: QueueRefusal | None = None

    def take(self, params: TakeParams) -> TicketView:
        self.taken.append(params)
        if self.refuse is not None:
            raise QueueRefused(self.refuse)
        token = "t" * 32
        return TicketView(
            number="A-12",
            category=params.category,
            counters=[CounterStop(counter="shimin_1", floor=1), CounterStop(counter="hoken", floor=2)],
            people_ahead=3,
            wait_min_minutes=10,
            wait_max_minutes=20,
            issued_at=int(time.time() * 1000),
            status_token=token,
            status_url=f"https://q.example.jp/s/{token}",
            expires_at=int(time.time() * 1000) + 3_600_000,
        )


class Paper:
    """A receipt printer that keeps what it printed."""

    def __init__(self) -> None:
        self.printed: list[Document] = []

    def print_document(self, document: Document) -> None:
        self.printed.append(document)


class QueueKiosk:
    """The root widget with a controller whose runner takes tickets through a real `TicketDesk`."""

    def __init__(self, ui: Ui, tmp: Path, language: str) -> None:
        self.ui = ui
        catalog = load_sample_catalog()
        self.centre, self.paper = StubCentre(), Paper()
        self.controller = KioskController.for_catalog(catalog, self.execute, FakeClock(), language=language)
        journal = QueueJournal(tmp / "offline.sqlite")
        self.desk = TicketDesk(catalog, journal, self.centre, self.paper, self.controller.post)
        self.commands: list[Command] = []
        self.root: KioskRoot = ui.mount(build_root(self.controller))

    def execute(self, command: Command) -> None:
        self.commands.append(command)
        if isinstance(command, qe.TakeTicket):
            self.desk.take(command)

    def settle(self) -> None:
        self.controller.drain()
        self.ui.frames(2)

    def texts(self) -> list[str]:
        from kivy.uix.label import Label

        return [
            _plain(w.text)
            for w in self.root.screen().walk(restrict=True)
            if isinstance(w, Label) and w.opacity
        ]

    def button(self, fragment: str) -> Any:
        from kivy.uix.button import Button

        found = [
            w
            for w in self.root.screen().walk(restrict=True)
            if isinstance(w, Button) and w.opacity and fragment in _plain(w.text)
        ]
        assert found, f"no button with {fragment!r}: {self.texts()}"
        return found[0]

    def shot(self, language: str) -> None:
        self.ui.screenshot(f"queue-{language}-{ORIENTATION}-{self.controller.step_name()}")
        assert tofu_in(self.root) == [], f"missing glyphs on {self.controller.step_name()}"


def _lamps() -> CongestionView:
    return CongestionView(
        branch="honcho",
        at=int(time.time() * 1000),
        categories=[
            CategoryLamp(
                category="moving", level=Congestion.CALM, waiting=3, wait_min_minutes=10, wait_max_minutes=20
            ),
            CategoryLamp(
                category="certificates",
                level=Congestion.CROWDED,
                waiting=9,
                wait_min_minutes=40,
                wait_max_minutes=50,
            ),
            CategoryLamp(
                category="family_register",
                level=Congestion.BUSY,
                waiting=0,
                wait_min_minutes=0,
                wait_max_minutes=5,
                closed=True,
            ),
        ],
    )


@pytest.mark.parametrize("language", CHECKED)
def test_resident_takes_a_number_and_is_told_where_to_go(ui: Ui, tmp_path: Path, language: str) -> None:
    """GIVEN lamps from the centre WHEN a resident takes a number for 引っ越し THEN the lamps show as colour and
    words with a wait range, the closed category is disabled with why, the ticket prints, the done screen
    shows A-12 and the counters, and OK returns home."""
    k = QueueKiosk(ui, tmp_path, language)
    catalog = k.controller.catalog
    assert catalog is not None
    t = k.controller.translator()
    k.controller.set_home_language(language)
    k.controller.post(qe.CongestionChanged(_lamps()))
    k.settle()
    k.ui.tap(k.root.screen().ids.queue)
    assert k.root.manager.current == "ticket"
    k.shot(language)
    shown = "\n".join(k.texts())
    plain = lambda key, **kw: _plain(t.tr(key, **kw))  # noqa: E731
    assert plain("queue.level.calm") in shown and plain("queue.level.crowded") in shown
    assert plain("queue.wait", low=10, high=20) in shown
    closed = k.button(_plain(catalog.queue_category("family_register").names.text(language)))
    assert closed.disabled and plain("queue.closed") in _plain(closed.text)

    k.ui.tap(k.button(_plain(catalog.queue_category("moving").names.text(language))))
    k.settle()
    assert [p.category for p in k.centre.taken] == ["moving"] and k.centre.taken[0].language == language
    assert k.controller.step_name() == "queue_done"
    k.shot(language)
    shown = "\n".join(k.texts())
    assert plain("queue.done.title", number="A-12") in shown and "A-12" in shown
    hoken = _plain(catalog.counter("hoken").names.text(language))
    assert hoken in shown and plain("queue.ahead", count=3) in shown
    (ticket,) = k.paper.printed
    assert "A-12" in [b.text for b in ticket.blocks if isinstance(b, Text)]

    k.ui.tap(k.root.screen().ids.ok)
    assert k.root.manager.current == "home"


def test_a_refusal_is_explained_in_the_residents_language(ui: Ui, tmp_path: Path) -> None:
    """GIVEN the centre refuses (daily cap) WHEN a resident takes a number THEN the reason is shown in English
    with the centre's message as detail, and nothing is printed."""
    k = QueueKiosk(ui, tmp_path, "en")
    k.centre.refuse = QueueRefusal(kind="daily_cap", message="本日の上限に達しました")
    k.ui.tap(k.root.screen().ids.queue)
    k.ui.tap(k.button("Certificates"))
    k.settle()
    shown = "\n".join(k.texts())
    assert "Today's numbers for this service have all been issued." in shown
    assert "本日の上限に達しました" in shown and k.paper.printed == []
    k.shot("en")


def test_autopilot_takes_a_number_with_the_fake_devices(ui: Ui, artifacts: Path) -> None:
    """GIVEN the in-process fake devices (`kiosk run --autopilot queue` without hardware) WHEN the autopilot plays
    `queue` THEN it reaches the number and ends at home."""
    from kiosk_app.flows.clock import monotonic_clock
    from kiosk_app.ui.autopilot import SCENARIOS, Autopilot
    from kiosk_app.ui.fake_runner import FakeRunner

    catalog = load_sample_catalog()
    runner = FakeRunner(catalog)
    controller = KioskController.for_catalog(catalog, runner.execute, monotonic_clock)
    runner.attach(controller.post)
    root = ui.mount(build_root(controller))
    shots = Autopilot(root, controller, screenshots=artifacts / f"autopilot-queue-{SIZE}").play(
        SCENARIOS["queue"]
    )
    assert controller.step_name() == "home" and qe.TakeTicket("moving", "ja") in runner.executed
    assert any("queue_done" in p.name for p in shots)
