"""Hostile desired-state files through `validate`: each is one issue with file:line and a hint,
exit 2, in bounded time and memory; never a traceback, never a hang."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from domino_mlops.cli import main
from domino_mlops.desired.limits import ENVIRONMENTS, MANIFEST

GOOD_MANIFEST = b'{"p1": [{"name": "a", "version": 1}]}\n'
GOOD_ENVIRONMENTS = b"environments:\n  - name: DEV\n  - name: PROD\n    requires: DEV\n"


def laughs(levels: int = 9) -> bytes:
    lines = ["l0: &l0 [lol, lol, lol, lol, lol, lol, lol, lol, lol, lol]"]
    lines += [f"l{i}: &l{i} [{', '.join([f'*l{i - 1}'] * 10)}]" for i in range(1, levels)]
    return ("\n".join(lines) + "\nenvironments: [{name: DEV}]\n").encode()


# (case, which file, its bytes, the line the issue names or None, words the message holds)
HOSTILE = [
    ("billion-laughs", "environments", laughs(), 5, "expands to more than 100000 values"),
    ("recursive-alias", "environments", b"environments: &e\n  - name: DEV\n  - *e\n", 3, "inside its own anchor"),
    ("deep-yaml", "environments", b"[" * 100_000, 1, "nested more than 64 levels"),
    ("deep-json", "manifest", b"[" * 100_000 + b"]" * 100_000, 1, "nested more than 64 levels"),
    ("huge-json", "manifest", b" " * (MANIFEST.max_bytes + 1), None, "larger than 10 MiB"),
    ("huge-yaml", "environments", b"#" * (ENVIRONMENTS.max_bytes + 1), None, "larger than 1 MiB"),
    ("not-utf8-json", "manifest", b'{"p1": [\n {"name": "caf\xe9", "version": 1}]}', 2, "byte 0xe9 at line 2"),
    ("not-utf8-yaml", "environments", b"environments:\n  - name: D\xffV\n", 2, "byte 0xff at line 2"),
    ("utf16", "manifest", '{"p1": []}'.encode("utf-16"), 1, "UTF-16"),
    ("bom-json", "manifest", b"\xef\xbb\xbf" + GOOD_MANIFEST, 1, "byte order mark"),
    ("bom-yaml", "environments", b"\xef\xbb\xbf" + GOOD_ENVIRONMENTS, 1, "byte order mark"),
    ("tabs", "environments", b"environments:\n\t- name: DEV\n", 2, "not tabs"),
    ("duplicate-yaml", "environments", b"environments:\n  - name: DEV\n    name: PROD\n", 3, "appears more than once"),
    ("duplicate-json", "manifest", b'{"p1": [],\n "p1": []}', 2, "appears more than once"),
    ("nul-json", "manifest", b'{"p1": [{"name": "a\x00", "version": 1}]}', 1, "NUL byte at line 1, column 20"),
    ("nul-yaml", "environments", b"environments:\n  - name: DEV\x00\n", 2, "NUL byte"),
    ("nan-json", "manifest", b'{"p1": [{"name": "a",\n "version": NaN}]}', 2, "NaN is not valid JSON"),
    ("long-number", "manifest", b'{"p1": [{"name": "a", "version": ' + b"9" * 5000 + b"}]}", 1, "more digits"),
    ("date-yaml", "environments", b"environments:\n  - name: DEV\n    github_environment: 2024-01-01\n", 3,
     "as a date"),
    ("python-tag", "environments", b"environments: !!python/object/apply:os.system [echo]\n", 1, "tagged"),
    ("at-latest", "manifest", b'{"p1": [\n {"name": "a", "version": "@latest"}]}', 2, "reserved by MLflow"),
    ("many-items", "manifest", b'{"p1": [' + b",".join([b'{"name": "a", "version": 1}'] * 60_000) + b"]}", 1,
     "more than 100000 values"),
    ("unique-items-pairwise", "manifest", json.dumps({"p1": [{"name": "a", "version": 1, "environments": [
        {"k": i} for i in range(30_000)]}]}).encode(), 1, "must be a string"),
]


@pytest.mark.parametrize(("case", "which", "content", "line", "words"), HOSTILE, ids=[h[0] for h in HOSTILE])
def test_hostile_file_is_one_clear_issue_and_exit_2(tmp_path: Path, capsys, monkeypatch, case: str, which: str,
                                                    content: bytes, line: int | None, words: str) -> None:
    monkeypatch.chdir(tmp_path)
    files = {"manifest": tmp_path / "m.json", "environments": tmp_path / "e.yaml"}
    files["manifest"].write_bytes(GOOD_MANIFEST)
    files["environments"].write_bytes(GOOD_ENVIRONMENTS)
    files[which].write_bytes(content)
    before = sorted(p.name for p in tmp_path.iterdir())

    code = main(["validate", "--manifest", str(files["manifest"]), "--environments", str(files["environments"])])

    out, err = capsys.readouterr()
    assert code == 2, err
    assert out == "" and "Traceback" not in err
    error_lines = [e for e in err.splitlines() if e.startswith("error: ")]
    where = f"{files[which]}:{line}: " if line else f"{files[which]}: "
    assert error_lines[0].startswith(f"error: {where}"), err
    assert words in error_lines[0], err
    assert err.splitlines()[-1].startswith("hint: ")
    assert len(err) < 20_000  # a message quotes an excerpt, never the file
    assert sorted(p.name for p in tmp_path.iterdir()) == before


def test_a_device_is_refused_without_reading_it(capsys) -> None:
    assert main(["validate", "--manifest", "/dev/zero", "--environments", "/dev/zero"]) == 2
    err = capsys.readouterr().err
    assert "/dev/zero: $: this is a character device, not a regular file; point --manifest at the file" in err


def test_a_named_pipe_is_refused_without_opening_it(tmp_path: Path) -> None:
    """Opening a FIFO for reading blocks until a writer comes: the old code hung forever here. A
    subprocess with a deadline, so a regression fails instead of hanging the suite."""
    import os
    import subprocess
    import sys

    fifo = tmp_path / "model_version.json"
    os.mkfifo(fifo)
    done = subprocess.run([sys.executable, "-c", "import sys; from domino_mlops.cli import main; "
                           "sys.exit(main(sys.argv[1:]))", "validate", "--manifest", str(fifo)],
                          capture_output=True, text=True, timeout=60, cwd=tmp_path)
    assert done.returncode == 2, done.stderr
    assert f"{fifo}: $: this is a named pipe (FIFO), not a regular file" in done.stderr


def test_a_large_file_is_read_only_up_to_the_limit(tmp_path: Path, capsys) -> None:
    big = tmp_path / "big.json"
    with big.open("wb") as handle:
        handle.truncate(11 * 1024 * 1024)  # sparse: 11 MiB of NULs without writing them
    assert main(["validate", "--manifest", str(big)]) == 2
    assert f"{big}: $: the file is larger than 10 MiB" in capsys.readouterr().err


def test_merged_yaml_passes_validate_and_errors_inside_merges_point_at_the_anchor(tmp_path: Path, capsys) -> None:
    manifest = tmp_path / "m.json"
    manifest.write_bytes(GOOD_MANIFEST)
    envs = tmp_path / "e.yaml"
    envs.write_text("environments:\n"
                    "  - &dev\n"
                    "    name: DEV\n"
                    "    smoke_test: {enabled: true, timeout_seconds: 20}\n"
                    "  - <<: *dev\n"
                    "    name: PROD\n"
                    "    requires: DEV\n")
    assert main(["validate", "--manifest", str(manifest), "--environments", str(envs)]) == 0
    assert "DEV -> PROD" in capsys.readouterr().out

    envs.write_text(envs.read_text().replace("timeout_seconds: 20", "timeout_seconds: -1"))
    assert main(["validate", "--manifest", str(manifest), "--environments", str(envs)]) == 2
    err = capsys.readouterr().err
    # Both DEV's own value and PROD's merged copy are at line 4, where the anchor holds them.
    assert f"{envs}:4: $.environments[0].smoke_test.timeout_seconds" in err
    assert f"{envs}:4: $.environments[1].smoke_test.timeout_seconds" in err
