"""Validate a located document against a shipped JSON Schema; turn errors into readable issues.

The validator's own messages (desired/json_schema, in jsonschema's words) are precise but
written for schema authors ("is not valid under any of the given schemas"). People editing a
manifest need "'latest' is not allowed: pin a version".

Messages quote at most a short excerpt of the value (a 5 MB list is no message), and at most
MAX_ISSUES issues are kept: a file with 100,000 wrong items needs its first few fixed, not an
annotation per item.
"""

from __future__ import annotations

import itertools
import json
from collections.abc import Callable
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any

from domino_mlops.desired.aliases import alias_problem
from domino_mlops.desired.json_schema import Validator
from domino_mlops.desired.limits import Limits
from domino_mlops.desired.locate import Located, SyntaxProblem
from domino_mlops.desired.source import read_source
from domino_mlops.errors import ValidationIssue

MAX_ISSUES = 50
_EXCERPT = 60  # characters of a value quoted in a message

_TYPE_NAMES = {"string": "a string", "integer": "a whole number", "number": "a number",
               "boolean": "true or false", "array": "a list", "object": "a mapping", "null": "null"}


@cache
def load_schema(name: str) -> dict[str, Any]:
    """A schema shipped in domino_mlops/desired/schemas/ (read once per process)."""
    text = resources.files("domino_mlops.desired.schemas").joinpath(name).read_text("utf-8")
    return json.loads(text)


def read_checked(path: str | Path, parse: Callable[[str, str, Limits], Located], schema_name: str,
                 flag: str, limits: Limits) -> tuple[Located | None, list[ValidationIssue]]:
    """Read, parse and schema-check one file: the document with its lines, or every issue found.

    ``flag`` is the CLI option that points at another file, named in the "not found" hint.
    """
    file = str(path)
    try:
        located = parse(read_source(path, limits, flag), file, limits)
    except SyntaxProblem as problem:
        return None, [problem.issue]
    issues = list(located.duplicates) + schema_issues(located, schema_name)
    return (None if issues else located), issues


def schema_issues(located: Located, schema_name: str) -> list[ValidationIssue]:
    """Schema violations in the document (the first MAX_ISSUES by line), each with a friendly message."""
    validator = _validator(schema_name)
    issues = []
    # Sorting needs them all, but not 100,000 of them: the first few hundred show the pattern.
    errors = list(itertools.islice(validator.iter_errors(located.data), 10 * MAX_ISSUES))
    for error in (inner for outer in errors for inner in _chosen_branch(outer)):
        path = _located_path(located.data, tuple(error.absolute_path))
        if "propertyNames" in error.schema_path:
            # A bad key is reported at its parent object (JSON Schema's way); point at the key itself.
            issues.append(located.issue(path + (str(error.instance),),
                                        f"{_show(error.instance)} is not a valid key here: "
                                        "use a Domino project id (letters, digits, '_' and '-')"))
            continue
        issues.append(located.issue(path, _friendly(error)))
    issues.sort(key=lambda i: (i.line or 0, i.path))
    if len(issues) > MAX_ISSUES or len(errors) == 10 * MAX_ISSUES:
        last = issues[MAX_ISSUES - 1]
        issues = issues[:MAX_ISSUES - 1] + [ValidationIssue(
            located.file, last.line, last.path, "more problems follow (not listed); fix these first")]
    return issues


def _located_path(data: Any, path: tuple[Any, ...]) -> tuple[str | int, ...]:
    """``path`` as Located records it: a list's index as a number, a mapping's key as text. YAML keys
    may be numbers, booleans or null (`7:`, `~:`); the validator names them as they are."""
    out: list[str | int] = []
    for part in path:
        out.append(part if isinstance(data, list) else str(part))
        data = data[part]
    return tuple(out)


