"""The contract file itself: loadable, valid JSON Schema, its sources recorded, its page current."""

from __future__ import annotations

from pathlib import Path

import pytest
from jsonschema import Draft202012Validator

from domino_emulator.contract import load_contract
from domino_emulator.contract.render import END, START, render

ROOT = Path(__file__).resolve().parents[2]
CONTRACT = load_contract()


def test_sources_are_recorded_with_their_commit():
    assert set(CONTRACT.sources) == {"public", "v4"}
    for source in CONTRACT.sources.values():
        assert len(source["commit"]) == 40 and source["repository"] == "dominodatalab/AutoML_Extension"


def test_every_schema_is_valid_json_schema_and_every_reference_resolves():
    Draft202012Validator.check_schema({"$defs": CONTRACT.defs})
    for route in CONTRACT.routes:
        schemas = [s for s in route.responses.values() if s is not None]
        schemas += [route.request["schema"]] if route.request else []
        for schema in schemas:
            Draft202012Validator.check_schema(schema)
            CONTRACT.validator(schema).is_valid({})  # resolves every $ref it meets, or raises


def test_an_unpublished_route_names_its_evidence_and_a_published_one_its_operation():
    for route in CONTRACT.routes:
        assert route.evidence if not route.verified else route.operation, route.key


def test_the_product_path_uses_published_routes_only_but_the_documented_model_route_and_app_pages():
    unpublished = {r.key for r in CONTRACT.routes if r.client and not r.verified}
    assert unpublished == {"POST /models/{modelId}/latest/model",  # documented at docs.dominodatalab.com
                           "GET /{ownerName}/{projectName}/r/notebookSession/{runId}"}  # Domino's support site
    assert "docs.dominodatalab.com" in CONTRACT.match("POST", "/models/x/latest/model").evidence
    app = CONTRACT.match("GET", "/demo-user/demo-project/r/notebookSession/65f0c0ffee0000000000aa01/health/deep")
    assert "tickets.dominodatalab.com" in app.evidence and "runningAppUrl" in app.evidence  # read, never built
    assert app.subpaths and CONTRACT.match("GET", "/demo-user/demo-project/r/notebookSession/x") is app


@pytest.mark.parametrize("method, path, template", [
    ("POST", "/v4/jobs/restart", "/v4/jobs/restart"),  # a literal route wins over /v4/jobs/{jobId}
    ("GET", "/v4/jobs/65f0c0ffee0000000000aa01", "/v4/jobs/{jobId}"),
    ("GET", "/v4/models/65f0c0ffee0000000000aa01/getExportImageStatus", "/v4/models/{exportId}/getExportImageStatus"),
])
def test_match_finds_the_route_of_a_concrete_path(method, path, template):
    assert CONTRACT.match(method, path).path == template


def test_the_domino_api_page_shows_the_contract_as_it_is():
    """docs/DOMINO_API.md is regenerated with `python -m domino_emulator.contract.render docs/DOMINO_API.md`."""
    text = (ROOT / "docs" / "DOMINO_API.md").read_text(encoding="utf-8")
    generated = START + text.split(START, 1)[1].split(END, 1)[0] + END
    assert generated + "\n" == render(CONTRACT)
