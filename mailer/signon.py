"""Published lists of signing organizations read back into a campaign.

``parse_list`` turns the text of a list as people publish it (numbered or
bulleted, "Name, Country", "Name – ACRONYM", headings in many languages) into
entries; ``plan_import`` matches them to organizations (exact name, short
name, names in other languages, then fuzzy with rapidfuzz, the country
breaking ties); ``import_list`` records the matches as signatures.
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

from mailer import responses
from mailer.contacts import kept_id
from mailer.db import log_event
from mailer.errors import MailerError
from mailer.files import numbered_lines, read_text_file
from mailer.inbox.parse import html_to_text
from mailer.lang import (
    OTHER_CYRILLIC,
    country_codes,
    cyrillic_to_latin,
    fold_accents,
    normalize_country,
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
    "potpisale su",
    "potpisuju",
    "потписници",
    "потписали су",
    "подписали",
    "подписанты",
    "firmantes",
    "firman",
    "signataires",
    "ont signe",
    "unterzeichner",
    "unterzeichnet von",
    "firmatari",
    "hanno firmato",
    "signatarios",
    "υπογράφουν",
    "الموقعون",
)

# Apostrophes are dropped inside words ("Workers’" = "Workers'" = "Workers"); other
# punctuation, quotes included, becomes a space.
_APOSTROPHES = str.maketrans("", "", "'`\u00b4\u02bc\u2018\u2019\u201a\u201b")

# Cyrillic letters Serbian does not have, folded to Latin for matching only, so a
# Russian list finds an organization stored in Latin letters. Serbian letters go
# through the project's transliteration (mailer.lang); its đ has no accent to drop.
_MORE_CYRILLIC = str.maketrans({**OTHER_CYRILLIC, "đ": "dj"})


def fold(text: str) -> str:
    """A matching key: case, accents, quotes, punctuation and script ignored."""
    text = unicodedata.normalize("NFKC", text).casefold().translate(_APOSTROPHES)
    kept = fold_accents(cyrillic_to_latin(text).translate(_MORE_CYRILLIC))
    return " ".join(re.sub(r"[^\w]+", " ", kept).split())


@cache
def _heading_keys() -> frozenset[str]:
    return frozenset(fold(h) for h in (*HEADINGS.values(), *_MORE_HEADINGS))


@cache
def _country_index() -> dict[str, str]:
    """Country names in the languages lists are published in → ISO code."""
    from babel import Locale

    index: dict[str, str] = {}
    for tag in ("en", "fr", "es", "de", "it", "pt", "ru", "sr", "sr_Latn", "el", "ar", "tr"):
        for code, name in Locale.parse(tag).territories.items():
            if code in country_codes():
                index.setdefault(fold(name), code)
    return index


def country_code(text: str) -> str | None:
    """ISO code for a country written as a code, an English or a localized name."""
    text = text.strip().strip(".")
    if not text or len(text) > 60:
        return None
    try:
        return normalize_country(text)
    except ValueError:
        return _country_index().get(fold(text))


# ---------------------------------------------------------------- parsing


@dataclass(frozen=True)
class Entry:
    """One line of a published list: where it was and what it says."""

    line: int
    text: str  # the line without numbering, bullets and country
    name: str  # the text without a trailing acronym
    short_name: str | None = None
    country: str | None = None
    numbered: bool = False  # had a number or a bullet in front


@dataclass
class ParsedList:
    entries: list[Entry]
    skipped: list[Entry]  # plain lines inside a numbered list: titles, notes


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


def _is_acronym(text: str) -> bool:
    """KKE, PCdoB, CPGB-ML, ССЈД: short and mostly capitals."""
    letters = [c for c in text if c.isalpha()]
    if not letters or len(text) > 12 or len(text.split()) > 2:
        return False
    return sum(c.isupper() for c in letters) * 2 >= len(letters) and len(letters) >= 2


def _strip_quotes(text: str) -> str:
    text = text.strip()
    pairs = {'"': '"', "'": "'", "“": "”", "„": "“", "«": "»", "‘": "’", "”": "”"}
    while len(text) >= 2 and pairs.get(text[0]) == text[-1]:
        text = text[1:-1].strip()
    return text


def _take_country(text: str) -> tuple[str | None, str]:
    """Split a trailing country off: "Name, Greece", "Name (GR)", "Name – Grčka"."""
    for pattern in _TAILS:
        m = pattern.match(text)
        if m and (code := country_code(_strip_quotes(m.group("tail")))):
            return code, m.group("head").strip()
    return None, text


def is_heading(text: str) -> bool:
    """A line that heads a list rather than naming an organization."""
    key = fold(text)
    return not key or key in _heading_keys()


def parse_line(raw: str, line: int) -> Entry | None:
    """One line → an Entry, or None for blank lines, headings and labels."""
    text = raw.strip()
    if not text or text.startswith("#") or is_heading(text):
        return None
    numbered = _NUMBERING.match(text)
    if numbered:
        text = text[numbered.end() :]
    elif text.endswith(":"):
        return None  # "Signed by the following organizations:"
    text = _strip_quotes(text.strip().strip("*_").rstrip(";,").strip())
    country, text = _take_country(text)
    text = _strip_quotes(text.rstrip(";,").strip())
    name, short = text, None
    for pattern in _TAILS:
        m = pattern.match(text)
        if m and _is_acronym(_strip_quotes(m.group("tail"))):
            name, short = _strip_quotes(m.group("head")), _strip_quotes(m.group("tail"))
            break
    if is_heading(name) or not fold(name):
        return None
    return Entry(line, text, name, short, country, numbered=bool(numbered))


def parse_list(text: str) -> ParsedList:
    """Every entry of a published list, in order, headings and blanks skipped.

    When most lines carry a number or a bullet, the plain lines among them
    are a title or a note rather than organizations, and are set aside.
    """
    if re.search(r"(?i)<(li|p|br|div|ol|ul)\b", text):
        text = html_to_text(text, limit=None)  # a saved web page may be large
    lines = numbered_lines(text)
    entries = [e for number, raw in lines if (e := parse_line(raw, number)) is not None]
    numbered = sum(e.numbered for e in entries)
    if numbered >= 3 and numbered * 2 >= len(entries):
        return ParsedList(
            [e for e in entries if e.numbered], [e for e in entries if not e.numbered]
        )
    return ParsedList(entries, [])


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

AUTO_MATCH = 90.0  # fuzzy score from which an entry is matched without asking
MARGIN = 3.0  # and by how much it must beat the next organization


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
    status: str  # matched | duplicate | unmatched | create
    org_id: int | None = None
    org_name: str | None = None
    method: str | None = None
    duplicate_of: int | None = None  # line of the first entry naming the organization
    candidates: list[Candidate] = field(default_factory=list)
    recorded: bool = False  # a signature was written (False: it was already there)
    previous: str | None = None  # the organization's answer before this import


@dataclass
class _Index:
    orgs: dict[int, dict[str, Any]]
    exact: dict[str, set[tuple[int, str]]]  # fold → {(org id, method)}
    short: dict[str, set[int]]
    fuzzy_keys: list[str]
    fuzzy_orgs: list[int]


def _build_index(db: Database) -> _Index:
    rows = {r["id"]: r for r in db.query("SELECT * FROM organization")}
    kept: dict[int, dict[str, Any]] = {}
    index = _Index({}, {}, {}, [], [])
    for org in rows.values():
        target = rows[kept_id(rows, org["id"])]
        kept[target["id"]] = target
        keys = [(org["name"], "name")]
        keys += [(n, f"name in {lang}") for lang, n in json.loads(org["names"] or "{}").items()]
        for text, method in keys:
            key = fold(text)
            if key:
                index.exact.setdefault(key, set()).add((target["id"], method))
                index.fuzzy_keys.append(key)
                index.fuzzy_orgs.append(target["id"])
        if org["short_name"] and fold(org["short_name"]):
            index.short.setdefault(fold(org["short_name"]), set()).add(target["id"])
    index.orgs = kept
    return index


def _by_country(index: _Index, ids: set[int], country: str | None) -> set[int]:
    """With a country given, only organizations of that (or of no known) country."""
    if not country:
        return ids
    same = {i for i in ids if index.orgs[i]["country"] == country}
    return same or {i for i in ids if index.orgs[i]["country"] is None}


def _fuzzy(index: _Index, entry: Entry) -> list[Candidate]:
    best: dict[int, float] = {}
    for query in {fold(entry.name), fold(entry.text)}:
        for _, score, i in process.extract(
            query, index.fuzzy_keys, scorer=fuzz.token_sort_ratio, limit=None, score_cutoff=40
        ):
            org_id = index.fuzzy_orgs[i]
            org_country = index.orgs[org_id]["country"]
            if entry.country and org_country and org_country != entry.country:
                score -= 20  # same name, another country: a different organization
            best[org_id] = max(best.get(org_id, 0.0), score)
    ranked = sorted(best.items(), key=lambda kv: (-kv[1], kv[0]))
    return [
        Candidate(i, index.orgs[i]["name"], index.orgs[i]["country"], round(s, 1))
        for i, s in ranked
    ]


def _match_one(index: _Index, entry: Entry) -> Match:
    for query in (entry.name, entry.text):
        hits = index.exact.get(fold(query), set())
        ids = _by_country(index, {i for i, _ in hits}, entry.country)
        if len(ids) == 1:
            org_id = next(iter(ids))
            method = min(m for i, m in hits if i == org_id)
            return Match(entry, "matched", org_id, index.orgs[org_id]["name"], method)
    for query in filter(None, (entry.short_name, entry.name)):
        ids = _by_country(index, index.short.get(fold(query), set()), entry.country)
        if len(ids) == 1:
            org_id = next(iter(ids))
            return Match(entry, "matched", org_id, index.orgs[org_id]["name"], "short name")
    ranked = _fuzzy(index, entry)
    top = ranked[:3]
    if ranked and ranked[0].score >= AUTO_MATCH:
        runner_up = ranked[1].score if len(ranked) > 1 else 0.0
        if ranked[0].score - runner_up >= MARGIN:
            c = ranked[0]
            return Match(entry, "matched", c.org_id, c.name, f"fuzzy {c.score:g}", candidates=top)
    return Match(entry, "unmatched", candidates=top)


def plan_import(db: Database, entries: list[Entry], *, create: bool = False) -> list[Match]:
    """Match every entry; later entries naming an organization again are duplicates."""
    index = _build_index(db)
    first_line: dict[Any, int] = {}
    plan = []
    for entry in entries:
        match = _match_one(index, entry)
        if match.status == "unmatched" and create:
            match.status = "create"
        key = match.org_id if match.org_id is not None else ("new", fold(entry.name))
        if match.status in ("matched", "create"):
            if key in first_line:
                match.status, match.duplicate_of = "duplicate", first_line[key]
            else:
                first_line[key] = entry.line
        plan.append(match)
    return plan


def import_list(
    db: Database,
    campaign: dict[str, Any],
    path: Path,
    *,
    dry_run: bool = False,
    create: bool = False,
) -> tuple[list[Match], list[Entry]]:
    """Record every matched (or, with ``create``, new) organization as signed, once.

    Returns what became of each entry, and the plain lines of a numbered list
    that were set aside (a title, a note) so the user sees them too.
    """
    from mailer.contacts import OrgInput, create_org

    parsed = read_list(path)
    plan = plan_import(db, parsed.entries, create=create)
    new_orgs: dict[
        int, OrgInput
    ] = {}  # checked before anything is written, so a dry run finds the same errors
    for match in plan:
        if match.status == "create":
            entry = match.entry
            try:
                new_orgs[entry.line] = OrgInput.clean(
                    name=entry.name, short_name=entry.short_name, country=entry.country
                )
            except ValueError as e:
                raise MailerError(f"{path}:{entry.line}: {e}; nothing was imported") from None
        elif match.status == "matched" and match.org_id is not None:
            answer = responses.current(db, campaign["id"], match.org_id)
            if answer and answer["withdrawn_at"] is None:
                match.previous = answer["kind"]
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
        log_event(
            db, "campaign", campaign["id"], "signon import", new={"file": str(path), **counts}
        )
    return plan, parsed.skipped
