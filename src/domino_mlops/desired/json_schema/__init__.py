"""JSON Schema (Draft 2020-12) for the keywords our shipped schemas use, compiled once into closures.

Why not jsonschema: it brought six of the runtime's twelve wheels to every job's cold install,
and took about 2.5 s to check a 10,000-entry manifest. Here each schema is compiled once into
one predicate per subschema (compile.py, keywords.py): a valid document costs a few calls per
value and no error objects. Only a value found invalid is walked again, keyword by keyword in the
schema's order, to yield its violations lazily, shaped as jsonschema's errors (violation.py: the
fields desired/schema_check.py reads).

    >>> v = Validator({"type": "object", "required": ["name"]}, "example")
    >>> [(e.validator, e.message) for e in v.iter_errors({})]
    [('required', "'name' is a required property")]

Compiling refuses any keyword not implemented here (SchemaRefused names it, its place and the
schema), so an edit to a shipped schema can never be silently unchecked. Patterns are ECMA-262
regular expressions, as JSON Schema says: ecma_regex.py translates them for Python's re.
"""

from domino_mlops.desired.json_schema.compile import SchemaRefused, Validator
from domino_mlops.desired.json_schema.values import canonical
from domino_mlops.desired.json_schema.violation import Violation

__all__ = ["SchemaRefused", "Validator", "Violation", "canonical"]
