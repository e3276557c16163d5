"""The real screens driven by synthetic touches under SDL offscreen, with screenshots and a tofu check.

Device results (card, payment, printer) are sent to the controller as the runner would; everything the
resident does is a tap on the widget they would tap.
"""

from __future__ import annotations

import itertools
import os
import re
from pathlib import Path
from typing import Any

import pytest

from kiosk_app.flows import commands as cmd
from kiosk_app.flows import events as ev
from kiosk_app.flows.clock import FakeClock
from kiosk_app.flows.core import Command, Event, Tick
from kiosk_app.flows.issuance import CertificateFlow, settings_from_catalog
from kiosk_app.flows.register import RegisterFlow, RegisterSettings
from kiosk_app.ui.controller import KioskController
from kiosk_app.ui.root import KioskRoot, build_root
from madoguchi.contracts.catalog import load_sample_catalog
from madoguchi.contracts.issuance import Refusal
from tests.flow_helpers import sample_options
from tests.ui.conftest import SIZE, Ui
from tests.ui.tofu import has_glyph, tofu_in

ORIENTATION = "portrait" if SIZE == "1080x1920" else "landscape"
_TAGS = re.compile(r"\[[^\]]*\]")


class Kiosk:
    """A root widget on the window with its controller, clock and the commands the runner received."""

    def __init__(self, ui: Ui) -> None:
        counter = itertools.count(1)
        self.ui = ui
        self.clock = FakeClock()
        self.commands: list[Command] = []
        catalog = load_sample_catalog()
        certificate = CertificateFlow(
            settings_from_catalog(catalog), self.clock, make_ref=lambda: f"ref-{next(counter)}"
        )
        register = RegisterFlow(RegisterSettings(methods=("credit", "qr")), self.clock)
        self.controller = KioskController(certificate, register, self.commands.append, catalog)
        self.root: KioskRoot = ui.mount(build_root(self.controller))
        self.shots: list[Path] = []

    def device(self, *events: Event) -> None:
        for event in events:
            self.controller.send(event)
        self.ui.frames(2)

    def buttons(self) -> list[Any]:
        from kivy.uix.button import Button

        return [
            w
            for w in self.root.screen().walk(restrict=True)
            if isinstance(w, Button) and not w.disabled and w.opacity
        ]

    def tap_text(self, fragment: str) -> None:
        """Tap the button of the current screen whose visible text contains `fragment`."""
        matches = [b for b in self.buttons() if fragment in _TAGS.sub("", b.text)]
        assert matches, (
            f"no button with {fragment!r} on {self.root.manager.current}: {[b.text for b in self.buttons()]}"
        )
        self.ui.tap(matches[0])

    def tap_id(self, name: str) -> None:
        widget = self.root.screen().ids.get(name) or self.root.ids.get(name)
        assert widget is not None, name
        self.ui.tap(widget)

    def shot(self, language: str) -> None:
        """Screenshot the screen and fail on tofu."""
        step = self.controller.step_name()
        self.shots.append(self.ui.screenshot(f"{language}-{ORIENTATION}-{step}"))
        assert tofu_in(self.root) == [], f"missing glyphs on {step}"


@pytest.fixture
def kiosk(ui: Ui) -> Kiosk:
    return Kiosk(ui)


LABELS = {
    "ja": {
        "lang": "日本語",
        "yes": "はい",
        "next": "次へ",
        "ok": "OK",
        "juminhyo": "住民票",
        "credit": "クレジット",
    },
    "en": {
        "lang": "English",
        "yes": "Yes",
        "next": "Next",
        "ok": "OK",
        "juminhyo": "Residence",
        "credit": "Credit",
    },
}


