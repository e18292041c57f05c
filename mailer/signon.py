"""Published lists of signing organizations read back into a campaign.

``parse_list`` turns the text of a list as people publish it (numbered or
bulleted, "Name, Country", "Name – ACRONYM", headings in many languages,
countries as subheadings) into entries, and reports every other line it could
not take. ``plan_import`` matches each entry with every word it has: a name
stored in any language, a short name, then close spelling, where a qualifier
in parentheses, an acronym and a country named anywhere in the entry (in any
common language, or its ISO code) decide between namesakes. ``import_list``
records the matches as signatures, holding back organizations whose recorded
answer or opt-out says otherwise.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections import Counter
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

from rapidfuzz import fuzz, process
from sqlite_utils import Database

from mailer import orgstore, responses
from mailer.contacts import kept_id
from mailer.db import log_event
from mailer.errors import MailerError
from mailer.files import numbered_lines, read_text_file
from mailer.inbox.parse import html_to_text
from mailer.lang import (
    COUNTRY_ALIASES,
    OTHER_CYRILLIC,
    country_codes,
    cyrillic_to_latin,
    fold_accents,
)

# The heading of a signatories list, by language: written by `signatories`
# and skipped when a list is read back.
HEADINGS = {
    "en": "Signing organizations",
    "sr-Latn": "Organizacije potpisnice",
    "sr-Cyrl": "Организације потписнице",
    "ru": "Подписавшие организации",
    "es": "Organizaciones firmantes",
    "fr": "Organisations signataires",
    "de": "Unterzeichnende Organisationen",
    "pt": "Organizações signatárias",
    "it": "Organizzazioni firmatarie",
    "el": "Οργανώσεις που υπογράφουν",
    "ar": "المنظمات الموقعة",
    "tr": "İmzacı örgütler",
    "bg": "Подписали организации",
    "mk": "Организации потписнички",
    "hr": "Organizacije potpisnice",
}

# Other ways people head such a list; compared after folding (case, accents).
_MORE_HEADINGS = (
    "signed by",
    "signatories",
    "signatures",
    "signing organisations",
    "signatory organizations",
    "signatory organisations",
    "list of signatories",
    "list of signing organizations",
    "first signatories",
    "initial signatories",
    "co-signatories",
    "cosignatories",
    "endorsed by",
    "endorsing organizations",
    "supported by",
    "organizations",
    "organisations",
    "potpisnici",
    "potpisnice",
    "potpisale su",
    "potpisuju",
    "потписници",
    "потписали су",
    "подписали",
    "подписанты",
    "подписавшиеся",
    "firmantes",
    "firman",
    "organizaciones",
    "signataires",
    "ont signe",
    "unterzeichner",
    "unterzeichnet von",
    "firmatari",
    "hanno firmato",
    "signatarios",
    "signatarias",
    "assinam",
    "υπογράφουν",
    "υπογραφες",
    "οι οργανωσεις που υπογραφουν",
    "imzacilar",
    "imzaci orgutler",
    "podpisali",
    "sygnatariusze",
    "الموقعون",
)

# Apostrophes are dropped inside words ("Workers’" = "Workers'" = "Workers"); other
# punctuation, quotes included, becomes a space.
_APOSTROPHES = str.maketrans("", "", "'`\u00b4\u02bc\u2018\u2019\u201a\u201b")

# Cyrillic letters Serbian does not have, folded to Latin for matching only, so a
# Russian list finds an organization stored in Latin letters. Serbian letters go
# through the project's transliteration (mailer.lang); its đ has no accent to drop.
_MORE_CYRILLIC = str.maketrans({**OTHER_CYRILLIC, "đ": "dj"})

# Marks a web page or a word processor leaves in copied text that show nothing: the
# soft hyphen, zero-width space, direction marks and isolates, the byte-order mark.
_INVISIBLE = dict.fromkeys(
    map(
        ord,
        "\u00ad\u200b\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2060\u2066\u2067\u2068\u2069\ufeff",
    )
)


def fold(text: str) -> str:
    """A matching key: case, accents, quotes, punctuation and script ignored."""
    text = unicodedata.normalize("NFKC", text).casefold().translate(_APOSTROPHES)
    kept = fold_accents(cyrillic_to_latin(text).translate(_MORE_CYRILLIC))
    return " ".join(re.sub(r"[^\w]+", " ", kept).split())


@cache
def _heading_keys() -> frozenset[str]:
    return frozenset(fold(h) for h in (*HEADINGS.values(), *_MORE_HEADINGS))


# ---------------------------------------------------------------- countries

# Languages whose country names are known inside an entry ("KKE Греция", "PCTE España",
# "Levica Macedonia"): those of the lists such a department receives. Babel has them.
COUNTRY_LANGUAGES = (
    "en", "fr", "es", "de", "it", "pt", "ru", "sr", "sr_Latn", "el", "ar", "tr", "uk", "bg",
    "mk", "hr", "bs", "sl", "pl", "cs", "sk", "hu", "ro", "nl", "sv", "da", "nb", "fi", "sq",
    "ca", "fa", "he",
)  # fmt: skip
# A country name in one language that is a common word of names in another: "mali" is
# "small" in Serbian and Croatian. Still a country as a column ("PARENA, Mali").
_NOT_INSIDE = frozenset({"mali"})


@cache
def _country_index() -> dict[str, str]:
    """Country names (folded) in COUNTRY_LANGUAGES, official and common names → ISO code."""
    import pycountry
    from babel import Locale

    codes = country_codes()
    index: dict[str, str] = {}
    for tag in COUNTRY_LANGUAGES:
        for code, name in Locale.parse(tag).territories.items():
            if code in codes:
                index.setdefault(fold(name), code)
    for c in pycountry.countries:
        for attr in ("name", "official_name", "common_name"):
            if getattr(c, attr, None) and c.alpha_2 in codes:
                index.setdefault(fold(getattr(c, attr)), c.alpha_2)
    for alias, code in COUNTRY_ALIASES.items():
        index.setdefault(fold(alias), code)
    return index


@cache
def _longest_country() -> int:
    return max(len(k.split()) for k in _country_index())


@cache
def _regions() -> frozenset[str]:
    """Continents and regions ("Europe", "América Latina"): subheadings of a list."""
    from babel import Locale

    return frozenset(
        fold(name)
        for tag in COUNTRY_LANGUAGES
        for code, name in Locale.parse(tag).territories.items()
        if code.isdigit()
    )


def country_code(text: str) -> str | None:
    """ISO code for a country written as an ISO code or a name in a common language.

    Three-letter codes are not read: "PAN", "PER" or "MAR" are far more often a
    party's acronym than Panama, Peru or Morocco.
    """
    text = text.strip().strip(".")
    if len(text) == 2 and text.upper() in country_codes():
        return text.upper()
    return _country_index().get(fold(text)) if 0 < len(text) <= 60 else None


def _country_at(words: tuple[str, ...], i: int, codes: set[str]) -> tuple[int, str] | None:
    """The longest country name starting at word ``i``: (past its last word, ISO code)."""
    index = _country_index()
    for j in range(min(len(words), i + _longest_country()), i + 1, -1):
        if code := index.get(" ".join(words[i:j])):
            return j, code
    word = words[i]
    if len(word) >= 4 and word not in _NOT_INSIDE and (code := index.get(word)):
        return i + 1, code
    return (i + 1, word.upper()) if word.upper() in codes else None


@dataclass(frozen=True)
class Words:
    """A text as matching sees it: its folded words, and the countries named among them
    as (first word, past the last word, ISO code)."""

    words: tuple[str, ...]
    countries: tuple[tuple[int, int, str], ...]

    @classmethod
    def of(cls, text: str) -> Words:
        words = tuple(fold(text).split())
        # An ISO code counts only in capitals, as a word of its own: "MK", not "mk".
        codes = {c for c in re.findall(r"\b[A-Z]{2}\b", text) if c in country_codes()}
        found, i = [], 0
        while i < len(words):
            country = _country_at(words, i, codes)
            if country:
                found.append((i, country[0], country[1]))
            i = country[0] if country else i + 1
        return cls(words, tuple(found))

    @property
    def key(self) -> str:
        return " ".join(self.words)

    @property
    def codes(self) -> frozenset[str]:
        return frozenset(code for _, _, code in self.countries)

    @property
    def bare(self) -> str:
        """The words without the countries named among them."""
        named = {k for i, j, _ in self.countries for k in range(i, j)}
        return " ".join(w for k, w in enumerate(self.words) if k not in named)

    def codes_beyond(self, known: frozenset[str]) -> frozenset[str]:
        """The countries named in words that ``known`` (an organization's words) lacks."""
        return frozenset(code for i, j, code in self.countries if not set(self.words[i:j]) <= known)


# ---------------------------------------------------------------- parsing


@dataclass(frozen=True)
class Entry:
    """One line of a published list: where it was and what it says."""

    line: int
    text: str  # the entry as written, without numbering, bullets and outer quotes
    name: str  # the organization's name: the text without a country or acronym column
    short_name: str | None = None
    country: str | None = None  # a country column, in parentheses, or the heading above
    numbered: bool = False  # had a number or a bullet in front


@dataclass(frozen=True)
class Skipped:
    """A line that names no organization and is no heading: reported, never dropped."""

    line: int
    text: str
    reason: str


@dataclass
class ParsedList:
    entries: list[Entry]
    skipped: list[Skipped]


@dataclass(frozen=True)
class Heading:
    """A heading line ("Signing organizations"), or a country or region heading the
    entries below it; a country gives them that country."""

    country: str | None = None


_NUMBERING = re.compile(
    r"""^\s*(?:
        (?:no\.?\s*)?\d{1,4}\s*[.):\]]\s*   # 1.  1)  1:  No. 1.
      | \(\d{1,4}\)\s*                      # (1)
      | \d{1,4}(?:\s*[-–—]\s+|\t\s*)         # 1 – Name, 1<TAB>Name
      | [-–—+>]\s+                          # - Name
      | [•*·▪●◦‣►■□✓✔]\s*                    # • Name
    )""",
    re.VERBOSE | re.IGNORECASE,
)
_TAIL_PAREN = re.compile(r"^(?P<head>.+?)\s*\((?P<tail>[^()]+)\)$")
_TAIL_DASH = re.compile(r"^(?P<head>.+?)\s+[-–—]\s+(?P<tail>[^-–—]+)$")
_TAIL_COMMA = re.compile(r"^(?P<head>.+?)\s*,\s*(?P<tail>[^,]+)$")
_TAILS = (_TAIL_PAREN, _TAIL_COMMA, _TAIL_DASH)
MAX_NAME = 200  # characters: a longer line is a sentence of the text, not a name


def _is_acronym(text: str) -> bool:
    """KKE, PCdoB, CPGB-ML, ССЈД: short and mostly capitals."""
    letters = [c for c in text if c.isalpha()]
    if not letters or len(text) > 12 or len(text.split()) > 2:
        return False
    return sum(c.isupper() for c in letters) * 2 >= len(letters) and len(letters) >= 2


def _strip_quotes(text: str) -> str:
    text = text.strip()
    pairs = {'"': '"', "'": "'", "“": "”", "„": "“", "«": "»", "‘": "’", "”": "”", "»": "«"}
    while len(text) >= 2 and pairs.get(text[0]) == text[-1]:
        text = text[1:-1].strip()
    return text


def _take_country(text: str) -> tuple[str | None, str, bool]:
    """Split a country off the end: "Name, Greece", "Name – Grčka", "Name (GR)".

    Returns (code, the text without it, whether the name keeps it): a country
    written out in parentheses is how namesakes are told apart ("Communist Party
    (Italy)"), so it stays in the name; a column or a code does not.
    """
    for pattern in _TAILS:
        m = pattern.match(text)
        tail = _strip_quotes(m.group("tail")) if m else ""
        if pattern is _TAIL_PAREN and len(tail) == 2:
            continue  # "(PS)" is an acronym more often than Palestine
        if m and (code := country_code(tail)):
            return code, m.group("head").strip(), pattern is _TAIL_PAREN and len(tail) > 3
    return None, text, False


def is_heading(text: str) -> bool:
    """A line that heads a list rather than naming an organization."""
    key = fold(text)
    return not key or key in _heading_keys()


def _clean(raw: str) -> str:
    """One line with invisible marks dropped and any run of spaces (a non-breaking
    one too) made one space; a tab between columns reads as a comma."""
    text = raw.translate(_INVISIBLE).strip()
    return " ".join(re.sub(r"\s*\t\s*", ", ", text).split())


def parse_line(raw: str, line: int) -> Entry | Skipped | Heading | None:
    """One line → an Entry; a Skipped line with the reason; a heading; None for blanks."""
    raw = raw.translate(_INVISIBLE)
    if not any(c.isalnum() for c in raw):
        return None  # blank, or a rule such as "---" or "* * *"
    if raw.lstrip().startswith("#"):
        title = _clean(raw).lstrip("#").strip()
        return Heading() if is_heading(title) else Skipped(line, _clean(raw), "a title, not a name")
    numbered = _NUMBERING.match(raw)
    text = _clean(raw[numbered.end() :] if numbered else raw)
    text = text.strip("*_ ").rstrip(";,").strip()
    if text.endswith(".") and not re.search(r"(?:^|[\s.])\w\.$", text):
        text = text[:-1]  # a full stop, not "P.C."
    text = _strip_quotes(text)
    if not any(c.isalnum() for c in text):
        return Skipped(line, raw.strip(), "a number with no name") if numbered else None
    if code := country_code(text.rstrip(":")):
        return Heading(code)  # "Grčka:", a subheading for the entries below
    if is_heading(text) or fold(text) in _regions() or (not numbered and text.endswith(":")):
        return Heading()
    if len(text) > MAX_NAME:
        return Skipped(line, text, "too long to be a name")
    country, rest, keep = _take_country(text)
    qualifier = text[len(rest) :].strip() if keep else ""  # "(Italy)"
    rest = _strip_quotes(rest.rstrip(";,").strip())
    short = None
    for pattern in _TAILS:
        m = pattern.match(rest)
        if m and _is_acronym(tail := _strip_quotes(m.group("tail"))):
            short, rest = tail, _strip_quotes(m.group("head"))
            break
    name = f"{rest} {qualifier}".strip()
    if is_heading(name):
        return Heading(country)
    if not fold(rest):
        return Skipped(line, text, "no name besides the country or the acronym")
    return Entry(line, text, name, short, country, numbered=bool(numbered))


def parse_list(text: str) -> ParsedList:
    """Every entry of a published list, in order; every other line that is not a
    heading or blank is reported in ``skipped``.

    When most lines carry a number or a bullet, the plain lines among them are a
    title or a note rather than organizations, and are set aside. A country on a
    line of its own heads the entries below it that name no country.
    """
    if re.search(r"(?i)<(li|p|br|div|ol|ul)\b", text):
        text = html_to_text(text, limit=None)  # a saved web page may be large
    entries: list[Entry] = []
    skipped: list[Skipped] = []
    country = None
    for number, raw in numbered_lines(text):
        parsed = parse_line(raw, number)
        if isinstance(parsed, Heading):
            country = parsed.country
        elif isinstance(parsed, Skipped):
            skipped.append(parsed)
        elif parsed is not None:
            if parsed.country is None and country is not None:
                parsed = Entry(**{**parsed.__dict__, "country": country})
            entries.append(parsed)
    numbered = sum(e.numbered for e in entries)
    if numbered >= 3 and numbered * 2 >= len(entries):
        skipped += [Skipped(e.line, e.text, "not a list item") for e in entries if not e.numbered]
        entries = [e for e in entries if e.numbered]
    return ParsedList(entries, sorted(skipped, key=lambda s: s.line))


def read_list(path: Path) -> ParsedList:
    """The entries of a list file; a file that is not text or lists no one is an error."""
    text = read_text_file(Path(path))
    if "\x00" in text:
        raise MailerError(f"{path}: not a text file (it contains NUL bytes)")
    parsed = parse_list(text)
    if not parsed.entries:
        raise MailerError(
            f"{path}: no organization found in the file; nothing was imported",
            hint='Write one organization per line, e.g. "1. Workers\' Party of Atlantis, Greece".',
        )
    return parsed


# ---------------------------------------------------------------- matching

AUTO_MATCH = 90.0  # score from which an entry is matched without asking
MARGIN = 3.0  # and by how much it must beat the next organization
NEAR = 75.0  # `--create` adds no entry with a known organization scoring this or more
CONFLICT = 30.0  # off when the entry names another country than the organization's
UNCONFIRMED = 10.0  # off a spelling close only once countries are left out, none confirmed
OTHER_ACRONYM = 10.0  # off when the entry gives an acronym the organization does not have


@dataclass(frozen=True)
class Candidate:
    org_id: int
    name: str
    country: str | None
    score: float


@dataclass
class Match:
    """What became of one entry."""

    entry: Entry
    status: str  # matched | duplicate | unmatched | create | held
    org_id: int | None = None
    org_name: str | None = None
    method: str | None = None
    duplicate_of: int | None = None  # line of the first entry naming the organization
    candidates: list[Candidate] = field(default_factory=list)
    near: bool = False  # not created: a known organization is close (see candidates)
    opted_out: bool = False  # the organization matched has do_not_contact set
    recorded: bool = False  # a signature was written (False: it was already there)
    previous: str | None = None  # the organization's answer before this import
    held: str | None = None  # why a signature would go against what it told us


@dataclass
class _Org:
    id: int
    name: str
    country: str | None
    opted_out: bool
    words: set[str] = field(default_factory=set)  # every word of its names and short names
    countries: set[str] = field(default_factory=set)  # its country and those its names name
    shorts: set[str] = field(default_factory=set)


@dataclass
class _Keys:
    """Folded names for close spelling, and whose each one is."""

    keys: list[str] = field(default_factory=list)
    owners: list[int] = field(default_factory=list)

    def add(self, key: str, org_id: int) -> None:
        self.keys.append(key)
        self.owners.append(org_id)


@dataclass
class _Index:
    orgs: dict[int, _Org] = field(default_factory=dict)
    exact: dict[str, set[tuple[int, str]]] = field(default_factory=dict)  # name → (org, how)
    bare: dict[str, set[tuple[int, str]]] = field(default_factory=dict)  # countries left out
    short: dict[str, set[int]] = field(default_factory=dict)
    full_keys: _Keys = field(default_factory=_Keys)
    bare_keys: _Keys = field(default_factory=_Keys)

    def add(self, org: _Org, text: str, method: str) -> None:
        words = Words.of(text)
        if not words.key:
            return
        org.words.update(words.words)
        org.countries.update(words.codes)
        self.exact.setdefault(words.key, set()).add((org.id, method))
        self.full_keys.add(words.key, org.id)
        if words.bare:
            self.bare.setdefault(words.bare, set()).add((org.id, method))
            self.bare_keys.add(words.bare, org.id)


def _build_index(db: Database) -> _Index:
    """Every organization under each name it is known by; merged ones under the kept one."""
    rows = orgstore.all_orgs(db)
    index = _Index()
    for row in rows.values():
        kept = rows[kept_id(rows, row["id"])]
        org = index.orgs.setdefault(
            kept["id"],
            _Org(kept["id"], kept["name"], kept["country"], bool(kept["do_not_contact"])),
        )
        if kept["country"]:
            org.countries.add(kept["country"])
        index.add(org, row["name"], "name")
        for lang, name in json.loads(row["names"] or "{}").items():
            index.add(org, name, f"name in {lang}")
        if row["short_name"] and (short := fold(row["short_name"])):
            org.shorts.add(short)
            org.words.update(short.split())
            index.short.setdefault(short, set()).add(org.id)
    return index


@dataclass(frozen=True)
class _Query:
    """An entry as matching reads it."""

    full: Words  # everything it says
    name: Words  # its name without the country or acronym column
    acronym: str | None
    country: str | None  # from a column or the heading above

    @classmethod
    def of(cls, entry: Entry) -> _Query:
        short = fold(entry.short_name) if entry.short_name else None
        return cls(Words.of(entry.text), Words.of(entry.name), short, entry.country)

    @property
    def names_a_country(self) -> bool:
        return bool(self.full.countries or self.country)

    def countries_for(self, org: _Org) -> str:
        """agree, unknown or conflict: the countries the entry names (in words the
        organization's names lack) against the organization's."""
        named = set(self.full.codes_beyond(frozenset(org.words)))
        if self.country:
            named.add(self.country)
        if not named or not org.countries:
            return "unknown"
        return "agree" if named & org.countries else "conflict"

    def acronyms(self) -> set[str]:
        """What may be a short name: the acronym, or a name of one or two words."""
        found = {self.acronym} if self.acronym else set()
        found.update(w.bare for w in (self.name, self.full) if 0 < len(w.bare.split()) <= 2)
        return found


def _exact(index: _Index, query: _Query) -> tuple[set[int], dict[int, str]]:
    """Organizations one of whose names the entry gives (with the countries it names
    left out, when they agree), or whose short name: the best of them by country,
    and how each was found."""
    how: dict[int, str] = {}

    def found(org_id: int, method: str) -> None:  # the plainest way wins: "name" first
        plain = lambda m: ("and country" in m, m.startswith("name in"), m)  # noqa: E731
        how[org_id] = min(how.get(org_id, method), method, key=plain)

    for words in (query.full, query.name):
        for org_id, method in index.exact.get(words.key, ()):
            found(org_id, method)
    for short in query.acronyms():
        for org_id in index.short.get(short, ()):
            found(org_id, "short name")
    if query.names_a_country:  # "Levica Macedonia", "KKE Греция"
        for words in (query.full, query.name):
            for org_id, method in index.bare.get(words.bare, ()):
                found(org_id, f"{method} and country")
    tiers: dict[str, set[int]] = {"agree": set(), "unknown": set(), "conflict": set()}
    for org_id in how:
        tiers[query.countries_for(index.orgs[org_id])].add(org_id)
    best = tiers["agree"] or tiers["unknown"]
    if len(best) > 1 and query.acronym:  # namesakes: "Workers' Party – WPI"
        best = {i for i in best if query.acronym in index.orgs[i].shorts} or best
    return best, how


def _scores(index: _Index, query: _Query) -> list[Candidate]:
    """Every organization spelled close to the entry, best first, each word weighed:
    a country the entry names against the organization's, or an acronym it lacks,
    counts against it."""
    best: dict[int, float] = {}
    searches = [(query.full.key, index.full_keys, 0.0), (query.name.key, index.full_keys, 0.0)]
    if query.names_a_country:
        searches += [(w.bare, index.bare_keys, UNCONFIRMED) for w in (query.full, query.name)]
    for text, keys, unconfirmed in searches:
        if not text:
            continue
        for _, score, i in process.extract(
            text, keys.keys, scorer=fuzz.token_sort_ratio, limit=None, score_cutoff=40
        ):
            org = index.orgs[keys.owners[i]]
            countries = query.countries_for(org)
            if countries != "agree":
                score -= unconfirmed
            if countries == "conflict":
                score -= CONFLICT
            if query.acronym and org.shorts and query.acronym not in org.shorts:
                score -= OTHER_ACRONYM
            best[org.id] = max(best.get(org.id, 0.0), score)
    ranked = sorted(best.items(), key=lambda kv: (-kv[1], kv[0]))
    return [
        Candidate(i, index.orgs[i].name, index.orgs[i].country, round(max(s, 0.0), 1))
        for i, s in ranked
    ]


def _match_one(index: _Index, entry: Entry) -> Match:
    query = _Query.of(entry)
    exact, how = _exact(index, query)
    if len(exact) == 1:
        org = index.orgs[next(iter(exact))]
        return Match(entry, "matched", org.id, org.name, how[org.id], opted_out=org.opted_out)
    ranked = _scores(index, query)
    top = ranked[:3]
    if not exact and ranked and ranked[0].score >= AUTO_MATCH:
        runner_up = ranked[1].score if len(ranked) > 1 else 0.0
        if ranked[0].score - runner_up >= MARGIN:
            c = ranked[0]
            return Match(
                entry,
                "matched",
                c.org_id,
                c.name,
                f"fuzzy {c.score:g}",
                candidates=top,
                opted_out=index.orgs[c.org_id].opted_out,
            )
    return Match(entry, "unmatched", candidates=top)


def _same_new(a: Entry, b: Entry) -> bool:
    """Two entries that would make one new organization: names alike once countries are
    left out, and no two different countries named."""
    wa, wb = Words.of(a.text), Words.of(b.text)
    ca = wa.codes | {a.country} - {None}
    cb = wb.codes | {b.country} - {None}
    if ca and cb and not ca & cb:
        return False
    return fuzz.token_sort_ratio(Words.of(a.name).bare, Words.of(b.name).bare) >= AUTO_MATCH


def plan_import(db: Database, entries: list[Entry], *, create: bool = False) -> list[Match]:
    """Match every entry; later entries naming an organization again are duplicates.

    With ``create``, an entry that matches nothing becomes a new organization,
    unless a known one is close: that entry stays unmatched, with the candidates.
    """
    index = _build_index(db)
    first_line: dict[int, int] = {}
    unknown: list[Entry] = []  # entries that match no known organization, in order
    plan = []
    for entry in entries:
        match = _match_one(index, entry)
        if match.org_id is not None:
            if match.org_id in first_line:
                match.status, match.duplicate_of = "duplicate", first_line[match.org_id]
            else:
                first_line[match.org_id] = entry.line
        elif earlier := next((e for e in unknown if _same_new(e, entry)), None):
            match.status, match.duplicate_of = "duplicate", earlier.line
        else:
            unknown.append(entry)
            match.near = bool(match.candidates) and match.candidates[0].score >= NEAR
            if create and not match.near:
                match.status = "create"
        plan.append(match)
    return plan


def new_country(entry: Entry) -> str | None:
    """The country of an organization made from an entry: its column, its heading, or
    the one country its words name ("Levica Macedonia", "Communist Party of Greece")."""
    codes = Words.of(entry.text).codes
    return entry.country or (next(iter(codes)) if len(codes) == 1 else None)


def _held(db: Database, campaign_id: int, match: Match) -> str | None:
    """Why signing the organization matched would go against what it told us, if it
    would: a decline, an unsubscribe, a withdrawn signature, an opt-out."""
    assert match.org_id is not None
    answer = responses.current(db, campaign_id, match.org_id)
    if answer and answer["withdrawn_at"] is None:
        match.previous = answer["kind"]
        if answer["kind"] in ("declined", "unsubscribed"):
            return f"{answer['kind']} on {answer['at'][:10]}"
    elif answer and answer["kind"] == "signed":
        return f"withdrew its signature on {answer['withdrawn_at'][:10]}"
    if match.opted_out:
        return "opted out: do not contact"
    return None


def import_list(
    db: Database,
    campaign: dict[str, Any],
    path: Path,
    *,
    dry_run: bool = False,
    create: bool = False,
    force: bool = False,
) -> tuple[list[Match], list[Skipped]]:
    """Record every matched (or, with ``create``, new) organization as signed, once.

    An organization that declined, unsubscribed, withdrew its signature or opted
    out is held back (status ``held``) unless ``force``: a list from elsewhere does
    not silently overrule what the organization told us. Returns what became of
    each entry, and the lines that named no organization, so the user sees them too.
    """
    from mailer.contacts import OrgInput, create_org

    parsed = read_list(path)
    plan = plan_import(db, parsed.entries, create=create)
    new_orgs: dict[int, OrgInput] = {}  # checked before anything is written, so that
    for match in plan:  # a dry run finds the same errors
        if match.status == "create":
            entry = match.entry
            try:
                new_orgs[entry.line] = OrgInput.clean(
                    name=entry.name, short_name=entry.short_name, country=new_country(entry)
                )
            except ValueError as e:
                raise MailerError(f"{path}:{entry.line}: {e}; nothing was imported") from None
        elif match.status == "matched":
            match.held = _held(db, campaign["id"], match)
            if match.held and not force:
                match.status = "held"
    if dry_run:
        return plan, parsed.skipped
    with db.atomic():
        for match in plan:
            if match.status == "create":
                data = new_orgs[match.entry.line]
                match.org_id, match.org_name = create_org(db, data), data.name
            if match.status in ("matched", "create"):
                assert match.org_id is not None
                match.recorded = responses.record(
                    db, campaign["id"], match.org_id, "signed", source="import"
                )
        counts = Counter(m.status for m in plan)
        forced = [m.org_id for m in plan if m.held and m.status == "matched"]
        log_event(
            db,
            "campaign",
            campaign["id"],
            "signon import",
            new={"file": str(path), **counts, "forced": forced},
        )
    return plan, parsed.skipped
