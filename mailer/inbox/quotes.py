"""Find the new text of a reply: strip quoted history, forwarded headers and signatures.

Each line is labelled (empty, delimiter, mobile signature, "On … wrote:" marker,
embedded header, quote, text) and cuts are decided on that label string, in the
spirit of discourse's email_reply_trimmer. Every rule is a linear scan: the text
comes from outsiders. Wording is known in en, sr (both scripts), ru, uk, es, fr, de,
pt, it, el, ar, fa, hi, pl, cs, hu, ro, bg, tr and a few more languages seen in real mail; the
Yandex and mail.ru attributions ("07.03.2025, 12:30, "Desk" <desk@x.org>:") name no verb.
"""

from __future__ import annotations

import re

MAX_LINES = 500  # the new text of a reply is at its top
MAX_MARKER_CHARS = 400  # an "On … wrote:" attribution longer than this is text

_WROTE = (
    r"wrote|writes|said|a\s+[ée]crit|schrieb|escribi[óo]|escreveu|ha\s+scritto|scrive|schreef"
    r"|geschreven|napisa[oł]a?|napisal[ao]?|je\s+napisa[ol]a?|написа(?:л|о|ла)?|написал\(а\)"
    r"|пише|пишет|написав|napsal(?:\(a\)|a)?|pisze|írta|a\s+scris|έγραψε|έγραψαν|كتب|skrev"
    r"|kirjoitti|yazd[ıi]|نوشت"
)
# Hindi "… ने लिखा:" ends in a vowel sign, which is no word character: no \b after it.
_MARKER = re.compile(
    rf"^.{{0,{MAX_MARKER_CHARS}}}(?:\b(?:{_WROTE})\b|ने\s+लिखा).{{0,120}}[:：]\s*$", re.I
)
# The first line of a wrapped attribution carries a date, an address or an opening word.
_ATTRIBUTION_START = re.compile(r"\d|@|^\s*(?:on|le|am|el|em|il|op|в|στις|في)\s", re.I)
_DATE_MARKER = re.compile(r"^\d{4}-\d\d-\d\d \d{1,2}:\d\d GMT[+-]\d{1,2}:?\d\d\b")
# Yandex and mail.ru name no verb: "07.03.2025, 12:30, "Desk" <desk@x.org>:" (a time,
# then an address in brackets ending the line).
_ADDRESS_MARKER = re.compile(r"^([^<>]{0,300})<[^<>\s@]{1,64}@[^<>\s]{1,255}>\s*[:：]$")
_TIME = re.compile(r"\b\d{1,2}:\d\d\b")
_YEAR = re.compile(r"\b(?:19|20)\d\d\b")
_MARKER_NO_COLON = re.compile(
    r"^(?:on|le|am|el|em|il|op|в|στις|في)\s.{5,300}\b(?:" + _WROTE + r")\s*$", re.I
)
_ORIGINAL = re.compile(
    r"^[\s>*]*-{2,}\s*(?:original\s+message|ursprüngliche\s+nachricht|message\s+d'origine"
    r"|mensaje\s+original|mensagem\s+original|messaggio\s+originale|исходное\s+сообщение"
    r"|оригинална\s+порука|originalna\s+poruka|izvorna\s+poruka|αρχικό\s+μήνυμα|الرسالة\s+الأصلية"
    r"|oorspronkelijk\s+bericht|forwarded\s+message|weitergeleitete\s+nachricht"
    r"|message\s+transféré|mensaje\s+reenviado|пересылаемое\s+сообщение|прослеђена\s+порука"
    r"|prosleđena\s+poruka|wiadomość\s+oryginalna|původní\s+zpráva|eredeti\s+üzenet"
    r"|mesaj\s+original|orijinal\s+mesaj|özgün\s+ileti|оригинално\s+съобщение"
    r"|початкове\s+повідомлення)\s*-*[\s*]*$"
    r"|^[\s>]*(?:begin\s+forwarded\s+message|début\s+du\s+message\s+réexpédié|anfang\s+der"
    r"\s+weitergeleiteten\s+nachricht)\s*:\s*$",
    re.I,
)
_DELIMITER = re.compile(r"^\s*(?:[-_=+~#*—–ᐧ]+|--\s*)\s*$")
_MOBILE = re.compile(
    r"^\s*(?:sent\s+(?:from|via)\s+(?:my\s+)?\S.{0,40}|get\s+outlook\s+for\s+\S+"
    r"|envoyé\s+(?:de|depuis)\s+mon\s+\S.{0,30}|von\s+meinem\s+\S.{0,30}\s+gesendet"
    r"|gesendet\s+von\s+(?:meinem\s+)?\S.{0,30}|enviado\s+desde\s+mi\s+\S.{0,30}"
    r"|enviado\s+d[oe]\s+(?:meu|minha)\s+\S.{0,30}|inviato\s+da\s+\S.{0,30}"
    r"|poslato\s+sa\s+(?:mog\s+)?\S.{0,30}|послато\s+са\s+\S.{0,30}"
    r"|отправлено\s+(?:с|из)\s+\S.{0,30}|στάλθηκε\s+από\s+\S.{0,30}|أرسلت\s+من\s+\S.{0,30})\s*$",
    re.I,
)
_HEADER = re.compile(
    r"^\s*\*?\s*(?:from|sent|to|cc|bcc|subject|date|reply-to|de|enviado|para|asunto|fecha|objet"
    r"|envoyé|à|von|gesendet|an|betreff|datum|da|inviato|oggetto|a|data|assunto|od|poslato|šalje"
    r"|za|predmet|kome|от|отправлено|кому|тема|дата|од|послато|шаље|за|предмет|από|προς|θέμα"
    r"|ημερομηνία|στάλθηκε|κοιν|من|إلى|الموضوع|التاريخ|تاريخ|أرسل|van|verzonden|aan|onderwerp"
    r"|skickat|till|ämne|från|de\s+la|trimis|către|subiect|feladó|elküldve|címzett|tárgy|kimden"
    r"|gönderildi|kime|konu|tarih|від|надіслано|изпратено|до|wysłane|wysłano|temat|odesláno"
    r"|komu|předmět|تم\s+الإرسال|ارسال\s+شده|فرستاده\s+شده|از|به|موضوع|प्रेषक|भेजा\s+गया|प्रति"
    r"|विषय)\s*\*?\s*:",
    re.I,
)
_QUOTE = re.compile(r"^\s*(?:>|\w{1,20}>)")


