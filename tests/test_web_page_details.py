"""Details of the central web's pages: plain-text titles, readable badge colours (WCAG AA), and the audit log's
details and the KPI step names in the page's language."""

from __future__ import annotations

import ast
import html
import re
import time
from importlib import resources
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from central_broker.accounts import LoginRefused, Role
from central_broker.store import FleetStore
from central_broker.web import WebContext
from central_broker.web.audit_view import LEGACY_DETAILS
from central_broker.web.kpi_steps import STEP_LABELS
from kiosk_app.flows.issuance_context import Step
from kiosk_app.flows.register import RegisterStep
from madoguchi.contracts.messages import StatsBatch, StatsItem
from tests.fixtures.web import make_user, signed_in

WEB = Path(str(resources.files("central_broker.web")))
CSS = WEB / "static" / "app.css"
AA_NORMAL_TEXT = 4.5

# --- titles ----------------------------------------------------------------------------------------


def test_the_catalog_page_title_is_plain_text(web_context: WebContext, web_client: TestClient) -> None:
    """GIVEN an operator WHEN the catalog page is opened THEN its <title> is "Catalog — Madoguchi central" (no
    markup, which a browser would show literally) and the app-release section appears once, in the page."""
    signed_in(web_client, *make_user(web_context, Role.OPERATOR))
    page = web_client.get("/catalog").text
    title = re.search(r"<title>(.*?)</title>", page, re.S)
    assert title is not None and title.group(1) == "Catalog — Madoguchi central", title
    body = page.split("<main>", 1)[1]
    assert page.count('id="app-releases"') == 1 and 'id="app-releases"' in body


# --- colour contrast -------------------------------------------------------------------------------


def _hex(colour: str) -> tuple[float, float, float]:
    value = colour.strip().lstrip("#")
    if len(value) == 3:
        value = "".join(c * 2 for c in value)
    assert re.fullmatch(r"[0-9a-fA-F]{6}", value), f"not a #rgb colour: {colour!r}"
    return tuple(int(value[i : i + 2], 16) / 255 for i in (0, 2, 4))  # type: ignore[return-value]


def luminance(colour: str) -> float:
    """WCAG 2 relative luminance of a #rgb / #rrggbb colour."""
    channels = [c / 12.92 if c <= 0.04045 else ((c + 0.055) / 1.055) ** 2.4 for c in _hex(colour)]
    return 0.2126 * channels[0] + 0.7152 * channels[1] + 0.0722 * channels[2]


def contrast(foreground: str, background: str) -> float:
    """WCAG 2 contrast ratio of two colours (1 to 21)."""
    light, dark = sorted((luminance(foreground), luminance(background)), reverse=True)
    return (light + 0.05) / (dark + 0.05)


def _rules() -> list[tuple[str, dict[str, str]]]:
    """(selector, declarations) of every rule in app.css (inside @media too), `var(--x)` resolved."""
    source = re.sub(r"/\*.*?\*/", "", CSS.read_text(encoding="utf-8"), flags=re.S)
    rules = []
    for selector, body in re.findall(r"([^{}]+)\{([^{}]*)\}", source):
        declarations = dict(
            (name.strip(), value.strip())
            for name, _colon, value in (d.partition(":") for d in body.split(";"))
            if value.strip()
        )
        rules.append((" ".join(selector.split()), declarations))
    variables = {k: v for _s, d in rules if _s == ":root" for k, v in d.items() if k.startswith("--")}

    def resolve(value: str) -> str:
        return re.sub(r"var\((--[\w-]+)\)", lambda m: variables[m.group(1)], value)

    return [(s, {k: resolve(v) for k, v in d.items()}) for s, d in rules if s != ":root"]


def _background(declarations: dict[str, str]) -> str | None:
    value = declarations.get("background-color") or declarations.get("background")
    return value if value and value.startswith("#") else None


