"""Property-based tests of the JSONC parser used by ``audit`` (issue 7, item 6).

Random and mutated text raises only ``JsoncError`` (never RecursionError or
IndexError); valid JSON dressed with comments, trailing commas and CRLF
parses to the same value; and every node's line/column points at the first
character of that value in the text.
"""
from __future__ import annotations

import json
import re

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from scanner.audit.jsonc import MAX_DEPTH, JsoncError, Node, parse

FUZZ = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])

_SCALARS = st.none() | st.booleans() | st.integers(-10**12, 10**12) | st.text(max_size=20) | \
    st.floats(allow_nan=False, allow_infinity=False, width=32)
_JSON = st.recursive(_SCALARS, lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
                     max_leaves=25)


def parse_or_error(text: str) -> None:
    try:
        node = parse(text)
    except JsoncError as exc:
        assert exc.line >= 1 and exc.column >= 1
        return
    assert isinstance(node, Node)


@FUZZ
@given(st.text(max_size=500))
def test_random_text_raises_only_jsonc_error(text: str) -> None:
    parse_or_error(text)


@FUZZ
@given(st.lists(st.sampled_from(list('{}[],:"\\/*\n\r\t ') + ["//", "/*", "*/", "true", "null", "1e5", "-", "\"a\""]),
                max_size=80).map("".join))
def test_token_soup_raises_only_jsonc_error(text: str) -> None:
    parse_or_error(text)


_COMMENTS = st.sampled_from(["", " ", "\n", "\r\n", "// note\n", "/* block */", "/* multi\nline */", "\t"])


@st.composite
def dressed(draw: st.DrawFn) -> tuple[object, str]:
    """A value and a JSONC rendering of it: comments/whitespace between tokens, trailing commas."""
    value = draw(_JSON)
    rendered = json.dumps(value, indent=draw(st.sampled_from([None, 2])), ensure_ascii=draw(st.booleans()))
    out = []
    in_string = False
    escaped = False
    for char in rendered:
        if in_string:
            out.append(char)
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == "\"":
                in_string = False
            continue
        if char == "\"":
            in_string = True
        elif char in "}]" and out and out[-1].strip() not in ("[", "{") and draw(st.booleans()):
            out.append(",")  # trailing comma, as VS Code allows
        if char in ",:{}[]":
            out.append(draw(_COMMENTS))
        out.append(char)
    return value, draw(_COMMENTS) + "".join(out) + draw(_COMMENTS)


@FUZZ
@given(dressed())
def test_dressed_json_round_trips(case: tuple[object, str]) -> None:
    value, text = case
    assert parse(text).to_python() == json.loads(json.dumps(value))


def _offset(text: str, line: int, column: int) -> int:
    starts = [0] + [m.end() for m in re.finditer("\n", text)]
    return starts[line - 1] + column - 1


@FUZZ
@given(dressed())
def test_every_node_position_points_at_its_value(case: tuple[object, str]) -> None:
    _, text = case
    root = parse(text)
    for _path, node in root.walk():
        at = text[_offset(text, node.line, node.column):]
        first = {"object": "{", "array": "[", "string": "\"", "bool": "tf", "null": "n"}.get(node.kind)
        if first is not None:
            assert at[:1] in first, (node.kind, at[:10])
        else:
            assert at[:1] in "-0123456789", (node.kind, at[:10])
        for _key, key_node, _value in node.members:
            assert text[_offset(text, key_node.line, key_node.column)] == "\""


@st.composite
def mutated(draw: st.DrawFn) -> str:
    _, text = draw(dressed())
    chars = list(text)
    for _ in range(draw(st.integers(1, 4))):
        at = draw(st.integers(0, len(chars)))
        kind = draw(st.sampled_from(["delete", "insert", "truncate"]))
        if kind == "delete":
            del chars[at : at + draw(st.integers(1, 3))]
        elif kind == "insert":
            chars[at:at] = list(draw(st.sampled_from(["{", "[", "\"", "/*", "//", ",", ":", "\\", "\x00", "\ud800"])))
        else:
            del chars[at:]
    return "".join(chars)


@FUZZ
@given(mutated())
def test_mutated_jsonc_raises_only_jsonc_error(text: str) -> None:
    parse_or_error(text)


def test_deep_nesting_is_an_error_not_a_crash() -> None:
    for opener, closer in (("[", "]"), ("{\"a\":", "}")):
        for depth in (MAX_DEPTH + 1, 100_000):
            try:
                parse(opener * depth + "1" + closer * depth)
            except JsoncError as exc:
                assert "nesting" in exc.reason
            else:
                raise AssertionError("nesting beyond MAX_DEPTH must be refused")
