"""Guide KPIs from seeded anonymous statistics: uses and completions per day and channel, わからない rate per
question, tickets pre-queued from the guide, satisfaction; page and CSV."""

from __future__ import annotations

import csv
import io
from datetime import date, datetime

from fastapi.testclient import TestClient
from sqlalchemy import insert

from central_broker.accounts import Role
from central_broker.store.telemetry_schema import kiosk_stat
from central_broker.web import WebContext
from central_broker.web.guide_kpi import guide_kpis
from madoguchi.contracts.catalog_base import tokyo
from tests.fixtures.web import make_user, signed_in

DAY1 = date(2026, 4, 6)
DAY2 = date(2026, 4, 7)


def _ms(day: date, hour: int) -> int:
    return int(datetime(day.year, day.month, day.day, hour, tzinfo=tokyo()).timestamp() * 1000)


def _session(**fields: object) -> dict[str, object]:
    base: dict[str, object] = {
        "outcome": "completed", "language": "ja", "events": ["moving_in"], "questions_asked": 3,
        "unknown_questions": [], "outputs": [], "rating": None, "channel": "kiosk",
    }  # fmt: skip
    return {**base, **fields}


def _seed(ctx: WebContext) -> None:
    rows = [
        ("jp-131016-k1", _ms(DAY1, 10), "guide_session", _session(outputs=["ticket"], rating=5)),
        ("jp-131016-k1", _ms(DAY1, 11), "guide_session", _session(unknown_questions=["children"], rating=4)),
        (
            "jp-131016-k1",
            _ms(DAY1, 12),
            "guide_session",
            _session(outcome="aborted", unknown_questions=["children"]),
        ),
        (
            "jp-131016-k1",
            _ms(DAY2, 9),
            "guide_session",
            _session(events=["death"], outputs=["print"], rating=2),
        ),
        (
            "central-web-guide",
            _ms(DAY1, 20),
            "guide_session",
            _session(channel="web", unknown_questions=["has_card"]),
        ),
        (
            "central-web-guide",
            _ms(DAY2, 8),
            "guide_rating",
            {"channel": "web", "rating": 4, "language": "en"},
        ),
        ("central-web-guide", _ms(DAY2, 10), "guide_ticket", {"channel": "web"}),
        ("jp-131016-k1", _ms(DAY1, 13), "certificate_session", {"outcome": "completed", "rating": 1}),
        ("jp-131016-k1", _ms(date(2026, 4, 9), 10), "guide_session", _session()),  # outside the period
    ]
    with ctx.fleet.engine.begin() as conn:
        conn.execute(
            insert(kiosk_stat),
            [
                {"device_id": dev, "seq": n, "ts": ts, "kind": kind, "fields": fields, "received_at": ts}
                for n, (dev, ts, kind, fields) in enumerate(rows, start=1)
            ],
        )


def test_guide_kpis_count_uses_completions_unknowns_tickets_and_ratings(web_context: WebContext) -> None:
    """GIVEN two days of kiosk and web guide records WHEN the KPIs of those days are computed THEN uses and
    completions are per day and channel, わからない rates per question divide by the sessions of its life
    events, tickets count kiosk takes and web visit codes, and only guide ratings count."""
    _seed(web_context)
    r = guide_kpis(web_context.fleet.engine, web_context.catalog.procedures, DAY1, DAY2)
    assert r.uses == {("2026-04-06", "kiosk"): 3, ("2026-04-06", "web"): 1, ("2026-04-07", "kiosk"): 1}
    assert r.completions == {("2026-04-06", "kiosk"): 2, ("2026-04-06", "web"): 1, ("2026-04-07", "kiosk"): 1}
    assert r.tickets == {("2026-04-06", "kiosk"): 1, ("2026-04-07", "web"): 1}
    assert r.ratings == {5: 1, 4: 2, 2: 1}
    rates = {q.question: (q.unknown, q.sessions) for q in r.questions}
    assert rates["children"] == (2, 4)  # 4 moving_in sessions could ask it
    assert rates["has_card"] == (1, 4)


def test_the_guide_kpi_page_and_csv_show_the_same_figures(
    web_context: WebContext, web_client: TestClient
) -> None:
    """GIVEN seeded records WHEN an auditor opens the guide KPI page (linked from the KPI page) and its CSV THEN
    both show 5 uses, 2 pre-queued tickets and the わからない rate of 'children' as 50 %."""
    _seed(web_context)
    signed_in(web_client, *make_user(web_context, Role.AUDITOR))
    assert 'href="/kpi/guide?' in web_client.get("/kpi").text
    page = web_client.get(f"/kpi/guide?first={DAY1}&last={DAY2}")
    assert page.status_code == 200
    assert 'id="kpi-guide-uses">5<' in page.text and 'id="kpi-guide-tickets">2<' in page.text
    rows = list(
        csv.reader(
            io.StringIO(web_client.get(f"/kpi/guide.csv?first={DAY1}&last={DAY2}").text.lstrip("\ufeff"))
        )
    )
    assert ["2026-04-06", "kiosk", "3", "2", "1"] in rows
    assert ["children", "2", "4", "0.5000"] in rows
    assert ["4", "2"] in rows
