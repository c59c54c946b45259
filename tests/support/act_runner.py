"""Run the project's own workflows and composite actions through the real Actions runner, act.

`ActRepo` copies the workflows, the actions and the package source into a fresh git repository
(so act's "checkout" is a copy of exactly that), then `ActRepo.run` starts

    act EVENT -W .github/workflows/FILE -j JOB -P ubuntu-latest=-self-hosted --json ...

fully offline and without Docker (`-self-hosted` runs the steps on this machine). The flags that
proved necessary, and why:

- ``--action-offline-mode``: never fetch an action that is already there;
- ``--local-repository actions/setup-python@SHA=<stub>``: act resolves every remote action when
  the job starts, even steps skipped by ``if: ${{ !env.ACT }}``; the stub satisfies it and never
  runs. A plain actions/checkout needs nothing (act copies the working tree instead); one of
  *another* repository runs a stand-in that copies ``<root>/checkouts/<owner>/<name>@<ref>``;
- ``--local-repository domino-mlops/domino-mlops@<ref>=<copy of this project>``: a caller
  repository's ``uses: domino-mlops/domino-mlops/.github/workflows/...@<ref>`` finds the
  reusable workflows there, as GitHub would fetch them;
- ``--action-cache-path <tmp>``: act's job directories (workspace copy, $RUNNER_TEMP, the
  SUMMARY.md files) live under the test's tmp_path, not in ~/.cache/act;
- ``--no-cache-server``: nothing here uses actions/cache, and it would bind a port per run;
- ``--json``: one JSON record per log line, with the job, matrix, step id and, for workflow
  commands, their parsed form (``set-output`` name/arg, ``summary`` content, ``error`` ...).
  That is how tests read step outputs and the step summary reliably.

act gives every step a pseudo-terminal when it can open one, and when a step fails it returns
before it has read what the step wrote last: a failing step's ``::error`` line went missing in
about one run in ten (act 0.2.89, tried 40 times). GitHub's runner gives steps a pipe, and so
does act when no terminal can be opened, waiting for the pipe's end. So the harness starts act in
its own mount namespace with /dev/null over /dev/ptmx (`_without_terminal`), where root or user
namespaces allow it; elsewhere act runs as it is, racy.

act passes the host's environment through to the steps of a self-hosted run, so the harness
starts it with a clean one: no GITHUB_*, MLFLOW_*, DOMINO_*, PROJECT_ID_* from the shell.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from functools import cache
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

REPO_ROOT = Path(__file__).resolve().parents[2]
ACT = shutil.which("act", path=str(Path(sys.executable).parent)) or shutil.which("act") or "act"
SETUP_PYTHON = "actions/setup-python@5fda3b95a4ea91299a34e894583c3862153e4b97"
CHECKOUT = "actions/checkout@3d3c42e5aac5ba805825da76410c181273ba90b1"
UPLOAD_ARTIFACT = "actions/upload-artifact@ea165f8d65b6e75b540449e92b4886f43607fa02"
REPOSITORY = "acme/models"
# How another repository names this project in `uses:` (and in domino-mlops-repository), and the
# commit the tests publish it at: a full SHA, since the workflows refuse anything else.
TOOLING = "domino-mlops/domino-mlops"
TOOLING_REF = "0d15ea5e0123456789abcdef0123456789abcdef"
# What a workflow run needs from this repository: the actions, the workflows, and what
# `pip install <repo root>` needs for the default (fresh venv) install path.
COPIED = ("action.yml", "actions", ".github/workflows", "src/domino_mlops", "pyproject.toml", "README.md",
          "scripts/environments.yaml")
_HOST_PREFIXES = ("GITHUB_", "RUNNER_", "ACTIONS_", "MLFLOW_", "DOMINO_", "PROJECT_ID_", "DMLOPS_", "ACT")

_STUB_ACTION = """\
name: stub
description: Stands in for a remote action that act cannot fetch offline; guarded by if !env.ACT.
runs:
  using: composite
  steps:
    - shell: bash
      run: 'echo "this stub must never run" >&2; exit 1'
