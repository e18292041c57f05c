"""The documented JSON shapes, read from docs/reference.md, and a check of a real
document against them.

docs/reference.md is the one place the shapes are written (between the
``json-shapes`` markers, in the notation it explains above them), so the
documentation and the tests cannot drift apart: tests/test_json_contract.py
holds every command's real document to its shape here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

REFERENCE = Path(__file__).resolve().parent.parent / "docs" / "reference.md"
_BLOCK = re.compile(r"<!-- json-shapes: start -->\n(.*?)<!-- json-shapes: end -->", re.S)
_COMMAND = re.compile(r"^ {4}mailer (.+?)\s+(?=[\[{])")
_TOKEN = re.compile(r'\s*(?:(".*?")|(\.\.|[\[\]{}:,|?])|([^\s\[\]{}:,|?"]+))')


@dataclass(frozen=True)
class Value:
    """One value: a string, a number, true/false or null (``N``: a number only)."""

    number: bool = False


@dataclass(frozen=True)
class Choice:
    """One of the given strings."""

    options: frozenset[str]


@dataclass(frozen=True)
class Null:
    pass


@dataclass(frozen=True)
class ListOf:
    item: Shape


@dataclass(frozen=True)
class Object:
    """Exactly these fields; ``optional`` ones may be missing."""

    fields: dict[str, Shape]
    optional: frozenset[str]


@dataclass(frozen=True)
class MapOf:
    """An object whose field names are data (languages, reasons)."""

    value: Shape


@dataclass(frozen=True)
class Ref:
    """The shape of another command's document (``item``: one item of its list)."""

    command: str
    item: bool = False


@dataclass(frozen=True)
class AnyOf:
    options: tuple[Shape, ...]


Shape = Value | Choice | Null | ListOf | Object | MapOf | Ref | AnyOf


class NotationError(ValueError):
    """docs/reference.md's shape block does not follow its own notation."""


def documented_shapes(text: str | None = None) -> dict[str, Shape]:
    """Every command's shape, by the command as written after ``mailer``."""
    text = REFERENCE.read_text(encoding="utf-8") if text is None else text
    block = _BLOCK.search(text)
    if block is None:
        raise NotationError(f"{REFERENCE.name}: no json-shapes block")
    shapes: dict[str, Shape] = {}
    lines = block.group(1).splitlines()
    i = 0
    while i < len(lines):
        match = _COMMAND.match(lines[i])
        if not match:  # a note under a shape, or a blank line
            i += 1
            continue
        command = " ".join(match.group(1).split())
        source = lines[i][match.end() :]
        while _depth(source) > 0 and i + 1 < len(lines):
            i += 1
            source += " " + lines[i].strip()
        if command in shapes:
            raise NotationError(f"{command!r} is documented twice")
        shapes[command] = _Parser(source, command).document()
        i += 1
    for command, shape in shapes.items():
        for ref in _refs(shape):
            if ref.command not in shapes:
                raise NotationError(f"{command!r} refers to {ref.command!r}, not documented")
    return shapes


def _depth(text: str) -> int:
    text = re.sub(r'".*?"', "", text)
    return sum(text.count(c) for c in "[{") - sum(text.count(c) for c in "]}")


def _refs(shape: Shape) -> list[Ref]:
    if isinstance(shape, Ref):
        return [shape]
    if isinstance(shape, ListOf):
        return _refs(shape.item)
    if isinstance(shape, MapOf):
        return _refs(shape.value)
    if isinstance(shape, Object):
        return [r for s in shape.fields.values() for r in _refs(s)]
    if isinstance(shape, AnyOf):
        return [r for s in shape.options for r in _refs(s)]
    return []


