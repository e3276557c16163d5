"""The operators' and staff pages speak Japanese by default and English on request; no text escapes translation.

Two checks guard the catalogs: every template's visible text (and alt/placeholder/title/confirm texts) goes
through `_()`, and every text the pages can show has a Japanese translation with the same placeholders.
"""

from __future__ import annotations

import ast
import re
from importlib import resources
from pathlib import Path

from babel.messages.pofile import read_po
from fastapi.testclient import TestClient

from central_broker.accounts import Role
from central_broker.releases.rollout import FAILED_ACKS
from central_broker.store import DeviceStatus
from central_broker.web import WebContext, create_app
from central_broker.web.context import _templates
from central_broker.web.control_pages import _QUESTIONS, COMMAND_LABELS
from central_broker.web.fleet_actions import NO_CATALOG_KEY, NO_SIGNING_KEYS
from central_broker.web.fleet_view import _COMPONENTS, ALERT_TEXTS, PRINTER_NOTES
from madoguchi.contracts.messages import (
    ComponentStatus,
    Severity,
)
from madoguchi.contracts.orders import OrderStatus
from tests.fixtures.web import make_user

WEB = Path(str(resources.files("central_broker.web")))
TEMPLATES = sorted((WEB / "templates").glob("*.html"))
_MSGID = re.compile(r'''_\(\s*"((?:[^"\\]|\\.)*)"''')
_ATTRS = re.compile(r'''\b(?:alt|placeholder|title|aria-label|data-confirm)="([^"]*)"''')
_JINJA = re.compile(r"{%-?\s*trans\b.*?{%-?\s*endtrans\s*-?%}|{#.*?#}|{%.*?%}|{{.*?}}", re.S)
_LETTERS = re.compile(r"[A-Za-z\u3040-\u30ff\u4e00-\u9fff]{2,}")
# Not for translation: product name parts in code samples, file formats, data formats.
_ALLOWED = {"CSV", "999999 / jp-999999-k01"}


def _visible_texts(source: str) -> list[str]:
    """Texts a reader sees that are written literally in the template (outside `{{ }}`, `{% %}`, `{# #}`)."""
    text = _JINJA.sub("\x00", source)
    found = [a for a in _ATTRS.findall(text) if _LETTERS.search(a)]
    text = re.sub(r"<code>.*?</code>", " ", text, flags=re.S)
    text = re.sub(r"<[^>]*>", " ", text)
    text = re.sub(r"&[a-z]+;", " ", text)
    found += _LETTERS.findall(text)
    return [t for t in found if not any(t in allowed for allowed in _ALLOWED)]


def test_no_template_shows_text_outside_a_translation() -> None:
    """GIVEN every page template WHEN its literal text is read THEN none is left untranslated."""
    untranslated = {
        p.name: texts for p in TEMPLATES if (texts := _visible_texts(p.read_text(encoding="utf-8")))
    }
    assert not untranslated, f"wrap these in {{{{ _(...) }}}}: {untranslated}"


def _catalog(language: str) -> dict[str, tuple[str, bool]]:
    with (WEB / "locale" / language / "LC_MESSAGES" / "web.po").open("rb") as source:
        catalog = read_po(source)
    return {
        m.id: (m.string, m.fuzzy)
        for m in catalog
        if m.id and isinstance(m.id, str) and isinstance(m.string, str)
    }


def _template_msgids() -> set[str]:
    """Literal texts of `_()`, `gettext()`, `ngettext()` and `{% trans %}` as Jinja's i18n extension finds them."""
    env = _templates().env
    used: set[str] = set()
    for path in TEMPLATES:
        for _line, _function, message in env.extract_translations(path.read_text(encoding="utf-8")):  # type: ignore[attr-defined]
            texts = message if isinstance(message, tuple) else (message,)
            used |= {m for m in texts if isinstance(m, str) and m}  # None: a value, not a literal
    return used


def _order_error_msgids() -> set[str]:
    """Literal messages and hints of `OrderError(...)` and the `what` of `_transition(...)`: staff pages show them."""
    used: set[str] = set()
    for path in Path(str(resources.files("central_broker.orders"))).glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not isinstance(node, ast.Call):
                continue
            name = getattr(node.func, "id", getattr(node.func, "attr", ""))
            texts = (
                node.args[1:3] if name == "OrderError" else node.args[3:4] if name == "_transition" else []
            )
            used |= {a.value for a in texts if isinstance(a, ast.Constant) and isinstance(a.value, str)}
    return used