"""


_CHECKOUT_STAND_IN = """\
name: checkout of another repository (test stand-in)
description: Copies <checkouts>/<owner>/<name>@<ref> to `path`, as actions/checkout would fetch it.
inputs:
  repository: {required: false, default: ""}
  ref: {required: false, default: ""}
  path: {required: false, default: "."}
  persist-credentials: {required: false, default: "true"}
runs:
  using: composite
  steps:
    - shell: bash
      env:
        WANTED: ${{ inputs.repository }}@${{ inputs.ref }}
        TARGET: ${{ inputs.path }}
      run: |
        source="@CHECKOUTS@/$WANTED"
        if [ ! -d "$source" ]; then echo "no repository or ref $WANTED" >&2; exit 1; fi
        mkdir -p "$TARGET" && cp -R "$source/." "$TARGET/"
"""


# actions/upload-artifact cannot run here: its stored snapshot lacks dist/ (the JavaScript act
# would run), and offline nothing fetches it. The stand-in checks and keeps what the step was given
# (name, path): <root>/artifacts/<name>/<file>, where a test reads the uploaded plan.
_UPLOAD_STAND_IN = """\
name: upload-artifact (test stand-in)
description: Copies `path` to @ARTIFACTS@/<name>/, as actions/upload-artifact would upload it.
inputs:
  name: {required: false, default: artifact}
  path: {required: true}
  if-no-files-found: {required: false, default: warn}
  overwrite: {required: false, default: "false"}
runs:
  using: composite
  steps:
    - shell: bash
      env:
        NAME: ${{ inputs.name }}
        SOURCE: ${{ inputs.path }}
      run: |
        if [ ! -f "$SOURCE" ]; then echo "no file at '$SOURCE'" >&2; exit 1; fi
        mkdir -p "@ARTIFACTS@/$NAME" && cp "$SOURCE" "@ARTIFACTS@/$NAME/"
"""


def copy_project(target: Path, parts: Iterable[str] = COPIED) -> None:
    """This project's files that a workflow run needs, as a checkout would hold them."""
    for relative in parts:
        source, destination = REPO_ROOT / relative, target / relative
        if source.is_dir():
            shutil.copytree(source, destination, ignore=shutil.ignore_patterns("__pycache__", "*.egg-info"))
        elif source.exists():
            destination.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, destination)


def act_available() -> bool:
    return Path(ACT).exists() or shutil.which(ACT) is not None


@dataclass(frozen=True)
class ActRun:
    """What one act invocation did: its exit code and its parsed JSON log."""

    returncode: int
    records: tuple[dict[str, Any], ...]
    stderr: str
    cache: Path

    def jobs(self) -> dict[str, str]:
        """job name (as act prints it, e.g. ``deploy-staging/plan``) -> 'success' | 'failure'."""
        return {r["job"]: r["jobResult"] for r in self.records if "jobResult" in r}

    def _of(self, job: str | None) -> list[dict[str, Any]]:
        return [r for r in self.records if job is None or r.get("jobID") == job or r.get("job") == job]

    def outputs(self, step: str, *, job: str | None = None) -> dict[str, str]:
        """Outputs a workflow step (its id) set; for a composite action, the action's own outputs."""
        found: dict[str, str] = {}
        for r in self._of(job):
            if r.get("command") == "set-output" and r.get("stepID") == [step]:
                found[r["name"]] = r.get("arg", "")
        return found

    def summary(self, *, job: str | None = None) -> str:
        """Everything the job's steps appended to $GITHUB_STEP_SUMMARY, in order.

        act reports a composite action's summary twice (inner step, then the action's step):
        only the workflow-level record counts.
        """
        return "".join(r.get("content", "") for r in self._of(job)
                       if r.get("command") == "summary" and len(r.get("stepID") or ()) == 1)

    def commands(self, name: str, *, job: str | None = None) -> list[dict[str, Any]]:
        """Workflow commands act recognised (``error``, ``warning``, ``add-mask`` ...)."""
        return [r for r in self._of(job) if r.get("command") == name]

    def log(self, *, job: str | None = None) -> str:
        """The job's log as a person would read it."""
        return "".join(str(r.get("msg", "")) + ("" if r.get("raw_output") else "\n") for r in self._of(job))

    def exit_statuses(self, *, job: str | None = None) -> list[int]:
        """Exit codes of the steps that failed, as act logs them ("exit status 2")."""
        found = re.findall(r"exit status (\d+)", self.log(job=job))
        return [int(code) for code in found]

    def step_results(self, *, job: str | None = None) -> list[tuple[str, str]]:
        return [(r.get("step", ""), r["stepResult"]) for r in self._of(job) if "stepResult" in r]

    def explain(self) -> str:
        """For assertion messages: the log and act's own stderr."""
        return f"act exited {self.returncode}\n--- log ---\n{self.log()}\n--- stderr ---\n{self.stderr[-4000:]}"


