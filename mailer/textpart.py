"""Markdown into plain text: the text/plain part of each message, and the public
statement as text.

Both parts of a message come from the same parse (:func:`markdown_parser`), so
they say the same thing: the text part walks markdown-it's syntax tree instead of
reading the Markdown again. It reads like the Markdown it came from: paragraphs
and list items re-wrapped at 72 columns, nested lists indented under their item,
quotes behind ``> ``, headings underlined, links spelled out as "text (url)",
strong text between ``*``, code as written.
"""

from __future__ import annotations

import re
import textwrap
from collections.abc import Sequence
from functools import cache
from html import unescape
from typing import TYPE_CHECKING
from urllib.parse import quote

if TYPE_CHECKING:  # markdown-it is imported on first use: most commands render nothing
    from markdown_it import MarkdownIt
    from markdown_it.tree import SyntaxTreeNode

WIDTH = 72
NARROWEST = 20  # text nested deeper than 72 columns allow is still wrapped this wide
RULE = "-" * 20  # a thematic break (---)
_BREAK = re.compile(r"<br\s*/?>", re.IGNORECASE)
_TAG = re.compile(r"<!--.*?-->|<[!?/]?[a-zA-Z][^>]*>", re.DOTALL)
_ALIGN = {"text-align:right": str.rjust, "text-align:center": str.center}  # else ljust
_URL_END = re.compile(r'[\s<>"\x00-\x1f\x7f]')  # what would cut a URL short in plain text


@cache
def markdown_parser() -> MarkdownIt:
    """The one CommonMark parser (with tables and strikethrough) for every part."""
    from markdown_it import MarkdownIt

    return MarkdownIt("commonmark").enable(["table", "strikethrough"])


def markdown_to_text(source: str, width: int = WIDTH) -> str:
    """``source`` as plain text, ``width`` columns wide (words longer stay whole)."""
    from markdown_it.tree import SyntaxTreeNode

    lines = _blocks(SyntaxTreeNode(markdown_parser().parse(source)).children, width)
    return "\n".join(lines) + "\n" if lines else ""


def _blocks(nodes: Sequence[SyntaxTreeNode], width: int, *, tight: bool = False) -> list[str]:
    """Block after block, a blank line between them (none in a tight list item)."""
    out: list[str] = []
    for node in nodes:
        lines = _block(node, width)
        if lines and out and not tight:
            out.append("")
        out += lines
    return out


def _block(node: SyntaxTreeNode, width: int) -> list[str]:
    kind = node.type
    if kind == "paragraph":
        return _wrap(_inline(node.children), width)
    if kind == "heading":
        title = " ".join(_inline(node.children).split())
        return [title, ("=" if node.tag == "h1" else "-") * min(len(title), width)]
    if kind in ("bullet_list", "ordered_list"):
        return _list(node, width)
    if kind == "blockquote":
        return [f"> {line}" if line else ">" for line in _blocks(node.children, width - 2)]
    if kind == "fence":
        return node.content.rstrip("\n").split("\n")
    if kind == "code_block":
        return [f"    {line}" if line else "" for line in node.content.rstrip("\n").split("\n")]
    if kind == "hr":
        return [RULE]
    if kind == "html_block":
        return _wrap(unescape(_TAG.sub("", _BREAK.sub("\n", node.content))), width)
    if kind == "table":
        return _table(node)
    return _blocks(node.children, width)  # any other container: its content


def _list(node: SyntaxTreeNode, width: int) -> list[str]:
    """Each item behind its marker, its other lines indented to match; an ordered
    list counted from its start, as the HTML part shows it."""
    items = node.children
    tight = all(p.hidden for item in items for p in item.children if p.type == "paragraph")
    start = int(str(node.attrs.get("start", 1)))
    out: list[str] = []
    for number, item in enumerate(items, start):
        marker = f"{number}{item.markup} " if node.type == "ordered_list" else f"{item.markup} "
        lines = _blocks(item.children, width - len(marker), tight=tight) or [""]
        if out and not tight:
            out.append("")
        out.append((marker + lines[0]).rstrip())
        out += [" " * len(marker) + line if line else "" for line in lines[1:]]
    return out


def _table(node: SyntaxTreeNode) -> list[str]:
    """Rows with their columns lined up (tables are not re-wrapped)."""
    rows = [
        [
            (" ".join(_inline(cell.children).split()), str(cell.attrs.get("style", "")))
            for cell in row.children
        ]
        for section in node.children
        for row in section.children
    ]
    widths = [max(len(row[i][0]) for row in rows) for i in range(len(rows[0]))]

    def line(row: list[tuple[str, str]]) -> str:
        cells = [
            _ALIGN.get(style, str.ljust)(text, size)
            for (text, style), size in zip(row, widths, strict=True)
        ]
        return "| " + " | ".join(cells) + " |"

    head, *body = rows
    return [line(head), "|" + "|".join("-" * (size + 2) for size in widths) + "|"] + [
        line(row) for row in body
    ]


def _wrap(text: str, width: int) -> list[str]:
    """Re-wrapped lines; a hard line break (two spaces, ``\\``, ``<br>``) stays."""
    lines: list[str] = []
    width = max(width, NARROWEST)
    for piece in text.split("\n"):
        lines += textwrap.wrap(
            piece.strip(), width, break_long_words=False, break_on_hyphens=False
        ) or [""]
    while lines and not lines[-1]:
        lines.pop()
    return lines


def _inline(nodes: Sequence[SyntaxTreeNode]) -> str:
    """Inline Markdown as text: entities and escapes read, links spelled out, markup
    kept where it carries meaning: strong as ``*strong*``, emphasis, struck text and
    code as written, ``<br>`` as a line break; other HTML tags left out."""
    out: list[str] = []
    for node in nodes:
        kind = node.type
        if kind == "text":
            out.append(node.content)
        elif kind == "softbreak":
            out.append(" ")
        elif kind == "hardbreak":
            out.append("\n")
        elif kind == "code_inline":
            out.append(f"{node.markup}{node.content}{node.markup}")
        elif kind == "html_inline":
            out.append("\n" if _BREAK.fullmatch(node.content.strip()) else "")
        elif kind == "strong":
            out.append(f"*{_inline(node.children)}*")
        elif kind in ("em", "s"):
            out.append(f"{node.markup}{_inline(node.children)}{node.markup}")
        elif kind == "link":
            out.append(_link(_inline(node.children), str(node.attrs["href"])))
        elif kind == "image":
            out.append(_link(_inline(node.children), str(node.attrs["src"]), image=True))
        else:
            out.append(_inline(node.children))
    return "".join(out)


def _link(label: str, href: str, *, image: bool = False) -> str:
    """``label (url)``, or the bare URL when the label is the URL (autolinks). The
    URL reads as written (``пример.рф``, not ``xn--e1afmkfd``), with what would end
    it in plain text (a space) still percent-encoded; ``mailto:`` is left out."""
    shown = _URL_END.sub(lambda m: quote(m.group()), markdown_parser().normalizeLinkText(href))
    target = shown.removeprefix("mailto:")
    if not image and label in (href, shown, target):
        return target
    return f"{label} ({target})" if label.strip() else target
