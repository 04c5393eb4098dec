"""Line classifiers for the reply trimmer: multilingual pattern tables, one per kind of line.

Kept apart from the trimming logic so adding a language is a table edit, not a code change.
Every regex here runs on one line of at most ``MAX_MARKER_LINE`` characters and has no nested
quantifiers, so classifying a message stays linear in its size.
"""

from __future__ import annotations

import re
from enum import StrEnum

MAX_MARKER_LINE = 500
"""Longer lines are never quote headers; skipping them bounds the regex work per line."""


class Line(StrEnum):
    """One-letter line kinds; a message becomes a string of these that the trimmer scans."""

    EMPTY = "e"
    DELIMITER = "d"
    SIGNATURE = "s"
    EMBEDDED = "b"
    HEADER = "h"
    QUOTE = "q"
    TEXT = "t"


# "On <date>, <someone> wrote:" per language: (words that open it, verbs that close it).
ON_DATE_SOMEONE_WROTE: tuple[tuple[str, str], ...] = (
    ("On|At", r"wrote|writes|said"),  # English
    ("Op", r"het volgende geschreven|schreef|geschreven"),  # Dutch
    ("Le", r"a écrit|a ecrit"),  # French
    ("Am", r"schrieb|schrub"),  # German
    ("Il", r"ha scritto"),  # Italian
    ("W dniu|Dnia", r"napisał\(a\)|napisał|napisala|pisze"),  # Polish
    ("Em|No dia", r"escreveu"),  # Portuguese
    ("El", r"escribió|escribio"),  # Spanish
    ("Den", r"skrev"),  # Swedish, Norwegian, Danish
    ("Vào", r"đã viết"),  # Vietnamese
)

# Verbs closing "<date> <someone> wrote:" headers that do not open with a fixed word.
WROTE_VERBS = (
    r"wrote|writes|schrieb|a écrit|ha scritto|napisał\(a\)|napisał|escreveu|escribió|schreef"
    r"|skrev|пишет|пише|написал|написала|написав|写道"
)

_EDGE = r"[\s<>\-*]*"
_EMAIL = r"<\s*[^<>\s]+@[^<>\s]+\s*>"

# Quote headers: each ends with a colon or a "wrote" verb (checked first, cheaply).
QUOTE_HEADERS: tuple[re.Pattern[str], ...] = (
    # "On <date> <someone> wrote:" and "Am <date> schrieb <someone> <a@b>:".
    *(
        re.compile(
            rf"^{_EDGE}(?:{on})\s(?:(?!(?:{on})\s).)+?(?:{wrote})"
            rf"(?:\s*[:\uff1a]?|\s.{{1,200}}[:\uff1a]){_EDGE}$",
            re.I,
        )
        for on, wrote in ON_DATE_SOMEONE_WROTE
    ),
    re.compile(rf"^{_EDGE}在.{{4,200}}写道[:\uff1a]?\s*$"),  # Chinese
    # "<date> <someone> wrote:" with a digit before the verb (ru, uk, pl, de Gmail).
    re.compile(rf"^(?=\D*\d){_EDGE}\S.{{0,400}}\s(?:{WROTE_VERBS})\s*[:\uff1a]{_EDGE}$", re.I),
    # "Someone <a@b> wrote:", "Someone <a@b> schrieb am <date>:" (German Gmail).
    re.compile(
        rf"^[\s>]*[^<>]{{0,120}}{_EMAIL}\s*(?:{WROTE_VERBS})\b.{{0,200}}[:\uff1a]\s*$", re.I
    ),
    # "Thu, 26 Jun 2014 14:00:51 +0400 от Someone <a@b>:" and other dated "<someone> <a@b>:".
    re.compile(rf"^(?=\D*\d)[\s>]*\S.{{0,400}}{_EMAIL}\s*[:\uff1a]\s*$"),
    re.compile(
        r"^[\s>]*(?:Begin forwarded message|Anfang der weitergeleiteten Nachricht"
        r"|Début du message réexpédié|Inicio del mensaje reenviado)\s*:\s*$",
        re.I,
    ),
)
_HEADER_ENDINGS = (":", "\uff1a", *{
    verb.replace("\\", "").lower()
    for verbs in (WROTE_VERBS, *(wrote for _, wrote in ON_DATE_SOMEONE_WROTE))
    for verb in verbs.split("|")
})

# Separators in front of an embedded or forwarded message, and Gmail's dated lines.
SEPARATORS: tuple[re.Pattern[str], ...] = (
    # "2016-10-24 15:03 GMT+02:00 Someone <a@b>:", "2013/7/20 Someone <a@b>" (Gmail).
    re.compile(
        rf"^[\s>]*\d{{4}}[-/.]\d{{1,2}}[-/.]\d{{1,2}}\b.{{0,200}}"
        rf"(?:{_EMAIL}\s*:?|\d{{1,2}}:\d{{2}}\b[^<>]{{0,200}})\s*$"
    ),
    re.compile(
        r"^[\s>*]*-{2,}\s*(?:Original Message|Forwarded message|Mensaje original"
        r"|Ursprüngliche Nachricht|Weitergeleitete Nachricht|Message d'origine|Message transféré"
        r"|Oorspronkelijk bericht|Doorgestuurd bericht|Messaggio originale|Messaggio inoltrato"
        r"|Wiadomość oryginalna|Mensagem original|Mensagem encaminhada|Ursprungligt meddelande"
        r"|Opprinnelig melding|Исходное сообщение|Пересылаемое сообщение)\s*-{2,}[\s*]*$",
        re.I,
    ),
)