def strip_reply(text: str) -> str:
    """The new text of ``text``. Idempotent: stripping the result changes nothing."""
    result = text
    for _ in range(4):  # removing lines can bring two halves of a marker together
        stripped = _strip_once(result)
        if stripped == result:
            break
        result = stripped
    return result


def _strip_once(text: str) -> str:
    lines = text.replace("\r\n", "\n").replace("\r", "\n").split("\n")[:MAX_LINES]
    pattern = _label(lines)
    for rule in (
        _cut_at_delimiter,
        _drop_mobile,
        _reply_at_end,
        _marker_without_quote,
        _marker_with_quote,
        _text_then_quote,
        _drop_markers,
        _join_headers,
        _header_block,
        _drop_headers,
    ):
        pattern, lines = rule(pattern, lines)
    while lines and pattern[-1] in "qe":
        pattern, lines = pattern[:-1], lines[:-1]
    return "\n".join(lines).strip("\n").rstrip()


def _label(lines: list[str]) -> str:
    labels = [_line_label(line) for line in lines]
    # "On Mon, … <x@y>\nwrote:" is often wrapped over two or three lines.
    for i, label in enumerate(labels):
        if (
            label != "t"
            or len(lines[i]) > MAX_MARKER_CHARS
            or not _ATTRIBUTION_START.search(lines[i])
        ):
            continue
        for span in (2, 3):
            window = lines[i : i + span]
            if _whole_marker_below(window, labels[i : i + span]):
                break  # "…800 signatures.\n\n12 Mar 2026 … <x@y> wrote:": text, then a marker
            if len(window) == span and all(labels[i + k] in "teb" for k in range(span)):
                joined = " ".join(part.strip() for part in window)
                if len(joined) <= MAX_MARKER_CHARS and _MARKER.match(joined):
                    labels[i : i + span] = ["b"] * span
                    break
    return "".join(labels)


def _whole_marker_below(window: list[str], labels: list[str]) -> bool:
    """Whether, after a blank line, a line below the first is a marker on its own, dated
    (a time or a year): the line above the blank is the reply's last line of text, not
    the start of the marker. A wrapped marker's tail ("info@x.org> wrote:", "4:18 PM, X
    <x@y> wrote:") follows its start directly."""
    blank = False
    for line, label in zip(window[1:], labels[1:], strict=True):
        if label == "b" and blank and (_TIME.search(line) or _YEAR.search(line)):
            return True
        blank = blank or label == "e"
    return False


