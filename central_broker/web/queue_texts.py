"""Texts of the resident-facing queue pages in the nine kiosk languages (the status page `/q/<token>`) and
the display board's Japanese and English lines.

`web.po` has only the staff pages' ja/en; residents read these pages on their own phones, in the language
they chose at the kiosk, so the table lives here: one dict per language, the same keys in each (a test
checks), `{name}` placeholders filled with `str.format`. The language is `?lang=` when it is one of the nine,
else the best of Accept-Language, else Japanese.
"""

from __future__ import annotations

from madoguchi.contracts.languages import DEFAULT_LANGUAGE, LANGUAGES

__all__ = ["BOARD_TEXTS", "LANGUAGE_NAMES", "STATUS_TEXTS", "resident_language", "status_text"]

LANGUAGE_NAMES = {
    "ja": "日本語",
    "ja-x-easy": "やさしい にほんご",
    "en": "English",
    "zh": "简体中文",
    "ko": "한국어",
    "vi": "Tiếng Việt",
    "pt": "Português",
    "tl": "Filipino",
    "ne": "नेपाली",
}

STATUS_TEXTS: dict[str, dict[str, str]] = {
    "ja": {
        "title": "受付番号の状況",
        "number": "受付番号",
        "counter": "{number}番窓口 {name}",
        "floor": "{floor}階",
        "waiting": "{counter}（{floor}）でお待ちください。",
        "next": "次は {counter}（{floor}）です。その窓口の前でお待ちください。",
        "called": "{counter}（{floor}）でお呼びしています。窓口へお越しください。",
        "serving": "{counter}で手続き中です。",
        "done": "すべての手続きが終わりました。ありがとうございました。",
        "cancelled": "この番号は取り消されました。受付でおたずねください。",
        "ahead": "あなたの前に {n} 人",
        "range": "待ち時間の目安: 約{low}〜{high}分",
        "range_note": "目安です。前後することがあります。",
        "then": "このあとの窓口",
        "live": "この画面は自動で更新されます。",
        "reconnecting": "接続が切れました。再接続しています…",
        "not_found_title": "番号が見つかりません",
        "not_found": "この整理券は無効か、有効期限が切れています（発行した日のみ有効）。受付でおたずねください。",
        "too_many": "アクセスが集中しています。1分ほど待ってから開き直してください。",
        "unavailable": "現在、番号の状況を表示できません。受付でおたずねください。",
        "language": "言語",
    },
    "ja-x-easy": {
        "title": "あなたの ばんごう",
        "number": "ばんごう",
        "counter": "{number}ばん まどぐち（{name}）",
        "floor": "{floor}かい",
        "waiting": "{counter}（{floor}）で まって ください。",
        "next": "つぎは {counter}（{floor}）です。そこで まって ください。",
        "called": "{counter}（{floor}）で よんで います。まどぐちに きて ください。",
        "serving": "{counter}で てつづきを して います。",
        "done": "てつづきは ぜんぶ おわりました。ありがとう ございました。",
        "cancelled": "この ばんごうは とりけしに なりました。うけつけで きいて ください。",
        "ahead": "あなたの まえに {n}にん",
        "range": "まつ じかん: だいたい {low}〜{high}ふん",
        "range_note": "だいたいの じかんです。かわる ことが あります。",
        "then": "この あとの まどぐち",
        "live": "この がめんは じどうで かわります。",
        "reconnecting": "つながりが きれました。つなぎなおして います…",
        "not_found_title": "ばんごうが みつかりません",
        "not_found": "この せいりけんは つかえません（もらった ひ だけ つかえます）。うけつけで きいて ください。",
        "too_many": "いま こんでいます。1ぷん まってから もういちど ひらいて ください。",
        "unavailable": "いま ばんごうを みせる ことが できません。うけつけで きいて ください。",
        "language": "ことば",
    },
    "en": {
        "title": "Your number",
        "number": "Number",
        "counter": "Counter {number} ({name})",
        "floor": "floor {floor}",
        "waiting": "Please wait for {counter}, {floor}.",
        "next": "Next: {counter}, {floor}. Please wait near that counter.",
        "called": "You are being called at {counter}, {floor}. Please come to the counter.",
        "serving": "You are being served at {counter}.",
        "done": "All your procedures are done. Thank you.",
        "cancelled": "This number was cancelled. Please ask at reception.",
        "ahead": "People ahead of you: {n}",
        "range": "Estimated wait: about {low}–{high} min",
        "range_note": "An estimate: it may be shorter or longer.",
        "then": "Counters still to come",
        "live": "This page updates by itself.",
        "reconnecting": "Connection lost. Reconnecting…",
        "not_found_title": "Number not found",
        "not_found": "This ticket is not valid or has expired (a ticket is valid on the day it is issued). "
        "Please ask at reception.",
        "too_many": "Too many requests. Please wait a minute, then open the page again.",
        "unavailable": "The number status cannot be shown right now. Please ask at reception.",
        "language": "Language",
    },
    "zh": {
        "title": "您的号码",
        "number": "号码",
        "counter": "{number}号窗口（{name}）",
        "floor": "{floor}楼",
        "waiting": "请在{counter}（{floor}）等候。",
        "next": "下一个：{counter}（{floor}）。请在该窗口附近等候。",
        "called": "{counter}（{floor}）正在叫您的号码。请到窗口办理。",
        "serving": "您正在{counter}办理手续。",
        "done": "所有手续已办理完毕。谢谢。",
        "cancelled": "此号码已取消。请到服务台咨询。",
        "ahead": "您前面还有 {n} 人",
        "range": "预计等候时间：约{low}〜{high}分钟",
        "range_note": "仅为估计，可能会提前或延后。",
        "then": "之后要去的窗口",
        "live": "本页面会自动更新。",
        "reconnecting": "连接已断开，正在重新连接…",
        "not_found_title": "找不到号码",
        "not_found": "此号码牌无效或已过期（仅在发放当天有效）。请到服务台咨询。",
        "too_many": "访问过多。请稍等一分钟后重新打开页面。",
        "unavailable": "目前无法显示号码状态。请到服务台咨询。",
        "language": "语言",
    },
    "ko": {
        "title": "나의 번호",
        "number": "번호",
        "counter": "{number}번 창구 ({name})",
        "floor": "{floor}층",
        "waiting": "{counter}({floor})에서 기다려 주십시오.",
        "next": "다음: {counter}({floor}). 그 창구 근처에서 기다려 주십시오.",
        "called": "{counter}({floor})에서 호출 중입니다. 창구로 와 주십시오.",
        "serving": "{counter}에서 수속 중입니다.",
        "done": "모든 수속이 끝났습니다. 감사합니다.",
        "cancelled": "이 번호는 취소되었습니다. 접수처에 문의해 주십시오.",
        "ahead": "앞에 {n}명",
        "range": "예상 대기 시간: 약 {low}~{high}분",
        "range_note": "예상 시간이며 달라질 수 있습니다.",
        "then": "이후 방문할 창구",
        "live": "이 화면은 자동으로 갱신됩니다.",
        "reconnecting": "연결이 끊겼습니다. 다시 연결하는 중…",
        "not_found_title": "번호를 찾을 수 없습니다",
        "not_found": "이 번호표는 유효하지 않거나 기한이 지났습니다(발행 당일만 유효). 접수처에 문의해 주십시오.",
        "too_many": "접속이 많습니다. 1분 정도 기다린 후 다시 열어 주십시오.",
        "unavailable": "지금은 번호 상황을 표시할 수 없습니다. 접수처에 문의해 주십시오.",
        "language": "언어",
    },
    "vi": {
        "title": "Số của bạn",
        "number": "Số",
        "counter": "Quầy số {number} ({name})",
        "floor": "tầng {floor}",
        "waiting": "Vui lòng chờ {counter}, {floor}.",
        "next": "Tiếp theo: {counter}, {floor}. Vui lòng chờ gần quầy đó.",
        "called": "Số của bạn đang được gọi tại {counter}, {floor}. Vui lòng đến quầy.",
        "serving": "Bạn đang được phục vụ tại {counter}.",
        "done": "Tất cả thủ tục đã xong. Xin cảm ơn.",
        "cancelled": "Số này đã bị hủy. Vui lòng hỏi tại quầy tiếp nhận.",
        "ahead": "Có {n} người trước bạn",
        "range": "Thời gian chờ dự kiến: khoảng {low}–{high} phút",
        "range_note": "Chỉ là ước tính, có thể nhanh hơn hoặc lâu hơn.",
        "then": "Các quầy tiếp theo",
        "live": "Trang này tự động cập nhật.",
        "reconnecting": "Mất kết nối. Đang kết nối lại…",
        "not_found_title": "Không tìm thấy số",
        "not_found": "Phiếu này không hợp lệ hoặc đã hết hạn (chỉ có hiệu lực trong ngày phát). "
        "Vui lòng hỏi tại quầy tiếp nhận.",
        "too_many": "Quá nhiều truy cập. Vui lòng chờ một phút rồi mở lại trang.",
        "unavailable": "Hiện không thể hiển thị tình trạng số. Vui lòng hỏi tại quầy tiếp nhận.",
        "language": "Ngôn ngữ",
    },
    "pt": {
        "title": "Sua senha",
        "number": "Senha",
        "counter": "Guichê {number} ({name})",
        "floor": "{floor}º andar",
        "waiting": "Aguarde o {counter}, {floor}.",
        "next": "Próximo: {counter}, {floor}. Aguarde perto desse guichê.",
        "called": "Sua senha está sendo chamada no {counter}, {floor}. Dirija-se ao guichê.",
        "serving": "Você está sendo atendido no {counter}.",
        "done": "Todos os procedimentos foram concluídos. Obrigado.",
        "cancelled": "Esta senha foi cancelada. Pergunte na recepção.",
        "ahead": "Pessoas na sua frente: {n}",
        "range": "Espera estimada: cerca de {low}–{high} min",
        "range_note": "É uma estimativa: pode ser mais curta ou mais longa.",
        "then": "Próximos guichês",
        "live": "Esta página se atualiza sozinha.",
        "reconnecting": "Conexão perdida. Reconectando…",
        "not_found_title": "Senha não encontrada",
        "not_found": "Esta senha não é válida ou expirou (vale apenas no dia em que foi emitida). "
        "Pergunte na recepção.",
        "too_many": "Muitos acessos. Aguarde um minuto e abra a página novamente.",
        "unavailable": "Não é possível mostrar a situação da senha agora. Pergunte na recepção.",
        "language": "Idioma",
    },
    "tl": {
        "title": "Ang iyong numero",
        "number": "Numero",
        "counter": "Counter {number} ({name})",
        "floor": "ika-{floor} palapag",
        "waiting": "Mangyaring maghintay sa {counter}, {floor}.",
        "next": "Susunod: {counter}, {floor}. Maghintay malapit sa counter na iyon.",
        "called": "Tinatawag ang iyong numero sa {counter}, {floor}. Pumunta po sa counter.",
        "serving": "Inaasikaso ka na sa {counter}.",
        "done": "Tapos na ang lahat ng iyong proseso. Salamat po.",
        "cancelled": "Kinansela ang numerong ito. Magtanong po sa reception.",
        "ahead": "{n} tao ang nauna sa iyo",
        "range": "Tinatayang paghihintay: mga {low}–{high} minuto",
        "range_note": "Tantiya lamang: maaaring mas maikli o mas mahaba.",
        "then": "Mga susunod na counter",
        "live": "Kusang nag-a-update ang pahinang ito.",
        "reconnecting": "Naputol ang koneksyon. Kumokonekta muli…",
        "not_found_title": "Hindi nakita ang numero",
        "not_found": "Hindi valid o expired na ang tiket na ito (valid lamang sa araw na ibinigay). "
        "Magtanong po sa reception.",
        "too_many": "Masyadong maraming request. Maghintay ng isang minuto at buksan muli ang pahina.",
        "unavailable": "Hindi maipakita ang kalagayan ng numero ngayon. Magtanong po sa reception.",
        "language": "Wika",
    },
    "ne": {
        "title": "तपाईंको नम्बर",
        "number": "नम्बर",
        "counter": "काउन्टर {number} ({name})",
        "floor": "{floor} तला",
        "waiting": "कृपया {counter}, {floor} मा पर्खनुहोस्।",
        "next": "अर्को: {counter}, {floor}। कृपया त्यो काउन्टर नजिक पर्खनुहोस्।",
        "called": "तपाईंलाई {counter}, {floor} मा बोलाइँदैछ। कृपया काउन्टरमा आउनुहोस्।",
        "serving": "तपाईंको काम {counter} मा हुँदैछ।",
        "done": "तपाईंका सबै प्रक्रिया सकिए। धन्यवाद।",
        "cancelled": "यो नम्बर रद्द गरिएको छ। कृपया रिसेप्सनमा सोध्नुहोस्।",
        "ahead": "तपाईंभन्दा अगाडि {n} जना",
        "range": "अनुमानित पर्खाइ: करिब {low}–{high} मिनेट",
        "range_note": "यो अनुमान मात्र हो: छोटो वा लामो हुन सक्छ।",
        "then": "त्यसपछिका काउन्टरहरू",
        "live": "यो पृष्ठ आफैं अद्यावधिक हुन्छ।",
        "reconnecting": "जडान टुट्यो। फेरि जोड्दैछ…",
        "not_found_title": "नम्बर भेटिएन",
        "not_found": "यो टिकट मान्य छैन वा म्याद सकिएको छ (जारी भएकै दिन मात्र मान्य)। कृपया रिसेप्सनमा सोध्नुहोस्।",
        "too_many": "धेरै अनुरोधहरू। कृपया एक मिनेट पर्खेर पृष्ठ फेरि खोल्नुहोस्।",
        "unavailable": "अहिले नम्बरको स्थिति देखाउन सकिँदैन। कृपया रिसेप्सनमा सोध्नुहोस्।",
        "language": "भाषा",
    },
}

