"""Message ids of the staff-call banner and the 時間を延長 count-down (shown over every screen).

Kept apart from `keys.py` (the screens' ids); `kiosk i18n report` finds these `N_` marks the same way.
`staff_called` and `button.more_time` already exist in `keys.py`.
"""

from __future__ import annotations

from kiosk_app.i18n.keys import N_

__all__ = ["STAFF_KEYS"]

STAFF_KEYS = (
    N_("staff.coming"),  # Staff are on their way. Please wait here.
    N_("button.cancel_staff_call"),  # Cancel the call
    N_("time.left"),  # {seconds} seconds left
)