def _chosen_branch(error: Any) -> list[Any]:
    """For a oneOf whose branches differ by type (a tier name or a mapping of them), the errors
    inside the branch the value's type chose: "$.p1.jobs[0].hardware_tier.PROD: must be a string"
    says more than "is not valid under any of the given schemas". Left alone when branches share a
    type (a version: a number, a digit string or an alias; its own message covers it) or when the
    type fits no branch (``_friendly`` lists the types then)."""
    if error.validator != "oneOf" or not error.context or not _distinct_types(error.validator_value):
        return [error]
    wrong_type = {e.relative_schema_path[0] for e in error.context
                  if e.validator == "type" and len(e.relative_schema_path) == 2}
    chosen = [e for e in error.context if e.relative_schema_path[0] not in wrong_type]
    if not chosen or len({e.relative_schema_path[0] for e in chosen}) != 1:
        return [error]
    return [inner for e in chosen for inner in _chosen_branch(e)]


def _distinct_types(branches: list[Any]) -> bool:
    kinds = [k for branch in branches if isinstance(branch, dict) and "type" in branch for k in _as_list(branch["type"])]
    return len(kinds) == len(branches) == len(set(kinds))


@cache
def _validator(schema_name: str) -> Validator:
    """The shipped schema compiled once per process (desired/json_schema refuses a keyword it
    does not check, so a shipped schema that uses one fails here, in every test that loads it)."""
    return Validator(load_schema(schema_name), schema_name)


def _show(value: Any) -> str:
    """A value as JSON, cut to a short excerpt; never raises (YAML keys may be any scalar)."""
    try:
        text = json.dumps(value)
    except (TypeError, ValueError):
        text = repr(value)
    return text if len(text) <= _EXCERPT else text[:_EXCERPT] + "..."


def _as_list(value: Any) -> list[Any]:
    return value if isinstance(value, list) else [value]


def _names(names: list[Any]) -> str:
    shown = ", ".join(_show(n) if not isinstance(n, str) else repr(n) for n in names[:5])
    return shown + (f" and {len(names) - 5} more" if len(names) > 5 else "")


def _friendly(error: Any) -> str:
    value = error.instance
    kind = error.validator
    if kind == "oneOf" and error.schema.get("description", "").startswith("A pinned version"):
        if isinstance(value, str) and value.strip().lower() == "latest":
            return ("'latest' is not allowed: a promotion must name an exact version (2) "
                    "or an alias (\"@candidate\") so the plan can be reviewed")
        if isinstance(value, str) and value.startswith("@") and (why := alias_problem(value[1:])):
            return f"{_show(value)} is not a usable alias: {why}"
        return f"{_show(value)} is not a version: use a number (2) or an alias (\"@candidate\")"
    if kind == "oneOf" and all("type" in branch for branch in error.validator_value):
        kinds = [k for branch in error.validator_value for k in _as_list(branch["type"])]
        return f"must be {' or '.join(_TYPE_NAMES.get(k, k) for k in dict.fromkeys(kinds))}, not {_show(value)}"
    if kind == "required":
        missing = [name for name in error.validator_value if name not in (value or {})]
        return f"missing required field {', '.join(repr(m) for m in missing)}"
    if kind == "additionalProperties":
        allowed = sorted(error.schema.get("properties", {}))
        extra = sorted((k for k in value if k not in allowed), key=str) if isinstance(value, dict) else []
        if error.schema.get("description", "").startswith("A Domino project's"):
            # Most likely one model written without its list: say what a project's value may be.
            return (f"unknown field {_names(extra)}; a project is a list of models ([{{\"name\": ..., "
                    f"\"version\": ...}}]) or a mapping with {', '.join(allowed)}")
        return f"unknown field {_names(extra)}; allowed here: {', '.join(allowed)}"
    if kind == "type":
        wanted = error.validator_value
        wanted = [wanted] if isinstance(wanted, str) else wanted
        names = " or ".join(_TYPE_NAMES.get(w, w) for w in wanted)
        return f"must be {names}, not {_show(value)}"
    if kind == "enum":
        return f"{_show(value)} is not one of {', '.join(json.dumps(v) for v in error.validator_value)}"
    if kind == "pattern":
        if "x-form" in error.schema:  # the schema says the form in words: a regex helps nobody edit a file
            return f"{_show(value)} is not {error.schema['x-form']}"
        return f"{_show(value)} does not match the allowed form {error.validator_value}"
    if kind == "not" and isinstance(value, str) and (why := alias_problem(value)):
        return f"{_show(value)} cannot be an MLflow alias: {why}"
    if kind == "uniqueItems":
        return "lists the same item more than once; keep one of each"
    return " ".join(str(error.message).split())[:200]
