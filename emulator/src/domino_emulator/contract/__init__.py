"""Domino's published API, as far as this project uses it: routes with their request and response
JSON Schemas, extracted from Domino's OpenAPI documents by ``tools/extract_domino_contract.py``.

The emulator answers by it, the conformance tests hold the client's requests and parsers to it,
and ``docs/DOMINO_API.md`` is rendered from it. Nothing on the product's path needs it at run
time, so it is loaded on first use only.

.. code-block:: python
    :caption: Example

    from domino_emulator.contract import load_contract

    contract = load_contract()
    route = contract.match("GET", "/api/modelServing/v1/modelApis/65f0c0ffee0000000000aa01/versions")
    print(route.key, route.source, route.verified)
    print(contract.check_response(route, 200, [{"id": "v1"}])[:1])

.. code-block:: text
    :caption: Output

    GET /api/modelServing/v1/modelApis/{modelApiId}/versions public True
    ["$[0]: 'modelApiId' is a required property"]
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from importlib import resources
from typing import Any
from urllib.parse import parse_qsl

CONTRACT_FILE = "domino_api.json"
SUBPATHS = "(?:/.*)?"  # what a route with subpaths also matches: "", "/", "/health", "/a/b?..."


@dataclass(frozen=True)
class ContractRoute:
    """One route: where its shape comes from, and the schemas of what goes in and out."""

    method: str
    path: str  # the template, e.g. /api/modelServing/v1/modelApis/{modelApiId}
    source: str  # "public" | "v4" (an OpenAPI document) | "unpublished"
    verified: bool  # False: no OpenAPI document describes it; the evidence says what does
    client: bool  # on the product's path: our client calls it
    parameters: tuple[Mapping[str, Any], ...] = ()
    request: Mapping[str, Any] | None = None  # {"required": bool, "schema": {...}}
    responses: Mapping[str, Any] = field(default_factory=dict)  # status -> schema (None: no body)
    evidence: str = ""
    overrides: tuple[Mapping[str, Any], ...] = ()
    operation: str | None = None
    subpaths: bool = False  # it also serves every path under it (a running app's own pages)

    @property
    def key(self) -> str:
        return f"{self.method} {self.path}"

    @functools.cached_property
    def pattern(self) -> re.Pattern[str]:
        parts = re.split(r"(\{[^}]+\})", self.path)
        regex = "".join(f"(?P<{p[1:-1]}>[^/]+)" if p.startswith("{") else re.escape(p) for p in parts)
        return re.compile(f"^{regex}{SUBPATHS if self.subpaths else ''}$")

    @property
    def shape(self) -> str:
        """The path with parameter names erased: ``/v4/jobs/{}``; equal shapes are one route."""
        return re.sub(r"\{[^}]+\}", "{}", self.path)


class Contract:
    def __init__(self, data: Mapping[str, Any]) -> None:
        self.sources: Mapping[str, Any] = data["sources"]
        self.defs: Mapping[str, Any] = data["$defs"]
        self.default_errors: Mapping[str, Any] = data["default_errors"]
        self.def_overrides: Mapping[str, Any] = data.get("def_overrides", {})  # schemas corrected, and why
        self.routes = tuple(
            ContractRoute(
                method=r["method"], path=r["path"], source=r["source"], verified=r["verified"],
                client=r["client"], parameters=tuple(r.get("parameters", ())), request=r.get("request"),
                responses=r.get("responses", {}), evidence=r.get("evidence", ""),
                overrides=tuple(r.get("overrides", ())), operation=r.get("operation"),
                subpaths=r.get("subpaths", False))
            for r in data["routes"])
        self._validators: dict[str, Any] = {}

    # --- finding routes -----------------------------------------------------------------------

    def match(self, method: str, path: str) -> ContractRoute | None:
        """The route a concrete request path belongs to (the literal route wins over a template)."""
        found = [r for r in self.routes if r.method == method and r.pattern.match(path)]
        found.sort(key=lambda r: r.path.count("{"))
        return found[0] if found else None

    def by_shape(self, method: str, template: str) -> ContractRoute | None:
        """The route with the same shape as ``template`` (parameter names may differ)."""
        shape = re.sub(r"\{[^}]+\}", "{}", template)
        return next((r for r in self.routes if r.method == method and r.shape == shape), None)

    # --- checking -----------------------------------------------------------------------------

    def check_request(self, route: ContractRoute, body: Any, *, query: str | Mapping[str, str] = "",
                      path: str | None = None, strict_query: bool = False) -> list[str]:
        """Problems with a request: its JSON body, query parameters and (given ``path``) path
        parameters. ``strict_query``: a query parameter the route does not declare is a problem
        (what our client sends must be published; a server ignores what it does not know)."""
        problems: list[str] = []
        if route.request is not None:
            if body is None:
                if route.request.get("required"):
                    problems.append("$: the request body is required")
            else:
                problems += self._problems(route.request["schema"], body)
        problems += self._parameter_problems(route, "query", _query_pairs(query), strict=strict_query)
        if path is not None:
            found = route.pattern.match(path)
            if found is None:
                problems.append(f"{path} is not {route.path}")
            else:
                problems += self._parameter_problems(route, "path", found.groupdict(), strict=False)
        return problems

    def response_schema(self, route: ContractRoute, status: int) -> Any:
        """The schema of an answer with this status: the route's own, else the source's error shape."""
        if str(status) in route.responses:
            return route.responses[str(status)]
        if status >= 400:
            return self.default_errors.get(route.source)
        return None

    def check_response(self, route: ContractRoute, status: int, body: Any) -> list[str]:
        """Problems with an answer. A success status the route does not declare is one."""
        if str(status) not in route.responses and status < 400:
            declared = ", ".join(sorted(s for s in route.responses if s.startswith("2"))) or "none"
            return [f"status {status} is not a declared answer (declared: {declared})"]
        schema = self.response_schema(route, status)
        if schema is None:
            return [] if body in (None, b"", "") else ["$: the route declares no body for this answer"]
        return self._problems(schema, body)

    def validator(self, schema: Any) -> Any:
        """A cached Draft 2020-12 validator for ``schema``, resolving ``#/$defs/...`` in the contract."""
        from jsonschema import Draft202012Validator

        key = json.dumps(schema, sort_keys=True)
        found = self._validators.get(key)
        if found is None:
            found = Draft202012Validator({**schema, "$defs": self.defs} if isinstance(schema, dict) else schema)
            self._validators[key] = found
        return found

    def _problems(self, schema: Any, value: Any) -> list[str]:
        problems = []
        for error in sorted(self.validator(schema).iter_errors(value), key=lambda e: list(e.absolute_path)):
            while error.context:  # anyOf/oneOf: "not valid under any" says little; name the deepest miss
                error = max(error.context, key=lambda e: len(e.absolute_path))
            problems.append(f"{_json_path(error.absolute_path)}: {_short(error.message)}")
        return problems

    def _parameter_problems(self, route: ContractRoute, where: str, values: Mapping[str, str], *,
                            strict: bool) -> list[str]:
        declared = {p["name"]: p for p in route.parameters if p["in"] == where}
        problems = [f"{where} parameter {name!r} is required" for name, p in declared.items()
                    if p.get("required") and name not in values]
        for name, text in values.items():
            param = declared.get(name)
            if param is None:
                if strict and route.verified:
                    problems.append(f"{where} parameter {name!r} is not declared by {route.key}")
                continue
            value = _typed(text, param.get("schema", {}))
            problems += [f"{where} parameter {name!r}: {p.split(': ', 1)[-1]}"
                         for p in self._problems(param.get("schema", {}), value)]
        return problems


@functools.lru_cache(maxsize=1)
def load_contract() -> Contract:
    """The contract shipped with the package (read once per process)."""
    text = resources.files(__package__).joinpath(CONTRACT_FILE).read_text(encoding="utf-8")
    return Contract(json.loads(text))


def _query_pairs(query: str | Mapping[str, str]) -> dict[str, str]:
    return dict(parse_qsl(query, keep_blank_values=True)) if isinstance(query, str) else dict(query)


def _typed(text: str, schema: Mapping[str, Any]) -> Any:
    """A query or path value as the type its schema declares ("10" -> 10 for an integer)."""
    kinds = schema.get("type")
    kinds = kinds if isinstance(kinds, list) else [kinds]
    if "integer" in kinds and re.fullmatch(r"-?\d+", text):
        return int(text)
    if "number" in kinds:
        try:
            return float(text)
        except ValueError:
            return text
    if "boolean" in kinds and text in ("true", "false"):
        return text == "true"
    return text


def _json_path(parts: Any) -> str:
    out = "$"
    for part in parts:
        out += f"[{part}]" if isinstance(part, int) else f".{part}"
    return out


def _short(message: str) -> str:
    return message if len(message) <= 200 else message[:197] + "..."
