"""Message ids of the 手続きガイド (procedure guide, issue 19): home button, questions, result, outputs.

Kept apart from `keys.py` like `keys_queue.py`; `kiosk i18n report` finds these `N_` marks the same way. The
route of a listed procedure maps to its words in `STATUS_KEYS` (①② accepted here, ③ required, ④ consult
if you wish, わからない: checked at the counter). Catalog texts (life events, questions, procedures) are
`LocalizedText` in the catalog, not here. The ticket screens reuse the 整理券 texts of `keys_queue.py`.
"""

from __future__ import annotations

from kiosk_app.i18n.keys import N_

__all__ = ["ANSWER_KEYS", "GUIDE_KEYS", "STATUS_KEYS", "status_key"]

ANSWER_KEYS = {
    "yes": N_("guide.answer.yes"),  # Yes
    "no": N_("guide.answer.no"),  # No
    "unknown": N_("guide.answer.unknown"),  # I don't know
}
STATUS_KEYS = {
    "accepted": N_("guide.status.accepted"),  # We accept this here
    "required": N_("guide.status.required"),  # Required
    "optional": N_("guide.status.optional"),  # Please consult us if you wish
    "ask": N_("guide.status.ask"),  # To be checked at the counter
}
GUIDE_KEYS = (
    N_("home.guide"),  # Procedure guide
    N_("guide.events.title"),  # Which situation applies to you?
    N_("guide.events.info"),  # Answer a few questions to see the procedures you need, wh…
    N_("guide.question.progress"),  # Question {number} of {total}
    N_("guide.unknown_note"),  # If you are not sure, choose “I don't know”: the procedure…
    N_("guide.result.title"),  # Your procedures
    N_("guide.result.info"),  # By counter, in the order to visit.
    N_("guide.result.empty"),  # No procedure at a counter is needed for this.
    N_("guide.bring"),  # Please bring: {items}
    N_("guide.deadline"),  # Deadline: {deadline}
    N_("guide.fee"),  # Fee: {fee}
    N_("guide.online"),  # Also online: {url}
    N_("guide.online_phone"),  # Also possible online: open this list on your phone for the link
    N_("guide.keep"),  # Add this counter to my visit
    N_("guide.unkeep"),  # Remove this counter from my visit
    N_("guide.button.print"),  # Print the list
    N_("guide.button.phone"),  # Open on my phone
    N_("guide.button.ticket"),  # Take a number for these procedures
    N_("guide.button.finish"),  # Finish
    N_("guide.printing"),  # Printing the list…
    N_("guide.printed"),  # The list has been printed. Please take it.
    N_("guide.print_failed"),  # The list could not be printed. Open it on your phone or a…
    N_("guide.phone.title"),  # Scan this code with your phone's camera
    N_("guide.phone.info"),  # The same list opens on your phone. No account, no persona…
    N_("guide.phone.making"),  # Preparing the code…
    N_("guide.phone.unavailable"),  # The list cannot be sent to a phone from this kiosk. Pleas…
    N_("guide.no_ticket"),  # Numbers for these counters are given at the information d…
    N_("guide.button.prefill"),  # Help me fill in the application forms
    N_("guide.print.scan"),  # Scan the QR code to open this list on your phone
    N_("guide.print.issued"),  # Printed {time}
)


def status_key(route: int, status: str) -> str:
    """The words for a listed procedure: its route ①–④ and its guide status (likely, ask, optional)."""
    if status == "ask":
        return STATUS_KEYS["ask"]
    if status == "optional" or route == 4:
        return STATUS_KEYS["optional"]
    return STATUS_KEYS["required"] if route == 3 else STATUS_KEYS["accepted"]
