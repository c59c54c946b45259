"""`domino.poll_seconds` in the environments file: the waiting of a deploy, per environment."""

from __future__ import annotations

from pathlib import Path

import pytest

from domino_mlops.apply.poll import PollSettings, for_environment
from domino_mlops.desired.environments import read_environments


def read(tmp_path: Path, text: str):
    path = tmp_path / "environments.yaml"
    path.write_text(text, encoding="utf-8")
    return read_environments(path)


def test_an_environment_sets_its_ceilings_and_keeps_the_default_of_the_other(tmp_path: Path) -> None:
    envs, issues = read(tmp_path, "environments:\n  - name: DEV\n  - name: PROD\n    domino:\n"
                                  "      poll_seconds: {building: 60}\n")
    assert not issues
    assert envs.get("DEV").poll_seconds == () and envs.get("PROD").poll_seconds == (("building", 60.0),)
    settings = for_environment(PollSettings(), envs.get("PROD").poll_seconds)
    assert settings.interval("Building") == 60 and settings.interval("Starting") == 2.5
    assert for_environment(PollSettings(), ()) == PollSettings()


@pytest.mark.parametrize(("text", "line", "path", "message"), [
    ("      poll_seconds: {starting: 0}\n", 5, "$.environments[0].domino.poll_seconds.starting",
     "less than or equal to the minimum of 0"),
    ("      poll_seconds:\n        building: 3600\n", 6, "$.environments[0].domino.poll_seconds.building",
     "greater than the maximum of 600"),
    ("      poll_seconds: {running: 1}\n", 5, "$.environments[0].domino.poll_seconds", "unknown field 'running'"),
])
def test_bad_poll_seconds_point_at_their_line(tmp_path: Path, text: str, line: int, path: str, message: str) -> None:
    envs, issues = read(tmp_path, "environments:\n  - name: DEV\n    github_environment: dev\n    domino:\n" + text)
    assert envs is None
    (issue,) = issues
    assert (issue.line, issue.path) == (line, path), issue
    assert message in issue.message, issue.message
