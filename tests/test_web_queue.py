"""Visit-queue pages without a browser: the resident status page's answers and limits, board access, counter
actions and refusals, the KPI CSV, and 503 when the central runs no queue."""

from __future__ import annotations

import csv
import io
import json
from urllib.parse import quote

import pytest
from fastapi.testclient import TestClient

from central_broker.accounts import Role
from central_broker.queue import Desk, OfflineTicket, QueueService, Staff
from central_broker.web import WebContext
from central_broker.web.queue_common import board_key
from central_broker.web.queue_counter_pages import COUNTER_COOKIE
from central_broker.web.queue_texts import STATUS_TEXTS, resident_language
from central_broker.web.ratelimit import Limit, StatusGate
from madoguchi.clock import SteppableClock
from madoguchi.contracts.languages import LANGUAGES
from tests.fixtures.web import BOARD_SECRET, csrf_of, make_user, signed_in

BRANCH = "本庁舎"
OTHER_BRANCH = "北支所"
STAFF = Staff("sato", BRANCH)
DESK_A = Desk(BRANCH, "shimin_1")
DESK_E = Desk(BRANCH, "hoken")


def _choose(client: TestClient, counter: str, branch: str = BRANCH) -> None:
    token = csrf_of(client.get("/counter").text)
    response = client.post(
        "/counter/choose", data={"branch": branch, "counter": counter, "csrf_token": token}
    )
    assert response.status_code == 200 and 'id="counter-live"' in response.text, response.text[:400]


def _press(client: TestClient, action: str, **form: str) -> tuple[int, str]:
    page = client.get("/counter").text
    held = page.split('name="visit_id" value="', 1)[1].split('"', 1)[0]
    data = {"csrf_token": csrf_of(page), "visit_id": held, **form}
    response = client.post(f"/counter/{action}", data=data)
    return response.status_code, response.text


def test_every_language_of_the_status_page_has_every_text() -> None:
    """GIVEN the resident texts WHEN compared with Japanese THEN all nine languages have the same keys and
    placeholders."""
    assert set(STATUS_TEXTS) == set(LANGUAGES)
    for language, table in STATUS_TEXTS.items():
        assert table.keys() == STATUS_TEXTS["ja"].keys(), language
        for key, text in table.items():
            assert text.count("{") == STATUS_TEXTS["ja"][key].count("{"), (language, key)


def test_the_resident_language_comes_from_the_query_then_accept_language() -> None:
    """GIVEN a query or Accept-Language WHEN the status page's language is chosen THEN the query wins, then the
    best supported language, then Japanese."""
    assert resident_language("vi", "en") == "vi"
    assert resident_language("xx", "pt-BR,en;q=0.5") == "pt"
    assert resident_language(None, "fil-PH") == "tl"
    assert resident_language(None, "fr,en;q=0.3") == "en"
    assert resident_language(None, "ja-x-easy") == "ja-x-easy"
    assert resident_language(None, "fr") == "ja"


def test_status_page_shows_waiting_with_people_ahead_and_a_range(
    web_client: TestClient, web_queue: QueueService
) -> None:
    """GIVEN two tickets WHEN the second's status page is opened in Vietnamese THEN it shows its number, the
    counter, one person ahead and a wait range, with lang="vi" and no sign-in."""
    web_queue.take(BRANCH, "moving")
    ticket = web_queue.take(BRANCH, "moving", then=("hoken",))
    page = web_client.get(f"/q/{ticket.token}?lang=vi")
    assert page.status_code == 200
    assert '<html lang="vi">' in page.text
    assert ticket.visit.number in page.text
    assert "Có 1 người trước bạn" in page.text
    assert (ticket.estimate.lower_minutes, ticket.estimate.upper_minutes) == (5, 15)  # 1 × 10 min ±25 %
    assert "khoảng 5–15 phút" in page.text  # a range, never a single number
    assert "Quầy số 1" in page.text and "Quầy số 6" in page.text  # now, and the counter still to come


def test_unknown_and_expired_tokens_get_the_same_answer(
    web_client: TestClient, web_queue: QueueService, queue_clock: SteppableClock
) -> None:
    """GIVEN a ticket valid today WHEN the day is over THEN its token answers exactly like a token that never
    existed: same status code, same body."""
    ticket = web_queue.take(BRANCH, "moving")
    assert web_client.get(f"/q/{ticket.token}").status_code == 200
    queue_clock.advance(86_400)
    expired = web_client.get(f"/q/{ticket.token}")
    unknown = web_client.get("/q/" + "x" * len(ticket.token))
    forged = web_client.get("/q/" + "y" * 300)
    assert expired.status_code == unknown.status_code == forged.status_code == 404
    assert expired.content == unknown.content == forged.content
    live_expired = web_client.get(f"/q/{ticket.token}/events")
    live_unknown = web_client.get("/q/unknown/events")
    assert (live_expired.status_code, live_expired.content) == (404, unknown.content)
    assert (live_unknown.status_code, live_unknown.content) == (404, unknown.content)


