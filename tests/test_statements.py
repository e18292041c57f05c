"""Statement folders: the example loads; every mistake names its file and line."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from mailer.errors import TemplateError
from mailer.statements import load_statement

ROOT = Path(__file__).resolve().parent.parent
EXAMPLE = ROOT / "mailer" / "examples" / "statements" / "peace-statement"
SKELETON = ROOT / "mailer" / "skeleton" / "templates"


def test_the_example_statement_loads() -> None:
    statement = load_statement(EXAMPLE)
    assert statement.title == "Joint statement for peace"
    assert statement.kind == "signon" and statement.default_language == "en"
    assert statement.deadline == date(2026, 12, 10)
    assert {"en", "sr-Latn", "es"} <= set(statement.languages)
    assert statement.available[-1] == "sr-Cyrl"
    assert "en" in statement.reminders
    cyrillic = statement.text("sr-Cyrl")
    assert cyrillic.transliterated_from == "sr-Latn"
    assert cyrillic.subject.startswith("Заједничка изјава за мир")
    assert "{{ campaign.deadline }}" in cyrillic.subject and "{{ org.name }}" in cyrillic.body
    assert statement.text("el") is None


def test_the_skeleton_example_loads_and_templates_is_the_skeleton() -> None:
    assert load_statement(SKELETON / "example-call").kind == "call"
    thanks = load_statement(SKELETON / "example-thanks")
    assert (thanks.list_from, thanks.list_with_country, thanks.ask) == ("peace-2026", True, False)
    assert (ROOT / "templates").resolve() == SKELETON.resolve()


def write(folder: Path, toml: str, files: dict[str, str]) -> Path:
    folder.mkdir(exist_ok=True)
    (folder / "statement.toml").write_text(toml, encoding="utf-8")
    for name, text in files.items():
        (folder / name).write_text(text, encoding="utf-8")
    return folder


GOOD_TOML = 'title = "T"\ndefault_language = "en"\n'
GOOD_MD = "---\nsubject: Hello\n---\nBody\n"


@pytest.mark.parametrize(
    "toml, files, expected",
    [
        ('default_language = "en"\n', {"en.md": GOOD_MD}, "statement.toml:1: title is required"),
        ('title = "T"\n', {"en.md": GOOD_MD}, "statement.toml:1: default_language is required"),
        ('title = "T"\ndefault_language = 7\n', {"en.md": GOOD_MD}, "toml:2: default_language is"),
        (
            'default_language = "en"\n\n[title]\nen = "T"\n',
            {"en.md": GOOD_MD},
            "statement.toml:3: title is required",
        ),
        (GOOD_TOML + 'kind = "petition"\n', {"en.md": GOOD_MD}, "statement.toml:3: kind must be"),
        (
            GOOD_TOML + 'deadline = "soon"\n',
            {"en.md": GOOD_MD},
            "statement.toml:3: deadline must be a date",
        ),
        (GOOD_TOML + "colour = 1\n", {"en.md": GOOD_MD}, "statement.toml:3: unknown key 'colour'"),
        (
            GOOD_TOML + 'list_from = "p"\nlist_order = "size"\n',
            {"en.md": GOOD_MD},
            "statement.toml:4: list_order must be one of signed, alpha, country, got 'size'",
        ),
        (
            GOOD_TOML + 'ask = "no"\n',
            {"en.md": GOOD_MD},
            "statement.toml:3: ask must be true or false",
        ),
        (
            GOOD_TOML + "list_from = 7\n",
            {"en.md": GOOD_MD},
            'statement.toml:3: list_from must be text in quotes, e.g. list_from = "peace"',
        ),
        (
            GOOD_TOML + "list_with_country = true\n",
            {"en.md": GOOD_MD},
            "statement.toml:1: list_order, list_with_country and list_first need list_from",
        ),
        ('title = "T\n', {"en.md": GOOD_MD}, "statement.toml:1: not valid TOML"),
        ('title = "T"\ndefault_language = "fr"\n', {"en.md": GOOD_MD}, "has no file fr.md"),
        (GOOD_TOML, {}, "no language file"),
        (GOOD_TOML, {"en.md": "Body only\n"}, "en.md:1: must start with front matter"),
        (
            GOOD_TOML,
            {"en.md": "---\nsubject: x\nBody\n"},
            "en.md:1: the front matter has no closing",
        ),
        (
            GOOD_TOML,
            {"en.md": "---\npreheader: p\n---\nBody\n"},
            "en.md:2: the front matter needs a subject",
        ),
        (
            GOOD_TOML,
            {"en.md": "---\ntitle: a\nsubject: [x\n---\nB\n"},
            "en.md:3: front matter is not valid YAML",
        ),
        (
            GOOD_TOML,
            {"en.md": "---\nsubject: x\nsender: y\n---\nB\n"},
            "en.md:3: unknown front matter key 'sender'",
        ),
        (
            GOOD_TOML,
            {"en.md": GOOD_MD, "english.md": GOOD_MD},
            "english.md: the file name must be a language tag",
        ),
        (
            GOOD_TOML + 'attachments = "poster.pdf"\n',
            {"en.md": GOOD_MD},
            "statement.toml:3: attachments must be a list of file names",
        ),
        (
            GOOD_TOML + 'attachments = ["files/poster.pdf"]\n',
            {"en.md": GOOD_MD},
            "statement.toml:3: attachment 'files/poster.pdf' must be the name of a file",
        ),
        (
            GOOD_TOML + 'attachments = ["poster.pdf "]\n',
            {"en.md": GOOD_MD},
            "statement.toml:3: attachment 'poster.pdf ' must be the name of a file",
        ),
        (
            GOOD_TOML + 'attachments = [".."]\n',
            {"en.md": GOOD_MD},
            "statement.toml:3: attachment '..' must be the name of a file",
        ),
        (
            GOOD_TOML + 'attachments = ["a.pdf", "b.pdf", "a.pdf"]\n',
            {"en.md": GOOD_MD},
            "statement.toml:3: attachment 'a.pdf' is listed twice",
        ),
    ],
)
def test_mistakes_name_file_and_line(tmp_path: Path, toml: str, files: dict, expected: str) -> None:
    with pytest.raises(TemplateError) as info:
        load_statement(write(tmp_path / "s", toml, files))
    assert expected in str(info.value)


def test_unreadable_files_are_named(tmp_path: Path) -> None:
    folder = write(tmp_path / "s", GOOD_TOML, {"en.md": GOOD_MD})
    (folder / "fr.md").mkdir()
    with pytest.raises(TemplateError, match=r"fr\.md: cannot be read"):
        load_statement(folder)
    (folder / "fr.md").rmdir()
    (folder / "fr.md").write_bytes(b"---\nsubject: x\n---\n\xff\n")
    with pytest.raises(TemplateError, match=r"fr\.md:4: not UTF-8 text"):
        load_statement(folder)
    (folder / "fr.md").unlink()
    (folder / "statement.toml").write_bytes(b'title = "\xff"\ndefault_language = "en"\n')
    with pytest.raises(TemplateError, match=r"statement\.toml:1: not UTF-8 text"):
        load_statement(folder)


def test_a_reminder_needs_its_statement_language(tmp_path: Path) -> None:
    folder = write(tmp_path / "s", GOOD_TOML, {"en.md": GOOD_MD, "reminder.de.md": GOOD_MD})
    with pytest.raises(TemplateError, match=r"reminder\.de\.md: there is no de\.md"):
        load_statement(folder)
    (folder / "reminder.de.md").rename(folder / "reminder.sr-Cyrl.md")
    (folder / "sr-Latn.md").write_text(GOOD_MD, encoding="utf-8")
    assert load_statement(folder).text("sr-Cyrl", reminder=True) is not None  # one text


def test_missing_folder(tmp_path: Path) -> None:
    with pytest.raises(TemplateError, match="no such statement folder"):
        load_statement(tmp_path / "nothing")


def test_body_line_and_names(tmp_path: Path) -> None:
    folder = write(
        tmp_path / "s",
        GOOD_TOML,
        {
            "en.md": "---\nsubject: '  Hi  '\npreheader: |\n  two\n  lines\n---\n\n\nBody\n",
            "README.md": "x",
        },
    )
    text = load_statement(folder).languages["en"]
    assert text.subject == "Hi" and text.preheader == "two lines"
    assert text.body_line == 9 and text.padded_body.split("\n")[8] == "Body"


def test_attachments_and_their_per_language_files(tmp_path: Path) -> None:
    """poster.<language>.pdf replaces poster.pdf for that language; the Serbian scripts
    use each other's; a name that is no language (poster.small.pdf) is another file."""
    folder = write(
        tmp_path / "s",
        GOOD_TOML + 'attachments = ["poster.pdf", "Проглас.odt"]\n',
        {"en.md": GOOD_MD, "sr-Latn.md": GOOD_MD, "fr.md": GOOD_MD},
    )
    for name in ("poster.pdf", "poster.sr-latn.pdf", "poster.fr.pdf", "poster.small.pdf"):
        (folder / name).write_bytes(b"%PDF-1.7 " + name.encode())
    statement = load_statement(folder)
    poster, proclamation = statement.attachments
    assert sorted(poster.variants) == ["fr", "sr-Latn"]
    assert poster.path_for("en") == folder / "poster.pdf"
    assert poster.path_for("fr") == folder / "poster.fr.pdf"
    assert poster.path_for("sr-Latn") == poster.path_for("sr-Cyrl") == folder / "poster.sr-latn.pdf"
    assert proclamation.path_for("sr-Cyrl") == folder / "Проглас.odt"  # missing: check says so
    assert not proclamation.variants


def test_a_reminder_file_needs_no_subject(tmp_path: Path) -> None:
    """Its subject is the first message's after the reminder prefix, so it stays in the thread."""
    folder = write(
        tmp_path / "s", GOOD_TOML, {"en.md": GOOD_MD, "reminder.en.md": "---\n---\nStill?\n"}
    )
    reminder = load_statement(folder).reminders["en"]
    assert (reminder.subject, reminder.body) == ("", "Still?\n")