def _line_label(line: str) -> str:
    stripped = line.strip()
    if not stripped:
        return "e"
    if len(stripped) > MAX_MARKER_CHARS:
        return "q" if _QUOTE.match(line) else "t"
    if _ORIGINAL.match(stripped):
        return "b"
    if _DELIMITER.match(line):
        return "d"
    if _QUOTE.match(line):
        return "q"
    if (
        _MARKER.match(stripped)
        or _MARKER_NO_COLON.match(stripped)
        or _DATE_MARKER.match(stripped)
        or _is_address_marker(stripped)
    ):
        return "b"
    if _MOBILE.match(stripped):
        return "s"
    if _HEADER.match(stripped):
        return "h"
    return "t"


def _is_address_marker(line: str) -> bool:
    found = _ADDRESS_MARKER.match(line)
    return bool(found and _TIME.search(found.group(1)))


Rule = tuple[str, list[str]]


def _cut_at_delimiter(pattern: str, lines: list[str]) -> Rule:
    index = pattern.find("d")
    return (pattern[:index], lines[:index]) if index >= 0 else (pattern, lines)


def _drop(pattern: str, lines: list[str], label: str) -> Rule:
    keep = [i for i, c in enumerate(pattern) if c != label]
    return "".join(pattern[i] for i in keep), [lines[i] for i in keep]


def _drop_mobile(pattern: str, lines: list[str]) -> Rule:
    return _drop(pattern, lines, "s")


def _drop_markers(pattern: str, lines: list[str]) -> Rule:
    return _drop(pattern, lines, "b")


def _drop_headers(pattern: str, lines: list[str]) -> Rule:
    return _drop(pattern, lines, "h")


def _suffix_start(pattern: str, allowed: str) -> int:
    """Index where the longest suffix made only of ``allowed`` labels starts."""
    index = len(pattern)
    while index > 0 and pattern[index - 1] in allowed:
        index -= 1
    return index


def _reply_at_end(pattern: str, lines: list[str]) -> Rule:
    """Forwarded or quoted mail on top, the answer below it: keep the answer."""
    start = pattern.find("t", _suffix_start(pattern, "te"))
    if pattern[:1] == "b" and start >= 2 and "t" not in pattern[:start]:
        return pattern[start:], lines[start:]
    return pattern, lines


def _after_text(pattern: str, index: int) -> int:
    """Start of the empty lines before ``index`` if text precedes them, else -1."""
    k = index
    while k > 0 and pattern[k - 1] == "e":
        k -= 1
    return k if k > 0 and pattern[k - 1] == "t" else -1


def _first_marker_after(pattern: str, lower: int, upper: int) -> int:
    for i in range(lower, upper):
        if pattern[i] == "b":
            cut = _after_text(pattern, i)
            if cut >= 0:
                return cut
    return -1


def _marker_without_quote(pattern: str, lines: list[str]) -> Rule:
    """An attribution followed by no quote: the rest is the embedded original."""
    if pattern[:1] == "b":
        return pattern, lines
    cut = _first_marker_after(pattern, pattern.rfind("q") + 1, len(pattern))
    return (pattern[:cut], lines[:cut]) if cut >= 0 else (pattern, lines)


def _marker_with_quote(pattern: str, lines: list[str]) -> Rule:
    """An attribution followed by quoted history up to the end (maybe a signature after)."""
    tail = _suffix_start(pattern, "te")
    last_text = pattern.rfind("t", 0, tail)
    cut = _first_marker_after(pattern, last_text + 1, tail)
    return (pattern[:cut], lines[:cut]) if cut >= 0 else (pattern, lines)


def _text_then_quote(pattern: str, lines: list[str]) -> Rule:
    start = _suffix_start(pattern, "eq")
    if start > 0 and pattern[start - 1] == "t" and start < len(pattern):
        return pattern[:start], lines[:start]
    return pattern, lines


def _join_headers(pattern: str, lines: list[str]) -> Rule:
    """A header value wrapped onto the next line still belongs to the header block."""
    labels = list(pattern)
    for i in range(1, len(labels) - 1):
        if labels[i] == "t" and labels[i - 1] == "h" and "h" in labels[i + 1 : i + 3]:
            labels[i] = "h"
    return "".join(labels), lines


def _header_block(pattern: str, lines: list[str]) -> Rule:
    """Three or more header lines after some text start an embedded message."""
    for match in re.finditer(r"h{3,}", pattern):
        k = match.start()
        while k > 0 and pattern[k - 1] in "eq":
            k -= 1
        if k > 0 and pattern[k - 1] == "t":
            return pattern[:k], lines[:k]
    return pattern, lines