# Header fields of an embedded message; date-like fields must carry a digit to count.
HEADER_DATE_FIELDS = (
    "Date|Sent|Datum|Gesendet|Envoyé|Enviado|Enviada|Inviato|Data|Verzonden|Wysłano|Skickat"
    "|Sendt|Отправлено|Дата|Надіслано|发送时间|日期|Päiväys|Lähetetty"
)
HEADER_TEXT_FIELDS = (
    "From|To|Cc|Bcc|Reply-To|Subject|Von|An|Kopie|Betreff|De|À|A|Objet|Para|Asunto|Assunto|Da"
    "|Oggetto|Van|Aan|Onderwerp|Od|Do|Temat|Från|Till|Ämne|Fra|Til|Emne|От|Кому|Тема|Від"
    "|发件人|收件人|主题|Lähettäjä|Vastaanottaja|Aihe"
)
EMAIL_HEADER: tuple[re.Pattern[str], ...] = (
    re.compile(rf"^[\s*]*(?:{HEADER_DATE_FIELDS})[\s*]*[:\uff1a].*\d", re.I),
    re.compile(rf"^[\s*]*(?:{HEADER_TEXT_FIELDS})[\s*]*[:\uff1a].*\w", re.I),
)

# Mobile and webmail taglines, removed wherever they appear. "Sent from my desk, is much
# easier…" stays text: a "Sent from" line holding a comma needs a device word first.
DEVICE = (
    r"iPhone|iPad|iPod|Android|BlackBerry|Samsung|Galaxy|mobile|cell|phone|smartphone|tablet"
    r"|Mailbox|Outlook|Windows|Yahoo|Airmail|Sparrow|Gmail|Mail|\[mail\]|HTC|Nokia|Huawei"
)
SIGNATURE: tuple[re.Pattern[str], ...] = (
    re.compile(r"^\s*[(<]*Sent (?:from|via|with) (?:my |a |an )?[^,\s]+(?: [^,\s]+){0,5}$", re.I),
    re.compile(rf"^\s*[(<]*Sent (?:from|via|with|by) (?:my |a |an )?(?:{DEVICE})\b.*$", re.I),
    re.compile(rf"^\s*\w+ from (?:my )?(?:{DEVICE})\b.{{0,40}}$", re.I),
    re.compile(rf"^\s*From my (?:{DEVICE})\b.{{0,40}}$", re.I),
    re.compile(r"^\s*Get \[?Outlook for \w+.*$", re.I),
    re.compile(
        r"^\s*(?:Envoyé (?:de|depuis) mon|Enviado (?:desde|de|do) mi|Enviado do meu|Inviato da"
        r"|Verzonden (?:met|vanaf)|Verstuurd (?:met|vanaf)|Skickat från|Sendt fra|Lähetetty)"
        r" .{1,60}$",
        re.I,
    ),
    re.compile(r"^\s*Von meine[mr] .{1,60} gesendet\.?\s*$", re.I),
    re.compile(r"^\s*Diese Nachricht wurde von .{1,80} gesendet\.?\s*$", re.I),
    re.compile(r"^\s*(?:发自我的|從我的 ?)\S+"),
)

DELIMITER = re.compile(r"^[ \t]*[\u2013\u2014_,=+~#*ᐧ\-]+[ \t]*$")
QUOTE = re.compile(r"^[ \t]*>")
QUOTE_ONLY = re.compile(r"^[\s>]*$")  # blank or a bare ">": no content either way
CODE_FENCE = re.compile(r"^\s*(?:```|~~~)")

# Lines that may open a quote header wrapped over several lines.
WRAPPED_HEADER_START = re.compile(
    rf"^{_EDGE}(?:(?:{'|'.join(on for on, _ in ON_DATE_SOMEONE_WROTE)})\s|在|\d)"
    r"|<[^<>\s]+@[^<>\s]+>\s*(?:schrieb am\b|$)|<\s*$",
    re.I,
)


def _any_of(patterns: tuple[re.Pattern[str], ...]) -> re.Pattern[str]:
    """One alternation per table: a single ``match`` call per line instead of one per row."""
    return re.compile("|".join(f"(?{'i' if p.flags & re.I else ''}:{p.pattern})" for p in patterns))


_SIGNATURE = _any_of(SIGNATURE)
_QUOTE_HEADER = _any_of(QUOTE_HEADERS)
_SEPARATOR = _any_of(SEPARATORS)
_EMAIL_HEADER = _any_of(EMAIL_HEADER)


def classify(line: str) -> Line:
    """Return the kind of one line; order matters (a quoted "> On … wrote:" is embedded)."""
    if QUOTE_ONLY.match(line):
        return Line.EMPTY
    if DELIMITER.match(line):
        return Line.DELIMITER
    if len(line) > MAX_MARKER_LINE:
        return Line.QUOTE if QUOTE.match(line) else Line.TEXT
    if _SIGNATURE.match(line):
        return Line.SIGNATURE
    if is_embedded_marker(line):
        return Line.EMBEDDED
    if _EMAIL_HEADER.match(line):
        return Line.HEADER
    if QUOTE.match(line):
        return Line.QUOTE
    return Line.TEXT


def is_embedded_marker(line: str) -> bool:
    """True for "On … wrote:", "-----Original Message-----" and the like."""
    if len(line) > MAX_MARKER_LINE:
        return False
    if _SEPARATOR.match(line):
        return True
    tail = line.rstrip(" \t<>-*")[-24:].lower()
    return tail.endswith(_HEADER_ENDINGS) and _QUOTE_HEADER.match(line) is not None
