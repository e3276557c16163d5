"""What the kiosk asks the catalog: the fee in force (R-01), open or closed and why (R-02, R-06), the guide."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from madoguchi.contracts.catalog import Catalog, CatalogLookupError, NoFeeInForce, load_sample_catalog
from madoguchi.contracts.catalog_base import Channel, PricePeriod, tokyo, uncovered
from madoguchi.contracts.catalog_guide import Answer, GuideStatus
from madoguchi.contracts.catalog_hours import ClosedReason
from madoguchi.contracts.catalog_rules import RuleKind


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    return load_sample_catalog()


def jst(text: str) -> datetime:
    return datetime.fromisoformat(text).replace(tzinfo=tokyo())


# --- fees (R-01) --------------------------------------------------------------------------------------


def test_fee_follows_the_effective_dates_of_the_fee_change(catalog: Catalog) -> None:
    """GIVEN 住民票 ¥200 until 2027-03-31 and ¥250 from 2027-04-01 WHEN asked either side THEN each applies."""
    assert catalog.fee_for("juminhyo", jst("2027-03-31T22:59")).amount_yen == 200
    assert catalog.fee_for("juminhyo", jst("2027-04-01T06:30")).amount_yen == 250
    assert catalog.fee_for("juminhyo", jst("2027-04-01T06:30"), Channel.COUNTER).amount_yen == 300
    assert catalog.fee_for("koseki_zenbu", jst("2026-11-24T10:00")).amount_yen == 350


def test_fee_change_happens_at_midnight_japan_time_not_utc(catalog: Catalog) -> None:
    """GIVEN an instant in UTC that is already 1 April in Japan WHEN asked THEN the new fee applies."""
    assert catalog.fee_for("juminhyo", datetime(2027, 3, 31, 15, 0, tzinfo=UTC)).amount_yen == 250
    assert catalog.fee_for("juminhyo", datetime(2027, 3, 31, 14, 59, tzinfo=UTC)).amount_yen == 200


def test_no_fee_in_force_blocks_sales_with_a_clear_error(catalog: Catalog) -> None:
    """GIVEN a date before every fee period WHEN asked THEN NoFeeInForce names the item, date and periods."""
    with pytest.raises(NoFeeInForce) as caught:
        catalog.fee_for("inkan", jst("2026-03-31T12:00"))
    text = str(caught.value)
    assert (
        "'inkan'" in text and "2026-03-31" in text and "2026-04-01..2027-03-31" in text and "blocked" in text
    )


def test_unknown_certificate_type_names_the_known_ones(catalog: Catalog) -> None:
    with pytest.raises(CatalogLookupError, match=r"unknown certificate type 'passport'.*juminhyo, inkan"):
        catalog.fee_for("passport", jst("2026-11-24T10:00"))


def test_semi_self_fee_items_use_own_prices_or_the_counter_fee(catalog: Catalog) -> None:
    assert catalog.fee_item_price("juminhyo_counter", jst("2027-05-01T10:00")).amount_yen == 300
    assert catalog.fee_item_price("sodai_gomi", jst("2027-03-31T10:00")).amount_yen == 500
    assert catalog.fee_item_price("sodai_gomi", jst("2027-04-01T10:00")).amount_yen == 600
    with pytest.raises(NoFeeInForce):
        catalog.fee_item_price("joseki", jst("2026-01-05T10:00"))


# --- hours (R-02) -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("when", "is_open"),
    [
        ("2026-11-24T06:29", False),
        ("2026-11-24T06:30", True),
        ("2026-11-24T22:59", True),
        ("2026-11-24T23:00", False),
    ],
)
def test_default_hours_are_6_30_to_23_00(catalog: Catalog, when: str, is_open: bool) -> None:
    assert catalog.is_open("juminhyo", jst(when)).open is is_open


def test_closed_outside_hours_shows_the_hours_and_next_opening(catalog: Catalog) -> None:
    status = catalog.is_open("juminhyo", jst("2026-11-24T23:30"))
    assert status.reason == ClosedReason.OUTSIDE_HOURS
    assert status.hours.text("en") == "Daily 6:30–23:00 (closed Dec 29–Jan 3)"
    assert status.next_open == jst("2026-11-25T06:30")


def test_koseki_follows_weekday_office_hours_and_holidays(catalog: Catalog) -> None:
    """GIVEN 戸籍 weekdays 8:30–17:00, closed on holidays WHEN asked THEN evenings, weekends, holidays are closed."""
    assert catalog.is_open("koseki_zenbu", jst("2026-11-24T10:00")).open
    assert not catalog.is_open("koseki_zenbu", jst("2026-11-24T17:00")).open
    saturday = catalog.is_open("koseki_kojin", jst("2026-11-21T10:00"))
    assert saturday.reason == ClosedReason.OUTSIDE_HOURS
    assert "8:30〜17:00" in saturday.hours.text()
    holiday = catalog.is_open("koseki_zenbu", jst("2026-11-23T10:00"))  # 勤労感謝の日, a Monday
    assert holiday.reason == ClosedReason.HOLIDAY
    assert holiday.note is not None and holiday.note.text() == "勤労感謝の日"
    assert holiday.next_open == jst("2026-11-24T08:30")
    assert catalog.is_open("juminhyo", jst("2026-11-23T10:00")).open, "住民票 is issued on holidays"


@pytest.mark.parametrize(
    "when", ["2026-12-29T06:30", "2026-12-31T12:00", "2027-01-01T10:00", "2027-01-03T22:59"]
)
def test_new_year_closure_spans_the_year_boundary(catalog: Catalog, when: str) -> None:
    status = catalog.is_open("juminhyo", jst(when))
    assert status.reason == ClosedReason.CLOSED_PERIOD
    assert status.note is not None and status.note.text("en") == "New Year holidays"
    assert status.next_open == jst("2027-01-04T06:30")


def test_days_either_side_of_the_new_year_closure_are_open(catalog: Catalog) -> None:
    assert catalog.is_open("juminhyo", jst("2026-12-28T22:00")).open
    assert catalog.is_open("juminhyo", jst("2027-01-04T06:30")).open
    assert catalog.is_open("koseki_zenbu", jst("2026-12-30T10:00")).next_open == jst("2027-01-04T08:30")


def test_maintenance_closes_every_type_or_only_the_listed_ones(catalog: Catalog) -> None:
    all_types = catalog.is_open("juminhyo", jst("2027-02-14T11:59"))
    assert all_types.reason == ClosedReason.MAINTENANCE
    assert all_types.next_open == jst("2027-02-14T12:00")
    assert catalog.is_open("juminhyo", jst("2027-02-14T12:00")).open
    assert catalog.is_open("koseki_zenbu", jst("2027-03-03T09:00")).reason == ClosedReason.MAINTENANCE
    assert catalog.is_open("juminhyo", jst("2027-03-03T09:00")).open


def test_every_closed_reason_has_a_refusal_text_and_where_to_go(catalog: Catalog) -> None:
    """GIVEN any reason a type is closed WHEN the kiosk looks up the refusal THEN it has reason and destination."""
    for reason in ClosedReason:
        rule = catalog.refusal("koseki_zenbu", RuleKind(reason.value))
        assert rule is not None, reason
        assert rule.reason.has("en") and rule.where_to_go.has("en")


# --- eligibility (kiosk-requirements §2) -----------------------------------------------------------------


def test_minimum_age_and_the_refusals_of_section_2_are_configured(catalog: Catalog) -> None:
    assert catalog.minimum_age("juminhyo") == 15
    kinds = {rule.kind for rule in catalog.rules_for("juminhyo")}
    assert {
        RuleKind.MOVED_OUT,
        RuleKind.SUPPORT_MEASURES,
        RuleKind.NAME_OUTSIDE_FONT,
        RuleKind.PIN_LOCKED,
    } <= kinds
    assert RuleKind.REGISTRATION_REQUIRED not in kinds
    registration = catalog.refusal("fuhyo", RuleKind.REGISTRATION_REQUIRED)
    assert registration is not None and "https://www.city.midori.example/" in registration.where_to_go.text()
    pin = catalog.refusal("inkan", RuleKind.PIN_LOCKED)
    assert pin is not None and pin.queue_category == "mynumber"
    assert "1階 5番" in pin.where_to_go.text()


# --- guide (R-27, R-28) ---------------------------------------------------------------------------------


def test_guide_lists_by_counter_keeps_unknown_and_marks_route_4_optional(catalog: Catalog) -> None:
    """GIVEN 転入 with a mix of yes/no/わからない WHEN the guide is asked THEN no-answers drop, unknown is kept."""
    answers = {
        "has_card": Answer.YES,
        "national_health": Answer.NO,
        "children": Answer.YES,
        "single_parent": Answer.UNKNOWN,
        "preschool": Answer.YES,
        "school_child": Answer.NO,
        "care_insurance": Answer.NO,
        "elderly": Answer.NO,
        "dog": Answer.NO,
        "pension_self": Answer.NO,
    }
    items = catalog.procedures.results({"moving_in"}, answers)
    status = {item.procedure.id: item.status for item in items}
    assert status == {
        "tennyu": GuideStatus.LIKELY,
        "card_address": GuideStatus.LIKELY,
        "jido_teate": GuideStatus.LIKELY,
        "kodomo_iryo": GuideStatus.LIKELY,
        "inkan": GuideStatus.OPTIONAL,
        "hoiku": GuideStatus.OPTIONAL,
        "gomi": GuideStatus.OPTIONAL,
        "jido_fuyo": GuideStatus.ASK,
        "hitorioya_iryo": GuideStatus.ASK,
    }
    orders = [item.counter.visit_order for item in items]
    assert orders == sorted(orders) and items[0].counter.id == "shimin_1"


def test_route_5_is_never_listed(catalog: Catalog) -> None:
    assert catalog.procedure("passport").route == 5
    items = catalog.procedures.results({"marriage"}, {})
    assert "passport" not in {item.procedure.id for item in items}
    assert "konin" in {item.procedure.id for item in items}


def test_follow_up_questions_appear_only_after_the_answer_they_depend_on(catalog: Catalog) -> None:
    before = [q.id for q in catalog.procedures.questions_for({"moving_in"}, {})]
    after = [q.id for q in catalog.procedures.questions_for({"moving_in"}, {"children": Answer.YES})]
    assert "preschool" not in before and "single_parent" not in before
    assert {"preschool", "single_parent"} <= set(after)
    assert len(after) <= 10


# --- sample content ---------------------------------------------------------------------------------------


def test_sample_covers_routes_1_to_4_and_every_life_event(catalog: Catalog) -> None:
    procedures = catalog.procedures.procedures
    assert {p.route for p in procedures} >= {1, 2, 3, 4}
    for event in catalog.procedures.life_events:
        assert any(event.id in p.life_events for p in procedures), event.id
    for p in procedures:
        assert p.online_url is None or p.online_url.startswith("https://www.city.midori.example/")


def test_certificate_names_exist_in_every_tier_1_language(catalog: Catalog) -> None:
    from madoguchi.contracts.languages import LANGUAGES

    for cert in catalog.certificate_types:
        assert [lang for lang in LANGUAGES if not cert.names.has(lang)] == [], cert.id


def test_receipts_follow_the_payment_method(catalog: Catalog) -> None:
    """R-18: cash gets a 領収書, cashless a 利用控え; the kiosk offers no cash."""
    methods = {m.id: m for m in catalog.payment.methods}
    assert methods["cash"].receipt == "receipt"
    assert {methods[m].receipt for m in ("credit", "emoney", "qr")} == {"usage_record"}
    assert "cash" not in {m.id for m in catalog.payment.methods_for(Channel.KIOSK)}
    assert catalog.payment.refund.refunds is False


@settings(max_examples=150, deadline=None)
@given(
    moment=st.datetimes(min_value=datetime(2026, 11, 1), max_value=datetime(2027, 4, 30)),
    type_id=st.sampled_from(["juminhyo", "koseki_zenbu"]),
)
def test_next_open_is_the_first_open_minute(catalog: Catalog, moment: datetime, type_id: str) -> None:
    """GIVEN any closed moment WHEN next_open is computed THEN it is open and the minute before it is closed."""
    status = catalog.is_open(type_id, moment)
    if status.open:
        assert status.next_open is None and status.reason is None
        return
    assert status.next_open is not None and status.next_open > moment.replace(tzinfo=tokyo())
    assert catalog.is_open(type_id, status.next_open).open
    assert not catalog.is_open(type_id, status.next_open - timedelta(minutes=1)).open


def test_uncovered_lists_gaps_and_the_open_end() -> None:
    periods = [
        PricePeriod(amount_yen=200, effective_from=date(2026, 4, 1), effective_to=date(2027, 3, 31)),
        PricePeriod(amount_yen=250, effective_from=date(2027, 4, 10), effective_to=date(2028, 3, 31)),
    ]
    assert uncovered(periods, date(2026, 4, 1)) == [
        (date(2027, 4, 1), date(2027, 4, 9)),
        (date(2028, 4, 1), None),
    ]
    assert uncovered(periods, date(2026, 3, 1))[0] == (date(2026, 3, 1), date(2026, 3, 31))