def _pairs() -> list[tuple[str, str, str]]:
    """(selector, text colour, background) of every rule that colours text: with its own background, or on
    the surface it sits on (the header's for header rules, else every light surface of the page)."""
    rules = _rules()
    header = next(_background(d) for s, d in rules if s == "header")
    surfaces = {bg for _s, d in rules if (bg := _background(d)) and luminance(bg) > 0.5}
    pairs = []
    for selector, declarations in rules:
        colour = declarations.get("color")
        if not colour or not colour.startswith("#"):
            continue
        if own := _background(declarations):
            pairs.append((selector, colour, own))
        elif selector.startswith("header") or "button.link" in selector:
            assert header is not None
            pairs.append((selector, colour, header))
        else:
            pairs += [(selector, colour, surface) for surface in sorted(surfaces)]
    return pairs


def test_every_badge_and_text_colour_meets_wcag_aa_on_its_background() -> None:
    """GIVEN every rule of app.css that sets a text colour (status badges, buttons, hints …) WHEN its contrast
    against its background is computed THEN it is at least 4.5:1 (WCAG AA for normal text)."""
    assert round(contrast("#000", "#fff"), 2) == 21.0  # the formula as WCAG 2 defines it …
    assert round(contrast("#a86400", "#fff1d6"), 2) == 4.19  # … gives the old 未払い badge's failing ratio
    pairs = _pairs()
    badges = [p for p in pairs if ".st-" in p[0]]
    assert len(badges) >= 4, "the status badges were not found in app.css"
    low = [
        f"{selector}: {fg} on {bg} = {contrast(fg, bg):.2f}:1"
        for selector, fg, bg in pairs
        if contrast(fg, bg) < AA_NORMAL_TEXT
    ]
    assert not low, low


# --- audit details and KPI steps in the page's language --------------------------------------------


def _ja_catalog() -> dict[str, str]:
    from babel.messages.pofile import read_po

    with (WEB / "locale" / "ja" / "LC_MESSAGES" / "web.po").open("rb") as source:
        return {
            m.id: m.string for m in read_po(source) if isinstance(m.id, str) and isinstance(m.string, str)
        }


def test_every_kiosk_step_has_a_name_translated_to_japanese() -> None:
    """GIVEN the steps of the certificate and register flows THEN each has a label with a Japanese text, and so
    has every audit detail pattern of the audit page."""
    japanese = _ja_catalog()
    steps = {s.value for s in Step} | {s.value for s in RegisterStep}
    assert not steps - set(STEP_LABELS), "add these steps to kpi_steps.STEP_LABELS"
    texts = set(STEP_LABELS.values()) | {msgid for _a, _p, msgid in LEGACY_DETAILS}
    assert not sorted(t for t in texts if not japanese.get(t)), "add Japanese texts to ja/web.po"


def _texts_shown_from_central_code() -> set[str]:
    """Audit details written with values (`….audit(actor, action, target, "text", name=value)`) and sign-in
    refusals (`LoginRefused("message", "hint")`) anywhere in central_broker: the pages translate them."""
    texts: set[str] = set()
    for path in Path(str(resources.files("central_broker"))).rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call):
                continue
            name = getattr(node.func, "attr", getattr(node.func, "id", ""))
            if name == "audit" and len(node.args) >= 4 and node.keywords:
                candidates = [node.args[3]]
            elif name == "LoginRefused":
                candidates = node.args[:2]
            else:
                continue
            for arg in candidates:  # a constant, or `"a" if known else "b"`
                for leaf in ast.walk(arg):
                    if isinstance(leaf, ast.Constant) and isinstance(leaf.value, str):
                        texts.add(leaf.value)
    return texts


def test_every_audit_detail_and_sign_in_refusal_has_a_japanese_text() -> None:
    """GIVEN the audit details written with values and the sign-in refusals in central_broker THEN each is in
    ja/web.po with the same placeholders, so the audit and sign-in pages never fall back to English."""
    japanese = _ja_catalog()
    texts = _texts_shown_from_central_code()
    assert "%(status)s; reason: %(reason)s" in texts and "check both and try again" in texts
    missing = sorted(t for t in texts if not japanese.get(t))
    assert not missing, f"add Japanese texts to ja/web.po for: {missing}"
    names = re.compile(r"%\((\w+)\)[sr]")
    assert all(sorted(names.findall(t)) == sorted(names.findall(japanese[t])) for t in texts)


