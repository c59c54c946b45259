"""actions/requirements.txt, the hash-pinned lock the actions install, is current and complete.

Offline and deterministic: the lock's header records a digest of what it was compiled from
(pyproject's [project] dependencies), recomputed here; every entry is `name==version` with a
sha256; every direct requirement is pinned inside its declared range; nothing of MLflow or of a
build backend is in it (install.sh builds nothing, and the actions speak to MLflow over REST).
Each rule is also shown to fail on a lock or a pyproject.toml that breaks it.
"""

from __future__ import annotations

import importlib.util
import re
import sys
from dataclasses import dataclass
from pathlib import Path

import pytest
from packaging.requirements import Requirement
from packaging.utils import canonicalize_name

REPO = Path(__file__).resolve().parents[2]
LOCK = REPO / "actions" / "requirements.txt"


def _load_tool():
    spec = importlib.util.spec_from_file_location("lock_action_requirements",
                                                  REPO / "tools" / "lock_action_requirements.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module  # dataclasses look their module up there
    spec.loader.exec_module(module)
    return module


tool = _load_tool()


@dataclass(frozen=True)
class Pinned:
    name: str
    version: str
    marker: str
    hashes: tuple[str, ...]


def entries(text: str) -> list[str]:
    """Requirement entries: continuation lines joined, comments and blank lines dropped."""
    joined = re.sub(r"\\\n", " ", text)
    return [line.strip() for line in joined.splitlines() if line.strip() and not line.lstrip().startswith("#")]


def parse(entry: str) -> Pinned:
    """`name==version [; marker] --hash=sha256:...`, or a ValueError that says what is wrong."""
    hashes = tuple(re.findall(r"--hash=sha256:([0-9a-f]{64})\b", entry))
    requirement = re.sub(r"\s--hash=\S+", "", entry).strip()
    match = re.fullmatch(r"([A-Za-z0-9][A-Za-z0-9._-]*)==([^\s;]+)\s*(?:;\s*(.+))?", requirement)
    if match is None:
        raise ValueError(f"not pinned as name==version: {entry}")
    if not hashes:
        raise ValueError(f"no --hash=sha256: {entry}")
    return Pinned(canonicalize_name(match[1]), match[2], match[3] or "", hashes)


def pinned_out_of_range(lock_text: str, inputs) -> list[str]:
    """Each direct requirement pinned, and only inside its range."""
    pins: dict[str, list[str]] = {}
    for entry in entries(lock_text):
        found = parse(entry)
        pins.setdefault(found.name, []).append(found.version)
    problems = []
    for text in inputs.dependencies:
        wanted = Requirement(text)
        versions = pins.get(canonicalize_name(wanted.name), [])
        if not versions:
            problems.append(f"{wanted.name} is not in the lock")
        problems += [f"{wanted.name}=={v} is outside {wanted.specifier}" for v in versions
                     if not wanted.specifier.contains(v, prereleases=True)]
    return problems


# --- the real lock ------------------------------------------------------------------------------


def test_the_lock_was_compiled_from_what_pyproject_lists_now() -> None:
    recorded = tool.recorded_digest(LOCK.read_text())
    assert recorded == tool.read_inputs().digest(), (
        "actions/requirements.txt is stale: run .venv/bin/python tools/lock_action_requirements.py")
    tool.check()  # the same answer through the tool's own --check path


def test_every_entry_is_pinned_with_a_hash() -> None:
    pinned = [parse(entry) for entry in entries(LOCK.read_text())]
    direct = {canonicalize_name(Requirement(d).name) for d in tool.read_inputs().dependencies}
    assert direct <= {canonicalize_name(p.name) for p in pinned} and len(pinned) > len(direct)
    assert all(p.hashes for p in pinned)


def test_every_direct_requirement_is_pinned_inside_its_range() -> None:
    assert pinned_out_of_range(LOCK.read_text(), tool.read_inputs()) == []


def test_the_lock_holds_neither_mlflow_nor_a_build_backend() -> None:
    """Every job installs the lock: mlflow (skinny or full) and setuptools were most of its bytes.
    install.sh copies the package in instead of building it (issue 12, goal 3)."""
    names = {parse(entry).name for entry in entries(LOCK.read_text())}
    assert not names & {"mlflow", "mlflow-skinny", "setuptools", "wheel"}, names
    # 6 since jsonschema left (issue 23: with its own it was 6 of 12); each is downloaded by every job.
    assert len(names) <= 8, f"{len(names)} distributions: every one is downloaded by every job"


# --- each rule bites ------------------------------------------------------------------------------


def test_a_changed_dependency_list_makes_the_lock_stale(tmp_path: Path) -> None:
    pyproject = tmp_path / "pyproject.toml"
    text = (REPO / "pyproject.toml").read_text()
    pyproject.write_text(text.replace('"requests>=2.31",', '"requests>=2.31",\n    "rich>=13",'))
    assert tool.read_inputs(pyproject).digest() != tool.read_inputs().digest()
    with pytest.raises(tool.LockError, match="stale"):
        tool.check(LOCK, pyproject)


def test_reordering_or_respacing_the_list_does_not(tmp_path: Path) -> None:
    pyproject = tmp_path / "pyproject.toml"
    text = (REPO / "pyproject.toml").read_text()
    pyproject.write_text(text.replace('    "requests>=2.31",\n', "").replace(
        '"pyyaml>=6",', '"pyyaml>=6",\n    "requests >= 2.31",'))
    assert tool.read_inputs(pyproject).dependencies != tool.read_inputs().dependencies
    assert tool.read_inputs(pyproject).digest() == tool.read_inputs().digest()


@pytest.mark.parametrize("entry, problem", [
    ("requests>=2.31 --hash=sha256:" + "a" * 64, "not pinned as name==version"),
    ("requests==2.32.0", "no --hash=sha256"),
    ("requests==2.32.0 --hash=md5:" + "a" * 32, "no --hash=sha256"),
])
def test_an_unpinned_or_unhashed_entry_is_refused(entry: str, problem: str) -> None:
    with pytest.raises(ValueError, match=problem):
        parse(entry)


def test_a_pin_outside_the_declared_range_is_reported() -> None:
    lock = re.sub(r"^requests==\S+", "requests==2.0.0", LOCK.read_text(), flags=re.M)
    assert pinned_out_of_range(lock, tool.read_inputs()) == ["requests==2.0.0 is outside >=2.31"]


def test_a_missing_direct_requirement_is_reported() -> None:
    lock = re.sub(r"^pyyaml==.*?(?=^\S)", "", LOCK.read_text(), flags=re.M | re.S)
    assert pinned_out_of_range(lock, tool.read_inputs()) == ["pyyaml is not in the lock"]
