"""The one table from a problem code (driver error, runner, CUPS, flow) to the message id a resident reads.

Codes come from several places and are kept as they are for logs, staff calls and incidents:

- the device error hierarchy (`device_drivers/*/errors.py`): `card.not_my_number`, `printer.paper_jam`,
  `printer.<receipt problem>` from `PrintJobFailed`, `device.unavailable` ...;
- the runner: `not_issued`, `no_receipt_printer`, the receipt printer's status problems (`paper_out`,
  `cover_open` ...), the A4 output's own codes;
- the A4 path through CUPS: IPP printer-state-reasons (`media-empty`, `media-jam-error`, `door-open-report`
  ...; RFC 8011 §5.4.12, PWG 5100.9) and printer states (`stopped`);
- the flow: `timeout`.

`problem_key(code)` resolves any of them; an IPP severity suffix (`-error`, `-warning`, `-report`) is
ignored, and a code nobody listed gets a general text (`problem.unknown`), never a bare key.
`tests/test_problem_texts.py` walks every code those places can raise and checks each message id has a
text in every language.
"""

from __future__ import annotations

from kiosk_app.i18n.keys import N_

__all__ = ["IPP_SUFFIXES", "PROBLEM_KEYS", "UNKNOWN_PROBLEM", "normalize_problem", "problem_key"]

UNKNOWN_PROBLEM = N_("problem.unknown")
IPP_SUFFIXES = ("-error", "-warning", "-report")

_NOT_MY_NUMBER = N_("problem.not_my_number_card")
_CARD_ERROR = N_("problem.card_error")
_CARD_AGAIN = N_("problem.card_again")
_CARD_UNSUPPORTED = N_("problem.card_unsupported")
_CARD_COUNTER = N_("problem.card_counter")
_READER = N_("problem.reader")
_PIN_WRONG = N_("pin.wrong")
_PIN_LOCKED = N_("pin_locked.body")
_TIMEOUT = N_("problem.timeout")
_PAPER = N_("problem.out_of_paper")
_JAM = N_("problem.paper_jam")
_COVER = N_("problem.cover_open")
_OFFLINE = N_("problem.offline")
_PRINTER = N_("problem.printer_error")
_NOT_ISSUED = N_("problem.not_issued")

# Receipt printer status problems (`PrinterStatus.problems`), bare or as `printer.<problem>` (PrintJobFailed).
_RECEIPT = {
    "offline": _OFFLINE,
    "paper_out": _PAPER,
    "paper_near_end": _PAPER,
    "cover_open": _COVER,
    "cutter_error": _JAM,
    "unrecoverable_error": _PRINTER,
    "recoverable_error": _PRINTER,
    "auto_recoverable_error": _PRINTER,
    "error": _PRINTER,
    "not_ready": _PRINTER,
    "not_confirmed": _PRINTER,
    "job_failed": _PRINTER,
}

# IPP printer-state-reasons (without severity suffix) and printer-state values of the CUPS A4 queue.
_IPP = {
    "media-empty": _PAPER,
    "media-needed": _PAPER,
    "media-low": _PAPER,
    "input-tray-missing": _PAPER,
    "media-jam": _JAM,
    "output-area-full": _JAM,
    "output-tray-missing": _JAM,
    "cover-open": _COVER,
    "door-open": _COVER,
    "interlock-open": _COVER,
    "offline": _OFFLINE,
    "shutdown": _OFFLINE,
    "timed-out": _OFFLINE,
    "connecting-to-device": _OFFLINE,
    "paused": _PRINTER,
    "moving-to-paused": _PRINTER,
    "stopping": _PRINTER,
    "stopped-partly": _PRINTER,
    "stopped": _PRINTER,
    "toner-empty": _PRINTER,
    "toner-low": _PRINTER,
    "marker-supply-empty": _PRINTER,
    "marker-supply-low": _PRINTER,
    "marker-waste-full": _PRINTER,
    "marker-waste-almost-full": _PRINTER,
    "output-area-almost-full": _PRINTER,
    "fuser-over-temp": _PRINTER,
    "fuser-under-temp": _PRINTER,
    "opc-life-over": _PRINTER,
    "opc-near-eol": _PRINTER,
    "developer-empty": _PRINTER,
    "developer-low": _PRINTER,
    "spool-area-full": _PRINTER,
    "interpreter-resource-unavailable": _PRINTER,
    "cups-missing-filter": _PRINTER,
    "cups-insecure-filter": _PRINTER,
    "cups-waiting-for-job-completed": _PRINTER,
    "other": _PRINTER,
    "idle": _PRINTER,
    "processing": _PRINTER,
    "unknown": _PRINTER,
}

