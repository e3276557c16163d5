"""Operators preview the procedure guide and publish a new catalog after seeing what changes (issue 19 item 4).

Through the real web app: the preview walks the same questions as the kiosk and shows `ProcedureGuide.results`
as residents see it; an uploaded catalog is validated, compared with what kiosks were last sent, previewed,
and published through the signed catalog push to a kiosk that installs it.
"""

from __future__ import annotations

import copy
import json
import re
import time
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from central_broker.accounts import Role
from central_broker.broker import MosquittoBroker
from central_broker.catalog_push import SigningKeys
from central_broker.ingest import Ingest
from central_broker.store import DeviceStatus, FleetStore
from central_broker.web import WebContext
from central_broker.web.fleet_actions import FleetActions
from madoguchi.config.broker import BrokerConfig
from madoguchi.contracts.catalog import sample_catalog_path
from madoguchi.contracts.catalog_guide import Answer
from tests.fixtures.central_store import wait_for_device
from tests.fixtures.fleet import new_device_id
from tests.fixtures.fleet_signing import trusting_agent
from tests.fixtures.web import csrf_of, make_user, signed_in

SAMPLE: dict[str, Any] = json.loads(sample_catalog_path().read_text(encoding="utf-8"))


def _operator(client: TestClient, ctx: WebContext) -> TestClient:
    return signed_in(client, *make_user(ctx, Role.OPERATOR))


def _ids(html: str, attribute: str) -> list[str]:
    return re.findall(rf'{attribute}="([^"]+)"', html)


def _version_2() -> dict[str, Any]:
    """The sample as version 2: a deadline reworded in English and Vietnamese, ごみ dropped, 保育所 made
    route ③, and a new procedure for 転入 (パスポート住所 would be ⑤; here 自転車駐輪場 at 環境課)."""
    data = copy.deepcopy(SAMPLE)
    data["version"] = 2
    procedures = data["procedures"]["procedures"]
    by_id = {p["id"]: p for p in procedures}
    by_id["tennyu"]["deadline"]["en"] = "Within two weeks of moving"
    by_id["tennyu"]["deadline"]["vi"] = "Trong 14 ngày sau khi chuyển đến"
    by_id["hoiku"]["route"] = 3
    added = copy.deepcopy(by_id["gomi"]) | {"id": "churin", "route": 4}
    added["names"] = {lang: f"{text} 駐輪場" for lang, text in by_id["gomi"]["names"].items()}
    data["procedures"]["procedures"] = [p for p in procedures if p["id"] != "gomi"] + [added]
    return data


def _upload(client: TestClient, data: dict[str, Any] | bytes, name: str = "catalog-v2.json") -> Any:
    token = csrf_of(client.get("/catalog").text)
    body = data if isinstance(data, bytes) else json.dumps(data, ensure_ascii=False).encode()
    return client.post("/catalog/draft", data={"csrf_token": token},
                       files={"file": (name, body, "application/json")}, follow_redirects=True)  # fmt: skip


def test_preview_walks_the_questions_and_shows_the_residents_result(
    web_client: TestClient, web_context: WebContext
) -> None:
    """GIVEN the catalog in force WHEN an operator previews 転入 in English and answers THEN each answer
    brings the next question, follow-ups appear only after children=yes, and the result lists exactly
    `ProcedureGuide.results` by counter in visit order; route ⑤ (water) is named as never listed."""
    client = _operator(web_client, web_context)
    first = client.get("/catalog/guide", params={"ev": "moving_in", "lang": "en"})
    assert first.status_code == 200
    assert "Do you have a My Number Card?" in first.text
    assert "school_child" not in _ids(first.text, "data-question")
    answered = client.get(
        "/catalog/guide", params={"ev": "moving_in", "lang": "en", "a": "children:y,national_health:n"}
    )
    asked = _ids(answered.text, "data-question")
    assert {"single_parent", "preschool", "school_child"} <= set(asked) and len(asked) <= 10
    answers = {"children": Answer.YES, "national_health": Answer.NO}
    expected = web_context.catalog.procedures.results({"moving_in"}, answers)
    assert _ids(answered.text, "data-procedure") == [item.procedure.id for item in expected]
    counters = list(dict.fromkeys(item.counter.id for item in expected))
    assert _ids(answered.text, "data-counter") == counters
    assert (
        "Moving-in notification" in answered.text and "suido" in answered.text.split('id="preview-hidden"')[1]
    )
    vietnamese = client.get("/catalog/guide", params={"ev": "moving_in", "lang": "vi", "a": "children:y"})
    assert "Khai báo chuyển đến" in vietnamese.text and "Bạn có thẻ My Number không?" in vietnamese.text


def test_changing_an_earlier_answer_drops_answers_to_questions_it_hides(
    web_client: TestClient, web_context: WebContext
) -> None:
    """GIVEN children=yes and school_child=yes WHEN the operator switches children to no THEN the school
    question and its answer are gone and 転入学 is no longer listed."""
    client = _operator(web_client, web_context)
    page = client.get(
        "/catalog/guide", params={"ev": "moving_in", "lang": "ja", "a": "children:y,school_child:y"}
    )
    assert "tengaku" in _ids(page.text, "data-procedure")
    switch = re.search(r'<tr data-question="children".*?<a href="([^"]+)" data-answer="n"', page.text, re.S)
    assert switch is not None
    after = client.get(switch.group(1).replace("&amp;", "&"))
    assert "school_child" not in _ids(after.text, "data-question")
    assert "tengaku" not in _ids(after.text, "data-procedure")


