"""JSON text written piece by piece, byte for byte what ``json.dumps(value, indent=2)`` gives.

A 10,000-entry plan is 20 MB of JSON. ``json.dumps`` with an indent runs the standard library's
pure-Python encoder over the whole document: a dict tree of every change, then a list of about
a million small strings, then the joined text, all alive at once (140 MB at that size). Here a
lazy iterable (a generator of changes) is encoded one item at a time and each item's text goes to
the stream before the next is built, with the same separators, indents and escapes (the C
string escaper ``json.dumps`` itself uses), so a digest or a reader of the old output sees no
difference. Dataclasses are encoded as ``dataclasses.asdict`` would give them, without the copy.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterable, Iterator, Mapping
from json.encoder import encode_basestring_ascii
from typing import IO, Any

INDENT = "  "


class Lazy:
    """A list whose items are made only while they are written (``items``: an iterable of values)."""

    __slots__ = ("items",)

    def __init__(self, items: Iterable[Any]) -> None:
        self.items = items


def write(value: Any, stream: IO[str]) -> None:
    """``value`` as ``json.dumps(value, indent=2)`` writes it, a Lazy list's items one at a time."""
    for piece in _pieces(value, 0):
        stream.write(piece)


def _pieces(value: Any, level: int) -> Iterator[str]:
    """The text in pieces: one per item of a Lazy list (each whole), the rest in one piece."""
    if isinstance(value, Lazy):
        yield from _lazy(value, level)
    elif isinstance(value, dict) and any(isinstance(v, Lazy) for v in value.values()):
        yield from _dict_with_lazy(value, level)
    else:
        chunks: list[str] = []
        _encode(value, level, chunks)
        yield "".join(chunks)


def _lazy(value: Lazy, level: int) -> Iterator[str]:
    inner = "\n" + INDENT * (level + 1)
    first = True
    for item in value.items:
        yield ("[" if first else ",") + inner
        first = False
        yield from _pieces(item, level + 1)
    yield "[]" if first else "\n" + INDENT * level + "]"


def _dict_with_lazy(value: dict[Any, Any], level: int) -> Iterator[str]:
    inner = "\n" + INDENT * (level + 1)
    for i, (key, item) in enumerate(value.items()):
        yield ("{" if i == 0 else ",") + inner + _key(key) + ": "
        yield from _pieces(item, level + 1)
    yield "\n" + INDENT * level + "}"


def _encode(value: Any, level: int, out: list[str]) -> None:
    """json's own order of checks (str, None, True, False, int, float, list, dict), then dataclasses."""
    if isinstance(value, str):
        out.append(encode_basestring_ascii(value))
    elif value is None:
        out.append("null")
    elif value is True:
        out.append("true")
    elif value is False:
        out.append("false")
    elif isinstance(value, int):
        out.append(int.__repr__(value))
    elif isinstance(value, float):
        out.append(_float(value))
    elif isinstance(value, (list, tuple)):
        _sequence(value, level, out)
    elif isinstance(value, dict):
        _mapping(value, level, out)
    elif dataclasses.is_dataclass(value) and not isinstance(value, type):
        _mapping({f.name: getattr(value, f.name) for f in dataclasses.fields(value)}, level, out)
    else:
        raise TypeError(f"Object of type {type(value).__name__} is not JSON serializable")


def _sequence(value: list[Any] | tuple[Any, ...], level: int, out: list[str]) -> None:
    if not value:
        out.append("[]")
        return
    inner = "\n" + INDENT * (level + 1)
    out.append("[" + inner)
    for i, item in enumerate(value):
        if i:
            out.append("," + inner)
        _encode(item, level + 1, out)
    out.append("\n" + INDENT * level + "]")


def _mapping(value: Mapping[Any, Any], level: int, out: list[str]) -> None:
    if not value:
        out.append("{}")
        return
    inner = "\n" + INDENT * (level + 1)
    first = True
    for key, item in value.items():
        out.append(("{" if first else ",") + inner + _key(key) + ": ")
        first = False
        _encode(item, level + 1, out)
    out.append("\n" + INDENT * level + "}")


def _key(key: Any) -> str:
    """A dict key as json writes it: strings quoted, numbers, booleans and None as their text."""
    if isinstance(key, str):
        return encode_basestring_ascii(key)
    if isinstance(key, float):
        return encode_basestring_ascii(_float(key))
    if key is True or key is False or key is None:
        return '"' + {True: "true", False: "false", None: "null"}[key] + '"'
    if isinstance(key, int):
        return '"' + int.__repr__(key) + '"'
    raise TypeError(f"keys must be str, int, float, bool or None, not {type(key).__name__}")


def _float(value: float) -> str:
    if value != value:
        return "NaN"
    if value in (float("inf"), float("-inf")):
        return "Infinity" if value > 0 else "-Infinity"
    return float.__repr__(value)