@pytest.mark.parametrize("language", ["ja", "en"])
def test_resident_gets_a_certificate_by_touch(kiosk: Kiosk, language: str) -> None:
    """GIVEN the home screen WHEN a resident taps through issuance in LANGUAGE THEN every screen shows without
    tofu, the sale is 2 x 200 yen, the certificate prints, the card alarm rings until the card is taken."""
    k, words = kiosk, LABELS[language]
    k.shot(language)
    k.tap_id("issuance")
    k.shot(language)
    k.tap_text(words["lang"])
    k.shot(language)
    k.device(ev.CardInserted())
    k.shot(language)
    k.device(ev.PinTriesRead(1))
    for digit in "4729":
        k.tap_text(digit)
    dots = k.root.screen().ids.dots
    assert (dots.filled, dots.total, dots.opacity, k.root.screen().ids.display.text) == (4, 4, 1, "")
    k.shot(language)
    k.tap_id("confirm")
    (verify,) = [c for c in k.commands if isinstance(c, cmd.VerifyPinAndAuthenticate)]
    assert verify.pin == "4729"
    k.device(ev.AuthOk("𠮷田 太郎"))
    k.shot(language)
    k.tap_text(words["yes"])
    k.device(ev.OptionsReceived(sample_options()))
    k.shot(language)
    k.tap_text(words["juminhyo"])
    k.shot(language)
    k.tap_id("next")
    k.tap_id("plus")
    k.shot(language)
    k.tap_id("next")
    k.shot(language)
    k.tap_text(words["next"])
    k.shot(language)
    k.tap_text(words["credit"])
    k.device(ev.PrinterReady(), ev.PaymentProgress("WAIT_CARD"))
    k.shot(language)
    (sale,) = [c for c in k.commands if isinstance(c, cmd.StartPayment)]
    assert sale.amount_yen == 400 and sale.method_id == "credit"
    k.device(ev.PaymentApproved(sale.ref), ev.PrintProgress(1, 2))
    k.shot(language)
    k.device(ev.PrintDone())
    k.shot(language)
    k.tap_text(words["ok"])
    k.shot(language)
    k.clock.advance(10)
    k.device(Tick())
    assert k.controller.step_name() == "card_left_behind"
    assert any(isinstance(c, cmd.StartAlarm) for c in k.commands)
    k.shot(language)
    k.device(ev.CardRemoved())
    k.shot(language)
    k.ui.tap(k.root.screen().words()[4])  # "very good"
    assert k.controller.step_name() == "home" and k.root.manager.current == "home"
    (stats,) = [c.stats for c in k.commands if isinstance(c, cmd.EmitStatistic)]
    assert stats.rating == 5 and stats.language == language
    assert len({p.name for p in k.shots}) == len(k.shots) >= 17


def test_resident_pays_a_slip_by_typing_its_number(kiosk: Kiosk) -> None:
    """GIVEN a staff-registered order WHEN the resident types its number and pays by QR THEN the order is marked
    paid and a receipt printed."""
    k = kiosk
    k.tap_text("English")
    k.tap_id("register")
    k.shot("en")
    k.tap_text("Type")
    for digit in "42":
        k.tap_text(digit)
    k.shot("en")
    k.tap_id("confirm")
    assert cmd.LookupOrder("42") in k.commands
    order = ev.Order(
        "ord-42", (ev.OrderLine("sodai_gomi", "粗大ごみ処理券（1枚）", 2, 600),), 600, ("cash", "qr")
    )
    k.device(ev.OrderFound(order))
    k.shot("en")
    summary = " ".join(w.text for w in k.root.screen().ids.rows.children)
    assert "Oversized garbage ticket" in summary and "粗大ごみ" not in summary  # the item in her language
    k.tap_id("next")
    k.shot("en")
    assert len(k.root.screen().ids.rows.children) == 1  # cash is not taken here, credit not for this order
    k.tap_text("QR")
    k.device(ev.PrinterReady())
    (sale,) = [c for c in k.commands if isinstance(c, cmd.StartPayment)]
    k.device(ev.PaymentApproved(sale.ref), ev.PrintDone())
    k.shot("en")
    assert cmd.MarkOrderPaid("ord-42", sale.ref, "qr") in k.commands
    k.tap_text("OK")
    assert k.root.manager.current == "home"