@dataclass
class ActRepo:
    """A throwaway git repository run with act: by default one holding this project's workflows
    and actions; with ``caller=True`` another team's repository, holding only its own files and
    calling this project's reusable workflows at ``TOOLING@TOOLING_REF``."""

    root: Path
    caller: bool = False
    work: Path = field(init=False)
    runs: int = 0

    def __post_init__(self) -> None:
        self.work = self.root / "repo"
        self.work.mkdir(parents=True)
        if self.caller:
            copy_project(self.work, ("scripts/environments.yaml",))
        else:
            copy_project(self.work)
        copy_project(self.tooling)  # this project as published, for callers and their checkouts
        (self.root / "stub-action").mkdir()
        (self.root / "stub-action" / "action.yml").write_text(_STUB_ACTION)
        (self.root / "upload-stand-in").mkdir()
        (self.root / "upload-stand-in" / "action.yml").write_text(
            _UPLOAD_STAND_IN.replace("@ARTIFACTS@", str(self.root / "artifacts")))
        (self.root / "checkout-stand-in").mkdir()
        (self.root / "checkout-stand-in" / "action.yml").write_text(
            _CHECKOUT_STAND_IN.replace("@CHECKOUTS@", str(self.root / "checkouts")))
        self._git("init", "--quiet", "--initial-branch=main")
        self._git("remote", "add", "origin", f"https://github.com/{REPOSITORY}.git")
        self.commit("the project's workflows and actions")

    @property
    def tooling(self) -> Path:
        return self.root / "checkouts" / f"{TOOLING}@{TOOLING_REF}"

    def write(self, relative: str, text: str) -> Path:
        path = self.work / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
        return path

    def commit(self, message: str = "change") -> None:
        self._git("add", "-A")
        self._git("-c", "user.name=test", "-c", "user.email=test@example.com", "commit", "--quiet",
                  "--allow-empty", "-m", message)

    def run(self, event: str, *, workflow: str, job: str | None = None,
            payload: Mapping[str, Any] | None = None, env: Mapping[str, str] | None = None,
            secrets: Mapping[str, str] | None = None, variables: Mapping[str, str] | None = None,
            inputs: Mapping[str, str] | None = None, timeout: float = 300, actor: str | None = None) -> ActRun:
        """Run one workflow (and only ``job`` plus the jobs it needs, when given); ``actor``: who
        pushed or dispatched it (github.actor, GITHUB_ACTOR)."""
        self.runs += 1
        files = self.root / f"run-{self.runs}"
        files.mkdir()
        event_path = files / "event.json"
        body = dict(payload or {})
        if inputs:  # act reads workflow_dispatch inputs from the event payload when there is one
            body["inputs"] = {**body.get("inputs", {}), **inputs}
        event_path.write_text(json.dumps(body))
        argv = [
            ACT, event, "-C", str(self.work), "-W", f".github/workflows/{workflow}",
            "-P", "ubuntu-latest=-self-hosted", "--json", "-e", str(event_path),
            "--action-offline-mode", "--no-cache-server", "--defaultbranch", "main",
            "--action-cache-path", str(files / "act-cache"),
            "--local-repository", f"{SETUP_PYTHON}={self.root / 'stub-action'}",
            "--local-repository", f"{CHECKOUT}={self.root / 'checkout-stand-in'}",
            "--local-repository", f"{UPLOAD_ARTIFACT}={self.root / 'upload-stand-in'}",
            "--local-repository", f"{TOOLING}@{TOOLING_REF}={self.tooling}",
            # The default files (.env, .secrets, .vars, .input) are read from the working
            # directory: point every one of them at this run's own, possibly empty, file.
            "--env-file", str(_dotenv(files / "env", env)),
            "--secret-file", str(_dotenv(files / "secrets", secrets)),
            "--var-file", str(_dotenv(files / "vars", variables)),
            "--input-file", str(_dotenv(files / "inputs", None)),
        ]
        # Input names are kebab-case, which act's dotenv reader refuses: flags instead.
        for name, value in (inputs or {}).items():
            argv += ["--input", f"{name}={value}"]
        if job:
            argv += ["-j", job]
        if actor:
            argv += ["--actor", actor]
        done = subprocess.run(_without_terminal(argv), cwd=self.work, env=clean_environment(), capture_output=True,
                              text=True, timeout=timeout, check=False)
        return ActRun(done.returncode, tuple(_records(done.stdout + "\n" + done.stderr)), done.stderr,
                      files / "act-cache")

    def _git(self, *args: str) -> None:
        subprocess.run(["git", *args], cwd=self.work, check=True, capture_output=True, text=True)


