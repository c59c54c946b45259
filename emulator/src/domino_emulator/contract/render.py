"""The contract as Markdown: the generated part of docs/DOMINO_API.md.

``python -m domino_emulator.contract.render docs/DOMINO_API.md`` rewrites the text between the
``<!-- contract:start -->`` and ``<!-- contract:end -->`` markers; a test fails when the file
and the contract disagree, so the page can never describe a shape the code does not use.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

from domino_emulator.contract import Contract, ContractRoute, load_contract

START, END = "<!-- contract:start -->", "<!-- contract:end -->"

_GROUPS = (
    ("Projects, hardware tiers, environments", ("/version", "/v4/gateway", "/v4/projects", "/api/hardwaretiers",
                                                 "/api/environments", "/v1/environments", "/api/users",
                                                 "/v1/projects/{ownerName}/{projectName}/commits")),
    ("Model APIs", ("/api/modelServing",)),
    ("Model API versions at run time, image export", ("/v4/models", "/models/{modelId}/environmentVariables")),
    ("The official client's v1 model routes", ("/v1/models", "/v1/projects/{ownerName}/{projectName}/models")),
    ("Calling a model", ("/models/{modelId}/latest", "/api/modelApis/async")),
    ("Jobs", ("/api/jobs", "/v4/jobs", "/v1/projects/{ownerName}/{projectName}/run")),
    ("Scheduled jobs", ("/v4/projects/{projectId}/scheduledjobs",)),
    ("Apps", ("/v4/modelProducts", "/{ownerName}/{projectName}/r/notebookSession")),
)


def render(contract: Contract) -> str:
    lines = [START, "", "## Sources", ""]
    for key, source in contract.sources.items():
        lines.append(f"- **{key}**: {source['title']} {source['version']} (OpenAPI {source['openapi']}), "
                     f"`{source['repository']}` `{source['path']}` at commit `{source['commit']}`, "
                     f"served under `{source['served_under']}`.")
    lines += ["- **unpublished**: in no OpenAPI document; the shape comes from the evidence named with the "
              "route (python-domino's code, recorded answers in Domino's own packages, Domino's docs) and "
              "is marked unverified. Such routes stay off the product's path except where the evidence is "
              "Domino's documentation (calling a model, opening a running app at the URL Domino reports).", ""]
    seen: set[str] = set()
    for title, _ in _GROUPS:
        routes = [r for r in contract.routes if _group(r) == title]
        if not routes:
            continue
        seen.update(r.key for r in routes)
        lines += [f"## {title}", "", "| route | source | our client | request body | success answer |",
                  "|---|---|---|---|---|"]
        lines += [_row(contract, r) for r in routes]
        lines.append("")
    rest = [r for r in contract.routes if r.key not in seen]
    if rest:
        lines += ["## Other routes", "", "| route | source | our client | request body | success answer |",
                  "|---|---|---|---|---|"] + [_row(contract, r) for r in rest] + [""]
    lines += _evidence(contract)
    lines += ["## Error bodies", "",
              "Where a route declares no error body, each source answers with its own shape:", ""]
    for source, schema in contract.default_errors.items():
        lines.append(f"- {source}: {_schema_name(schema)} {_fields(contract, schema)}".rstrip())
    lines += ["", END]
    return "\n".join(lines) + "\n"


def _group(route: ContractRoute) -> str | None:
    """The group whose prefix matches the route's path longest (scheduled jobs are under /v4/projects)."""
    found = [(len(prefix), title) for title, prefixes in _GROUPS for prefix in prefixes if route.path.startswith(prefix)]
    return max(found)[1] if found else None


def _row(contract: Contract, route: ContractRoute) -> str:
    source = route.source if route.verified else "unpublished (unverified)"
    request = "-" if route.request is None else (
        f"{_schema_name(route.request['schema'])} {_fields(contract, route.request['schema'])}")
    successes = [(status, schema) for status, schema in sorted(route.responses.items()) if status.startswith("2")]
    answer = "; ".join(f"{status} {_schema_name(schema)}" + (" (override)" if any(
        o["status"] == status for o in route.overrides) else "") for status, schema in successes) or "-"
    op = f" `{route.operation}`" if route.operation else ""
    request = request.rstrip()
    path = route.path + ("/..." if route.subpaths else "")
    if route.subpaths and answer == "200 (no body)":
        answer = "200 the app's own page"
    return f"| `{route.method} {path}`{op} | {source} | {'yes' if route.client else ''} | {request} | {answer} |"


def _evidence(contract: Contract) -> list[str]:
    lines = ["## Where field evidence overrides a document", ""]
    reasons: dict[str, list[str]] = {}  # one reason often covers several routes
    for route in contract.routes:
        for override in route.overrides:
            reasons.setdefault(override["why"], []).append(f"`{route.key}` ({override['status']})")
    lines += [f"- {', '.join(where)}: {why}" for why, where in reasons.items()]
    for name, override in contract.def_overrides.items():
        lines.append(f"- schema `{name}`: {override['change']}. {override['why']}")
    lines += ["", "## Evidence for unpublished routes", ""]
    lines += [f"- `{r.key}`: {r.evidence}" for r in contract.routes if not r.verified]
    return lines + [""]


def _schema_name(schema: Any) -> str:
    if schema is None:
        return "(no body)"
    if isinstance(schema, dict) and "$ref" in schema:
        return f"`{schema['$ref'].rsplit('/', 1)[-1]}`"
    if isinstance(schema, dict) and "anyOf" in schema and schema.get("type") != "object":
        return " or ".join(_schema_name(s) for s in schema["anyOf"])
    if isinstance(schema, dict) and schema.get("type") == "array":
        return f"list of {_schema_name(schema.get('items'))}"
    return "object" if isinstance(schema, dict) and schema.get("type") == "object" else "JSON"


def _fields(contract: Contract, schema: Any) -> str:
    """The required fields of an object schema: what every request must send."""
    while isinstance(schema, dict) and "$ref" in schema:
        schema = contract.defs[schema["$ref"].rsplit("/", 1)[-1]]
    if isinstance(schema, dict) and "anyOf" in schema and all("required" in alt for alt in schema["anyOf"]):
        return "(requires " + " or ".join(
            ", ".join(f"`{k}`" for k in alt["required"]) for alt in schema["anyOf"]) + ")"
    if not isinstance(schema, dict) or not schema.get("required"):
        return ""
    return "(requires " + ", ".join(f"`{k}`" for k in schema["required"]) + ")"


def rewrite(path: Path, contract: Contract) -> bool:
    """Replace the generated part of ``path``; True when the file changed."""
    text = path.read_text(encoding="utf-8")
    if START not in text or END not in text:
        raise SystemExit(f"{path} has no {START} ... {END} markers")
    head, rest = text.split(START, 1)
    _, tail = rest.split(END, 1)
    new = head + render(contract).rstrip("\n") + tail
    if new != text:
        path.write_text(new, encoding="utf-8")
    return new != text


def main(argv: list[str] | None = None) -> int:
    args = sys.argv[1:] if argv is None else argv
    path = Path(args[0] if args else "docs/DOMINO_API.md")
    changed = rewrite(path, load_contract())
    print(f"{path}: {'rewritten' if changed else 'already current'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