def test_the_kpi_page_names_steps_in_japanese(
    web_context: WebContext, web_client: TestClient, central_store: FleetStore
) -> None:
    """GIVEN completed sessions with seconds per step WHEN an auditor opens the KPI page in Japanese THEN the steps
    are named in Japanese; a step this centre does not know is shown as sent."""
    now = int(time.time() * 1000)
    item = StatsItem.model_validate({
        "seq": 1, "ts": now, "kind": "certificate_session", "outcome": "completed", "type": "juminhyo",
        "copies": 1, "method": "cash", "total_seconds": 60.0, "language": "ja",
        "step_seconds": {"pin_entry": 20.0, "choose_type": 30.0, "hologram_check": 10.0},
    })  # fmt: skip
    central_store.record_stats("jp-999999-k01", StatsBatch(batch=(1, 1), items=[item]))
    signed_in(web_client, *make_user(web_context, Role.AUDITOR))
    web_client.cookies.set("mdg_lang", "ja")
    page = web_client.get("/kpi").text
    steps = dict(re.findall(r'<td data-step="(\w+)">([^<]*)</td>', page))
    assert steps == {
        "pin_entry": "暗証番号の入力",
        "choose_type": "証明書の選択",
        "hologram_check": "hologram_check",
    }


def test_the_audit_page_shows_details_in_japanese(web_context: WebContext, web_client: TestClient) -> None:
    """GIVEN a wrong password, an order, a remote command and a kill-switch change in the audit log (the last two
    written as plain English, like entries from before) WHEN an auditor reads it in Japanese THEN no detail is
    left in English; in English the same entries read as written."""
    accounts = web_context.accounts
    staff, _password = make_user(web_context, Role.STAFF)
    web_client.cookies.set("mdg_lang", "ja")
    web_client.get("/login")
    accounts.audit("clerk", "order.create", "P26040100427", "%(yen)s yen", yen=1500)
    accounts.audit("op", "command.send", "jp-999999-k01", "reboot 4f6c2a")
    accounts.audit("op", "issuance.suspend", "999999", "control version 7")
    accounts.audit("op", "login.failed", "op", "failure 2 of 5")  # an entry written before this change
    with pytest.raises(LoginRefused):
        accounts.login(staff, "wrong password!", client="192.0.2.50")
    auditor, password = make_user(web_context, Role.AUDITOR)
    web_client.cookies.set("mdg_lang", "en")
    signed_in(web_client, auditor, password)
    english = _details(web_client.get("/audit").text)
    assert english["order.create"] == "1500 yen"
    assert english["command.send"] == "Reboot the kiosk (command 4f6c2a)"
    assert english["login.failed"] == "failure 1 of 5 from 192.0.2.50"
    web_client.cookies.set("mdg_lang", "ja")
    japanese = _details(web_client.get("/audit").text)
    assert japanese["order.create"] == "1500円"
    assert japanese["command.send"] == "端末を再起動（コマンド 4f6c2a）"
    assert japanese["issuance.suspend"] == "制御文書 版7"
    assert japanese["login.failed"] == "失敗 1/5回（接続元 192.0.2.50）"
    assert japanese["user.add"] == "役割: 監査担当"
    assert japanese["login"].startswith("接続元 ")
    english_left = {
        a: d for a, d in japanese.items() if re.search(r"[A-Za-z]{3,}", d.replace("testclient", ""))
    }
    assert not english_left, english_left


def _details(page: str) -> dict[str, str]:
    """Action → detail of the newest audit row of each action."""
    found: dict[str, str] = {}
    for action, detail in re.findall(
        r'<tr data-action="([\w.]+)">(?:<td>.*?</td>){4}<td>(.*?)</td></tr>', page
    ):
        found.setdefault(action, html.unescape(detail))
    return found
