"""Wording that classifies replies, in en, sr (both scripts), ru, es, fr, de, pt, it, el, ar.

Phrases are written as people write them and compiled through ``fold``, the same
normalisation applied to incoming text: case folded, accents stripped, Cyrillic
transliterated to Latin (so Serbian Cyrillic and Latin share one list), Arabic
letter variants unified. Patterns may use regex syntax but only lower-case
escapes (\\b, \\s, \\w), since folding lower-cases the pattern too.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence

from mailer.lang import OTHER_CYRILLIC, cyrillic_to_latin

# Serbian Cyrillic is added after fold() from mailer.lang's transliteration.
_FOLD_MAP = str.maketrans(
    {
        **OTHER_CYRILLIC,
        "đ": "dj",
        "ł": "l",
        "ø": "o",
        "æ": "ae",
        "œ": "oe",
        "ß": "ss",
        "’": "'",
        "‘": "'",
        "ʼ": "'",
        "`": "'",
        "«": '"',
        "»": '"',
        "„": '"',
        "“": '"',
        "”": '"',
        "أ": "ا",
        "إ": "ا",
        "آ": "ا",
        "ٱ": "ا",
        "ى": "ي",
        "ة": "ه",
        "ؤ": "و",
        "ئ": "ي",
        "ـ": "",
        "؟": "?",
        "\u037e": "?",  # Greek question mark
        "\u00a0": " ",
    }
)


# Combining marks: Latin/Greek/Cyrillic accents and Arabic harakat.
_MARKS = re.compile("[\u0300-\u036f\u0483-\u0489\u064b-\u065f\u0670\u1ab0-\u1aff\u20d0-\u20ff]")


def fold(text: str) -> str:
    """Case-, accent- and script-insensitive form of ``text`` for phrase matching."""
    text = text.casefold()
    if not text.isascii():
        text = _MARKS.sub("", unicodedata.normalize("NFKD", text))
    return text.translate(_FOLD_MAP)


def _serbian_cyrillic() -> dict[str, str]:
    """Each lower-case Serbian Cyrillic letter as mailer.lang writes it, folded (ž → z, đ → dj)."""
    letters = map(chr, range(0x430, 0x460))  # а..џ: the Serbian alphabet lies inside
    return {c: fold(lat) for c in letters if (lat := cyrillic_to_latin(c)) != c}


_FOLD_MAP.update(str.maketrans(_serbian_cyrillic()))


def compile_phrases(phrases: Iterable[str]) -> re.Pattern[str]:
    """One alternation of folded phrases; word boundaries where the phrase starts/ends with a letter."""
    parts = []
    for phrase in phrases:
        body = fold(phrase)
        arabic = any(_is_arabic(c) for c in body)  # Arabic glues prefixes on: no boundaries
        left = "" if arabic else r"\b"
        right = r"\b" if body[-1:].isalnum() and not arabic else ""
        parts.append(f"{left}(?:{body}){right}")
    return re.compile("|".join(parts))


def _is_arabic(char: str) -> bool:
    return "\u0600" <= char <= "\u06ff"


def pick(table: Mapping[str, Sequence[str]], languages: Sequence[str] = ()) -> list[str]:
    """The phrases of ``languages`` first (base language, so sr-Latn → sr), then all others."""
    wanted = list(dict.fromkeys(lang.split("-")[0].lower() for lang in languages))
    order = [lang for lang in wanted if lang in table] + [
        lang for lang in table if lang not in wanted
    ]
    return [phrase for lang in order for phrase in table[lang]]


_STATEMENT = r"(?:statement|declaration|appeal|call|letter|resolution|document|text|it|this|that)"

SIGN_ON = {
    "en": [
        r"we (?:hereby |gladly |happily |proudly |fully |also |do |will |shall |are happy to |are glad to "
        r"|are pleased to |would like to |wish to |want to |agree to |are ready to )?(?:co-?)?(?:sign|endorse)\b"
        r"(?! off| up| in\b| out)(?: on(?: to)?)?",
        r"we are (?:co-?)?signing",
        r"we have (?:co-?)?signed (?:the |your )?" + _STATEMENT,
        r"(?:please |kindly )?(?:add|include|list|put) (?:us|our (?:name|names|party|organi[sz]ation|union|signature))",
        r"count us in",
        r"(?:party|organi[sz]ation|union|committee|federation|movement|front|league) (?:hereby )?(?:co-?)?"
        r"(?:signs|endorses) (?:the |your |this )?(?:joint )?" + _STATEMENT,
        r"we join (?:the |this |your )?(?:joint )?(?:statement|declaration|appeal|signatories)",
        r"(?:you can|you may|feel free to) (?:add|include|list) (?:us|our name)",
        r"our (?:party|organi[sz]ation|union) (?:will )?(?:co-?)?signs?",
        r"i (?:hereby )?sign on behalf of",
    ],
    "sr": [
        r"potpisujemo",
        r"(?:mi )?cemo potpisati",
        r"potpisacemo",
        r"potpisali smo (?:izjavu|deklaraciju|saopstenje|apel|proglas)",
        r"pridruzujemo se (?:izjavi|deklaraciji|saopstenju|apelu|potpisnicima|proglasu)",
        r"podrzavamo (?:i potpisujemo )?(?:izjavu|deklaraciju|saopstenje|apel|proglas)",
        r"dodajte (?:nas|nase ime|nas potpis|nasu (?:partiju|organizaciju))",
        r"stavite nas na (?:spisak|listu)",
        r"(?:partija|organizacija|sindikat) (?:potpisuje|podrzava) (?:izjavu|deklaraciju|saopstenje|apel)",
        r"dajemo (?:nas )?potpis\w*",
    ],
    "ru": [
        r"(?:мы )?подписываем(?:ся)?",
        r"(?:мы )?подпишем",
        r"мы подписали (?:заявление|декларацию|обращение|документ)",
        r"присоединяемся к (?:заявлению|декларации|обращению|подписантам)",
        r"поддерживаем и подписываем",
        r"добавьте (?:нас|наше название|нашу подпись|нашу партию|нашу организацию)",
        r"включите (?:нас|нашу партию|нашу организацию)",
        r"(?:партия|организация|профсоюз) подписывает",
        r"ставим (?:свою |нашу )?подпись",
    ],
    "es": [
        r"(?:nosotros )?firmamos",
        r"firmaremos",
        r"suscribimos",
        r"(?:nos )?adherimos a",
        r"nos sumamos a (?:la )?(?:declaracion|llamamiento|comunicado|firma)",
        r"(?:respaldamos|apoyamos) y firmamos",
        r"(?:anadan|agreguen|incluyan|sumen|pongan) (?:nuestro nombre|nuestra firma|a nuestro partido|nuestra organizacion)",
        r"cuenten con (?:nosotros|nuestra firma)",
        r"(?:partido|organizacion|sindicato) (?:firma|suscribe|se adhiere)",
    ],
    "fr": [
        r"nous (?:co|contre)?signons",
        r"nous (?:co|contre)?signerons",
        r"nous (?:soutenons et )?signons",
        r"nous (?:nous )?(?:associons|joignons) a (?:la |cette |votre )?(?:declaration|appel|texte)",
        r"nous adherons a",
        r"(?:ajoutez|inscrivez|incluez|mettez) (?:notre nom|notre signature|notre parti|notre organisation|nous)",
        r"(?:parti|organisation|syndicat) (?:co)?signe (?:la|cette|l'|votre)",
        r"nous apportons notre signature",
    ],
    "de": [
        r"wir (?:unterzeichnen|unterschreiben|zeichnen mit)",
        r"wir werden (?:die erklarung |den aufruf |sie |es )?(?:unterzeichnen|unterschreiben)",
        r"wir schliessen uns (?:der erklarung |dem aufruf )?an",
        r"(?:fugen sie|setzen sie) (?:uns|unseren namen|unsere unterschrift|unsere partei)",
        r"(?:partei|organisation|gewerkschaft) (?:unterzeichnet|unterschreibt)",
        r"unterzeichnen wir",
    ],
    "pt": [
        r"(?:nos )?assinamos",
        r"assinaremos",
        r"subscrevemos",
        r"(?:nos )?aderimos a",
        r"(?:acrescentem|adicionem|incluam|coloquem) (?:o )?(?:nosso nome|nossa assinatura|nosso partido|nossa organizacao)",
        r"contem (?:conosco|com a nossa assinatura)",
        r"(?:partido|organizacao|sindicato) (?:assina|subscreve)",
        r"endossamos",
    ],
    "it": [
        r"firmiamo",
        r"firmeremo",
        r"sottoscriviamo",
        r"aderiamo a",
        r"(?:aggiungete|inserite|includete) (?:il )?(?:nostro nome|la nostra firma|il nostro partito|la nostra organizzazione)",
        r"(?:partito|organizzazione|sindacato) (?:firma|sottoscrive|aderisce)",
    ],
    "el": [
        r"(?:συν|προσ)?υπογραφουμε",
        r"θα (?:συν|προσ)?υπογραψουμε",
        r"(?:συν|προσ)?υπογραψαμε (?:τη|την) (?:δηλωση|διακηρυξη|εκκληση)",
        r"προσθεστε (?:το ονομα μας|την υπογραφη μας|μας|το κομμα μας|την οργανωση μας)",
        r"(?:το κομμα|η οργανωση) (?:συν|προσ)?υπογραφει",
        r"βαζουμε την υπογραφη μας",
    ],
    "ar": [
        r"نوقع",
        r"نحن نوقع",
        r"سنوقع",
        r"نوقع على",
        r"نضم توقيعنا",
        r"(?:اضيفوا|اضافه|ادرجوا) (?:اسمنا|توقيعنا|حزبنا|منظمتنا)",
        r"ننضم الى (?:البيان|الاعلان|النداء|الموقعين)",
        r"(?:الحزب|المنظمه|النقابه) (?:يوقع|توقع)",
    ],
}

# Explicit refusals; also any sign-on phrase with a negation in its sentence is a refusal.
DECLINE = {
    "en": [
        r"(?:can ?not|can't|won't|will not|do not|don't|shall not|are unable to|are not able to"
        r"|aren't able to) (?:be )?(?:co-?)?(?:sign(?:ing)?|endorse|join|support)",
        r"not in a position to",
        r"(?:we|must|have to|will) decline",
        r"(?:declines?|declining) (?:to sign|the invitation|your invitation)",
        r"regret(?:fully)? (?:that )?we (?:can|will|are)",
        r"refrain from signing",
        r"not (?:going to|be) sign\w*",
        r"(?:we|i) (?:do not|don't) agree",
    ],
    "sr": [
        r"ne (?:mozemo|mogu|zelimo|cemo) (?:da )?potpis\w*",
        r"necemo (?:da )?potpis\w*",
        r"ne potpisujemo",
        r"nismo u (?:mogucnosti|poziciji)",
        r"odbijamo",
        r"ne slazemo se",
    ],
    "ru": [
        r"не (?:можем|сможем|будем|станем|хотим) (?:это )?подпис\w*",
        r"не подпиш\w*",
        r"не подписываем",
        r"вынуждены отказаться",
        r"отказываемся",
        r"не согласны",
    ],
    "es": [
        r"no (?:podemos|podremos|vamos a|queremos|estamos en condiciones de) (?:firmar|suscribir|adherir)",
        r"no (?:firmaremos|firmamos|suscribimos)",
        r"declinamos",
        r"rechazamos",
        r"no estamos de acuerdo",
    ],
    "fr": [
        r"ne (?:pouvons|pourrons|voulons|allons) pas (?:la |le )?(?:co)?sign\w*",
        r"ne (?:co)?sign(?:ons|erons) pas",
        r"nous declinons",
        r"refusons",
        r"ne sommes pas d'accord",
        r"pas en mesure de",
    ],
    "de": [
        r"(?:konnen|werden|wollen|mochten) (?:wir )?(?:die erklarung |den aufruf |sie |es |diese )?(?:leider )?nicht "
        r"(?:unterzeichnen|unterschreiben|mitzeichnen)",
        r"(?:unterzeichnen|unterschreiben) (?:die erklarung |den aufruf |sie |es )?nicht",
        r"lehnen (?:\w+ ){0,3}ab",
        r"nicht einverstanden",
    ],
    "pt": [
        r"nao (?:podemos|poderemos|vamos|queremos) (?:assinar|subscrever|aderir)",
        r"nao (?:assinaremos|assinamos|subscrevemos)",
        r"recusamos",
        r"declinamos",
        r"nao concordamos",
    ],
    "it": [
        r"non (?:possiamo|potremo|vogliamo|intendiamo) (?:firmare|sottoscrivere|aderire)",
        r"non (?:firmeremo|firmiamo|sottoscriviamo)",
        r"rifiutiamo",
        r"declinare",
        r"non siamo d'accordo",
    ],
    "el": [
        r"δεν (?:μπορουμε|θα|θελουμε) (?:να )?(?:συν|προσ)?υπογρα\w*",
        r"δεν (?:συν|προσ)?υπογραφουμε",
        r"αρνουμαστε",
        r"δεν συμφωνουμε",
    ],
    "ar": [
        r"لا (?:يمكننا|نستطيع|نريد) (?:ال)?توقيع",
        r"لن نوقع",
        r"لا نوقع",
        r"نعتذر عن (?:عدم )?(?:ال)?توقيع",
        r"نرفض",
        r"لا نتفق",
    ],
}

# Words that make any sign-on in the same sentence doubtful: negations, conditions, questions.
NEGATION = [
    "not",
    "no",
    "never",
    "cannot",
    "can't",
    "won't",
    "don't",
    "didn't",
    "isn't",
    "aren't",
    "unable",
    "neither",
    "nor",
    "ne",
    "nisu",
    "nismo",
    "necemo",
    "nece",
    "nemamo",
    "nikada",
    "nikad",
    "pas",
    "jamais",
    "nicht",
    "kein",
    "keine",
    "keinen",
    "nie",
    "niemals",
    "nao",
    "non",
    "nunca",
    "tampoco",
    "mai",
    "не",
    "нет",
    "ни",
    "никогда",
    "δεν",
    "μην",
    "ουτε",
    "ποτε",
    "(?<!\\w)[وف]?(?:لا|لن|لم|ليس)(?!\\w)",
]
# Words that make a sign-on in that language doubtful (conditions, hesitation, "but"), per
# language because short words collide across languages (Serbian "se" is not Italian "se").
HEDGE = {
    "en": [
        "if",
        "unless",
        "whether",
        "would (?:sign|endorse|join)",
        "maybe",
        "perhaps",
        "might",
        "could",
        "consider",
        "discuss",
        "decide",
        "think about",
        "get back",
        "let you know",
        "later",
        "should we",
        "shall we",
        "can we",
        "may we",
        "unfortunately",
        "regret",
        "however",
        "but",
        "once",
        "provided",
        "as long as",
    ],
    "sr": [
        "ako",
        "da li",
        "mozda",
        "razmotri\\w*",
        "odluci\\w*",
        "nazalost",
        "ali",
        "bismo",
        "kada",
    ],
    "ru": [
        "если",
        "ли",
        "может быть",
        "возможно",
        "обсудим",
        "рассмотрим",
        "к сожалению",
        "но",
        "бы",
        "когда",
    ],
    "es": [
        "si",
        "quizas",
        "tal vez",
        "consideraremos",
        "discutiremos",
        "lamentablemente",
        "pero",
        "cuando",
        "siempre que",
    ],
    "fr": [
        "si",
        "peut-etre",
        "examinerons",
        "discuterons",
        "malheureusement",
        "mais",
        "quand",
        "pourvu que",
    ],
    "de": ["wenn", "falls", "ob", "vielleicht", "prufen", "besprechen", "leider", "aber", "sobald"],
    "pt": [
        "se",
        "talvez",
        "analisaremos",
        "discutiremos",
        "infelizmente",
        "mas",
        "quando",
        "desde que",
    ],
    "it": ["se", "forse", "valuteremo", "discuteremo", "purtroppo", "ma", "quando", "purche"],
    "el": ["αν", "εαν", "ισως", "θα εξετασουμε", "δυστυχως", "αλλα", "οταν"],
    "ar": ["(?<!\\w)[وف]?(?:اذا|لو|هل|ربما|لكن|عندما)(?!\\w)", "سندرس", "للاسف"],
}

UNSUBSCRIBE = [
    "unsubscribe",
    "remove (?:us|me|our (?:address|email|e-mail)) from (?:your|the)",
    "take (?:us|me) off",
    "stop (?:sending|emailing|mailing)",
    "do not (?:contact|email|write to) us",
    "opt out",
    "opt-out",
    "odjava",
    "odjavite",
    "odjavi",
    "uklonite nas",
    "izbrisite nas",
    "prestanite (?:da )?(?:nam )?saljete",
    "отписаться",
    "отпишите",
    "удалите нас",
    "исключите нас",
    "прекратите (?:присылать|рассылку)",
    "darse de baja",
    "dar de baja",
    "den de baja",
    "denos de baja",
    "eliminen(?:nos)? de",
    "no nos envien",
    "desinscrire",
    "desinscrivez",
    "desabonner",
    "retirez(?:-nous| nous)",
    "supprimez(?:-nous| nous)",
    "abmelden",
    "abbestellen",
    "austragen",
    "entfernen sie uns",
    "keine (?:weiteren )?e-?mails",
    "cancelar (?:a )?inscricao",
    "descadastrar",
    "remover (?:nos|-nos)",
    "removam-nos",
    "nao enviem",
    "cancellami",
    "cancellateci",
    "disiscrivi",
    "rimuovete(?:ci)?",
    "non inviateci",
    "διαγραφη",
    "διαγραψτε",
    "αφαιρεστε μας",
    "σταματηστε",
    "الغاء الاشتراك",
    "احذفونا",
    "ازالتنا",
    "توقفوا عن",
]

OUT_OF_OFFICE = [
    "out of (?:the )?office",
    "out-of-office",
    "automatic reply",
    "auto(?:matic)?[- ]?repl(?:y|ies)",
    "auto[- ]?respon(?:se|der)",
    "autoresponder",
    "vacation (?:reply|notice|message|responder)",
    "away from (?:the |my )?(?:office|desk|e-?mail)",
    "on (?:annual |parental |maternity |sick )?leave",
    "on (?:vacation|holiday|holidays)",
    "i am (?:currently )?away",
    "i will be away",
    "i'm (?:currently )?away",
    "currently (?:out|away)",
    "limited access to (?:my )?e-?mail",
    "will (?:be back|return) (?:on|in|to)",
    "back in the office",
    "abwesenheitsnotiz",
    "abwesenheit",
    "automatische antwort",
    "nicht im buro",
    "ausser haus",
    "im urlaub",
    "reponse automatique",
    "absente? du bureau",
    "en conge",
    "en vacances",
    "respuesta automatica",
    "fuera de (?:la )?oficina",
    "de vacaciones",
    "ausente",
    "resposta automatica",
    "fora do escritorio",
    "ausencia",
    "em ferias",
    "risposta automatica",
    "fuori (?:ufficio|sede)",
    "in ferie",
    "assente",
    "odsutan",
    "odsutna",
    "automatski odgovor",
    "na godisnjem odmoru",
    "van kancelarije",
    "автоответ",
    "автоматический ответ",
    "в отпуске",
    "вне офиса",
    "нахожусь в командировке",
    "αυτοματη απαντηση",
    "εκτος γραφειου",
    "σε αδεια",
    "رد تلقائي",
    "الرد الالي",
    "خارج المكتب",
    "في اجازه",
    "automatiska atbilde",
    "atvalinajums",
    "afwezig",
    "automatisch antwoord",
    "poza biurem",
    "autosvar",
    "fraværende",
]

ACTED = {
    "en": [
        r"we (?:held|organi[sz]ed|staged|carried out|took part|participated|marched|gathered|protested|distributed)",
        r"(?:photos?|pictures?|images?|videos?) (?:of|from) (?:our|the) (?:action|protest|rally|event|picket|demonstration|meeting)",
        r"attached (?:are|is|please find|you will find) (?:some |a few )?(?:photos?|pictures?|images?|videos?)",
    ],
    "sr": [
        r"odrzali smo",
        r"organizovali smo",
        r"ucestvovali smo",
        r"fotografij\w*",
        r"slike (?:sa|s) (?:akcije|protesta|skupa)",
    ],
    "ru": [
        r"(?:мы )?провели",
        r"организовали",
        r"приняли участие",
        r"фотографи\w*",
        r"фото (?:с|акции|митинга)",
    ],
    "es": [r"realizamos", r"organizamos", r"participamos", r"fotos? (?:de|del)"],
    "fr": [r"nous avons (?:organise|tenu|participe|manifeste|distribue)", r"photos? (?:de|du)"],
    "de": [
        r"wir haben (?:\w+ ){0,4}(?:durchgefuhrt|organisiert|teilgenommen|verteilt|demonstriert)",
        r"fotos? (?:von|der|vom)",
    ],
    "pt": [r"realizamos", r"organizamos", r"participamos", r"fotos? (?:da|do|de)"],
    "it": [
        r"abbiamo (?:organizzato|tenuto|partecipato|manifestato|distribuito)",
        r"foto (?:della|del|dell')",
    ],
    "el": [r"πραγματοποιησαμε", r"οργανωσαμε", r"συμμετειχαμε", r"φωτογραφιες"],
    "ar": [r"نظمنا", r"شاركنا", r"اقمنا", r"صور"],
}

BOUNCE_SUBJECT = [
    "delivery status notification",
    "undeliverable",
    "undelivered mail",
    "undeliverable mail",
    "failure notice",
    "mail delivery failed",
    "returned mail",
    "delivery failure",
    "delivery failed",
    "non-?delivery",
    "nondeliverable",
    "could not be delivered",
    "delivery has failed",
    "returned to sender",
    "mail system error",
    "message not delivered",
    "delivery notification",
    "warning: could not send",
    "delayed mail",
    "delivery delayed",
    "mail could not be delivered",
    "unzustellbar",
    "non remis",
    "no se puede entregar",
    "non recapitabile",
    "non consegnato",
    "не доставлено",
    "недоставлено",
    "nedostavljiv",
    "nije isporucen",
    "mail error",
    "delivery problem",
    "returned message",
    "message you sent",
    "permanent error",
    "bounce",
    "rejected",
    "not delivered",
    "undeliverable message",
]
BOUNCE_SENDER = re.compile(
    r"mailer-daemon|post_?master|mail delivery (?:subsystem|system)|mailerdaemon", re.I
)
# The own words of common mail servers' bounce templates: enough alone.
BOUNCE_TEMPLATE = [
    "this message was created automatically by mail delivery software",
    "this is the qmail-send program",
    "i'm sorry to have to inform you that your message could not",
    "this is the mail system at host",
    "notificationtype[^a-z]{1,8}bounce",
    "delivery has failed to these recipients or groups",
    "the following addresses? had permanent fatal errors",
]
BOUNCE_BODY = [
    "cannot be delivered",
    "can't be delivered",
    "was not delivered",
    "could not deliver",
    "your message could not be delivered",
    "delivery to the following recipients? failed",
    "the following addresses? had permanent fatal errors",
    "this is the mail system at host",
    "delivery has failed to these recipients",
    "message could not be delivered",
    "the following message to <",
    "could not be delivered to",
    "permanent fatal errors",
    "unrouteable address",
    "user unknown",
    "mailbox unavailable",
    "no such user",
    "mailbox not found",
    "recipient address rejected",
    "does not exist",
    "address rejected",
    "message was not delivered",
    "undeliverable",
    "delivery to the following recipient",
    "unable to deliver",
    "not be delivered",
    "returned mail: ",
    "mailbox is full",
    "quota exceeded",
    "over quota",
    "host unknown",
    "the email account that you tried to reach",
    "delivery failure",
    "permanent error",
]


def table_pattern(
    table: Mapping[str, Sequence[str]], languages: Sequence[str] = ()
) -> re.Pattern[str]:
    return compile_phrases(pick(table, languages))
