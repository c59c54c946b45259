"""The manifest's JSON Schema check at 10,000 entries: jsonschema against desired/json_schema (issue 23, item 6).

One process, the same documents, the old check and the new one after the other (the ratio is
what a noisy machine can measure). "jsonschema" is what desired/schema_check.py ran before:
Draft202012Validator with its linear uniqueItems (jsonschema comes with the dev extra); "ours" is
desired/json_schema. Three documents:
- plan: benchmarks/plan_scale.py's manifest (--entries models over --projects projects, every
  fourth version "@candidate", plus one model with 2,000 versions);
- rich: the same entries with environments and replicas, each project a mapping
  with its models, a scheduled job and an app;
- broken: rich, with one entry in ten wrong (a version 'latest', an unknown field): the errors path.
Measured per document, best of --repeat: the validator alone (every violation), and
`read_manifest` whole (read, parse, check, friendly issues, build) with either validator.

Run: .venv/bin/python benchmarks/schema_check.py [--entries 10000] [--projects 500] [--repeat 5]
"""

from __future__ import annotations

import argparse
import copy
import json
import sys
import tempfile
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from functools import partial
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))
from plan_scale import manifest, project_ids  # noqa: E402

from domino_mlops.desired import schema_check  # noqa: E402
from domino_mlops.desired.json_schema import Validator, canonical  # noqa: E402
from domino_mlops.desired.manifest import read_manifest  # noqa: E402

SCHEMA = "manifest.schema.json"


def jsonschema_validator() -> Any:
    """The validator schema_check.py used before issue 23 (its code, as it was)."""
    from jsonschema import Draft202012Validator, ValidationError, validators

    def unique_items(validator: Any, unique: Any, instance: Any, schema: Any) -> Any:
        if unique and validator.is_type(instance, "array"):
            seen: set[Any] = set()
            for item in instance:
                key = canonical(item)
                if key in seen:
                    yield ValidationError(f"{instance!r} has non-unique elements")
                    return
                seen.add(key)

    return validators.extend(Draft202012Validator, {"uniqueItems": unique_items})(schema_check.load_schema(SCHEMA))


def rich(plan: dict[str, list[dict]]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for i, (project, entries) in enumerate(plan.items()):
        # No smoke test: with one per entry, 10,000 entries pass limits.MANIFEST's 100,000 values.
        models = [{**entry, "environments": ["STAGE", "PROD"], "replicas": 2} for entry in entries]
        out[project] = {"models": models,
                        "jobs": [{"name": f"score-{i}", "command": "python score.py", "hardware_tier": "small-k8s",
                                  "schedule": {"cron": "0 0 6 * * ?", "timezone": "Europe/Paris"}}],
                        "apps": [{"name": f"app-{i}", "hardware_tier": {"STAGE": "small-k8s", "PROD": "medium-k8s"},
                                  "visibility": "AUTHENTICATED", "environments": ["PROD"]}]}
    return out


def broken(doc: dict[str, Any]) -> dict[str, Any]:
    doc = copy.deepcopy(doc)
    count = 0
    for project in doc.values():
        for entry in project["models"]:
            if count % 10 == 0:
                entry["version"] = "latest"
                entry["extra"] = True
            count += 1
    return doc


def best(repeat: int, run: Callable[[], Any]) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        run()
        times.append(time.perf_counter() - start)
    return min(times)


def every_violation(validator: Any, doc: Any) -> int:
    return sum(1 for _ in validator.iter_errors(doc))


@contextmanager
def checking_with(validator: Any) -> Iterator[None]:
    """schema_check.py with ``validator`` in place of its own (jsonschema's errors carry the same fields)."""
    original = schema_check._validator
    schema_check._validator = lambda _name: validator  # type: ignore[assignment]
    try:
        yield
    finally:
        schema_check._validator = original  # type: ignore[assignment]


def row(name: str, doc: Any, validators: tuple[Any, Any], path: Path, repeat: int) -> str:
    found = [every_violation(v, doc) for v in validators]
    assert found[0] == found[1], (name, found)
    alone = [best(repeat, partial(every_violation, v, doc)) for v in validators]
    path.write_text(json.dumps(doc, indent=2))
    whole = []
    for validator in validators:
        with checking_with(validator):
            _, issues = read_manifest(path)
            assert bool(issues) == bool(found[1]), issues[:3]  # checked, not refused by a limit
            whole.append(best(repeat, partial(read_manifest, path)))
    return (f"| {name} ({path.stat().st_size / 1e6:.1f} MB) | {alone[0]:.3f} | {alone[1]:.3f} | "
            f"{alone[0] / alone[1]:.1f}x | {found[1]:,} | {whole[0]:.3f} | {whole[1]:.3f} | {whole[0] / whole[1]:.1f}x |")


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--entries", type=int, default=10_000)
    parser.add_argument("--projects", type=int, default=500)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    plan = manifest(project_ids(args.projects), args.entries, 2000)
    docs = {"plan": plan, "rich": rich(plan)}
    docs["broken"] = broken(docs["rich"])
    validators = (jsonschema_validator(), Validator(schema_check.load_schema(SCHEMA), SCHEMA))
    print(f"| {args.entries:,} entries, {args.projects} projects | jsonschema (s) | ours (s) | faster | violations "
          "| `read_manifest` with jsonschema (s) | with ours (s) | faster |\n|---|---|---|---|---|---|---|---|")
    with tempfile.TemporaryDirectory() as scratch:
        for name, doc in docs.items():
            print(row(name, doc, validators, Path(scratch) / f"{name}.json", args.repeat), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
