"""Resident-facing texts for card `message_key`s (Japanese primary, English second).

The kiosk app owns translation; this small table lets `kiosk diag card` print clear text and
gives the app a starting catalogue. ``{tries}`` is filled from `PinIncorrect.tries_left`.
"""

from __future__ import annotations

from device_drivers.errors import DeviceError

__all__ = ["MESSAGES", "message_for"]

MESSAGES: dict[str, dict[str, str]] = {
    "card_pin_incorrect": {
        "ja": "暗証番号が違います。あと{tries}回間違えるとロックされます。",
        "en": "The PIN is wrong. {tries} tries are left before the card locks.",
    },
    "card_pin_incorrect_last_try": {
        "ja": "暗証番号が違います。次に間違えるとロックされます。自信がなければ窓口へお越しください。",
        "en": "The PIN is wrong. One more wrong PIN locks the card; if unsure, please go to the counter.",
    },
    "card_pin_blocked": {
        "ja": "暗証番号がロックされています。窓口でロックの解除を行ってください。",
        "en": "The PIN is locked. Please go to the counter to unlock it.",
    },
    "card_pin_last_try": {
        "ja": "この暗証番号の残り回数は{tries}回です。間違えるとロックされるため、ここでは照合しません。"
        "窓口へお越しください。",
        "en": "This PIN has {tries} try left. A wrong PIN would lock it, so it is not checked here; "
        "please go to the counter.",
    },
    "card_pin_required": {
        "ja": "暗証番号の入力が必要です。",
        "en": "Please enter your PIN first.",
    },
    "card_pin_format": {
        "ja": "暗証番号は数字4桁です。",
        "en": "The PIN is 4 digits.",
    },
    "card_removed": {
        "ja": "カードが取り外されました。もう一度カードを置いてください。",
        "en": "The card was removed. Please place it on the reader again.",
    },
    "card_absent": {
        "ja": "カードを読み取り機に置いてください。",
        "en": "Please place your card on the reader.",
    },
    "card_not_my_number": {
        "ja": "マイナンバーカードではありません。マイナンバーカードを置いてください。",
        "en": "This is not a My Number card. Please use your My Number card.",
    },
    "card_unsupported": {
        "ja": "このカード(スマートフォン・住基カード)はご利用いただけません。マイナンバーカードをお使いください。",
        "en": "This card (smartphone or old Juki card) cannot be used here. Please use your My Number card.",
    },
    "card_unexpected": {
        "ja": "カードを読み取れませんでした。もう一度お試しいただくか、窓口へお越しください。",
        "en": "The card could not be read. Please try again or go to the counter.",
    },
    "card_reader_gone": {
        "ja": "カード読み取り機が使えません。係員をお呼びください。",
        "en": "The card reader is not available. Please call a staff member.",
    },
    "card_cert_expired": {
        "ja": "カードの電子証明書の有効期限が切れています。窓口で更新してください。",
        "en": "The card's certificate has expired. Please renew it at the counter.",
    },
    "card_cert_untrusted": {
        "ja": "カードの電子証明書を確認できませんでした。窓口へお越しください。",
        "en": "The card's certificate could not be verified. Please go to the counter.",
    },
    "card_error": {
        "ja": "カードの処理中に問題が発生しました。係員をお呼びください。",
        "en": "There was a problem with the card. Please call a staff member.",
    },
}


def message_for(error: DeviceError, language: str = "ja") -> str:
    """The resident-facing text for `error` in `language` (``ja`` or ``en``)."""
    entry = MESSAGES.get(error.message_key) or MESSAGES["card_error"]
    text = entry.get(language) or entry["en"]
    return text.format(tries=getattr(error, "tries_left", "?"))
