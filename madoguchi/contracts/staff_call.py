"""`up/staff_call`: a resident (or the flow itself) called staff to a kiosk (R-34), and how staff answer.

Project addition to contract §2. The message names the kiosk (by its topic), the flow step and a reason
code, never anything about the resident: `step` and `reason` are machine codes (`[a-z0-9_]`), so no
free text can slip personal data in. Staff answer with the signed remote commands `staff_call_ack`
(the kiosk shows "staff are coming") and `staff_call_close` (the banner goes), naming the call in `ref`.
"""

from __future__ import annotations

import enum

from pydantic import Field

from madoguchi.contracts.base import Message

__all__ = ["CALL_ID_PATTERN", "CODE_PATTERN", "StaffCallMessage", "StaffCallStatus"]

CALL_ID_PATTERN = r"^[a-z0-9-]{1,64}$"
CODE_PATTERN = r"^[a-z0-9_]{1,64}$"


class StaffCallStatus(enum.StrEnum):
    """What the kiosk says about a call."""

    CALLED = "called"  # the call is open
    CANCELLED = "cancelled"  # the resident (or the kiosk, at the end of the session) withdrew it


class StaffCallMessage(Message):
    """`up/staff_call` (QoS 1, not retained): a call opened or withdrawn at a kiosk."""

    call_id: str = Field(pattern=CALL_ID_PATTERN, description="random id chosen by the kiosk")
    step: str = Field(pattern=CODE_PATTERN, description="flow step the resident is at, e.g. pin_entry")
    reason: str = Field(
        pattern=CODE_PATTERN, description="`resident` (the 職員を呼ぶ button) or the flow's reason code"
    )
    status: StaffCallStatus
    ts: int = Field(ge=0)