def _used_msgids() -> set[str]:
    used = _template_msgids() | _order_error_msgids()
    for path in WEB.glob("*.py"):
        used |= {
            m.encode().decode("unicode_escape") if "\\" in m else m for m in _MSGID.findall(path.read_text())
        }
    used |= set(COMMAND_LABELS.values()) | {label for _key, label in _COMPONENTS} | set(_QUESTIONS.values())
    used |= {*PRINTER_NOTES, *ALERT_TEXTS.values(), NO_SIGNING_KEYS, NO_CATALOG_KEY}
    for values in (Role, DeviceStatus, ComponentStatus, Severity, OrderStatus):
        used |= {str(v.value) for v in values}
    used |= {"certificate_session", "register_session", "pending", "current", "failed", "running", "halted"}
    used |= set(FAILED_ACKS)  # release failures shown as badges on the catalog page
    return used


def test_every_text_the_pages_use_has_a_japanese_translation_with_the_same_placeholders() -> None:
    """GIVEN the texts used by templates and page code WHEN looked up in ja/web.po THEN each is translated, not
    fuzzy, and keeps its %(name)s placeholders."""
    japanese = _catalog("ja")
    missing = sorted(m for m in _used_msgids() if not japanese.get(m, ("", False))[0])
    assert not missing, f"add Japanese translations to ja/web.po for: {missing}"
    fuzzy = sorted(m for m, (_text, is_fuzzy) in japanese.items() if is_fuzzy)
    assert not fuzzy, f"fuzzy entries in ja/web.po: {fuzzy}"
    names = re.compile(r"%\((\w+)\)[sr]")
    broken = {m: t for m, (t, _f) in japanese.items() if sorted(names.findall(m)) != sorted(names.findall(t))}
    assert not broken, f"placeholders differ: {broken}"
    assert set(_catalog("en")) == set(japanese), "ja and en catalogs list different texts"


def test_pages_are_japanese_by_default_and_english_on_request(web_context: WebContext) -> None:
    """GIVEN a browser with no preference WHEN it opens the sign-in page THEN it is in Japanese; with
    Accept-Language en it is in English; choosing 日本語/English sets a cookie that wins and returns to the page."""
    with TestClient(create_app(web_context)) as client:
        page = client.get("/login")
        assert '<html lang="ja">' in page.text and "ログイン" in page.text and "Sign in" not in page.text
        english = client.get("/login", headers={"Accept-Language": "en-US,en;q=0.9,ja;q=0.5"})
        assert '<html lang="en">' in english.text and "Sign in" in english.text
        switched = client.get("/lang/en?next=/login", follow_redirects=False)
        assert switched.status_code == 303 and switched.headers["location"] == "/login"
        assert client.get("/login", headers={"Accept-Language": "ja"}).text.count("Sign in") >= 2
        client.get("/lang/ja?next=/login")
        assert "ログイン" in client.get("/login", headers={"Accept-Language": "en"}).text


def test_the_language_switch_never_redirects_off_site(web_context: WebContext) -> None:
    """GIVEN a crafted link WHEN it asks to return to another site THEN the switch goes to the start page; an
    unknown language is a 404."""
    with TestClient(create_app(web_context)) as client:
        for target in ("https://evil.example/", "//evil.example/x", "/\\evil.example", "/\t/evil.example"):
            response = client.get("/lang/en", params={"next": target}, follow_redirects=False)
            assert response.headers["location"] == "/", target
        assert client.get("/lang/xx").status_code == 404
        back = client.get("/lang/en", params={"next": "/kpi?first=2026-05-01"}, follow_redirects=False)
        assert back.headers["location"] == "/kpi?first=2026-05-01"


def test_a_signed_in_operator_reads_the_dashboard_in_japanese(web_context: WebContext) -> None:
    """GIVEN an operator with the default language WHEN they open the alerts and kill-switch pages THEN the
    navigation, headings and messages are Japanese, and the role is shown in Japanese."""
    with TestClient(create_app(web_context)) as client:
        client.cookies.set("mdg_lang", "ja")
        name, password = make_user(web_context, Role.OPERATOR)
        token = re.search(r'name="csrf_token" value="([^"]+)"', client.get("/login").text)
        assert token is not None
        client.post("/login", data={"username": name, "password": password, "csrf_token": token.group(1)})
        alerts = client.get("/alerts").text
        assert "端末一覧" in alerts and "未解決の警報はありません。" in alerts and "運用担当" in alerts
        assert "ログアウト" in alerts and "Sign out" not in alerts
        assert "証明書発行の緊急停止" in client.get("/control").text
        client.cookies.set("mdg_lang", "en")
        assert "No open alerts." in client.get("/alerts").text


def test_the_template_check_flags_literal_text_and_accepts_translation_blocks() -> None:
    """GIVEN template snippets WHEN checked THEN literal words are reported, `_()` and `{% trans %}` are not."""
    assert _visible_texts("<h1>Open alerts</h1>") == ["Open", "alerts"]
    assert _visible_texts('<input placeholder="Search">') == ["Search"]
    assert _visible_texts('<h1>{{ _("Open alerts") }}</h1>{% trans n=2 %}%(n)s kiosks{% endtrans %}') == []