# The display board speaks and shows Japanese and English side by side (kiosk-requirements §5: voice + monitor).
BOARD_TEXTS: dict[str, dict[str, str]] = {
    "ja": {
        "title": "呼び出し案内",
        "now": "ただいまの呼び出し",
        "recent": "呼び出し中の番号",
        "counter": "{number}番窓口",
        "announce": "受付番号 {number} の方、{counter}番窓口へお越しください。",
        "none": "呼び出し中の番号はありません",
        "sound": "音声案内を有効にするには画面に触れてください",
        "reconnecting": "再接続中…",
    },
    "en": {
        "title": "Now calling",
        "now": "Now calling",
        "recent": "Numbers called",
        "counter": "Counter {number}",
        "announce": "Number {number}, please come to counter {counter}.",
        "none": "No number is being called",
        "sound": "Touch the screen to turn on the chime and announcements",
        "reconnecting": "Reconnecting…",
    },
}


def status_text(language: str, key: str, **values: object) -> str:
    """The status page's text `key` in `language` (Japanese when missing), placeholders filled."""
    table = STATUS_TEXTS.get(language) or STATUS_TEXTS[DEFAULT_LANGUAGE]
    text = table.get(key) or STATUS_TEXTS[DEFAULT_LANGUAGE][key]
    return text.format(**values) if values else text


_ALIASES = {"fil": "tl", "tl": "tl", "zh": "zh", "ko": "ko", "vi": "vi", "pt": "pt", "ne": "ne", "en": "en"}


def resident_language(query: str | None, accept_language: str | None) -> str:
    """`query` when it is one of the nine languages, else the best of Accept-Language, else Japanese."""
    if query in LANGUAGES:
        return query
    ranked: list[tuple[float, int, str]] = []
    for index, part in enumerate((accept_language or "").split(",")):
        tag, _, params = part.strip().partition(";")
        tag = tag.strip().lower()
        quality = 1.0
        if params.strip().startswith("q="):
            try:
                quality = float(params.strip()[2:])
            except ValueError:
                quality = 0.0
        if tag == "ja-x-easy":
            found: str | None = tag
        elif tag.split("-")[0] == "ja":
            found = "ja"
        else:
            found = _ALIASES.get(tag.split("-")[0])
        if found is not None and quality > 0:
            ranked.append((-quality, index, found))
    return min(ranked)[2] if ranked else DEFAULT_LANGUAGE
