"""`domino.analysis` in the environments file: declared per environment, off by default, checked
by the schema and by what the schema cannot say, each problem at its file and line."""

from __future__ import annotations

from pathlib import Path

import pytest

from domino_mlops.desired.environments import Analysis, Traffic, load_environments, read_environments

REPO = Path(__file__).resolve().parents[2]
HEAD = "environments:\n  - name: DEV\n    github_environment: dev\n    domino:\n      analysis:\n"


def read(tmp_path: Path, text: str):
    path = tmp_path / "environments.yaml"
    path.write_text(HEAD + text, encoding="utf-8")
    return read_environments(path)


def test_an_analysis_is_read_with_its_defaults_and_none_is_off(tmp_path: Path) -> None:
    envs, issues = read(tmp_path, "        count: 3\n        conditions: {max_error_rate: 0.01, count_4xx: true}\n"
                                  "        traffic: {rate_per_second: 2, duration: 30}\n")
    assert not issues
    assert envs.get("DEV").analysis == Analysis(count=3, max_error_rate=0.01, count_4xx=True,
                                                traffic=Traffic(2.0, 30.0))
    assert envs.get("DEV").analysis.traffic.calls == 60
    assert load_environments(REPO / "scripts" / "environments.yaml").get("DEV").analysis is None


def test_the_shipped_production_environment_has_one() -> None:
    prod = load_environments(REPO / "scripts" / "environments.yaml").get("PROD").analysis
    assert prod is not None and prod.max_error_rate is not None and prod.max_memory_fraction is not None


@pytest.mark.parametrize(("text", "line", "path", "message"), [
    ("        conditions: {max_error_rate: 2}\n", 6, "$.environments[0].domino.analysis.conditions.max_error_rate",
     "greater than the maximum of 1"),
    ("        inconclusive: maybe\n        conditions: {max_cpu: 1}\n", 6,
     "$.environments[0].domino.analysis.inconclusive", "maybe"),
    ("        count: 2\n", 5, "$.environments[0].domino.analysis", "missing required field 'conditions'"),
    ("        inconclusive: extend\n        conditions: {max_cpu: 1}\n", 6,
     "$.environments[0].domino.analysis.inconclusive", "needs max_extensions"),
    ("        conditions: {max_cpu: 1}\n        traffic: {rate_per_second: 50, duration: 3600}\n", 7,
     "$.environments[0].domino.analysis.traffic", "at most 3600"),
    ("        conditions: {count_4xx: true}\n", 5, "$.environments[0].domino.analysis", "sets no condition"),
])
def test_a_bad_analysis_points_at_its_line(tmp_path: Path, text: str, line: int, path: str, message: str) -> None:
    envs, issues = read(tmp_path, text)
    assert envs is None
    (issue,) = issues
    assert (issue.line, issue.path) == (line, path) and message in issue.message, issue
