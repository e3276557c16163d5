"""The procedure guide on the central: visit codes, takes with a visit code and the web guide's anonymous
usage records (issue 19; kiosk-requirements.md §6, R-27–R-30). Answers in links and the ticket of a guide
result are shared with the kiosk in `madoguchi.guide_links` (re-exported here)."""

from __future__ import annotations

from central_broker.guide.visit_code import VisitCodeInvalid, VisitCodes, guide_secret_file
from madoguchi.guide_links import (
    GuideInput,
    GuideInputError,
    TicketPlan,
    format_answers,
    parse_guide_input,
    ticket_plan,
)

__all__ = [
    "GuideInput",
    "GuideInputError",
    "TicketPlan",
    "VisitCodeInvalid",
    "VisitCodes",
    "format_answers",
    "guide_secret_file",
    "parse_guide_input",
    "ticket_plan",
]
