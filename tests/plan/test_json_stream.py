"""The plan's JSON written piece by piece: the same bytes as `json.dumps(..., indent=2)` of the
whole document (the digest, the apply job and every reader see no change), without the whole."""

from __future__ import annotations

import io
import json
from dataclasses import asdict, dataclass

from hypothesis import given
from hypothesis import strategies as st

from domino_mlops.clients.mlflow.registry import ModelVersionInfo, RegisteredModelInfo
from domino_mlops.desired.environments import Environment, Environments
from domino_mlops.desired.manifest import ManifestEntry, VersionRef
from domino_mlops.observed.registry import ObservedModel
from domino_mlops.observed.serving import ServingSnapshot
from domino_mlops.plan import json_stream
from domino_mlops.plan.planner import plan_environment
from domino_mlops.plan.render import plan_to_dict, plan_to_json, write_json

scalars = (st.none() | st.booleans() | st.integers(min_value=-10**20, max_value=10**20)
           | st.floats(allow_nan=True, allow_infinity=True) | st.text(max_size=12))
keys = st.text(max_size=8) | st.integers() | st.booleans() | st.none() | st.floats(allow_nan=False)
values = st.recursive(scalars, lambda inner: st.lists(inner, max_size=4) | st.tuples(inner, inner)
                      | st.dictionaries(keys, inner, max_size=4), max_leaves=25)


def text_of(value: object) -> str:
    out = io.StringIO()
    json_stream.write(value, out)
    return out.getvalue()


@given(values)
def test_any_json_value_is_written_as_json_dumps_with_indent_2(value: object) -> None:
    assert text_of(value) == json.dumps(value, indent=2)


@given(st.dictionaries(st.text(max_size=6), values, max_size=3), st.lists(values, max_size=5))
def test_a_lazy_list_is_written_as_the_list_it_yields(head: dict, items: list) -> None:
    document = {**head, "lazy": json_stream.Lazy(iter(items)), "after": [1]}
    assert text_of(document) == json.dumps({**head, "lazy": items, "after": [1]}, indent=2)
    assert text_of(json_stream.Lazy(x for x in items)) == json.dumps(items, indent=2)


@dataclass(frozen=True)
class Inner:
    pairs: tuple[tuple[str, str], ...]


@dataclass(frozen=True)
class Outer:
    name: str
    inner: Inner | None
    more: tuple[Inner, ...]


def test_a_dataclass_is_written_as_asdict_gives_it() -> None:
    value = Outer("x\u00e9\n", Inner((("k", "v"),)), (Inner(()), Inner((("a", '"'),))))
    assert text_of({"steps": [value]}) == json.dumps({"steps": [asdict(value)]}, indent=2)


def plan_of(count: int):
    env = Environment("STAGE", "staging", "staging", stage_mode="both", stage="Staging", waves=(("small",),))
    observed = []
    for i in range(count):
        target = ModelVersionInfo(f"m|{i}", "2", f"r{i}", "src", tags=(("k", 'v"'),))
        model = RegisteredModelInfo(f"m|{i}", (("staging", "1"),), (target,))
        observed.append(ObservedModel(ManifestEntry(f"p{i % 3}", f"m|{i}", VersionRef(number=2), line=i), model,
                                      target))
    return plan_environment(env, Environments("e.yaml", (env,)), observed, ServingSnapshot(),
                            warnings=("one \u2013 warning",))


class Recorder(io.StringIO):
    def __init__(self) -> None:
        super().__init__()
        self.sizes: list[int] = []

    def write(self, text: str) -> int:
        self.sizes.append(len(text))
        return super().write(text)


def test_a_plan_is_written_model_by_model_with_the_bytes_of_the_whole_document() -> None:
    plan = plan_of(40)
    out = Recorder()
    write_json(plan, out)

    assert out.getvalue() == json.dumps(plan_to_dict(plan), indent=2) == plan_to_json(plan)
    assert len(out.sizes) > 40 and max(out.sizes) < len(out.getvalue()) / 20  # no write holds the whole
