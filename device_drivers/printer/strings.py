"""Every resident-facing string printed on slips, in one place, per language (Japanese primary).

Keys are stable message ids; the kiosk app's gettext catalogs can take them over as they are
(`msgid` = key, `msgstr` = text). Japanese and English are written here; every other kiosk language
comes from `strings_<language>.json` next to this module (`{key: text}`, package data), read once on
first use. A language lacking a key falls back to Japanese. Values may hold ``{name}`` placeholders
filled by `tr()`.
"""

from __future__ import annotations

import functools
import json
from importlib import resources

__all__ = ["FALLBACK_LANGUAGE", "LANGUAGES", "STRINGS", "tr", "translations"]

FALLBACK_LANGUAGE = "ja"

STRINGS: dict[str, dict[str, str]] = {
    "ticket.title": {"ja": "受付番号", "en": "Your number"},
    "ticket.counter": {"ja": "{floor} {counter}へお進みください", "en": "Go to {counter}, {floor}"},
    "ticket.ahead": {"ja": "お待ちの方 {count}人", "en": "{count} people ahead of you"},
    "ticket.issued": {"ja": "発券 {time}", "en": "Issued {time}"},
    "ticket.scan": {
        "ja": "QRコードで呼び出し状況を確認できます",
        "en": "Scan the QR code to see when you are called",
    },
    "visit.floor": {"ja": "{floor}階", "en": "Floor {floor}"},
    "visit.floor_basement": {"ja": "地下{floor}階", "en": "Basement {floor}"},
    "visit.counter_number": {"ja": "{number}番 {counter}", "en": "{counter} (counter {number})"},
    "visit.stop": {"ja": "{n}. {floor} {counter}", "en": "{n}. {counter}, {floor}"},
    "visit.wait": {"ja": "待ち時間 約{low}〜{high}分", "en": "Wait: about {low}–{high} min"},
    "visit.offline": {
        "ja": "オフライン発行（通信できない間に端末が発行した番号です）",
        "en": "Issued offline (the kiosk could not reach the system)",
    },
    "slip.title": {"ja": "お支払い票", "en": "Payment slip"},
    "slip.amount": {"ja": "金額 {amount}", "en": "Amount {amount}"},
    "slip.pay_at": {"ja": "{place}でお支払いください", "en": "Please pay at {place}"},
    "slip.code": {"ja": "注文番号 {code}", "en": "Order code {code}"},
    "receipt.title": {"ja": "領収書", "en": "Receipt"},
    "receipt.addressee": {"ja": "{name} 様", "en": "To: {name}"},
    "receipt.bearer": {"ja": "上様", "en": "To: bearer"},
    "receipt.number": {"ja": "No. {number}", "en": "No. {number}"},
    "receipt.total": {"ja": "合計 {amount}", "en": "Total {amount}"},
    "receipt.received": {"ja": "上記金額を正に領収いたしました", "en": "We have received the amount above"},
    "receipt.method": {"ja": "お支払方法 {method}", "en": "Paid by {method}"},
    "receipt.approval": {"ja": "承認番号 {number}", "en": "Approval no. {number}"},
    "receipt.card": {"ja": "カード番号 {masked}", "en": "Card {masked}"},
    "receipt.stamp_exempt": {
        "ja": "地方公共団体が作成する領収書のため収入印紙は不要です",
        "en": "Issued by a local government: no revenue stamp required",
    },
    "method.cash": {"ja": "現金", "en": "Cash"},
    "method.credit": {"ja": "クレジットカード", "en": "Credit card"},
    "method.emoney": {"ja": "電子マネー", "en": "E-money"},
    "method.qr": {"ja": "QRコード決済", "en": "QR code payment"},
    "guide.title": {"ja": "手続き案内", "en": "Your procedures"},
    "guide.step": {"ja": "{n}. {name}", "en": "{n}. {name}"},
    "guide.where": {"ja": "{floor} {counter}", "en": "{counter}, {floor}"},
    "guide.bring": {"ja": "お持ちいただくもの: {items}", "en": "Please bring: {items}"},
    "guide.issued": {"ja": "{time} 作成", "en": "Printed {time}"},
    "yen": {"ja": "{value}円", "en": "¥{value}"},
    "unissued.title": {"ja": "未交付証明書 控え", "en": "Certificate not delivered"},
    "unissued.body": {
        "ja": "お支払いいただいた証明書をお渡しできませんでした。この控えを窓口にお持ちください。無料でお渡しします。",
        "en": "We could not hand over the certificate you paid for. Bring this slip to the counter: it is issued free.",
    },
    "unissued.payment": {"ja": "お支払い番号 {ref}", "en": "Payment no. {ref}"},
    "unissued.until": {"ja": "{date} までにお越しください", "en": "Please come by {date}"},
    "unissued.unsigned": {
        "ja": "職員が確認します。お待ちください。",
        "en": "A member of staff will check this. Please wait.",
    },
}

LANGUAGES = ("ja", "ja-x-easy", "en", "zh", "ko", "vi", "pt", "tl", "ne")


@functools.cache
def translations(lang: str) -> dict[str, str]:
    """`{key: text}` of `lang`: the built-in Japanese/English, or `strings_<lang>.json` (empty if absent)."""
    if lang in ("ja", "en"):
        return {key: entry[lang] for key, entry in STRINGS.items() if lang in entry}
    name = f"strings_{lang.replace('-', '_')}.json"
    source = resources.files("device_drivers.printer") / name
    if lang not in LANGUAGES or not source.is_file():
        return {}
    data = json.loads(source.read_text(encoding="utf-8"))
    return {key: text for key, text in data.items() if key in STRINGS and isinstance(text, str) and text}


def tr(key: str, lang: str, **values: object) -> str:
    """The text of `key` in `lang` (Japanese when that language lacks it), placeholders filled."""
    entry = STRINGS[key]
    text = translations(lang).get(key) or entry[FALLBACK_LANGUAGE]
    return text.format(**values) if values else text
