"""Markdown into the plain-text part."""

from __future__ import annotations

from mailer.textpart import markdown_to_text


def test_markdown_to_text_reads_well() -> None:
    text = markdown_to_text(
        "# Title\n\nSee [the site](https://x.org) and **this**.\n\n- one\n- two \\*x\\*\n"
    )
    assert text == "Title\n=====\n\nSee the site (https://x.org) and *this*.\n\n- one\n- two *x*\n"
