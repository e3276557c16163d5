"""Message ids of the 整理券 flow (visit numbers): the home button, categories, done, refusals (issue 18).

Kept apart from `keys.py`; `kiosk i18n report` finds these `N_` marks the same way. Refusal kinds map to
their ids in `refusal_key()` (an unknown kind is shown as `queue.refused.invalid`).
"""

from __future__ import annotations

from kiosk_app.i18n.keys import N_

__all__ = ["LEVEL_KEYS", "QUEUE_KEYS", "REFUSAL_KEYS", "refusal_key"]

REFUSAL_KEYS = {
    "outside_hours": N_("queue.refused.outside_hours"),  # Numbers are issued only during opening hours.
    "category_closed": N_(
        "queue.refused.category_closed"
    ),  # This service is not taking numbers at the moment.
    "unknown_category": N_("queue.refused.category_closed"),
    "concierge_only": N_(
        "queue.refused.concierge_only"
    ),  # Please ask at the information desk for this service.
    "daily_cap": N_("queue.refused.daily_cap"),  # Today's numbers for this service have all been issued.
    "rate_limited": N_("queue.refused.rate_limited"),  # Please try again in a moment.
    "invalid": N_("queue.refused.invalid"),  # A number cannot be issued here. Please ask a member of staff.
    "visit_code_invalid": N_(
        "queue.refused.visit_code_invalid"
    ),  # This visit code has expired or is not valid. Please answer the guide again on this kiosk, or ask a m…
}
LEVEL_KEYS = {
    "calm": N_("queue.level.calm"),  # Not busy
    "busy": N_("queue.level.busy"),  # Busy
    "crowded": N_("queue.level.crowded"),  # Very busy
}
QUEUE_KEYS = (
    N_("home.queue"),  # Take a number
    N_("queue.choose.title"),  # What is your visit about?
    N_("queue.choose.info"),  # One number serves you at every counter until you are done.
    N_("queue.no_lamps"),  # Waiting times are not available right now.
    N_("queue.wait"),  # Wait: about {low}–{high} min
    N_("queue.waiting"),  # Waiting: {count}
    N_("queue.closed"),  # Not taking numbers at the moment
    N_("queue.taking"),  # Printing your number…
    N_("queue.done.title"),  # Please take your number {number}
    N_("queue.done.route"),  # Counters to visit, in this order:
    N_("queue.ahead"),  # People ahead of you: {count}
    N_(
        "queue.offline"
    ),  # The kiosk could not reach the system and issued this number itself. The order may change sl…
    N_(
        "queue.print_failed"
    ),  # Your ticket could not be printed. Please note this number and show it to staff.
    N_("queue.refused.title"),  # No number could be issued
    N_("queue.refused.detail"),  # Details: {detail}
    N_("queue.unavailable"),  # Numbers cannot be issued right now. Please go to the information desk.
)


def refusal_key(kind: str) -> str:
    """The message id of a `QueueRefusal.kind` (unknown kinds: `queue.refused.invalid`)."""
    return REFUSAL_KEYS.get(kind, REFUSAL_KEYS["invalid"])
