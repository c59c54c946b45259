"""A JSON Schema ``pattern`` (an ECMA-262 regular expression) as a Python ``re`` pattern that
matches exactly the same strings, or a clear refusal.

Python's re reads much ECMA-262 text the same way, but not all of it:

- ``$`` also matches before a final newline in Python: ``^[A-Z]+$`` accepts "PROD\\n", which
  ECMA-262 refuses. It becomes ``\\Z`` (the end, only).
- ``.`` excludes only ``\\n`` in Python; ECMA-262 excludes every line terminator (\\n \\r U+2028 U+2029).
- ``\\d`` and ``\\w`` are Unicode-wide in Python (Arabic digits are ``\\d``), ASCII in ECMA-262.
- ``\\s`` differs at the edges: Python counts U+001C-U+001F and U+0085, ECMA-262 counts U+FEFF.

Those are written out as explicit sets. Anything else outside a small shared subset (literals,
classes, groups ``( (?: (?= (?!``, quantifiers, ``|``, ``^``, the escapes above and of
punctuation, ``\\t \\n \\r \\f \\v \\xHH \\uHHHH``) is refused: a backreference, a lookbehind, an
inline flag, ``\\b``, ``\\p{...}``, a nested class. A schema author then sees why, when the schema
is compiled, rather than a pattern that quietly means something else here.

    >>> bool(compile_ecma("^[A-Z]+$").search("PROD\\n"))
    False
"""

from __future__ import annotations

import re

# ECMA-262 WhiteSpace and LineTerminator, as a class body.
_SPACE = "\\t\\n\\x0b\\x0c\\r \\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000\\ufeff"
_IN_CLASS = {"d": "0-9", "w": "A-Za-z0-9_", "s": _SPACE}
_OUTSIDE = {"d": "[0-9]", "D": "[^0-9]", "w": "[A-Za-z0-9_]", "W": "[^A-Za-z0-9_]",
            "s": f"[{_SPACE}]", "S": f"[^{_SPACE}]"}
_SAME_ESCAPES = set("tnrfv") | set("\\^$.|?*+()[]{}/-")
_HEX = re.compile(r"[0-9A-Fa-f]+")
_GROUPS = ("(?:", "(?=", "(?!")
_ANY = "[^\\n\\r\\u2028\\u2029]"


class RegexRefused(ValueError):
    """A pattern outside the subset read the same by ECMA-262 and by Python's re."""


def compile_ecma(pattern: str) -> re.Pattern[str]:
    """``pattern`` as ECMA-262 reads it (without flags), compiled for ``re.search``."""
    try:
        return re.compile(translate(pattern))
    except re.error as exc:
        raise RegexRefused(f"pattern {pattern!r} is not a valid regular expression: {exc}") from None


def translate(pattern: str) -> str:
    out: list[str] = []
    i, in_class = 0, False
    while i < len(pattern):
        char = pattern[i]
        if char == "\\":
            text, i = _escape(pattern, i, in_class)
            out.append(text)
            continue
        if in_class:
            if char == "]":
                in_class = False
            elif char == "[" or pattern.startswith(("--", "&&", "~~", "||"), i):
                raise _refused(pattern, i, "Python's re reads it as a nested set or a set operation")
            out.append(char)
            i += 1
            continue
        if char == "[":
            start = i + 2 if pattern.startswith("[^", i) else i + 1
            if pattern.startswith("]", start):
                raise _refused(pattern, i, "an empty class ([] or [^]) means no character or any in ECMA-262")
            out.append(pattern[i:start])
            i, in_class = start, True
            continue
        if char == "(" and pattern.startswith("(?", i):
            if not pattern.startswith(_GROUPS, i):
                raise _refused(pattern, i, "only the groups ( (?: (?= and (?! are read the same by ECMA-262 and Python")
            out.append(pattern[i:i + 3])
            i += 3
            continue
        out.append({"$": "\\Z", ".": _ANY}.get(char, char))
        i += 1
    if in_class:
        raise _refused(pattern, len(pattern), "a class is not closed")
    return "".join(out)


def _escape(pattern: str, i: int, in_class: bool) -> tuple[str, int]:
    """The escape at ``pattern[i]`` (a backslash) as Python text, and where the next token starts."""
    if i + 1 == len(pattern):
        raise _refused(pattern, i, "it ends with a lone backslash")
    char = pattern[i + 1]
    if char in ("u", "x"):
        width = 4 if char == "u" else 2
        digits = pattern[i + 2:i + 2 + width]
        if len(digits) != width or not _HEX.fullmatch(digits):
            raise _refused(pattern, i, f"\\{char} needs {width} hex digits")
        return pattern[i:i + 2 + width], i + 2 + width
    if char in _OUTSIDE:
        if not in_class:
            return _OUTSIDE[char], i + 2
        if char in _IN_CLASS:
            return _IN_CLASS[char], i + 2
        raise _refused(pattern, i, f"\\{char} inside a class cannot be written out here")
    if char in _SAME_ESCAPES:
        return pattern[i:i + 2], i + 2
    raise _refused(pattern, i, f"\\{char} is not read the same by ECMA-262 and Python (or not at all)")


def _refused(pattern: str, at: int, why: str) -> RegexRefused:
    return RegexRefused(f"pattern {pattern!r} at offset {at}: {why}")
