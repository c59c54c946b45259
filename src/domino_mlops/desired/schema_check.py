"""Validate a located document against a shipped JSON Schema; turn errors into readable issues.

jsonschema's own messages are precise but written for schema authors ("is not valid under any of
the given schemas"). People editing a manifest need "'latest' is not allowed: pin a version".
"""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from domino_mlops.desired.locate import Located, SyntaxProblem
from domino_mlops.errors import ValidationIssue

_TYPE_NAMES = {"string": "a string", "integer": "a whole number", "number": "a number",
               "boolean": "true or false", "array": "a list", "object": "a mapping", "null": "null"}


@cache
def load_schema(name: str) -> dict[str, Any]:
    """A schema shipped in domino_mlops/desired/schemas/ (read once per process)."""
    text = resources.files("domino_mlops.desired.schemas").joinpath(name).read_text("utf-8")
    return json.loads(text)


def read_checked(path: str | Path, parse: Callable[[str, str], Located], schema_name: str,
                 flag: str) -> tuple[Located | None, list[ValidationIssue]]:
    """Read, parse and schema-check one file: the document with its lines, or every issue found.

    ``flag`` is the CLI option that points at another file, named in the "not found" hint.
    """
    file = str(path)
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        return None, [ValidationIssue(file, None, "$", f"file not found; create it or pass {flag}")]
    except (OSError, UnicodeDecodeError) as exc:
        return None, [ValidationIssue(file, None, "$", f"cannot read the file: {exc}")]
    try:
        located = parse(text, file)
    except SyntaxProblem as problem:
        return None, [problem.issue]
    issues = list(located.duplicates) + schema_issues(located, schema_name)
    return (None if issues else located), issues


def schema_issues(located: Located, schema_name: str) -> list[ValidationIssue]:
    """Every schema violation in the document, sorted by line, each with a friendly message."""
    from jsonschema import Draft202012Validator  # imported here: the CLI start stays light

    validator = Draft202012Validator(load_schema(schema_name))
    issues = []
    for error in validator.iter_errors(located.data):
        path = tuple(error.absolute_path)
        if "propertyNames" in error.schema_path:
            # jsonschema reports a bad key at its parent object; point at the key itself.
            issues.append(located.issue(path + (error.instance,),
                                        f"{error.instance!r} is not a valid key here: "
                                        "use a Domino project id (letters, digits, '_' and '-')"))
            continue
        issues.append(located.issue(path, _friendly(error)))
    return sorted(issues, key=lambda i: (i.line or 0, i.path))


def _friendly(error: Any) -> str:
    value = error.instance
    kind = error.validator
    if kind == "oneOf" and error.schema.get("description", "").startswith("A pinned version"):
        if isinstance(value, str) and value.strip().lower() == "latest":
            return ("'latest' is not allowed: a promotion must name an exact version (2) "
                    "or an alias (\"@candidate\") so the plan can be reviewed")
        return f"{json.dumps(value)} is not a version: use a number (2) or an alias (\"@candidate\")"
    if kind == "required":
        missing = [name for name in error.validator_value if name not in (value or {})]
        return f"missing required field {', '.join(repr(m) for m in missing)}"
    if kind == "additionalProperties":
        allowed = sorted(error.schema.get("properties", {}))
        extra = sorted(set(value) - set(allowed)) if isinstance(value, dict) else []
        return (f"unknown field {', '.join(repr(e) for e in extra)}; "
                f"allowed here: {', '.join(allowed)}")
    if kind == "type":
        wanted = error.validator_value
        wanted = [wanted] if isinstance(wanted, str) else wanted
        names = " or ".join(_TYPE_NAMES.get(w, w) for w in wanted)
        return f"must be {names}, not {json.dumps(value)}"
    if kind == "enum":
        return f"{json.dumps(value)} is not one of {', '.join(json.dumps(v) for v in error.validator_value)}"
    if kind == "pattern":
        return f"{json.dumps(value)} does not match the allowed form {error.validator_value}"
    return error.message
