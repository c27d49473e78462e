"""scanner.record behaves as dataclasses does for the classes declared with it."""
from __future__ import annotations

import copy
import dataclasses
import pickle
from typing import Any, Optional

import pytest

from scanner import record
from scanner.models import Finding, Fragment, Incomplete


def _pair(frozen: bool) -> tuple[Any, Any]:
    """The same class declared with dataclasses and with record."""
    made = []
    for module in (dataclasses, record):
        @module.dataclass(frozen=frozen)
        class Point:
            x: int
            label: str = "p"
            tags: list[str] = module.field(default_factory=list)
            note: Optional[str] = module.field(default=None, compare=False, hash=False)
        made.append(Point)
    return made[0], made[1]


@pytest.mark.parametrize("frozen", [False, True])
def test_a_record_acts_as_the_dataclass(frozen: bool) -> None:
    real, light = _pair(frozen)
    for cls in (real, light):
        a, b = cls(1), cls(1, "p", [], note="ignored by ==")
        assert a == b and a != cls(2) and a.__eq__(object()) is NotImplemented
        assert (a.x, a.label, a.tags, a.note) == (1, "p", [], None)
        assert a.tags is not cls(1).tags  # a fresh default per instance
        assert cls.label == "p"  # the class attribute is the default
        with pytest.raises(TypeError):
            cls()
    assert repr(real(1, "q")).split("(", 1)[1] == repr(light(1, "q")).split("(", 1)[1]
    if frozen:
        assert hash(light(1, "q", ())) == hash(light(1, "q", (), note="x"))  # note is not hashed
        with pytest.raises(AttributeError):
            light(1).x = 2
        with pytest.raises(AttributeError):
            del light(1).x
    else:
        assert light.__hash__ is None
        point = light(1)
        point.x = 3
        assert point.x == 3


def test_replace_fields_pickle_and_copy() -> None:
    finding = Finding(rule_id="r", severity="high", message="m", path="a.py", line=1, column=2, secret="s",
                      fingerprint="f", extra={"repo": "x"})
    moved = finding.replace(line=7)
    assert (moved.line, moved.path, moved.extra) == (7, "a.py", {"repo": "x"}) and finding.line == 1
    assert moved != finding and moved.replace(line=1) == finding
    assert finding.replace(extra={}) == finding  # extra is not compared, nor hashed
    assert hash(finding.replace(extra={})) == hash(finding)
    assert [f.name for f in record.fields(Finding)][:3] == ["rule_id", "severity", "message"]
    assert pickle.loads(pickle.dumps(finding)) == finding  # history hands findings between processes
    assert copy.deepcopy(finding) == finding
    incomplete = Incomplete(reason="missing-blob", message="m")
    assert incomplete.replace(commit="c").commit == "c"
    fragment = Fragment(text="t", path="p")
    assert (fragment.start_line, fragment.binary, fragment.report_lines) == (1, False, None)
    with pytest.raises(AttributeError):
        fragment.text = "u"  # type: ignore[misc]
