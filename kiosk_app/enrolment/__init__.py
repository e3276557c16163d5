"""Kiosk enrolment: device key and CSR, one-time token exchange, certificate renewal over mutual TLS."""

from __future__ import annotations

from kiosk_app.enrolment.client import (
    EnrolmentError,
    TokenFile,
    enrol,
    read_token_file,
    renew,
    wait_for_clock,
)
from kiosk_app.enrolment.identity import EnrolmentState, IdentityPaths

__all__ = [
    "EnrolmentError",
    "EnrolmentState",
    "IdentityPaths",
    "TokenFile",
    "enrol",
    "read_token_file",
    "renew",
    "wait_for_clock",
]
