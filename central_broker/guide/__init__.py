"""The procedure guide on the central: guide answers in links, visit codes, the ticket of a guide result and
the web guide's anonymous usage records (issue 19; kiosk-requirements.md §6, R-27–R-30)."""

from __future__ import annotations

from central_broker.guide.answers import GuideInput, GuideInputError, format_answers, parse_guide_input
from central_broker.guide.ticket import TicketPlan, ticket_plan
from central_broker.guide.visit_code import VisitCodeInvalid, VisitCodes, guide_secret_file

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