def test_large_text_high_contrast_and_staff_call_on_every_screen(kiosk: Kiosk) -> None:
    """GIVEN any screen WHEN large text / high contrast / call staff are tapped THEN text grows, colours invert
    and a staff call naming the step is sent."""
    k = kiosk
    title = k.root.screen().ids.title
    before = title.font_size
    k.tap_id("large")
    assert title.font_size > before * 1.3
    k.tap_id("contrast")
    assert tuple(k.root.background)[:3] == (0, 0, 0)
    k.shot("ja-large-contrast")
    k.tap_id("staff")
    calls = [(c.step, c.reason) for c in k.commands if isinstance(c, cmd.CallStaffCommand)]
    assert calls == [("home", "resident")]
    assert k.root.ids.staff_text.text and k.root.ids.staff_banner.height > 0  # "staff have been called"
    k.tap_id("cancel_call")
    assert any(isinstance(c, cmd.CancelStaffCallCommand) for c in k.commands)
    assert k.root.ids.staff_banner.height == 0
    k.tap_id("issuance")
    k.tap_text("日本語")
    k.device(ev.CardInserted(), ev.PinTriesRead(3))
    assert k.root.time_offered and k.root.ids.more_time.opacity == 1  # 時間を延長 on the PIN step
    k.tap_id("staff")
    calls = [(c.step, c.reason) for c in k.commands if isinstance(c, cmd.CallStaffCommand)]
    assert calls[-1] == ("pin_entry", "resident")
    assert k.root.manager.current == "keypad" and k.root.ids.staff_banner.height > 0  # the step stays
    k.shot("ja-staff-called")


def test_the_last_seconds_are_counted_down_on_screen(kiosk: Kiosk) -> None:
    """GIVEN the PIN step WHEN 45 s pass untouched THEN the top bar shows the seconds left beside 時間を延長;
    tapping it gives the whole time back and the count-down goes."""
    k = kiosk
    k.tap_id("issuance")
    k.tap_text("日本語")
    k.device(ev.CardInserted(), ev.PinTriesRead(3))
    assert k.root.ids.countdown.text == ""
    k.clock.advance(45)
    k.controller.drain()
    k.ui.frames(2)
    assert "残り15秒" in k.root.ids.countdown.text
    k.shot("ja-countdown")
    k.tap_id("more_time")
    assert k.root.ids.countdown.text == "" and k.controller.step_name() == "pin_entry"


def test_easy_japanese_shows_furigana_and_the_tofu_check_can_fail(kiosk: Kiosk) -> None:
    """GIVEN やさしい日本語 WHEN the PIN screen shows THEN readings appear in small kana above the words (ruby, not
    in parentheses); and the glyph check really detects boxes: 𠮷 is missing from BIZ UD Gothic, い from Kivy's
    Roboto."""
    k = kiosk
    k.tap_id("issuance")
    k.tap_text("やさしい")
    k.device(ev.CardInserted(), ev.PinTriesRead(2))
    title = k.root.screen().ids.title
    assert "{暗証番号|あんしょうばんごう}" in title.text and "(あんしょうばんごう)" not in title.text
    readings = [i for i in title.ruby_layout.items if i.role == "reading" and i.text == "あんしょうばんごう"]
    assert readings and readings[0].size < title.font_size
    k.shot("ja-x-easy")
    assert not has_glyph("𠮷", "KioskUI") and has_glyph("𠮷", "KioskCJK")
    assert not has_glyph("い", "Roboto") and has_glyph("い", "KioskUI")


def test_forgotten_pin_says_where_to_go(kiosk: Kiosk) -> None:
    """GIVEN the PIN screen WHEN "forgot your PIN?" is tapped THEN the My Number counter from the catalog is named."""
    k = kiosk
    k.tap_id("issuance")
    k.tap_text("English")
    k.device(ev.CardInserted(), ev.PinTriesRead(2))
    k.tap_id("forgot")
    assert "My Number Card counter 5" in _TAGS.sub("", k.root.screen().ids.detail.text)
    k.shot("en")
    k.tap_text("Back")
    assert k.controller.step_name() == "pin_entry"


@pytest.mark.skipif(os.environ.get("KIOSK_UI_ALL_LANGUAGES") != "1", reason="set KIOSK_UI_ALL_LANGUAGES=1")
@pytest.mark.parametrize("language", ["zh", "ko", "vi", "pt", "tl", "ne"])
def test_scaffolded_languages_show_no_tofu(kiosk: Kiosk, language: str) -> None:
    """GIVEN a scaffolded language WHEN its PIN screen shows THEN no character is a box."""
    k = kiosk
    k.tap_id("issuance")
    k.device(ev.ChooseLanguage(language), ev.CardInserted(), ev.PinTriesRead(3))
    k.shot(language)


