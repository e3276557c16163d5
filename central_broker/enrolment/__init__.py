"""Device enrolment at the centre: one-time tokens, the signing service and its HTTPS endpoint."""

from __future__ import annotations

from central_broker.enrolment.branch_config import BranchDefaults, kiosk_toml
from central_broker.enrolment.service import EnrolmentService
from central_broker.enrolment.tokens import EnrolmentRefused, IssuedToken, TokenStore, parse_duration

__all__ = [
    "BranchDefaults",
    "EnrolmentRefused",
    "EnrolmentService",
    "IssuedToken",
    "TokenStore",
    "kiosk_toml",
    "parse_duration",
]