def test_the_status_page_is_rate_limited_per_client(web_client: TestClient, web_context: WebContext) -> None:
    """GIVEN a limit of 3 loads a minute (and no queue) WHEN a client loads status pages 4 times THEN the fourth
    gets 429 with Retry-After and a text saying to wait, whatever the token."""
    web_context.status_gate = StatusGate(web_context.clock, client=Limit(3, 60))
    answers = [web_client.get(f"/q/token{i}?lang=en") for i in range(4)]
    assert [a.status_code for a in answers] == [503, 503, 503, 429]
    assert "Too many requests" in answers[3].text and int(answers[3].headers["Retry-After"]) > 0


def test_the_status_page_limit_counts_lookups(web_client: TestClient, web_queue: QueueService) -> None:
    """GIVEN a queue WHEN one client asks for 31 status pages in a minute THEN the 31st is refused (429)."""
    codes = [web_client.get(f"/q/guess{i}").status_code for i in range(31)]
    assert codes[:30] == [404] * 30 and codes[30] == 429


def test_queue_pages_say_the_queue_is_not_running(web_client: TestClient, web_context: WebContext) -> None:
    """GIVEN a central without a queue WHEN its pages are opened THEN they answer 503 with the reason."""
    name, password = make_user(web_context, Role.OPERATOR)
    signed_in(web_client, name, password)
    for path in ("/counter", "/queue/kpi", "/queue/boards", "/board/x"):
        response = web_client.get(path)
        assert response.status_code == 503, path
        assert "The visit queue is not running on this central." in response.text
    assert web_client.get("/q/abc").status_code == 503


def test_a_board_opens_with_its_key_or_a_staff_sign_in(
    web_client: TestClient, web_context: WebContext, web_queue: QueueService
) -> None:
    """GIVEN a called number WHEN the board is opened without a key, with another branch's key, or with its key
    THEN only its own key (or a session of staff of its branch) opens it, and it shows the number with its
    counter."""
    web_queue.take(BRANCH, "moving")
    web_queue.open_desk(DESK_A, STAFF)
    web_queue.call_next(DESK_A, STAFF)
    path = f"/board/{quote(BRANCH)}"
    assert web_client.get(path).status_code == 403
    assert web_client.get(f"{path}?key={board_key(BOARD_SECRET, '北支所')}").status_code == 403
    board = web_client.get(f"{path}?key={board_key(BOARD_SECRET, BRANCH)}")
    assert board.status_code == 200 and "A-1" in board.text and "1番窓口" in board.text
    name, password = make_user(web_context, Role.STAFF)
    web_context.accounts.change_branches(name, add=(BRANCH,), actor="test")
    signed_in(web_client, name, password)
    assert web_client.get(path).status_code == 200


def test_operators_find_each_branchs_board_link(
    web_client: TestClient, web_context: WebContext, web_queue: QueueService
) -> None:
    """GIVEN a branch with an open counter WHEN an operator opens Boards THEN its link carries its board key."""
    web_queue.open_desk(DESK_A, STAFF)
    name, password = make_user(web_context, Role.OPERATOR)
    signed_in(web_client, name, password)
    page = web_client.get("/queue/boards").text
    assert f"/board/{quote(BRANCH, safe='')}?key={board_key(BOARD_SECRET, BRANCH)}" in page


def test_counter_staff_call_and_see_refusals_as_text(
    web_client: TestClient, web_context: WebContext, web_queue: QueueService
) -> None:
    """GIVEN a staff member at counter 1 with one visit waiting WHEN they call it, start, then press start again
    THEN the refusal is shown as text (409); a form without the CSRF token is refused (403)."""
    web_queue.take(BRANCH, "moving")
    name, password = make_user(web_context, Role.STAFF)
    web_context.accounts.change_branches(name, add=(BRANCH,), actor="test")
    signed_in(web_client, name, password)
    _choose(web_client, "shimin_1")
    assert _press(web_client, "call")[0] == 200
    assert web_queue.desks(BRANCH)[0].number == "A-1"
    assert _press(web_client, "start")[0] == 200
    code, text = _press(web_client, "recall")
    assert code == 409 and 'id="refusal"' in text and "Not possible in the visit&#39;s current state." in text
    assert "A-1 is already being served" in text
    assert web_client.post("/counter/done", data={"visit_id": "1"}).status_code == 403
    assert _press(web_client, "done")[0] == 200
    assert web_queue.visit(1).state.value == "finished"


