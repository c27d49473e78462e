"""``@dataclass`` for the values the commit hook builds, without importing ``dataclasses``.

``import dataclasses`` imports ``inspect`` (and with it ``ast``, ``dis``,
``tokenize``...), and each ``@dataclass`` compiles five or six generated
methods: together ~10 ms of every ``mcp-scan staged`` run, more than the scan
of a small diff. The modules on the hook's path (models, rules, config,
detect, the diff parser, the report context) declare their classes with this
module's ``dataclass`` instead. Type checkers are told it *is*
``dataclasses.dataclass`` (``if TYPE_CHECKING`` in each of those modules), so
mypy checks constructors, defaults and frozenness exactly as before.

What it generates is the subset those classes use, with dataclasses'
semantics: ``__init__`` (positional or keyword, defaults, ``default_factory``),
``__repr__``, ``__eq__`` over the fields with ``compare=True``, and for
``frozen=True`` a ``__setattr__``/``__delattr__`` that refuse and a
``__hash__`` over the compared fields (a mutable record is unhashable, as a
dataclass with ``eq=True`` is). No inheritance between records, no
``order``, ``slots``, ``InitVar`` or ``ClassVar``: a class needing those uses
``dataclasses`` (tests/record_test.py compares the two).
"""
from __future__ import annotations

from collections.abc import Callable
from typing import Any, Optional

_MISSING: Any = object()


class FrozenInstanceError(AttributeError):
    """Assigning to a field of a frozen record (``dataclasses.FrozenInstanceError``'s counterpart)."""


class Field:
    """One field: its name, default or default factory, and whether ``==`` compares it."""

    __slots__ = ("name", "default", "default_factory", "compare")

    def __init__(self, default: Any = _MISSING, default_factory: Optional[Callable[[], Any]] = None,
                 compare: bool = True) -> None:
        self.name = ""
        self.default = default
        self.default_factory = default_factory
        self.compare = compare


def field(*, default: Any = _MISSING, default_factory: Optional[Callable[[], Any]] = None,
          compare: bool = True, hash: Optional[bool] = None) -> Any:
    """``dataclasses.field`` for records (``hash`` follows ``compare``, the only use here)."""
    return Field(default, default_factory, compare)


def fields(cls: Any) -> tuple[Field, ...]:
    """The record's fields in declaration order."""
    found: tuple[Field, ...] = cls.__record_fields__
    return found


def replace(obj: Any, **changes: Any) -> Any:
    """A copy of ``obj`` with some fields changed (``dataclasses.replace``)."""
    values = {f.name: getattr(obj, f.name) for f in obj.__record_fields__}
    values.update(changes)
    return obj.__class__(**values)


def dataclass(cls: Any = None, *, frozen: bool = False) -> Any:
    """Decorate a class as a record; ``@dataclass`` and ``@dataclass(frozen=True)`` both work."""
    def wrap(cls: Any) -> Any:
        return _build(cls, frozen)
    return wrap if cls is None else wrap(cls)


def _build(cls: Any, frozen: bool) -> Any:
    declared: list[Field] = []
    namespace: dict[str, Any] = {"_MISSING": _MISSING, "_set": object.__setattr__}
    params, body = [], []
    for name in cls.__dict__.get("__annotations__", {}):
        value = cls.__dict__.get(name, _MISSING)
        spec = value if isinstance(value, Field) else Field(default=value)
        spec.name = name
        declared.append(spec)
        if spec.default_factory is not None:
            namespace[f"_f_{name}"] = spec.default_factory
            params.append(f"{name}=_MISSING")
            value_code = f"_f_{name}() if {name} is _MISSING else {name}"
            if isinstance(value, Field):
                delattr(cls, name)
        elif spec.default is not _MISSING:
            namespace[f"_d_{name}"] = spec.default
            params.append(f"{name}=_d_{name}")
            value_code = name
            setattr(cls, name, spec.default)  # the class attribute is the default, as with dataclasses
        else:
            if any("=" in p for p in params):
                raise TypeError(f"non-default argument {name!r} follows default argument")
            params.append(name)
            value_code = name
        body.append(f"  _set(self, {name!r}, {value_code})" if frozen else f"  self.{name} = {value_code}")
    source = f"def __init__(self, {', '.join(params)}):\n" + ("\n".join(body) or "  pass") + "\n"
    exec(source, namespace)  # one small function per class, as dataclasses generates it
    init = namespace["__init__"]
    init.__qualname__ = f"{cls.__qualname__}.__init__"
    cls.__init__ = init
    cls.__record_fields__ = tuple(declared)
    names = tuple(f.name for f in declared)
    compared = tuple(f.name for f in declared if f.compare)

    def __repr__(self: Any) -> str:
        return f"{type(self).__qualname__}({', '.join(f'{n}={getattr(self, n)!r}' for n in names)})"

    def __eq__(self: Any, other: Any) -> Any:
        if other.__class__ is not self.__class__:
            return NotImplemented
        return tuple(getattr(self, n) for n in compared) == tuple(getattr(other, n) for n in compared)

    cls.__repr__ = __repr__
    cls.__eq__ = __eq__
    if frozen:
        def __hash__(self: Any) -> int:
            return hash(tuple(getattr(self, n) for n in compared))

        def __setattr__(self: Any, name: str, value: Any) -> None:
            raise FrozenInstanceError(f"cannot assign to field {name!r}")

        def __delattr__(self: Any, name: str) -> None:
            raise FrozenInstanceError(f"cannot delete field {name!r}")

        cls.__hash__ = __hash__
        cls.__setattr__ = __setattr__
        cls.__delattr__ = __delattr__
    else:
        cls.__hash__ = None  # mutable and compared by value: unhashable, as a dataclass is
    return cls
