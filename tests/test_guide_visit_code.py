"""Visit codes of the web guide (R-30): signed, short-lived, one refusal for forged and expired codes."""

from __future__ import annotations

from datetime import datetime

import pytest

from central_broker.guide import GuideInput, VisitCodeInvalid, VisitCodes
from madoguchi.clock import SteppableClock
from madoguchi.contracts.catalog import load_sample_catalog
from madoguchi.contracts.catalog_base import tokyo
from madoguchi.contracts.catalog_guide import Answer

SECRET = b"visit-code secret of the tests!!"
MONDAY_9 = datetime(2026, 4, 6, 9, 0, tzinfo=tokyo()).timestamp()
GIVEN = GuideInput(("moving_in",), {"has_card": Answer.YES, "children": Answer.UNKNOWN})


@pytest.fixture
def clock() -> SteppableClock:
    return SteppableClock(base=lambda: MONDAY_9)


def test_a_code_carries_the_answers_until_midnight_japan_time(clock: SteppableClock) -> None:
    """GIVEN a code made at 09:00 JST WHEN read at 23:59 THEN it gives the same events and answers; WHEN read
    after midnight THEN it is refused."""
    guide = load_sample_catalog().procedures
    codes = VisitCodes(SECRET, clock)
    code = codes.issue(GIVEN, 7)
    assert code is not None and len(code) <= 200
    clock.advance(14 * 3600 + 59 * 60)
    found = codes.read(code, guide)
    assert found.given == GIVEN and found.catalog_version == 7
    clock.advance(60)
    with pytest.raises(VisitCodeInvalid):
        codes.read(code, guide)


def test_forged_altered_and_foreign_codes_are_refused_alike(clock: SteppableClock) -> None:
    """GIVEN a valid code WHEN one answer is changed, the MAC is made up, or another central's secret signed it
    THEN each read is refused with the same message."""
    guide = load_sample_catalog().procedures
    code = VisitCodes(SECRET, clock).issue(GIVEN, 1)
    assert code is not None
    altered = code.replace("has_card-y", "has_card-n")
    other = VisitCodes(b"another central's secret........", clock).issue(GIVEN, 1)
    messages = set()
    for bad in (altered, code[:-4] + "AAAA", other, "not-a-code", "1.x." + "a" * 300):
        with pytest.raises(VisitCodeInvalid) as caught:
            VisitCodes(SECRET, clock).read(str(bad), guide)
        messages.add(str(caught.value))
    assert len(messages) == 1