def _counter_cookie(client: TestClient, branch: str, counter: str) -> None:
    """The counter this browser chose earlier (e.g. before the account moved to another branch)."""
    client.cookies.set(COUNTER_COOKIE, json.dumps([branch, counter]))


def test_staff_cannot_work_a_counter_of_another_branch(
    web_client: TestClient, web_context: WebContext, web_queue: QueueService
) -> None:
    """GIVEN a staff account of 北支所 and a visit waiting at 本庁舎's counter 1 WHEN it chooses that counter, or a
    browser that had chosen it opens the page, its live panel or presses any counter button THEN each answer is a
    403 page naming the account's branch and the exact command to add 本庁舎, and nothing happens at 本庁舎;
    an operator (no branch assigned) then calls A-1 there."""
    web_queue.take(BRANCH, "moving")
    web_queue.open_desk(DESK_A, STAFF)
    name, password = make_user(web_context, Role.STAFF)
    web_context.accounts.change_branches(name, add=(OTHER_BRANCH,), actor="test")
    signed_in(web_client, name, password)
    chooser = web_client.get("/counter")
    assert chooser.status_code == 200 and f'<option value="{OTHER_BRANCH}">' in chooser.text
    assert f'<option value="{BRANCH}">' not in chooser.text  # only the account's own branches are offered

    chosen = web_client.post(
        "/counter/choose", data={"branch": BRANCH, "counter": "shimin_1", "csrf_token": csrf_of(chooser.text)}
    )
    _counter_cookie(web_client, BRANCH, "shimin_1")
    answers = [chosen, web_client.get("/counter"), web_client.get("/counter/fragment")]
    answers += [
        web_client.post(f"/counter/{action}", data={"csrf_token": csrf_of(chooser.text), "visit_id": "1"})
        for action in ("call", "recall", "no_show", "start", "done", "transfer", "finish")
    ]

    for answer in answers:
        assert answer.status_code == 403, answer.request.url
        assert 'id="branch-denied"' in answer.text
        assert (
            f"Your account {name} works at {OTHER_BRANCH}; this counter belongs to {BRANCH}." in answer.text
        )
        assert f"kiosk-central users branches {name} --add &#39;{BRANCH}&#39;" in answer.text  # shell-quoted
    assert web_queue.desks(BRANCH)[0].number is None and [v.number for v in web_queue.line(DESK_A)] == ["A-1"]
    web_client.cookies.clear()
    web_client.cookies.set("mdg_lang", "en")
    signed_in(web_client, *make_user(web_context, Role.OPERATOR))  # no branch assigned: works everywhere
    _choose(web_client, "shimin_1")
    assert _press(web_client, "call")[0] == 200 and web_queue.desks(BRANCH)[0].number == "A-1"


def test_staff_without_a_branch_are_told_the_command_that_assigns_one(
    web_client: TestClient, web_context: WebContext, web_queue: QueueService
) -> None:
    """GIVEN a staff account from before branches existed (none assigned) WHEN it opens the counter page THEN 403
    says it has no branch and shows the command an operator runs; once assigned, the counter page opens."""
    name, password = make_user(web_context, Role.STAFF)
    signed_in(web_client, name, password)

    refused = web_client.get("/counter")

    assert refused.status_code == 403
    assert (
        f"Your account {name} is not assigned to any branch yet, so it cannot work counters." in refused.text
    )
    assert f"kiosk-central users branches {name} --add BRANCH" in refused.text
    web_context.accounts.change_branches(name, add=(BRANCH,), actor="test")
    _choose(web_client, "shimin_1")


def test_the_counter_page_lists_offline_tickets_the_centre_refused(
    web_client: TestClient, web_context: WebContext, web_queue: QueueService
) -> None:
    """GIVEN kiosk k07 at 本庁舎 whose offline ticket A-2001 (not in its block) was refused at 09:00 WHEN staff of
    本庁舎 open a counter THEN the panel lists A-2001 with the kiosk, its issue time and the reason; the counter
    page of 北支所 does not."""
    web_queue.offline_block(BRANCH, "jp-131016-k07")
    issued = int(web_queue.now_ms()) - 15 * 60_000
    web_queue.merge_offline(BRANCH, "jp-131016-k07", [OfflineTicket("A-2001", "moving", issued)])
    name, password = make_user(web_context, Role.STAFF)
    web_context.accounts.change_branches(name, add=(BRANCH, OTHER_BRANCH), actor="test")
    signed_in(web_client, name, password)
    _choose(web_client, "shimin_1")

    page = web_client.get("/counter/fragment").text

    row = page.split('data-number="A-2001"', 1)[1].split("</tr>", 1)[0]
    assert "jp-131016-k07" in row and "2026-12-07 08:45:00" in row and "outside this kiosk&#39;s block" in row
    _choose(web_client, "shimin_1", OTHER_BRANCH)
    assert 'id="refused-offline"' not in web_client.get("/counter/fragment").text