def _visible(widget: Any) -> str:
    return _TAGS.sub("", widget.text)


def test_language_picked_on_home_stays_on_the_language_screen(kiosk: Kiosk) -> None:
    """GIVEN a resident who picked English on home WHEN they start a certificate THEN the language screen speaks
    English and marks English as the current language."""
    k = kiosk
    k.tap_text("English")
    k.tap_id("issuance")
    screen = k.root.screen()
    assert _visible(screen.ids.title) == "Choose your language"
    marked = [_visible(b) for b in k.buttons() if _visible(b).startswith("● ")]
    assert marked == ["● English"]
    k.shot("en-language")


def test_keypad_next_and_erase_do_not_look_like_digits(kiosk: Kiosk) -> None:
    """GIVEN the PIN keypad WHEN it shows THEN 次へ and 訂正 differ from the digit keys in colour and shape (rounded),
    also in high contrast."""
    from kivy.graphics import RoundedRectangle

    k = kiosk
    k.tap_id("issuance")
    k.device(ev.ChooseLanguage("ja"), ev.CardInserted(), ev.PinTriesRead(3))
    for contrast in (False, True):
        if contrast:
            k.tap_id("contrast")
        ids = k.root.screen().ids
        digit = tuple(ids.key1.background_color)
        for key in (ids.confirm, ids.erase):
            assert tuple(key.background_color)[3] == 0  # no square background
            assert tuple(key.fill) != digit and key.fill[3] == 1
            assert any(isinstance(i, RoundedRectangle) for i in key.canvas.before.children)
        assert tuple(ids.confirm.fill) != tuple(ids.erase.fill)
    assert "次へ" in _visible(k.root.screen().ids.confirm) and "訂正" in _visible(k.root.screen().ids.erase)
    k.shot("ja-keypad-contrast")


def _to_paying(k: Kiosk, language: str) -> None:
    k.controller.set_home_language(language)
    k.tap_id("issuance")
    k.device(ev.ChooseLanguage(language), ev.CardInserted(), ev.PinTriesRead(3))
    for digit in "1234":
        k.device(ev.Digit(digit))
    k.device(ev.Confirm(), ev.AuthOk("見本 花子"), ev.Confirm(), ev.OptionsReceived(sample_options()))
    k.device(ev.ChooseType("inkan"), ev.Confirm(), ev.Confirm(), ev.ChooseMethod("credit"), ev.PrinterReady())


@pytest.mark.parametrize("language", ["ja", "en"])
def test_paying_instruction_is_as_large_as_the_title_and_right_under_it(kiosk: Kiosk, language: str) -> None:
    """GIVEN the paying screen WHEN the terminal asks for the card THEN that instruction is as large as the title
    and directly below it (not small at the bottom)."""
    k = kiosk
    _to_paying(k, language)
    k.device(ev.PaymentProgress("WAIT_CARD"))
    ids = k.root.screen().ids
    assert k.controller.step_name() == "paying"
    assert ids.body.text and ids.body.font_size >= ids.title.font_size
    assert 0 <= ids.title.y - ids.body.top <= 60
    k.shot(f"{language}-paying-instruction")


def test_refusal_names_counter_and_floor_and_shows_a_qr_code_not_a_url(kiosk: Kiosk) -> None:
    """GIVEN refusals WHEN one sends the resident to a web page and one to a counter THEN no URL is shown as text: the
    page is a QR code with a caption, and the counter comes with its number and floor from the catalog."""
    k = kiosk
    catalog = load_sample_catalog()
    rules = {r.kind.value: r for r in catalog.eligibility_rules}
    k.controller.set_home_language("en")
    for kind, expected in (("registration_required", "Scan this code"), ("moved_out", "Counter 1, floor 1")):
        k.tap_id("issuance")
        k.device(ev.ChooseLanguage("en"), ev.CardInserted(), ev.PinTriesRead(3))
        for digit in "1234":
            k.device(ev.Digit(digit))
        rule = rules[kind]
        refusal = Refusal(
            kind=kind,
            reason=rule.reason.text("en"),
            where_to_go=rule.where_to_go.text("en"),
            counter=rule.counter,
        )
        k.device(ev.Confirm(), ev.AuthRefused(refusal))
        ids = k.root.screen().ids
        texts = " ".join(_visible(w) for w in k.root.walk() if hasattr(w, "text") and isinstance(w.text, str))
        assert "http" not in texts and expected in texts
        assert (ids.qr.texture is not None) == (kind == "registration_required")
        k.shot(f"en-refused-{kind}")
        k.device(ev.Confirm(), ev.CardRemoved())