class _Parser:
    """Recursive descent over the notation docs/reference.md explains."""

    def __init__(self, source: str, command: str) -> None:
        self.command = command
        self.tokens: list[str] = []
        position = 0
        source = source.rstrip()
        while position < len(source):
            match = _TOKEN.match(source, position)
            if match is None or match.end() == position:
                raise self.error(f"cannot read {source[position:]!r}")
            self.tokens.append(match.group().strip())
            position = match.end()
        self.at = 0

    def error(self, why: str) -> NotationError:
        return NotationError(f"{REFERENCE.name}, the shape of {self.command!r}: {why}")

    def peek(self) -> str | None:
        return self.tokens[self.at] if self.at < len(self.tokens) else None

    def take(self, expected: str | None = None) -> str:
        token = self.peek()
        if token is None or (expected is not None and token != expected):
            raise self.error(f"expected {expected or 'more'}, found {token!r}")
        self.at += 1
        return token

    def document(self) -> Shape:
        shape = self.shape()
        if self.peek() is not None:
            raise self.error(f"unexpected {self.peek()!r} after the shape")
        return shape

    def shape(self) -> Shape:
        options = [self.single()]
        while self.peek() == "|":
            self.take("|")
            options.append(self.single())
        strings = [o for o in options if isinstance(o, Choice)]
        others = [o for o in options if not isinstance(o, Choice)]
        if strings:
            others.insert(0, Choice(frozenset().union(*(s.options for s in strings))))
        return others[0] if len(others) == 1 else AnyOf(tuple(others))

    def single(self) -> Shape:
        token = self.take()
        if token == "{":
            return self.object()
        if token == "[":
            item: Shape = Value() if self.peek() == ".." else self.shape()
            if self.peek() == "..":
                self.take("..")
            self.take("]")
            return ListOf(item)
        if token.startswith('"'):
            return Choice(frozenset([token.strip('"')]))
        if token == "null":
            return Null()
        if token == "N":
            return Value(number=True)
        if re.fullmatch(r"[a-z_]+", token):  # a word standing for data: a value
            return Value()
        raise self.error(f"unexpected {token!r}")

    def object(self) -> Shape:
        if self.peek() == "as":
            self.take("as")
            words = []
            while self.peek() not in ("}", None):
                words.append(self.take())
            self.take("}")
            text = " ".join(words)
            if text.startswith("an item of "):
                return Ref(text.removeprefix("an item of "), item=True)
            return Ref(text)
        first = self.peek() or ""
        if re.fullmatch(r"[a-z_]+", first):  # {lang: N}: field names are data
            self.take()
            self.take(":")
            value = self.shape()
            self.take("}")
            return MapOf(value)
        fields: dict[str, Shape] = {}
        optional = set()
        while True:
            name = self.take()
            if not name.startswith('"'):
                raise self.error(f"expected a field name in quotes, found {name!r}")
            name = name.strip('"')
            if name in fields:
                raise self.error(f"field {name!r} appears twice")
            if self.peek() == "?":
                self.take("?")
                optional.add(name)
            fields[name] = Value()
            if self.peek() == ":":
                self.take(":")
                fields[name] = self.shape()
            separator = self.take()
            if separator == "}":
                return Object(fields, frozenset(optional))
            if separator != ",":
                raise self.error(f"expected ',' or '}}' after field {name!r}, found {separator!r}")


def problems(document: Any, shape: Shape, shapes: dict[str, Shape], path: str = "") -> list[str]:
    """Where ``document`` differs from ``shape``: each problem names its place, such
    as ``by_org[3].state``. Empty when it has exactly the documented fields."""
    where = path or "the document"
    if isinstance(shape, Ref):
        target = shapes[shape.command]
        if shape.item:
            if not isinstance(target, ListOf):
                return [f"{where}: {shape.command!r} is not documented as a list"]
            target = target.item
        return problems(document, target, shapes, path)
    if isinstance(shape, AnyOf):
        found = [problems(document, option, shapes, path) for option in shape.options]
        return min(found, key=len)  # the option it fits best: [] when it fits one
    if isinstance(shape, Null):
        return [] if document is None else [f"{where}: expected null, got {_short(document)}"]
    if isinstance(shape, Choice):
        if document in shape.options:
            return []
        return [f"{where}: expected one of {sorted(shape.options)}, got {_short(document)}"]
    if isinstance(shape, Value):
        if isinstance(document, dict | list):
            return [f"{where}: documented as one value, got {_short(document)}"]
        if shape.number and (isinstance(document, bool) or not isinstance(document, int | float)):
            return [f"{where}: expected a number, got {_short(document)}"]
        return []
    if isinstance(shape, ListOf):
        if not isinstance(document, list):
            return [f"{where}: expected a list, got {_short(document)}"]
        return [
            p
            for i, d in enumerate(document)
            for p in problems(d, shape.item, shapes, f"{path}[{i}]")
        ]
    if not isinstance(document, dict):
        return [f"{where}: expected an object, got {_short(document)}"]
    if isinstance(shape, MapOf):
        return [
            p for k, v in document.items() for p in problems(v, shape.value, shapes, _at(path, k))
        ]
    found_problems = [
        f"{where}: field {k!r} is not documented" for k in document if k not in shape.fields
    ]
    found_problems += [
        f"{where}: documented field {k!r} is missing"
        for k in shape.fields
        if k not in document and k not in shape.optional
    ]
    for name, field_shape in shape.fields.items():
        if name in document:
            found_problems += problems(document[name], field_shape, shapes, _at(path, name))
    return found_problems


def _at(path: str, key: str) -> str:
    return f"{path}.{key}" if path else key


def _short(document: Any) -> str:
    text = repr(document)
    return text if len(text) <= 60 else text[:59] + "…"