def test_an_auditor_may_not_work_a_counter(
    web_client: TestClient, web_context: WebContext, web_queue: QueueService
) -> None:
    """GIVEN an auditor WHEN they open the counter page THEN it is not allowed (403)."""
    name, password = make_user(web_context, Role.AUDITOR)
    signed_in(web_client, name, password)
    assert web_client.get("/counter").status_code == 403
    assert web_client.get("/queue/kpi").status_code == 200


def test_kpi_csv_has_the_figures_of_the_day(
    web_client: TestClient, web_context: WebContext, web_queue: QueueService, queue_clock: SteppableClock
) -> None:
    """GIVEN a day built step by step (two tickets at 09:00, one also at hoken; waits 5 and 7 min at counter 1,
    a no-show, 5 min at hoken) WHEN the KPI CSV is downloaded THEN it has those waits, stays, the no-show, the
    tickets per hour and one one-stop reception."""
    q, minute = web_queue, 60
    first = q.take(BRANCH, "moving", then=("hoken",))
    q.take(BRANCH, "moving")
    q.open_desk(DESK_A, STAFF)
    q.open_desk(DESK_E, STAFF)
    queue_clock.advance(5 * minute)
    q.call_next(DESK_A, STAFF)  # A-1 waited 300 s
    queue_clock.advance(2 * minute)
    q.done(DESK_A, STAFF)  # 09:07: A-1 joins hoken
    q.call_next(DESK_A, STAFF)  # A-2 waited 420 s
    q.recall(DESK_A, STAFF)
    q.recall(DESK_A, STAFF)
    q.no_show(DESK_A, STAFF)  # back of the line
    q.call_next(DESK_A, STAFF)
    queue_clock.advance(3 * minute)
    q.done(DESK_A, STAFF)  # 09:10: A-2 finished, stayed 600 s
    queue_clock.advance(2 * minute)
    q.call_next(DESK_E, STAFF)  # 09:12: A-1 waited 300 s at hoken
    queue_clock.advance(3 * minute)
    q.done(DESK_E, STAFF)  # 09:15: A-1 finished, stayed 900 s
    assert q.visit(first.visit.id).state.value == "finished"

    name, password = make_user(web_context, Role.OPERATOR)
    signed_in(web_client, name, password)
    response = web_client.get(f"/queue/kpi.csv?branch={quote(BRANCH)}")
    assert response.status_code == 200 and response.headers["content-type"].startswith("text/csv")
    rows = list(csv.DictReader(io.StringIO(response.content.decode("utf-8-sig"))))
    got = {(r["metric"], r["counter"], r["category"], r["hour"]): r for r in rows}
    assert all(r["branch"] == BRANCH and r["day"] == "2026-12-07" for r in rows)
    assert got[("visits", "", "", "")]["count"] == "2"
    assert got[("finished", "", "", "")]["count"] == "2"
    assert got[("one_stop", "", "", "")]["count"] == "1"
    wait_a = got[("wait", "shimin_1", "", "9")]
    assert (wait_a["count"], wait_a["median_s"], wait_a["p90_s"]) == ("2", "300", "420")
    wait_e = got[("wait", "hoken", "", "9")]
    assert (wait_e["count"], wait_e["median_s"], wait_e["p90_s"]) == ("1", "300", "300")
    stay = got[("stay", "shimin_1", "", "9")]
    assert (stay["count"], stay["median_s"], stay["p90_s"]) == ("2", "600", "900")
    assert got[("no_show", "shimin_1", "", "")]["count"] == "1"
    assert got[("tickets", "", "moving", "9")]["count"] == "2"
    page = web_client.get(f"/queue/kpi?branch={quote(BRANCH)}")
    assert page.status_code == 200 and 'id="kpi-one-stop">1<' in page.text and "<svg" in page.text


@pytest.mark.parametrize("language", LANGUAGES)
def test_the_status_page_speaks_every_kiosk_language(
    web_client: TestClient, web_queue: QueueService, language: str
) -> None:
    """GIVEN a waiting ticket WHEN its page is opened in each of the nine languages THEN the page's lang is that
    language and its title is that language's."""
    ticket = web_queue.take(BRANCH, "certificates")
    page = web_client.get(f"/q/{ticket.token}?lang={language}")
    assert f'<html lang="{language}">' in page.text
    assert STATUS_TEXTS[language]["title"] in page.text
