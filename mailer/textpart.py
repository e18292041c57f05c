"""Markdown into plain text: the text/plain part of each message, and the public
statement as text. It reads like the Markdown it came from: paragraphs and list
items re-wrapped at 72 columns, headings underlined, links spelled out.
"""

from __future__ import annotations

import re
import textwrap
from functools import cache
from typing import Any


@cache
def markdown_parser() -> Any:
    """The one CommonMark parser (with tables and strikethrough) for every part."""
    from markdown_it import MarkdownIt

    return MarkdownIt("commonmark").enable(["table", "strikethrough"])


_HEADING = re.compile(r"^(#{1,6})\s+(.*?)\s*#*\s*$")
_IMAGE = re.compile(r"!\[([^\]]*)\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
_LINK = re.compile(r"\[([^\]]+)\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
_AUTOLINK = re.compile(r"<((?:https?://|mailto:)[^>\s]+)>")
_ESCAPE = re.compile(r"\\([\\`*_{}\[\]()#+\-.!<>])")
_ITEM = re.compile(r"^\s*(?:[-*+]|\d+[.)])\s+")
_QUOTE = re.compile(r"^\s*>\s?")
_RULE = re.compile(r"^\s*(?:[-*_]\s*){3,}$")
_UNDERLINE = re.compile(r"^\s*(?:=+|-+)\s*$")


def _link_text(m: re.Match[str]) -> str:
    label, url = m.group(1), m.group(2)
    target = url.removeprefix("mailto:")
    return label if label in (url, target) else f"{label} ({target})"


def _inline(line: str) -> str:
    """One line of Markdown as plain text: links spelled out, markup removed."""
    line = _IMAGE.sub(lambda m: f"{m.group(1)} ({m.group(2)})", line)
    line = _LINK.sub(_link_text, line)
    line = _AUTOLINK.sub(lambda m: m.group(1).removeprefix("mailto:"), line)
    line = re.sub(r"</?[a-zA-Z][^>]*>", "", line)
    line = re.sub(r"\*\*(.+?)\*\*|__(.+?)__", lambda m: f"*{m.group(1) or m.group(2)}*", line)
    return _ESCAPE.sub(r"\1", line)


class _TextBlocks:
    """Collects paragraphs, list items and quotes, each re-wrapped as one block."""

    def __init__(self, width: int) -> None:
        self.width, self.lead = width, ""
        self.out: list[str] = []
        self.words: list[str] = []

    def flush(self) -> None:
        if self.words:
            rest = self.lead if self.lead.startswith(">") else " " * len(self.lead)
            self.out.append(
                textwrap.fill(
                    " ".join(self.words),
                    self.width,
                    initial_indent=self.lead,
                    subsequent_indent=rest,
                    break_long_words=False,
                    break_on_hyphens=False,
                )
            )
        self.words, self.lead = [], ""

    def add(self, line: str, lead: str | None = None) -> None:
        if lead is not None:
            self.flush()
            self.lead = lead
        hard = line.endswith(("  ", "\\")) or re.search(r"<br\s*/?>\s*$", line)
        self.words.append(_inline(line.strip().rstrip("\\")))
        if hard:
            lead, quoted = self.lead, self.lead.startswith(">")
            self.flush()
            self.lead = lead if quoted else " " * len(lead)


def markdown_to_text(source: str, width: int = 72) -> str:
    """Plain text that reads like the Markdown it came from: paragraphs and list
    items re-wrapped, headings underlined, links spelled out, markup removed."""
    blocks = _TextBlocks(width)
    in_code = False
    for line in source.split("\n"):
        if line.lstrip().startswith(("```", "~~~")):
            blocks.flush()
            in_code = not in_code
            continue
        heading = None if in_code else _HEADING.match(line)
        if in_code or not line.strip() or line.startswith("    ") or line.lstrip().startswith("|"):
            blocks.flush()
            blocks.out.append(line if in_code or not line.strip() else _inline(line))
        elif heading:
            blocks.flush()
            title = _inline(heading.group(2))
            rule = "=" if len(heading.group(1)) == 1 else "-"
            blocks.out += [title, rule * min(len(title), width)]
        elif _UNDERLINE.match(line) and blocks.words:
            title = " ".join(blocks.words)
            blocks.words = []
            blocks.out += [title, line.strip()[0] * min(len(title), width)]
        elif _RULE.match(line):
            blocks.flush()
            blocks.out.append("-" * 20)
        elif _ITEM.match(line):
            item = _ITEM.match(line)
            assert item is not None
            blocks.add(line[item.end() :], lead=item.group().lstrip())
        elif _QUOTE.match(line):
            quote = _QUOTE.match(line)
            assert quote is not None
            same = blocks.lead.startswith(">")
            blocks.add(line[quote.end() :], lead=None if same else "> ")
        else:
            blocks.add(line)
    blocks.flush()
    return "\n".join(blocks.out)
