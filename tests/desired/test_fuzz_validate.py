"""Fuzzing `domino-mlops validate` in-process through cli.main, the way a workflow runs it.

Whatever the two files hold (random JSON and YAML, mutations of valid files, anchors and
aliases, deep nesting, odd bytes), the result is exit 0 or exit 2; stderr holds only issue
lines, the count line and the hint (never a traceback); nothing is written anywhere; and no
MLflow or Domino is configured, so nothing could be contacted. Time per example is bounded by
the sizes drawn here, not measured: CI machines are busy, and a hang shows as a stuck job.

The fast variants run in the normal suite; `make stress` runs the same checks with many more
examples and bigger inputs (pytest -m stress).
"""

from __future__ import annotations

import contextlib
import io
import json
import os
import re
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from domino_mlops.cli import main
from domino_mlops.desired.schema_check import load_schema
from tests.support.schema_strategies import SchemaStrategies

REPO = Path(__file__).resolve().parents[2]
SHIPPED_ENVIRONMENTS = (REPO / "scripts" / "environments.yaml").read_bytes()
VALID_MANIFEST = json.dumps({"6650c1a3e1b2c3d4e5f60718": [
    {"name": "churn", "version": 2, "environments": ["STAGE", "PROD"], "replicas": 2,
     "smoke_test": {"input": {"columns": ["a", "b"], "data": [[1, 2]]}, "expect_shape": [1]}},
    {"name": "fraud", "version": "@candidate"}]}, indent=2).encode()

# Bytes that mean something to a JSON or YAML reader, or to a UTF-8 decoder.
INTERESTING = [b"{", b"}", b"[", b"]", b":", b",", b'"', b"'", b"&a ", b"*a", b"<<: *a", b"!!binary ", b"!x ",
               b"- ", b"? ", b"|", b">", b"#", b"%YAML 1.1\n", b"---\n", b"...\n", b"\n", b"\t", b"  ",
               b"\x00", b"\xff", b"\xef\xbb\xbf", b"\xc3", b"\\u0000", b"\\", b"NaN", b"1e999", b"9" * 40,
               b"2024-01-01", b"@latest", b"latest", b"null", b"~", b"yes", b"-.inf", b"0x1F", b"\r\n", b"\x1b[31m"]

ISSUE_LINE = re.compile(r"^error: (\S+?)(:\d+)?: \$\S*.*: .+$")


def scalars(big: bool) -> st.SearchStrategy:
    return (st.none() | st.booleans() | st.integers(-2**70, 2**70) | st.floats(allow_nan=False)
            | st.text(max_size=40 if big else 8))


def json_values(big: bool) -> st.SearchStrategy:
    keys = st.text(max_size=12) | st.sampled_from(["name", "version", "environments", "p1", "$schema", "<<"])
    return st.recursive(scalars(big), lambda inner: st.lists(inner, max_size=6 if big else 3)
                        | st.dictionaries(keys, inner, max_size=6 if big else 3), max_leaves=200 if big else 20)


def documents(big: bool) -> st.SearchStrategy[bytes]:
    """Plausible documents: random JSON values, and schema-shaped ones (often valid)."""
    manifest_schema, env_schema = load_schema("manifest.schema.json"), load_schema("environments.schema.json")
    shaped = st.one_of(SchemaStrategies(manifest_schema["$defs"]).of(manifest_schema),
                       SchemaStrategies(env_schema["$defs"]).of(env_schema))
    value = json_values(big) | shaped
    return st.one_of(
        value.map(lambda v: json.dumps(v, indent=1).encode()),
        value.map(lambda v: json.dumps(v).encode()),
        value.map(lambda v: yaml.safe_dump(v, allow_unicode=True).encode()),
        # An object used twice is written as &id001 ... *id001.
        st.tuples(value, st.integers(1, 4)).map(lambda p: yaml.safe_dump({"environments": [p[0]] * p[1],
                                                                           "again": p[0]}).encode()),
    )


@st.composite
def mutated(draw, base: st.SearchStrategy[bytes], big: bool) -> bytes:
    data = bytearray(draw(base))
    for _ in range(draw(st.integers(1, 12 if big else 4))):
        pos = draw(st.integers(0, len(data)))
        op = draw(st.sampled_from(["insert", "delete", "replace", "duplicate-line", "truncate", "swap-lines"]))
        if op == "insert":
            data[pos:pos] = draw(st.sampled_from(INTERESTING) | st.binary(min_size=1, max_size=4))
        elif op == "delete":
            del data[pos:pos + draw(st.integers(1, 8))]
        elif op == "replace" and pos < len(data):
            data[pos] = draw(st.integers(0, 255))
        elif op == "truncate":
            del data[pos:]
        else:
            lines = bytes(data).split(b"\n")
            i, j = draw(st.integers(0, len(lines) - 1)), draw(st.integers(0, len(lines) - 1))
            if op == "duplicate-line":
                lines.insert(i, lines[i])
            else:
                lines[i], lines[j] = lines[j], lines[i]
            data = bytearray(b"\n".join(lines))
    return bytes(data)


