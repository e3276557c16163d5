"""Every problem code a driver, the runner, CUPS or the flow can produce has a resident-facing text.

The codes are enumerated from where they are made (not copied by hand): the device error hierarchy
(`device_drivers/*/errors.py`, including codes set at run time), the receipt printer's status problems,
string codes in the runner's source, the flow's own problem codes, and the IPP printer-state-reasons the
A4 path through CUPS can report (RFC 8011 §5.4.12, PWG 5100.9, CUPS), with each severity suffix.
No Kivy.
"""

from __future__ import annotations

import ast
import dataclasses
import importlib
import pkgutil
import re
import shutil
from pathlib import Path
from typing import Any

import pytest

import device_drivers
import kiosk_app.runner
from device_drivers.errors import DeviceError
from device_drivers.printer.a4 import cups
from device_drivers.printer.status import PaperLevel, PrinterStatus
from kiosk_app.i18n.catalogs import load_po, locale_root
from kiosk_app.i18n.problems import PROBLEM_KEYS, UNKNOWN_PROBLEM, normalize_problem, problem_key
from kiosk_app.i18n.translator import Translator
from madoguchi.contracts.languages import LANGUAGES

KEY_LIKE = re.compile(r"\b[a-z_]+(\.[a-z0-9_-]+)+\b")
ROOT = Path(__file__).resolve().parent.parent

# IPP printer-state-reasons keywords (RFC 8011 §5.4.12, PWG 5100.9, CUPS extensions).
IPP_REASONS = (
    "other", "media-needed", "media-jam", "moving-to-paused", "paused", "shutdown", "connecting-to-device",
    "timed-out", "stopping", "stopped-partly", "toner-low", "toner-empty", "spool-area-full", "cover-open",
    "interlock-open", "door-open", "input-tray-missing", "media-low", "media-empty", "output-tray-missing",
    "output-area-almost-full", "output-area-full", "marker-supply-low", "marker-supply-empty",
    "marker-waste-almost-full", "marker-waste-full", "fuser-over-temp", "fuser-under-temp", "opc-near-eol",
    "opc-life-over", "developer-low", "developer-empty", "interpreter-resource-unavailable", "offline",
    "cups-missing-filter", "cups-insecure-filter", "cups-waiting-for-job-completed",
)  # fmt: skip
IPP_STATES = ("idle", "processing", "stopped", "unknown")


def _error_codes() -> set[str]:
    # Every driver module: errors are also declared beside the code that raises them (qrsign.py ...).
    for module in pkgutil.walk_packages(device_drivers.__path__, "device_drivers."):
        try:
            importlib.import_module(module.name)
        except ImportError:  # an optional dependency (e.g. pyscard) that this machine lacks
            continue
    codes: set[str] = set()
    pending = [DeviceError]
    while pending:
        cls = pending.pop()
        codes.add(cls.code)
        pending.extend(cls.__subclasses__())
    return codes


def _receipt_problems() -> set[str]:
    """Every problem `PrinterStatus.problems` can name (each flag and paper level on its own)."""
    found: set[str] = set(PrinterStatus(reachable=False).problems)
    for field in dataclasses.fields(PrinterStatus):
        if field.type in ("bool", bool) and field.name not in ("reachable", "online"):
            for online in (True, False):
                flag: dict[str, Any] = {field.name: True}
                found.update(PrinterStatus(reachable=True, online=online, **flag).problems)
    for level in PaperLevel:
        found.update(PrinterStatus(reachable=True, online=True, paper=level).problems)
    return found


def _strings(node: ast.AST) -> set[str]:
    """Code-like string constants in an expression (`"a" if x else "b"` gives both)."""
    return {
        n.value
        for n in ast.walk(node)
        if isinstance(n, ast.Constant) and isinstance(n.value, str) and re.fullmatch(r"[a-z_.-]+", n.value)
    }


def _source_codes(folder: Path) -> set[str]:
    """String codes in the runner's source: event arguments, `code=` keywords, what `problem()` returns."""
    events = {"PrintFailed", "PrinterNotReady", "CardUnreadable"}
    codes: set[str] = set()
    for path in folder.glob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Call):
                name = getattr(node.func, "attr", "")
                owner = getattr(getattr(node.func, "value", None), "id", "")
                if owner == "ev" and name in events and node.args:
                    codes.update(_strings(node.args[0]))
                codes.update(
                    str(k.value.value)
                    for k in node.keywords
                    if k.arg == "code" and isinstance(k.value, ast.Constant)
                )
            if isinstance(node, ast.Assign) and any(getattr(t, "id", "") == "problem" for t in node.targets):
                codes.update(_strings(node.value))
            if isinstance(node, ast.FunctionDef) and node.name == "problem":
                codes.update(
                    inner.value
                    for returned in ast.walk(node)
                    if isinstance(returned, ast.Return)
                    for inner in ast.walk(returned)
                    if isinstance(inner, ast.Constant)
                    and isinstance(inner.value, str)
                    and re.fullmatch(r"[a-z_.-]+", inner.value)
                )
    return codes