_OTHER_DEVICES = (
    "payment.error", "payment.already_paid", "payment.busy", "payment.invalid_amount", "payment.invalid_kiosk_id",
    "payment.invalid_order", "payment.journal", "payment.journal_missing", "payment.two_journals",
    "payment.link_failure", "payment.link_lost",
    "payment.order_blocked", "payment.unavailable", "payment.void_refused",
    "scanner.error", "scanner.rejected", "scanner.unavailable",
)  # fmt: skip

PROBLEM_KEYS: dict[str, str] = {
    # card and reader (device_drivers/card/errors.py, device_drivers/errors.py)
    "card.not_my_number": _NOT_MY_NUMBER,
    "card.unsupported": _CARD_UNSUPPORTED,
    "card.error": _CARD_ERROR,
    "card.unexpected_status": _CARD_ERROR,
    "card.malformed": _CARD_ERROR,
    "card.pin_required": _CARD_ERROR,
    "card.pin_format": _CARD_ERROR,
    "card.removed": _CARD_AGAIN,
    "card.absent": _CARD_AGAIN,
    "card.pin_incorrect": _PIN_WRONG,
    "card.pin_incorrect_last_try": _PIN_WRONG,
    "card.pin_blocked": _PIN_LOCKED,
    "card.pin_last_try": _CARD_COUNTER,
    "card.cert_expired": _CARD_COUNTER,
    "card.cert_untrusted": _CARD_COUNTER,
    "card.signature_invalid": _CARD_COUNTER,
    "card.reader_gone": _READER,
    "card.reader_not_found": _READER,
    "card.reader_ambiguous": _READER,
    "card.no_card": _CARD_AGAIN,
    "device.error": UNKNOWN_PROBLEM,
    "device.unavailable": _READER,
    # printers (device_drivers/printer/errors.py, kiosk_app/runner/outputs.py)
    "printer.error": _PRINTER,
    "printer.offline": _OFFLINE,
    "printer.not_ready": _PRINTER,
    "printer.config": _PRINTER,
    "printer.glyph_missing": _PRINTER,
    "printer.qr_signature": _PRINTER,
    "printer.a4_job_failed": _PRINTER,
    "printer.a4_not_ready": _PRINTER,
    **{f"printer.{code}": key for code, key in _RECEIPT.items()},
    **_RECEIPT,
    "printer.paper_jam": _JAM,
    "paper_jam": _JAM,
    **_IPP,
    # runner and flow
    "not_configured": _PRINTER,
    "no_receipt_printer": _PRINTER,
    "unknown_sale": _NOT_ISSUED,
    "not_issued": _NOT_ISSUED,
    "timeout": _TIMEOUT,
    # other devices, should one reach a resident's screen (the flows turn payment errors into a decline)
    **dict.fromkeys(_OTHER_DEVICES, UNKNOWN_PROBLEM),
}


def normalize_problem(code: str) -> str:
    """The table's form of a code: lower case, an IPP severity suffix (`media-empty-error`) dropped."""
    code = code.strip().lower()
    if "-" in code:
        for suffix in IPP_SUFFIXES:
            if code.endswith(suffix):
                return code.removesuffix(suffix)
    return code


def problem_key(code: str) -> str:
    """The message id explaining problem `code` to a resident (`problem.unknown` for a code not listed)."""
    normal = normalize_problem(code)
    found = PROBLEM_KEYS.get(normal)
    if found is None and normal.startswith("printer."):
        found = PROBLEM_KEYS.get(normal.removeprefix("printer."), _PRINTER)
    if found is None and normal.startswith(("card.", "device.")):
        found = _CARD_ERROR
    return found or UNKNOWN_PROBLEM