def test_only_operators_preview_and_upload(web_client: TestClient, web_context: WebContext) -> None:
    assert web_client.get("/catalog/guide", follow_redirects=False).status_code == 303
    staff = signed_in(web_client, *make_user(web_context, Role.STAFF))
    assert staff.get("/catalog/guide").status_code == 403


def test_an_invalid_catalog_is_refused_listing_each_problem_with_its_path(
    web_client: TestClient, web_context: WebContext
) -> None:
    """GIVEN a catalog whose show_when rules loop WHEN uploaded THEN the page lists the problem at its path
    with what to do, and nothing is kept as a draft."""
    client = _operator(web_client, web_context)
    data = copy.deepcopy(SAMPLE)
    questions = data["procedures"]["questions"]
    questions[0]["show_when"] = [{"question": "dog", "answer": "yes"}]
    next(q for q in questions if q["id"] == "dog")["show_when"] = [{"question": "has_card", "answer": "yes"}]
    refused = _upload(client, data, "loop.json")
    assert refused.status_code == 400
    assert "procedures.questions[0].show_when[0].question" in refused.text
    assert "show_when rules loop: has_card → dog → has_card" in refused.text.replace("&#39;", "'")
    assert not web_context.cache.get("catalog_drafts")


def test_a_draft_shows_what_changes_and_previews_its_own_guide(
    web_client: TestClient, web_context: WebContext
) -> None:
    """GIVEN version 2 of the sample WHEN uploaded THEN the draft page lists ごみ removed, the new procedure
    added, 保育所's route 4 → 3, 転入届's deadline changed in en and vi, against the centre's version 1;
    its preview lists the new procedure, while the preview of the catalog in force does not."""
    client = _operator(web_client, web_context)
    page = _upload(client, _version_2())
    assert page.status_code == 200 and "/catalog/draft/" in str(page.url)
    rows = re.findall(r'<tr data-part="procedures" data-kind="(\w+)" data-id="(\w+)"', page.text)
    assert {item: kind for kind, item in rows} == {"gomi": "removed", "churin": "added", "hoiku": "changed",
                                                   "tennyu": "changed"}  # fmt: skip
    assert "route: 4 → 3" in page.text and "deadline (en, vi)" in page.text
    assert "Languages with changed texts:" in page.text and "version 1 in force at the centre" in page.text
    preview = client.get(page.text.split('id="draft-preview"')[0].rsplit('href="', 1)[1].split('"')[0])
    preview = client.get(f"{preview.url}&ev=moving_in&lang=ja".replace("&amp;", "&"))
    assert "churin" in _ids(preview.text, "data-procedure")
    current = client.get("/catalog/guide", params={"ev": "moving_in", "lang": "ja"})
    assert "churin" not in _ids(current.text, "data-procedure")


@pytest.mark.mosquitto
def test_a_draft_is_published_to_the_kiosks_and_the_next_diff_starts_from_it(
    web_client: TestClient,
    web_context: WebContext,
    ingest: Ingest,
    mosquitto: MosquittoBroker,
    central_store: FleetStore,
    signing_keys: SigningKeys,
    tmp_path: Path,
) -> None:
    """GIVEN a kiosk of みどり市 trusting the centre's keys WHEN an operator uploads version 2, confirms
    publishing THEN the kiosk installs version 2 through the signed push, the audit log names the operator,
    and a version 3 upload is compared with version 2 (the last published)."""
    web_context.actions = FleetActions(BrokerConfig(url=mosquitto.url), signing_keys.dir, central_store)
    device = new_device_id()
    with trusting_agent(mosquitto, signing_keys, tmp_path / "kiosk", device) as (_agent, services):
        wait_for_device(central_store, device, lambda r: r.status is DeviceStatus.ONLINE)
        client = _operator(web_client, web_context)
        draft = _upload(client, _version_2())
        action = re.search(r'<form method="post" action="([^"]+)" id="draft-publish">', draft.text)
        assert action is not None
        confirm = client.post(action.group(1), data={"csrf_token": csrf_of(draft.text)})
        assert "Publish catalog version 2 to" in confirm.text and services.catalogs.version() != 2
        done = client.post(action.group(1), data={"csrf_token": csrf_of(confirm.text), "confirm": "yes"},
                           follow_redirects=True)  # fmt: skip
        assert done.status_code == 200 and 'id="draft-published"' in done.text
        deadline = time.monotonic() + 15
        while services.catalogs.version() != 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        assert services.catalogs.version() == 2
    assert any(e.action == "catalog.publish" and "version 2" in e.detail
               for e in web_context.accounts.audit_entries())  # fmt: skip
    version_3 = _version_2() | {"version": 3}
    version_3["procedures"]["procedures"][0]["fee"]["ko"] = "무료 (수수료 없음)"
    third = _upload(client, version_3, "catalog-v3.json")
    assert "Compared with version 2, the last one published to kiosks." in third.text
    assert _ids(third.text, "data-id") == ["tennyu"] and "fee (ko)" in third.text