# Inside the namespace the bind mount hides the terminal multiplexer from act alone; `exec` keeps
# act the process a timeout kills.
_HIDE_PTMX = "mount --bind /dev/null /dev/ptmx && exec \"$0\" \"$@\""
_NAMESPACES = (("unshare", "--mount"), ("unshare", "--user", "--map-root-user", "--mount"))


@cache
def _namespace() -> tuple[str, ...] | None:
    """The first way this machine lets us start a process with /dev/ptmx hidden, if any."""
    if shutil.which("unshare") is None:
        return None
    for prefix in _NAMESPACES:
        probe = subprocess.run([*prefix, "sh", "-c", _HIDE_PTMX, "true"], capture_output=True, check=False)
        if probe.returncode == 0:
            return prefix
    return None


def _without_terminal(argv: list[str]) -> list[str]:
    """``argv`` run where act cannot open a pseudo-terminal, so it waits for a step's last line."""
    prefix = _namespace()
    return [*prefix, "sh", "-c", _HIDE_PTMX, *argv] if prefix else argv


def clean_environment(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The host environment minus anything a workflow could mistake for its own settings."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(_HOST_PREFIXES)}
    env.update(extra or {})
    return env


def pull_request_event(number: int = 7, *, head: str = "model-update", fork: str | None = None) -> dict[str, Any]:
    """A pull_request payload; ``fork`` names the repository the head branch lives in, if not ours."""
    return {"number": number, "action": "synchronize",
            "pull_request": {"number": number,
                             "head": {"ref": head, "sha": "0" * 40, "repo": {"full_name": fork or REPOSITORY}},
                             "base": {"ref": "main"}},
            "repository": {"full_name": REPOSITORY, "default_branch": "main"}}


def push_event(ref: str = "refs/heads/main") -> dict[str, Any]:
    return {"ref": ref, "repository": {"full_name": REPOSITORY, "default_branch": "main"}}


def dispatch_event(ref: str = "refs/heads/main") -> dict[str, Any]:
    """A workflow_dispatch payload: GitHub's carries the repository (and its default branch)."""
    return {"ref": ref, "repository": {"full_name": REPOSITORY, "default_branch": "main"}}


def _dotenv(path: Path, values: Mapping[str, str] | None) -> Path:
    lines = []
    for key, value in (values or {}).items():
        if "\n" in value:
            raise ValueError(f"{key}: act's dotenv files cannot carry a newline")
        lines.append(f"{key}={value}")
    path.write_text("\n".join(lines) + ("\n" if lines else ""))
    return path


def _records(text: str) -> Iterable[dict[str, Any]]:
    for line in text.splitlines():
        if line.startswith("{"):
            try:
                record = json.loads(line)
            except ValueError:
                continue
            if isinstance(record, dict) and record.get("level") != "debug":
                yield record
