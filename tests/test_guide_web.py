"""The web guide (行かない窓口) over HTTP, without a browser: every step is a plain link or form."""

from __future__ import annotations

import re
from collections.abc import Iterator
from urllib.parse import parse_qs, urlsplit

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from central_broker.guide import GuideInput, VisitCodes
from central_broker.store.telemetry_schema import kiosk_stat
from central_broker.web import WebContext, create_app
from madoguchi.clock import SteppableClock
from madoguchi.contracts.catalog_guide import Answer

SECRET = b"guide secret of the web tests..."
_COUNTER = re.compile(r'data-counter="([^"]+)"')
_PROCEDURE = re.compile(r'data-procedure="([^"]+)"')


@pytest.fixture
def client(web_context: WebContext) -> Iterator[TestClient]:
    web_context.guide_secret = SECRET
    with TestClient(create_app(web_context)) as found:
        yield found


def _answer_all(client: TestClient, lang: str, event: str, letter: str) -> str:
    """Walk the questions with plain GETs, always answering `letter`; the result page's address."""
    url = f"/guide/q?lang={lang}&ev={event}"
    asked = 0
    while asked <= 10:
        response = client.get(url, follow_redirects=False)
        if response.status_code == 303:
            url = response.headers["location"]
            if url.startswith("/guide/result"):
                return url
            continue
        assert response.status_code == 200, response.text[:300]
        question = re.search(r'name="q" value="([^"]+)"', response.text)
        given = re.search(r'name="a" value="([^"]*)"', response.text)
        assert question and given
        asked += 1
        url = f"/guide/q?lang={lang}&ev={event}&a={given.group(1)}&q={question.group(1)}&ans={letter}"
    pytest.fail("more than 10 questions on one path")


def test_a_run_in_vietnamese_lists_the_catalog_result_by_counter_and_is_counted_anonymously(
    client: TestClient, web_context: WebContext
) -> None:
    """GIVEN the guide in Vietnamese WHEN a resident who moved in answers every question わからない THEN the result
    page is in Vietnamese and lists exactly the catalog's result, counters in visit order, with a visit code QR;
    AND one anonymous web guide session is recorded, naming only the questions answered わからない."""
    start = client.get("/guide?lang=vi")
    assert start.status_code == 200 and '<html lang="vi">' in start.text
    assert "Hướng dẫn thủ tục" in start.text
    result_url = _answer_all(client, "vi", "moving_in", "u")
    page = client.get(result_url)
    assert page.status_code == 200 and '<html lang="vi">' in page.text
    query = parse_qs(urlsplit(result_url).query)
    guide = web_context.catalog.procedures
    answers = {p.split(":")[0]: Answer.UNKNOWN for p in query["a"][0].split(",")}
    items = guide.results(["moving_in"], answers)
    assert _PROCEDURE.findall(page.text) == [i.procedure.id for i in items]
    assert _COUNTER.findall(page.text) == list(dict.fromkeys(i.counter.id for i in items))
    assert 'id="visit-code"' in page.text and "data:image/png;base64," in page.text
    assert "Hỏi tại quầy".lower() in page.text.lower() or "hãy hỏi tại quầy" in page.text.lower()
    with web_context.fleet.engine.connect() as conn:
        rows = list(conn.execute(select(kiosk_stat.c.kind, kiosk_stat.c.fields)))
    assert [kind for kind, _ in rows] == ["guide_session"]
    fields = rows[0][1]
    assert fields["channel"] == "web" and fields["outcome"] == "completed" and fields["language"] == "vi"
    assert sorted(fields["unknown_questions"]) == sorted(answers)
    assert set(fields) == {
        "outcome",
        "language",
        "events",
        "questions_asked",
        "unknown_questions",
        "outputs",
        "rating",
        "channel",
    }


def test_the_kiosk_phone_link_shows_the_same_result_and_says_when_the_guide_changed(
    client: TestClient, web_context: WebContext
) -> None:
    """GIVEN the kiosk's phone link of an older catalog version WHEN opened THEN the result of the current catalog
    is shown with a note that the guide was updated; with the current version there is no note."""
    version = web_context.catalog.version
    link = "/guide/result?ev=moving_in&a=has_card:y,children:n&lang=en"
    old = client.get(f"{link}&cv={version + 5}")
    current = client.get(f"{link}&cv={version}")
    assert old.status_code == current.status_code == 200
    assert 'id="updated"' in old.text and 'id="updated"' not in current.text
    items = web_context.catalog.procedures.results(
        ["moving_in"], {"has_card": Answer.YES, "children": Answer.NO}
    )
    assert _PROCEDURE.findall(current.text) == [i.procedure.id for i in items]


def test_a_changed_link_and_a_missing_answer_get_clear_answers(client: TestClient) -> None:
    """GIVEN a link naming an unknown life event WHEN opened THEN 400 says the link is not valid; GIVEN a question
    submitted without an answer THEN the same question comes back asking to choose one."""
    bad = client.get("/guide/result?ev=moon_landing&a=&lang=en")
    assert bad.status_code == 400 and "This link is not valid" in bad.text
    first = client.get("/guide/q?lang=en&ev=moving_in")
    question = re.search(r'name="q" value="([^"]+)"', first.text)
    assert question
    again = client.get(f"/guide/q?lang=en&ev=moving_in&q={question.group(1)}")
    assert again.status_code == 400 and "Please choose an answer." in again.text
    assert f'value="{question.group(1)}"' in again.text


def test_forged_and_expired_visit_codes_get_the_same_refusal_page(
    client: TestClient, web_context: WebContext, store_clock: SteppableClock
) -> None:
    """GIVEN a valid visit code WHEN opened on a phone THEN the result is shown again; WHEN a forged code and,
    after midnight, the expired one are opened THEN both get the very same 404 page."""
    code = VisitCodes(SECRET, store_clock).issue(
        GuideInput(("moving_in",), {"has_card": Answer.YES}), web_context.catalog.version
    )
    assert code is not None
    shown = client.get(f"/guide/v/{code}?lang=en")
    assert shown.status_code == 200 and _PROCEDURE.findall(shown.text)
    forged = client.get(f"/guide/v/{code[:-3]}abc?lang=en")
    store_clock.advance(86_400)
    expired = client.get(f"/guide/v/{code}?lang=en")
    assert forged.status_code == expired.status_code == 404
    assert forged.text == expired.text and "This visit code is not valid" in forged.text


def test_a_rating_is_counted_without_a_session_and_a_missing_one_is_explained(
    client: TestClient, web_context: WebContext
) -> None:
    """GIVEN the result page's satisfaction form WHEN it is sent without a choice THEN 400 asks to choose 1–5;
    WHEN sent with 4 THEN it thanks the resident and one anonymous `guide_rating` (rating 4, web) is kept."""
    empty = client.post("/guide/rating", data={"lang": "en"})
    assert empty.status_code == 400 and "Please choose how satisfied you are" in empty.text
    sent = client.post("/guide/rating", data={"lang": "pt", "rating": "4"})
    assert sent.status_code == 200 and "Obrigado pela resposta." in sent.text
    with web_context.fleet.engine.connect() as conn:
        rows = [
            (kind, fields) for kind, fields in conn.execute(select(kiosk_stat.c.kind, kiosk_stat.c.fields))
        ]
    assert rows == [("guide_rating", {"language": "pt", "rating": 4, "channel": "web"})]
