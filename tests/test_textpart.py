"""Markdown into the plain-text part: whole outputs, and a property that the text
part says everything the HTML part says (both come from one markdown-it parse)."""

from __future__ import annotations

import re
from html import unescape

from hypothesis import given
from hypothesis import strategies as st

from mailer.textpart import markdown_parser, markdown_to_text


def test_markdown_to_text_reads_well() -> None:
    text = markdown_to_text(
        "# Title\n\nSee [the site](https://x.org) and **this**.\n\n- one\n- two \\*x\\*\n"
    )
    assert text == "Title\n=====\n\nSee the site (https://x.org) and *this*.\n\n- one\n- two *x*\n"


# The parts used to disagree on each of these: the HTML part came from markdown-it,
# the text part from a second, line-by-line reading of the Markdown.


def test_reference_links_are_spelled_out_like_inline_ones() -> None:
    source = (
        "Read the [appeal of the dockers][appeal] and sign on [our page][].\n"
        "\n"
        "[appeal]: https://dockers.example.org/appeal-2026 'The appeal'\n"
        "[our page]: <https://party.example.org/sign>\n"
    )
    assert markdown_to_text(source) == (
        "Read the appeal of the dockers (https://dockers.example.org/appeal-2026)\n"
        "and sign on our page (https://party.example.org/sign).\n"
    )


def test_entities_are_read_as_characters() -> None:
    source = "Bread &amp; peace &ndash; for the workers of S&atilde;o Paulo &#x2014; now.\n"
    assert markdown_to_text(source) == "Bread & peace – for the workers of São Paulo — now.\n"


def test_nested_lists_are_indented_under_their_item() -> None:
    source = (
        "1. Ceasefire now\n"
        "2. Negotiations under international law:\n"
        "   - withdrawal of all foreign troops, including those stationed under bilateral\n"
        "     agreements\n"
        "   - an exchange of prisoners\n"
        "3. Reconstruction\n"
    )
    assert markdown_to_text(source) == (
        "1. Ceasefire now\n"
        "2. Negotiations under international law:\n"
        "   - withdrawal of all foreign troops, including those stationed under\n"
        "     bilateral agreements\n"
        "   - an exchange of prisoners\n"
        "3. Reconstruction\n"
    )


def test_code_spans_stay_exactly_as_written() -> None:
    source = "Reply with `WE SIGN` or `**decline**`; tags like `\\*urgent\\*` stay.\n"
    assert markdown_to_text(source) == source


def test_an_ordered_list_is_counted_as_the_html_shows_it() -> None:
    assert markdown_to_text("3. third\n1. fourth\n1. fifth\n") == "3. third\n4. fourth\n5. fifth\n"


def test_quotes_headings_breaks_and_rules() -> None:
    source = (
        "Naši zahtevi\n"
        "============\n"
        "\n"
        "> Mir, hleb i zemlja — za sve narode, bez izuzetka, sada i ubuduće, kako\n"
        "> je rečeno na konferenciji.\n"
        ">\n"
        "> > A quotation inside it.\n"
        "\n"
        "Drugarski pozdrav,  \n"
        "Međunarodno odeljenje<br>\n"
        "Beograd\n"
        "\n"
        "***\n"
        "\n"
        "### Kontakt ###\n"
    )
    assert markdown_to_text(source) == (
        "Naši zahtevi\n"
        "============\n"
        "\n"
        "> Mir, hleb i zemlja — za sve narode, bez izuzetka, sada i ubuduće, kako\n"
        "> je rečeno na konferenciji.\n"
        ">\n"
        "> > A quotation inside it.\n"
        "\n"
        "Drugarski pozdrav,\n"
        "Međunarodno odeljenje\n"
        "Beograd\n"
        "\n"
        "--------------------\n"
        "\n"
        "Kontakt\n"
        "-------\n"
    )


def test_a_loose_list_keeps_its_blank_lines() -> None:
    source = "- first point\n\n  with a second paragraph\n\n- second point\n"
    assert markdown_to_text(source) == (
        "- first point\n\n  with a second paragraph\n\n- second point\n"
    )