def _flow_codes() -> set[str]:
    """Problem codes the certificate flow sets itself (`setattr(c.s, "problem", "timeout")` ...)."""
    tree = ast.parse((ROOT / "kiosk_app/flows/issuance_table.py").read_text(encoding="utf-8"))
    codes: set[str] = set()
    for node in ast.walk(tree):
        if not isinstance(node, ast.Call):
            continue
        name = getattr(node.func, "id", "")
        args = node.args
        if (
            name == "setattr"
            and len(args) == 3
            and getattr(args[1], "value", None) == "problem"
            and isinstance(args[2], ast.Constant)
        ):
            codes.add(str(args[2].value))
        if name == "_print_failed" and len(args) == 2 and isinstance(args[1], ast.Constant):
            codes.add(str(args[1].value))
    return codes


def every_code() -> set[str]:
    """Every problem code that can reach a resident's error screen."""
    receipt = _receipt_problems() | {"not_confirmed", "job_failed"}
    codes = _error_codes() | receipt | {f"printer.{p}" for p in receipt}
    codes |= _source_codes(Path(kiosk_app.runner.__file__).parent) | _flow_codes()
    codes |= {
        f"{reason}{suffix}" for reason in IPP_REASONS for suffix in ("", "-error", "-warning", "-report")
    }
    codes |= set(IPP_STATES) | set(cups._BLOCKING)
    return codes


CODES = sorted(every_code())
KEYS = sorted({*PROBLEM_KEYS.values(), UNKNOWN_PROBLEM})


def test_the_enumeration_finds_the_codes_residents_saw_as_raw_keys() -> None:
    """GIVEN the sources WHEN codes are enumerated THEN the ones issue 16 saw on screen are among them."""
    for seen in ("card.not_my_number", "printer.paper_jam", "not_issued", "media-empty", "timeout"):
        assert seen in CODES
    assert len(CODES) > 150


def test_every_code_is_listed_in_the_one_table() -> None:
    """GIVEN every code a driver, the runner, CUPS or the flow can raise WHEN looked up THEN the table lists it
    (a new code needs a deliberate text, not the general one)."""
    unlisted = [code for code in CODES if normalize_problem(code) not in PROBLEM_KEYS]
    assert unlisted == [], f"codes without an entry in kiosk_app/i18n/problems.py: {unlisted}"


@pytest.mark.parametrize(
    ("code", "key"),
    [
        ("card.not_my_number", "problem.not_my_number_card"),
        ("printer.paper_jam", "problem.paper_jam"),
        ("not_issued", "problem.not_issued"),
        ("media-empty", "problem.out_of_paper"),
        ("media-empty-error", "problem.out_of_paper"),
        ("door-open-report", "problem.cover_open"),
        ("printer.cover_open", "problem.cover_open"),
        ("something-new-error", "problem.unknown"),
    ],
)
def test_codes_seen_on_screen_map_to_their_text(code: str, key: str) -> None:
    """GIVEN a runner or CUPS code WHEN mapped THEN it gets the message id of its resident text."""
    assert problem_key(code) == key


@pytest.mark.parametrize("language", LANGUAGES)
def test_every_problem_text_exists_in_every_language(language: str) -> None:
    """GIVEN the message ids of the table WHEN the language's catalog is read THEN each has a text of its own.

    Fails until the translators have added the new ids (the list says which)."""
    catalog = load_po(language)
    missing = [
        key
        for key in KEYS
        if (m := catalog.get(key)) is None or not isinstance(m.string, str) or not m.string.strip() or m.fuzzy
    ]
    assert missing == [], f"{language}: no text for {missing}"


@pytest.mark.parametrize("language", LANGUAGES)
def test_no_problem_ever_shows_a_message_key(language: str) -> None:
    """GIVEN any code in any language WHEN the error screen explains it THEN a sentence shows, never a key."""
    translator = Translator(language)
    for code in CODES:
        text = translator.explain(problem_key(code))
        assert text.strip() and not KEY_LIKE.search(text), f"{language} {code}: {text!r}"


def test_a_missing_text_falls_back_to_plain_japanese_and_english(tmp_path: Path) -> None:
    """GIVEN Tiếng Việt without a text for paper jams WHEN the error screen explains a jam THEN plain Japanese
    and English both show (a foreign resident reads one, staff the other)."""
    root = tmp_path / "locale"
    shutil.copytree(locale_root(), root)
    vi = root / "vi" / "LC_MESSAGES" / "kiosk.po"
    text = vi.read_text(encoding="utf-8")
    vi.write_text(re.sub(r'msgid "problem\.paper_jam"\nmsgstr "[^"]*"', "", text), encoding="utf-8")
    translator = Translator("vi", root)
    shown = translator.explain(problem_key("printer.paper_jam"))
    assert shown.splitlines() == ["プリンターに紙が詰まりました。", "Paper is stuck in the printer."]
