"""The JSONC parser: comments, trailing commas, positions, errors that never crash."""
from __future__ import annotations

import json

import pytest

from scanner.audit.jsonc import MAX_DEPTH, JsoncError, parse


def test_plain_json_matches_the_standard_library() -> None:
    text = '{"a": [1, 2.5, -3e2, true, false, null], "b": {"c": "\\u00e9\\n\\"x\\""}}'
    assert parse(text).to_python() == json.loads(text)


def test_comments_and_trailing_commas_are_accepted() -> None:
    text = """// leading comment
{
  /* block
     comment */ "servers": {
    "a": {"args": ["x", "y",],},  // trailing commas
  },
}
"""
    assert parse(text).to_python() == {"servers": {"a": {"args": ["x", "y"]}}}


def test_positions_of_keys_and_values_are_one_based_line_and_column() -> None:
    text = '// c\r\n{\r\n  /* x */ "env": {\r\n    "TOKEN": "abc"\r\n  }\r\n}'
    root = parse(text)
    env = root.get("env")
    assert env is not None and (env.line, env.column) == (3, 18)
    key, key_node, value = env.members[0]
    assert key == "TOKEN"
    assert (key_node.line, key_node.column) == (4, 5)
    assert (value.line, value.column) == (4, 14)


def test_strings_containing_comment_markers_are_not_comments() -> None:
    root = parse('{"url": "https://example.com/*x*/", "b": "//"}')
    assert root.to_python() == {"url": "https://example.com/*x*/", "b": "//"}


def test_duplicate_keys_keep_all_members_and_get_returns_the_last() -> None:
    root = parse('{"a": 1, "a": 2}')
    assert len(root.members) == 2
    assert root.get("a") is not None and root.get("a").value == 2  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("text", "line", "column"),
    [
        ('{\n  "a": 1\n  "b": 2\n}', 3, 3),  # missing comma
        ('{\n  "a": tru\n}', 2, 8),
        ('{"a": "unterminated\n}', 1, 7),
        ('{"a": 1} /* open comment', 1, 10),
        ("", 1, 1),
        ('{"a": [1, 2}', 1, 12),
        ('{"a": 1} x', 1, 10),
        ("{'a': 1}", 1, 2),
    ],
)
def test_invalid_input_raises_jsonc_error_with_position(text: str, line: int, column: int) -> None:
    with pytest.raises(JsoncError) as info:
        parse(text)
    assert (info.value.line, info.value.column) == (line, column)


def test_hostile_nesting_is_an_error_not_a_crash() -> None:
    with pytest.raises(JsoncError, match="nesting deeper"):
        parse("[" * (MAX_DEPTH + 50) + "]" * (MAX_DEPTH + 50))
    assert parse("[" * 50 + "]" * 50).kind == "array"


def test_walk_yields_key_paths() -> None:
    root = parse('{"a": {"b": [true]}}')
    paths = [path for path, _ in root.walk()]
    assert ("a", "b", "0") in paths