def test_links_autolinks_and_images() -> None:
    source = (
        "Write to <intl@party.example.org> or <mailto:press@party.example.org>, see\n"
        "<https://пример.рф/заявление> and [the list](https://x.org/a%20b?x=1&amp;y=2).\n"
        "![Our banner](https://x.org/banner.png) [https://x.org](https://x.org)\n"
    )
    assert markdown_to_text(source) == (
        "Write to intl@party.example.org or press@party.example.org, see\n"
        "https://пример.рф/заявление and the list (https://x.org/a%20b?x=1&y=2).\n"
        "Our banner (https://x.org/banner.png) https://x.org\n"
    )


def test_code_blocks_tables_and_html_are_laid_out_as_text() -> None:
    source = (
        "```\n"
        "Subject: WE SIGN\n"
        "```\n"
        "\n"
        "    indented  as written\n"
        "\n"
        "| Country | Organizations |\n"
        "|---------|--------------:|\n"
        "| Ελλάδα  | 3 |\n"
        "| Brasil  | 12 |\n"
        "\n"
        '<div align="center">Peace &amp; <b>bread</b><!-- draft --></div>\n'
    )
    assert markdown_to_text(source) == (
        "Subject: WE SIGN\n"
        "\n"
        "    indented  as written\n"
        "\n"
        "| Country | Organizations |\n"
        "|---------|---------------|\n"
        "| Ελλάδα  |             3 |\n"
        "| Brasil  |            12 |\n"
        "\n"
        "Peace & bread\n"
    )


def test_lines_wrap_at_72_columns_but_never_inside_a_word() -> None:
    url = "https://party.example.org/" + "a" * 80
    text = markdown_to_text(f"{'word ' * 30}[here]({url}) تضامن\n")
    lines = text.splitlines()
    assert lines == [
        ("word " * 14).strip(),
        ("word " * 14).strip(),
        "word word here",
        f"({url})",
        "تضامن",
    ]


def test_text_nested_deeper_than_the_width_is_still_wrapped() -> None:
    item = "123456789. item of a list that is long\n\n"
    lines = markdown_to_text("".join(" " * (11 * level) + item for level in range(9))).splitlines()
    assert lines[-2:] == [" " * 88 + "123456789. item of a list that", " " * 99 + "is long"]


def test_nothing_gives_nothing() -> None:
    assert markdown_to_text("") == ""
    assert markdown_to_text("[unused]: https://x.org\n\n<!-- a note -->\n") == ""


# --- the text part says what the HTML part says ----------------------------------------------

WORDS = st.sampled_from(
    ["peace", "Mir", "хлеб", "سلام", "Ειρήνη", "&amp;", "&lt;", "1.", "x_y", "a*b", "\\*", "#"]
)
INLINE = st.one_of(
    WORDS,
    WORDS.map(lambda w: f"**{w}**"),
    WORDS.map(lambda w: f"*{w}*"),
    WORDS.map(lambda w: f"`{w}`"),
    WORDS.map(lambda w: f"[{w}](https://x.org/{w.strip('&;*#')})"),
    WORDS.map(lambda w: f"[{w}][ref]"),
    st.just("<https://x.org/ü>"),
)
LINE = st.lists(INLINE, min_size=1, max_size=8).map(" ".join)
PREFIX = st.sampled_from(["", "", "- ", "  - ", "    - ", "1. ", "> ", "> - ", "# ", "## "])
BLOCK = st.one_of(
    st.tuples(PREFIX, LINE).map("".join),
    st.just(""),
    st.just("```"),
    st.just("---"),
)
SOURCE = st.lists(BLOCK, max_size=12).map(
    lambda lines: "\n".join(lines) + "\n[ref]: https://r.org\n"
)


def _visible_words(html: str) -> list[str]:
    return unescape(re.sub(r"<[^>]+>", " ", html)).split()


@given(SOURCE)
def test_every_word_of_the_html_part_is_in_the_text_part_in_order(source: str) -> None:
    text = markdown_to_text(source)
    position = 0
    for word in _visible_words(markdown_parser().render(source)):
        found = text.find(word, position)
        assert found >= 0, (word, text)
        position = found + len(word)