def test_rating_buttons_have_words_and_faces(kiosk: Kiosk) -> None:
    """GIVEN the rating screen WHEN it shows THEN each choice is a word (very bad … very good) beside a drawn face
    (frown to smile), with no "1 of 5"; tapping a face rates."""
    from kiosk_app.ui.screens.rating import Face
    from kiosk_app.ui.theme import NORMAL

    k = kiosk
    _to_paying(k, "en")
    (sale,) = [c for c in k.commands if isinstance(c, cmd.StartPayment)]
    k.device(ev.PaymentApproved(sale.ref), ev.PrintDone(), ev.Confirm(), ev.CardRemoved())
    screen = k.root.screen()
    assert k.controller.step_name() == "rating"
    assert [_visible(w) for w in screen.words()] == ["Very bad", "Bad", "OK", "Good", "Very good"]
    assert all(tuple(round(c, 3) for c in w.background_color) == NORMAL.button for w in screen.words())
    faces = [w for w in screen.walk() if isinstance(w, Face)]
    assert [f.mood for f in faces] == [1, 2, 3, 4, 5] and all(f.canvas.children for f in faces)
    k.shot("en-rating")
    k.ui.tap(faces[3])
    (stats,) = [c.stats for c in k.commands if isinstance(c, cmd.EmitStatistic)]
    assert stats.rating == 4


def test_one_copy_is_singular(kiosk: Kiosk) -> None:
    """GIVEN the copies screen in English WHEN 1 then 2 copies are chosen THEN "1 copy" and "2 copies" show."""
    k = kiosk
    k.controller.set_home_language("en")
    k.tap_id("issuance")
    k.device(ev.ChooseLanguage("en"), ev.CardInserted(), ev.PinTriesRead(3))
    for digit in "1234":
        k.device(ev.Digit(digit))
    k.device(ev.Confirm(), ev.AuthOk("見本 花子"), ev.Confirm(), ev.OptionsReceived(sample_options()))
    k.device(ev.ChooseType("inkan"))
    assert _visible(k.root.screen().ids.count) == "1 copy"
    k.tap_id("plus")
    assert _visible(k.root.screen().ids.count) == "2 copies"


def test_latin_text_is_drawn_in_a_proportional_face(kiosk: Kiosk) -> None:
    """GIVEN the kiosk font WHEN "iiii" and "MMMM" are rendered THEN their widths differ (not monospaced)."""
    from kivy.core.text import Label as CoreLabel

    widths = []
    for text in ("iiii", "MMMM"):
        label = CoreLabel(text=text, font_name="KioskUI", font_size=40)
        label.refresh()
        widths.append(label.texture.size[0])
    assert widths[0] < widths[1] * 0.6


@pytest.mark.parametrize("language", ["ja", "ja-x-easy", "en", "zh", "vi"])
def test_call_staff_never_breaks_inside_a_word(kiosk: Kiosk, language: str) -> None:
    """GIVEN the top bar WHEN shown in LANGUAGE, normal and large text THEN 職員を呼ぶ (and its translations) is
    one line, or breaks only between words."""
    k = kiosk
    k.controller.set_home_language(language)
    for large in (False, True):
        if large:
            k.tap_id("large")
        k.ui.frames(2)
        staff = k.root.ids.staff
        layout = getattr(staff, "ruby_layout", None)
        lines = len(layout.lines) if layout is not None and hasattr(layout, "lines") else None
        one_line = staff.texture_size[1] < staff.font_size * 1.7
        words = _visible(staff).replace("{", "").split()
        assert one_line or (lines is not None and lines <= len(words)) or len(words) > 1, (language, large)
    k.shot(f"{language}-staff-large")
