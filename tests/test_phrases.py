"""The phrase files: every one is valid, a broken one is one clear sentence, folding."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from mailer.errors import MailerError
from mailer.inbox import classify as classifier
from mailer.inbox import intent, phrases
from mailer.inbox.classify import classify
from mailer.inbox.parse import parse_message
from mailer.inbox.phrases import (
    PHRASE_DIR,
    SCHEMA,
    check_file,
    fold,
    has_phrases,
    phrase_languages,
    read_phrase_file,
)

FILES = sorted(PHRASE_DIR.glob("*.toml"))


@pytest.mark.parametrize("path", FILES, ids=lambda p: p.stem)
def test_every_phrase_file_is_valid(path: Path) -> None:
    check_file(path)
    data = read_phrase_file(path)
    assert data and set(data) <= set(SCHEMA)
    text = path.read_text(encoding="utf-8")
    assert text.startswith("# "), "each file says what language it is for"


def test_the_languages_replies_are_read_in() -> None:
    languages = phrase_languages()
    assert {"en", "sr", "ru", "es", "fr", "de", "pt", "it", "el", "ar"} <= set(languages)
    assert "lv" not in languages  # its file only knows an out-of-office line
    assert has_phrases("sr-Cyrl") and has_phrases("sr-Latn") and has_phrases("pt-BR")
    assert has_phrases("EN")
    assert not has_phrases("fi") and not has_phrases("lv")


@pytest.mark.parametrize(
    ("content", "error"),
    [
        ("[sign_on\nphrases = []\n", "xx.toml: not valid TOML"),
        ("[signon]\nphrases = ['we sign']\n", "xx.toml: unknown section [signon]"),
        ("sign_on = 'we sign'\n", "xx.toml: [sign_on] must be a section"),
        ("[sign_on]\nphrase = ['we sign']\n", "xx.toml: [sign_on] phrase is not known"),
        ("[sign_on]\nphrases = 'we sign'\n", "xx.toml: [sign_on] phrases must be a list"),
        ("[sign_on]\nphrases = ['we (sign']\n", "[sign_on] phrases: 'we (sign' is not a valid"),
        ("[decline]\nphrases = [' ']\n", "xx.toml: [decline] phrases: an empty phrase"),
        ("[decline]\nphrases = ['not {statement}']\n", "uses {statement}, but [words] statement"),
        ("[decline]\nphrases = ['not {topic}']\n", "uses {topic}, which only [words] topics may"),
        ("[words]\ntopics = ['statement on']\n", "xx.toml: [words] topics: 'statement on' needs"),
        ("[hedge]\npast = ['last\\Syear']\n", "has an upper-case escape"),
    ],
)
def test_a_broken_file_is_one_sentence_naming_file_and_key(
    tmp_path: Path, content: str, error: str
) -> None:
    path = tmp_path / "xx.toml"
    path.write_text(content, encoding="utf-8")
    with pytest.raises(MailerError) as caught:
        check_file(path)
    assert error in str(caught.value)
    assert "\n" not in str(caught.value).strip()


def test_topic_holds_the_words_after_it_in_any_script() -> None:
    """{topic} is written out after folding: its group keeps its name, and Indic vowel signs
    count as letters of the words."""
    pattern = phrases.compile_phrases(["statement on {topic}"])
    assert pattern.search("we signed the statement on the war in sudan.")["topic"] == (
        "the war in sudan"
    )
    hindi = phrases.compile_phrases(["{topic} पर बयान"])
    assert hindi.search(fold("नाटो पर बयान"))["topic"] == fold("नाटो")


def test_fold_joins_serbian_scripts() -> None:
    assert (
        fold("Потписујемо ИЗЈАВУ, ђак")
        == fold("Potpisujemo izjavu, đak")
        == "potpisujemo izjavu, djak"
    )


@pytest.fixture
def phrase_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A private phrase folder in place of the package's (the files are read once: reset)."""
    caches = (phrases.load_all, phrases.pattern, intent.wording, intent.hinted, intent._topics)
    caches += (classifier._compiled,)
    monkeypatch.setattr(phrases, "PHRASE_DIR", tmp_path)
    for cached in caches:
        cached.cache_clear()
    yield tmp_path
    for cached in caches:
        cached.cache_clear()


def test_a_new_file_is_a_new_language(phrase_dir: Path) -> None:
    (phrase_dir / "fi.toml").write_text(
        "# Finnish\n[sign_on]\nphrases = ['allekirjoitamme']\n", encoding="utf-8"
    )
    assert phrase_languages() == ("fi",) and has_phrases("fi-FI")


def test_a_broken_file_stops_reading_replies(phrase_dir: Path) -> None:
    (phrase_dir / "fi.toml").write_text("[sign_on]\nphrases = ['(']\n", encoding="utf-8")
    with pytest.raises(MailerError, match=r"fi\.toml: \[sign_on\] phrases"):
        phrases.check_all()
    with pytest.raises(MailerError, match=r"fi\.toml"):
        classify(parse_message(b"From: a@b.example\nSubject: x\n\nWe sign.\n"))
