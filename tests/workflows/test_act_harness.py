"""The act harness itself: steps see what GitHub's runner gives them, a pipe, and a failing step's
last line reaches the log (act's terminal path returned before reading it, about one run in ten)."""

from __future__ import annotations

import pytest

from tests.support.act_runner import ActRepo, _namespace

pytestmark = pytest.mark.skipif(_namespace() is None, reason="this machine allows no mount namespace, "
                                "so act keeps its pseudo-terminal (see tests/support/act_runner.py)")

_WORKFLOW = """\
on: workflow_dispatch
permissions: {}
jobs:
  probe:
    runs-on: ubuntu-latest
    steps:
      - name: What the step writes to
        shell: bash
        run: if [ -t 1 ]; then echo "stdout=terminal"; else echo "stdout=pipe"; fi
      - name: Fail at once after one line
        shell: bash
        run: |
          echo "::error title=probe::the last line of a failing step"
          exit 2
"""


def test_steps_write_to_a_pipe_and_a_failing_steps_last_line_is_kept(act_repo: ActRepo) -> None:
    act_repo.write(".github/workflows/probe.yml", _WORKFLOW)
    act_repo.commit("probe")

    runs = [act_repo.run("workflow_dispatch", workflow="probe.yml") for _ in range(3)]

    for run in runs:
        assert run.returncode != 0 and run.exit_statuses(job="probe") == [2], run.explain()
        assert "stdout=pipe" in run.log(job="probe"), run.explain()
        assert [e["arg"] for e in run.commands("error", job="probe")] == ["the last line of a failing step"]
