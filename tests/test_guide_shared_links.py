"""The guide logic the kiosk and the central share (`madoguchi.guide_links`): a phone link the kiosk prints
opens the same result on the central, a route ④ item kept on the web travels in the visit code and takes the
same ticket the kiosk's own guide would take, and a forged code gets its own text on the kiosk."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

import pytest
from fastapi.testclient import TestClient

from central_broker.guide import VisitCodes
from central_broker.guide.visit_take import GuideTakes
from central_broker.web import WebContext
from kiosk_app.flows import events as ev
from kiosk_app.flows import queue_events as qe
from kiosk_app.flows.clock import FakeClock
from kiosk_app.flows.guide_context import GuideContext, settings_for
from kiosk_app.i18n.keys_queue import refusal_key
from kiosk_app.i18n.translator import Translator
from kiosk_app.runner.guide_desk import GuideDesk
from kiosk_app.ui.controller import KioskController
from madoguchi.contracts.catalog import load_sample_catalog
from madoguchi.contracts.catalog_guide import Answer, GuideStatus, ProcedureGuide
from madoguchi.contracts.languages import LANGUAGES
from madoguchi.contracts.queue import TakeParams
from madoguchi.guide_links import parse_guide_input
from tests.test_guide_web import _PROCEDURE, SECRET, client

__all__ = ["client"]  # the web guide's test client (guide secret `SECRET`)

_VISIT = re.compile(r'data-text="[^"]*/guide/v/([^"]+)"')


def _all_yes(guide: ProcedureGuide, event: str) -> dict[str, Answer]:
    """Every question of `event`'s path answered はい, except the first one わからない."""
    answers: dict[str, Answer] = {}
    while pending := [q for q in guide.questions_for([event], answers) if q.id not in answers]:
        answers[pending[0].id] = Answer.UNKNOWN if not answers else Answer.YES
    return answers


@pytest.mark.parametrize(("event", "language"), [("moving_in", "ne"), ("death", "ja-x-easy")])
def test_a_phone_link_the_kiosk_prints_opens_the_same_result_on_the_central(
    client: TestClient, web_context: WebContext, event: str, language: str
) -> None:
    """GIVEN a kiosk resident's life event and answers (one わからない) WHEN the kiosk makes the phone link and the
    phone opens it on the central THEN the central reads the very same life events and answers and its page, in
    the resident's language, lists exactly the kiosk's result in the same order."""
    catalog = web_context.catalog
    answers = _all_yes(catalog.procedures, event)
    desk = GuideDesk(catalog, None, lambda _e: None, status_url_base=lambda: "https://city.example/q/")
    link = desk.link((event,), tuple(answers.items()), language)
    parts = urlsplit(link)
    assert link.startswith("https://city.example/guide/result?")
    query = {k: v[0] for k, v in parse_qs(parts.query).items()}
    given = parse_guide_input(query["ev"], query["a"], catalog.procedures)
    assert given.events == (event,) and list(given.answers.items()) == list(answers.items())
    page = client.get(f"{parts.path}?{parts.query}")
    assert page.status_code == 200 and f'<html lang="{language}">' in page.text
    expected = [i.procedure.id for i in catalog.procedures.results([event], answers)]
    assert _PROCEDURE.findall(page.text) == expected


def test_a_consult_item_kept_on_the_web_travels_in_the_visit_code_and_takes_the_kiosk_guides_ticket(
    client: TestClient, web_context: WebContext
) -> None:
    """GIVEN a web guide result with route ④ items WHEN the resident ticks "この窓口にも行く" for one and updates the
    visit code (a plain GET form) THEN the box stays ticked, the code carries it, and the ticket the central derives
    from the code is the one the kiosk's own guide takes with that item kept: its counter is on the visit; without
    the tick it is not."""
    catalog = web_context.catalog
    answers = _all_yes(catalog.procedures, "moving_in")
    items = catalog.procedures.results(["moving_in"], answers)
    optional = [i for i in items if i.status is GuideStatus.OPTIONAL]
    kept = next(i for i in optional if i.counter.id not in {x.counter.id for x in items if x not in optional})
    a = ",".join(f"{q}:{'u' if v is Answer.UNKNOWN else 'y'}" for q, v in answers.items())
    plain = client.get(f"/guide/result?ev=moving_in&a={a}&lang=en&cv={catalog.version}")
    assert plain.status_code == 200
    assert f'name="keep" value="{kept.procedure.id}"' in plain.text
    assert 'id="keep-form"' in plain.text and not re.search(r'id="keep-[^"]+" checked', plain.text)
    ticked = client.get(
        "/guide/result", params={"ev": "moving_in", "a": a, "lang": "en", "keep": kept.procedure.id}
    )
    assert ticked.status_code == 200
    assert re.search(rf'value="{kept.procedure.id}" id="keep-{kept.procedure.id}" checked', ticked.text)
    takes = GuideTakes(VisitCodes(SECRET, web_context.clock), catalog)

    def central_visit(page: str) -> list[str]:
        found = _VISIT.search(page)
        assert found, "no visit code on the page"
        params = takes.resolve(TakeParams(category="certificates", visit_code=found.group(1)))
        return [params.category, *params.then]

    def kiosk_visit(keep: set[str]) -> list[str]:
        context = GuideContext(settings_for(catalog), catalog.procedures, events=("moving_in",))
        context.answers.update(answers)
        context.kept.update(keep)
        plan = context.plan()
        assert plan is not None
        return [plan.category, *plan.then]

    with_kept = central_visit(ticked.text)
    assert with_kept == kiosk_visit({kept.procedure.id})
    assert central_visit(plain.text) == kiosk_visit(set())
    kept_category = next(c.id for c in catalog.queue.categories if c.counter == kept.counter.id)
    assert kept.counter.id in with_kept[1:] or kept_category == with_kept[0]
    assert kept.counter.id not in central_visit(plain.text)


def test_a_keep_naming_an_unknown_procedure_is_a_clear_refusal(client: TestClient) -> None:
    """GIVEN a hand-edited result link keeping a procedure the catalog lacks WHEN opened THEN a 400 page says the
    link is not valid (no result for something else)."""
    page = client.get("/guide/result?ev=birth&a=&lang=en&keep=no_such_procedure")
    assert page.status_code == 400 and "This link is not valid" in page.text


def test_a_forged_or_expired_visit_code_gets_its_own_text_in_every_language() -> None:
    """GIVEN a scanned visit code the central refuses as `visit_code_invalid` WHEN the kiosk shows the refusal
    THEN, in each of the nine languages, it says the code expired or is not valid (not the general "cannot be
    issued here"), and asks to answer the guide again or ask staff."""
    commands: list[object] = []
    controller = KioskController.for_catalog(load_sample_catalog(), commands.append, FakeClock())
    controller.send(ev.SlipScanned("https://madoguchi.city.example/guide/v/1.abc.moving_in.has_card-y.mac"))
    controller.send(qe.TicketRefused("visit_code_invalid", ""))
    kind = controller.queue.view().refusal_kind
    shown = {language: Translator(language).tr(refusal_key(kind)) for language in LANGUAGES}
    general = {language: Translator(language).tr(refusal_key("invalid")) for language in LANGUAGES}
    assert all(shown[language] != general[language] for language in LANGUAGES)
    assert len(set(shown.values())) == len(LANGUAGES), "a language falls back to another's text"
    assert "expired" in shown["en"] and "guide again" in shown["en"] and "staff" in shown["en"]
    assert "有効期限" in shown["ja"] and "職員" in shown["ja"]
