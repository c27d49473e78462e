"""A small JSON/JSONC parser that remembers where every key and value sits.

MCP clients accept JSON with comments and trailing commas (VS Code's
``mcp.json``, Zed's settings), and the standard library's ``json`` neither
reads that nor reports positions. Audit findings need a line and column for
the offending key or value, so this parser builds a tree of ``Node`` values,
each with the 1-based line and column where it starts.

Nesting is capped (``MAX_DEPTH``) so a hostile file cannot exhaust the stack;
every problem is a ``JsoncError`` with the position, never another exception.
"""
from __future__ import annotations

import bisect
import json
import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any, Optional, Union

MAX_DEPTH = 200

# Whitespace and comments between tokens. An unterminated block comment is
# left unmatched so the caller sees "/*" and reports it.
_SKIP = re.compile(r"(?:[ \t\r\n\ufeff]+|//[^\n]*|/\*.*?\*/)*", re.DOTALL)
_STRING = re.compile(r'"(?:[^"\\\x00-\x1f]|\\.)*"', re.DOTALL)
_NUMBER = re.compile(r"-?(?:0|[1-9][0-9]*)(?:\.[0-9]+)?(?:[eE][+-]?[0-9]+)?")
_LITERALS = {"true": True, "false": False, "null": None}


def _integer(raw: str) -> Union[int, float]:
    """``int(raw)``, or ``inf`` past Python's int() digit limit (a lifetime that long is as good as infinite)."""
    try:
        return int(raw)
    except ValueError:  # "Exceeds the limit (4300 digits) for integer string conversion"
        return float(raw)


class JsoncError(ValueError):
    """Invalid JSON/JSONC, with the 1-based position of the problem."""

    def __init__(self, message: str, line: int, column: int) -> None:
        super().__init__(f"{message} at line {line}, column {column}")
        self.reason = message
        self.line = line
        self.column = column


@dataclass
class Node:
    """One JSON value and where it starts.

    ``kind`` is object, array, string, number, bool or null. ``value`` holds
    the Python value of a scalar; ``members`` the (key, key_node, value) triples
    of an object in file order (duplicates kept); ``items`` an array's nodes.
    """

    kind: str
    line: int
    column: int
    value: Any = None
    members: list[tuple[str, "Node", "Node"]] = field(default_factory=list)
    items: list["Node"] = field(default_factory=list)

    def get(self, key: str) -> Optional["Node"]:
        """The value of ``key`` in an object (the last one, as JSON parsers do)."""
        found = None
        for name, _, value in self.members:
            if name == key:
                found = value
        return found

    def get_ci(self, key: str) -> Optional["Node"]:
        """Like ``get`` but ignoring the key's case."""
        wanted = key.lower()
        found = None
        for name, _, value in self.members:
            if name.lower() == wanted:
                found = value
        return found

    def to_python(self) -> Any:
        """The plain Python value (dict/list/str/...) of this node."""
        if self.kind == "object":
            return {k: v.to_python() for k, _, v in self.members}
        if self.kind == "array":
            return [item.to_python() for item in self.items]
        return self.value

    def walk(self, path: tuple[str, ...] = ()) -> Iterator[tuple[tuple[str, ...], "Node"]]:
        """Every node below (and including) this one with its key path."""
        yield path, self
        for key, _, value in self.members:
            yield from value.walk(path + (key,))
        for index, item in enumerate(self.items):
            yield from item.walk(path + (str(index),))


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.pos = 0
        self.line_starts = [0] + [m.end() for m in re.finditer("\n", text)]

    def where(self, offset: int) -> tuple[int, int]:
        index = bisect.bisect_right(self.line_starts, offset) - 1
        return index + 1, offset - self.line_starts[index] + 1

    def error(self, message: str, offset: Optional[int] = None) -> JsoncError:
        line, column = self.where(self.pos if offset is None else offset)
        return JsoncError(message, line, column)

    def skip(self) -> None:
        self.pos = _SKIP.match(self.text, self.pos).end()  # type: ignore[union-attr]
        if self.text.startswith("/*", self.pos):
            raise self.error("unterminated /* comment")

    def parse(self) -> Node:
        self.skip()
        if self.pos >= len(self.text):
            raise self.error("empty document")
        node = self.value(0)
        self.skip()
        if self.pos < len(self.text):
            raise self.error(f"unexpected {self.text[self.pos]!r} after the top-level value")
        return node

    def value(self, depth: int) -> Node:
        if depth > MAX_DEPTH:
            raise self.error(f"nesting deeper than {MAX_DEPTH} levels")
        if self.pos >= len(self.text):
            raise self.error("unexpected end of input")
        char = self.text[self.pos]
        line, column = self.where(self.pos)
        if char == "{":
            return self.container(depth, Node("object", line, column))
        if char == "[":
            return self.container(depth, Node("array", line, column))
        if char == '"':
            return Node("string", line, column, value=self.string())
        match = _NUMBER.match(self.text, self.pos)
        if match:
            self.pos = match.end()
            raw = match.group()
            number: Union[int, float] = float(raw) if any(c in raw for c in ".eE") else _integer(raw)
            return Node("number", line, column, value=number)
        for word, literal in _LITERALS.items():
            if self.text.startswith(word, self.pos):
                self.pos += len(word)
                return Node("null" if literal is None else "bool", line, column, value=literal)
        raise self.error(f"unexpected {char!r}")

    def string(self) -> str:
        match = _STRING.match(self.text, self.pos)
        if not match:
            raise self.error("unterminated string or control character in string")
        raw = match.group()
        if "\\" not in raw:  # no escapes: the common case needs no decoding
            self.pos = match.end()
            return raw[1:-1]
        try:
            decoded: str = json.loads(raw)
        except ValueError as exc:
            raise self.error(f"bad escape in string ({exc})") from None
        self.pos = match.end()
        return decoded

    def container(self, depth: int, node: Node) -> Node:
        closing = "}" if node.kind == "object" else "]"
        self.pos += 1
        while True:
            self.skip()
            if self.text.startswith(closing, self.pos):
                self.pos += 1
                return node  # also accepts a trailing comma before the closer (JSONC)
            if node.kind == "object":
                if not self.text.startswith('"', self.pos):
                    raise self.error("expected a quoted key")
                key_line, key_column = self.where(self.pos)
                key = self.string()
                self.skip()
                if not self.text.startswith(":", self.pos):
                    raise self.error("expected ':' after key")
                self.pos += 1
                self.skip()
                member = self.value(depth + 1)
                node.members.append((key, Node("string", key_line, key_column, value=key), member))
            else:
                node.items.append(self.value(depth + 1))
            self.skip()
            if self.text.startswith(",", self.pos):
                self.pos += 1
            elif not self.text.startswith(closing, self.pos):
                if self.pos >= len(self.text):
                    raise self.error(f"unexpected end of input (missing {closing!r})")
                raise self.error(f"expected ',' or {closing!r}")


def parse(text: str) -> Node:
    """Parse JSON or JSONC text into a ``Node`` tree; raise ``JsoncError`` if invalid."""
    return _Parser(text).parse()
