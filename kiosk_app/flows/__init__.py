"""Resident flows as declarative state machines: no threads, no Kivy, no device I/O.

A flow receives `Event`s through one queue (`EventPump`) and returns `Command`s that a runner
executes; screens observe `view()`. Time comes from an injected clock (`FakeClock` in tests).
"""

from __future__ import annotations

from kiosk_app.flows.clock import Clock, FakeClock, monotonic_clock
from kiosk_app.flows.core import Command, Event, Machine, MachineSpec, StateSpec, Tick, TimedOut, Transition
from kiosk_app.flows.issuance import CertificateFlow, IssuanceView, settings_from_catalog
from kiosk_app.flows.issuance_context import IssuanceSettings, Step
from kiosk_app.flows.pump import EventPump
from kiosk_app.flows.register import RegisterFlow, RegisterSettings, RegisterStep, RegisterView
from kiosk_app.flows.session import IssuanceSession, mask_name
from kiosk_app.flows.stats import AbortReason, Outcome, SessionStats

__all__ = [
    "AbortReason",
    "CertificateFlow",
    "Clock",
    "Command",
    "Event",
    "EventPump",
    "FakeClock",
    "IssuanceSession",
    "IssuanceSettings",
    "IssuanceView",
    "Machine",
    "MachineSpec",
    "Outcome",
    "RegisterFlow",
    "RegisterSettings",
    "RegisterStep",
    "RegisterView",
    "SessionStats",
    "StateSpec",
    "Step",
    "Tick",
    "TimedOut",
    "Transition",
    "mask_name",
    "monotonic_clock",
    "settings_from_catalog",
]
