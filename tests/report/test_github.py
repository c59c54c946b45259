"""report.github: outputs (multi-line safe), summaries, annotations, masks, groups."""

from __future__ import annotations

import io
from pathlib import Path

import pytest

from domino_mlops.report import github

ACTIONS = {"GITHUB_ACTIONS": "true"}


def parse_output_file(text: str) -> dict[str, str]:
    """Parse $GITHUB_OUTPUT the way the runner does (name<<DELIM ... DELIM)."""
    out, lines = {}, text.split("\n")
    i = 0
    while i < len(lines) and lines[i]:
        name, delim = lines[i].split("<<", 1)
        end = lines.index(delim, i + 1)
        out[name] = "\n".join(lines[i + 1:end])
        i = end + 1
    return out


def test_outputs_are_multiline_safe(tmp_path: Path) -> None:
    path = tmp_path / "out"
    env = {"GITHUB_OUTPUT": str(path)}
    tricky = 'line one\nEOF\nghadelimiter_x\n{"a": 1}'
    assert github.set_output("plan-json", tricky, environ=env)
    assert github.set_output("simple", "v", environ=env)
    assert parse_output_file(path.read_text()) == {"plan-json": tricky, "simple": "v"}


def test_nothing_is_written_outside_actions(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    assert github.set_output("x", "y", environ={}) is False
    assert github.append_summary("# hi", environ={}) is False
    stream = io.StringIO()
    github.mask("s3cret", stream=stream, environ={})
    assert stream.getvalue() == "" and list(tmp_path.iterdir()) == []


def test_summary_appends(tmp_path: Path) -> None:
    env = {"GITHUB_STEP_SUMMARY": str(tmp_path / "s.md")}
    github.append_summary("# one", environ=env)
    github.append_summary("two\n", environ=env)
    assert (tmp_path / "s.md").read_text() == "# one\n\ntwo\n\n"


def test_annotation_escapes_and_points_at_file_line() -> None:
    stream = io.StringIO()
    github.annotate("error", "100% bad\nsecond", file="scripts/a,b:c.json", line=7, title="t",
                    stream=stream, environ=ACTIONS)
    assert stream.getvalue() == "::error file=scripts/a%2Cb%3Ac.json,line=7,title=t::100%25 bad%0Asecond\n"


def test_annotation_outside_actions_is_plain() -> None:
    stream = io.StringIO()
    github.annotate("warning", "careful", file="m.json", line=3, stream=stream, environ={})
    assert stream.getvalue() == "warning: m.json:3: careful\n"
    with pytest.raises(ValueError):
        github.annotate("fatal", "x", stream=stream, environ={})


def test_mask_each_line_of_a_multiline_secret() -> None:
    stream = io.StringIO()
    github.mask("abc\ndef", stream=stream, environ=ACTIONS)
    assert stream.getvalue() == "::add-mask::abc\n::add-mask::def\n"


def test_group() -> None:
    stream = io.StringIO()
    with github.group("deploy", stream=stream, environ=ACTIONS):
        print("inside", file=stream)
    assert stream.getvalue() == "::group::deploy\ninside\n::endgroup::\n"


def test_untrusted_text_is_printed_with_workflow_commands_stopped() -> None:
    """A log line carrying a workflow command sits between ::stop-commands::<token> and
    ::<token>::, so the runner shows it and does not obey it; the token is fresh each time."""
    first, second = io.StringIO(), io.StringIO()
    for out in (first, second):
        with github.untrusted(stream=out, environ=ACTIONS):
            print("::set-output name=x::y", file=out)
            print("::add-mask::hunter2", file=out)
    lines = first.getvalue().splitlines()
    assert lines[1:3] == ["::set-output name=x::y", "::add-mask::hunter2"]
    token = lines[0].removeprefix("::stop-commands::")
    assert lines[0].startswith("::stop-commands::") and len(token) >= 32 and lines[3] == f"::{token}::"
    assert token not in second.getvalue() and len(second.getvalue().splitlines()) == 4
    plain = io.StringIO()
    with github.untrusted(stream=plain, environ={}):
        print("::add-mask::x", file=plain)
    assert plain.getvalue() == "::add-mask::x\n"  # outside Actions: nothing added