@st.composite
def with_aliases(draw, big: bool) -> bytes:
    """Anchors, aliases and merge keys: bombs, cycles, merges of odd things."""
    levels, width = draw(st.integers(1, 30 if big else 10)), draw(st.integers(1, 12 if big else 8))
    kind = draw(st.sampled_from(["laughs", "cycle", "merge", "chain"]))
    if kind == "laughs":
        lines = [f"l0: &l0 [{', '.join(['lol'] * width)}]"]
        lines += [f"l{i}: &l{i} [{', '.join([f'*l{i - 1}'] * width)}]" for i in range(1, levels)]
        where = draw(st.sampled_from(["top", "inside"]))
        text = "\n".join(lines) + ("\nenvironments: [{name: DEV}]\n" if where == "top" else
                                   f"\nenvironments: [{{name: DEV, mlflow: *l{levels - 1}}}]\n")
    elif kind == "cycle":
        inner = draw(st.sampled_from(["[*a]", "{b: *a}", "{<<: *a}", "[1, {c: [*a]}]"]))
        text = f"environments: &a\n  - name: DEV\n    x: {inner}\n"
    elif kind == "merge":
        source = draw(st.sampled_from(["*a", "[*a, *b]", "[*b, *a]", "5", "[*a, 5]", "[]", "{}", "*c"]))
        text = ("environments:\n  - &a\n    name: DEV\n    mlflow: {alias: dev}\n"
                "  - &b {name: STAGE, github_environment: staging}\n"
                f"  - <<: {source}\n    name: PROD\n")
    else:
        text = "a0: &a0 [x]\n" + "".join(f"a{i}: &a{i} [*a{i - 1}]\n" for i in range(1, levels * width))
        text += "environments: [{name: DEV}]\n"
    return text.encode()


def nested(big: bool) -> st.SearchStrategy[bytes]:
    openers = st.sampled_from(["[", "{", '{"a":', "[{\"a\": ", "- ", "a:\n", "{a: "])
    return st.builds(lambda opener, depth, closed: (opener * depth if not opener.endswith("\n") else
                                                     "".join("  " * i + "a:\n" for i in range(depth))
                                                     ) + ("]" * depth if closed else ""),
                     openers, st.integers(0, 5000 if big else 200), st.booleans()).map(str.encode)


def inputs(big: bool) -> st.SearchStrategy[bytes]:
    return st.one_of(
        documents(big),
        mutated(st.sampled_from([VALID_MANIFEST, SHIPPED_ENVIRONMENTS]) | documents(big), big),
        with_aliases(big),
        nested(big),
        st.binary(max_size=20_000 if big else 300),
    )


def pairs(big: bool) -> st.SearchStrategy[tuple[bytes, bytes]]:
    """(manifest, environments): one hostile file beside a valid one, or both hostile."""
    return st.one_of(st.tuples(inputs(big), st.just(SHIPPED_ENVIRONMENTS)),
                     st.tuples(st.just(VALID_MANIFEST), inputs(big)),
                     st.tuples(inputs(big), inputs(big)))


def check_validate(root: Path, manifest: bytes, environments: bytes) -> None:
    files, work = root / "files", root / "work"
    files.mkdir(exist_ok=True)
    work.mkdir(exist_ok=True)
    m_path, e_path = files / "m.json", files / "e.yaml"
    m_path.write_bytes(manifest)
    e_path.write_bytes(environments)
    out, err = io.StringIO(), io.StringIO()
    cwd = os.getcwd()
    os.chdir(work)  # anything written relative to the working directory would land here
    try:
        with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
            code = main(["validate", "--manifest", str(m_path), "--environments", str(e_path)])
    finally:
        os.chdir(cwd)
    stdout, stderr = out.getvalue(), err.getvalue()
    assert code in (0, 2), stderr
    assert "Traceback" not in stderr and "error: unexpected" not in stderr and "a bug" not in stderr, stderr
    if code == 0:
        assert stderr == "" and stdout.startswith(f"ok: {m_path}:"), (stdout, stderr)
    else:
        assert stdout == "", stdout
        lines = stderr.splitlines()
        assert re.fullmatch(r"\d+ problem\(s\) found\.", lines[-2]), stderr
        assert lines[-1].startswith("hint: "), stderr
        assert 1 <= len(lines[:-2]) <= 2 * 50, stderr  # at most 50 issues per file
        for line in lines[:-2]:
            match = ISSUE_LINE.match(line)
            assert match and match.group(1) in (str(m_path), str(e_path)), line
    assert sorted(p.name for p in files.iterdir()) == ["e.yaml", "m.json"]
    assert list(work.iterdir()) == []


@pytest.fixture(autouse=True)
def _no_services(monkeypatch: pytest.MonkeyPatch) -> None:
    """No MLflow or Domino is even configured: validate must not need (or try) either."""
    for key in ("MLFLOW_TRACKING_URI", "DOMINO_API_HOST", "DOMINO_USER_API_KEY", "GITHUB_STEP_SUMMARY",
                "GITHUB_OUTPUT", "GITHUB_ACTIONS"):
        monkeypatch.delenv(key, raising=False)


FAST = settings(derandomize=True, max_examples=250, deadline=None,
                suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
STRESS = settings(derandomize=True, max_examples=5000, deadline=None,
                  suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])


@FAST
@given(pair=pairs(big=False))
def test_validate_survives_any_pair_of_files(tmp_path_factory, pair: tuple[bytes, bytes]) -> None:
    check_validate(tmp_path_factory.mktemp("fuzz"), *pair)


@pytest.mark.stress
@STRESS
@given(pair=pairs(big=True))
def test_validate_survives_any_pair_of_files_stress(tmp_path_factory, pair: tuple[bytes, bytes]) -> None:
    check_validate(tmp_path_factory.mktemp("fuzz"), *pair)
