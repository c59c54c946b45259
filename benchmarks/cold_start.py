"""Cold start of an action: from nothing to a CLI that answers, against installing `mlflow` (issue 12, goal 3).

Every job that uses an action pays this before its first command: a fresh virtual environment,
no package cache, the runtime dependencies from PyPI. Measured here, each in its own temporary
folder, with no cache (PIP_NO_CACHE_DIR, UV_NO_CACHE) and no local package sources (pip's
config files and PIP_FIND_LINKS are ignored, so every wheel comes from PyPI):

- actions/install.sh as it is, with `RUNNER_TEMP` set to the folder, once per installer
  (DMLOPS_INSTALLER=pip: python3's own pip into a venv made --without-pip, what a GitHub-hosted
  runner gets; =uv: `uv pip install`, when uv is on PATH), then `domino-mlops --version`;
- uv again with the cache a job could restore (filled by a first, untimed install);
- the install.sh of BEFORE (the commit before this change: mlflow-skinny in the lock, pip put into
  the venv by ensurepip, the package built with setuptools), from `git archive`;
- Domino's demo workflow as issue 12 describes it: `python3 -m venv X && X/bin/pip install mlflow`
  (the full package, newest; the demo's documents in the project's seeds pin no version).

Where the time goes comes from install.sh's own trace (bash -x, each command stamped) and pip's log
(PIP_LOG, stamped: collecting and downloading until "Installing collected packages", then install).
Wheels: distributions in the venv's site-packages; downloaded: the sizes pip logs; installed: the
venv on disk. Needs PyPI; offline it says so and exits 3 (run_all.py then goes on).

Run: .venv/bin/python benchmarks/cold_start.py [--skip-mlflow] [--runs N]
"""

from __future__ import annotations

import argparse
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
BEFORE = "3d9a2c2"  # the last commit whose install.sh built the package on top of mlflow-skinny
EXIT_OFFLINE = 3


@dataclass
class Result:
    name: str
    total: float = 0.0  # install and the first `--version` (or, for mlflow, venv and pip install)
    ready: float | None = None  # then the first `domino-mlops --version` (for mlflow: `import mlflow`)
    phases: dict[str, float] = field(default_factory=dict)
    wheels: int = 0
    downloaded: float | None = None  # bytes, as pip logs them (rounded sizes)
    installed: int = 0  # bytes of the venv on disk


def clean_env(**extra: str | None) -> dict[str, str]:
    """No cache, no local package source; `extra` adds variables (None removes one)."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("DMLOPS_", "PIP_FIND_LINKS", "PIP_INDEX", "PIP_EXTRA", "UV_", "VIRTUAL_ENV"))}
    env.update(PIP_CONFIG_FILE=os.devnull, PIP_NO_CACHE_DIR="1", UV_NO_CACHE="1",
               PIP_DISABLE_PIP_VERSION_CHECK="1", PIP_PROGRESS_BAR="off")
    env.update(extra)
    return {k: v for k, v in env.items() if v is not None}


def uv_bin_dir(scratch: Path) -> Path | None:
    """A folder with only uv in it, for PATH (the dev venv's bin would also bring its python3)."""
    found = shutil.which("uv", path=str(Path(sys.executable).parent)) or shutil.which("uv")
    if found is None:
        return None
    folder = scratch / "uv-bin"
    folder.mkdir(exist_ok=True)
    (folder / "uv").symlink_to(found)
    return folder


def pypi_reachable() -> bool:
    try:
        socket.create_connection(("pypi.org", 443), timeout=5).close()
        return True
    except OSError:
        return False


def disk_bytes(path: Path) -> int:
    return sum(p.lstat().st_size for p in path.rglob("*") if p.is_file() and not p.is_symlink())


def wheels_in(venv: Path) -> int:
    return len(list(venv.glob("lib/python3*/site-packages/*.dist-info")))


SIZE = re.compile(r"Downloading (\S+?) \(([\d.]+) (bytes|kB|MB|GB)\)")
UNIT = {"bytes": 1, "kB": 1e3, "MB": 1e6, "GB": 1e9}
STAMP = re.compile(r"^(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d,\d{3}) (.*)$")


def read_pip_log(log: Path) -> tuple[float | None, float | None, float | None]:
    """(bytes downloaded, seconds collecting+downloading, seconds installing) from a PIP_LOG file."""
    if not log.exists():
        return None, None, None
    lines = [(datetime.strptime(m[1], "%Y-%m-%dT%H:%M:%S,%f").timestamp(), m[2])
             for m in map(STAMP.match, log.read_text(errors="replace").splitlines()) if m]
    if not lines:
        return None, None, None
    downloaded = sum(float(m[2]) * UNIT[m[3]] for _, text in lines for m in [SIZE.search(text)]
                     if m and not m[1].endswith(".metadata"))
    start, end = lines[0][0], lines[-1][0]
    installing = next((t for t, text in lines if text.startswith("Installing collected packages")), None)
    if installing is None:
        return downloaded, None, None
    return downloaded, installing - start, end - installing


def classify(command: str) -> str:
    if "-m venv" in command:
        return "venv"
    if "ensurepip" in command:
        return "ensurepip"
    if "--no-build-isolation" in command:
        return "build"
    if "--require-hashes" in command:
        return "dependencies"
    if command.startswith("cp -R") or "sysconfig" in command:
        return "copy"
    if command.endswith("--version"):
        return "--version"
    return "other"


def traced_install(name: str, root: Path, scratch: Path, **env: str) -> Result:
    """install.sh traced (set -x), every command stamped: a phase lasts until the next command."""
    runner_temp = Path(tempfile.mkdtemp(prefix="run-", dir=scratch))  # no words: phases match on commands
    log = runner_temp / "pip.log"
    trace_env = clean_env(RUNNER_TEMP=str(runner_temp), PIP_LOG=str(log), **env)
    # PS4 set inside: bash run as root does not take it from the environment.
    traced = 'PS4="+\t\${EPOCHREALTIME}\t"; set -x; . "$0"'
    start = time.perf_counter()
    done = subprocess.run(["bash", "-c", traced, str(root / "actions" / "install.sh")], env=trace_env,
                          capture_output=True, text=True, check=False)
    total = time.perf_counter() - start
    if done.returncode != 0:
        raise SystemExit(f"error: {name}: install.sh exited {done.returncode}\n{done.stderr[-3000:]}")
    steps = []
    for line in done.stderr.splitlines():
        parts = line.split("\t", 2)
        if len(parts) == 3 and parts[0].strip("+") == "":
            steps.append((float(parts[1]), parts[2]))
    result = Result(name, total)
    # A command lasts until the next one starts; the last one until the script ends (bash's start
    # up before the first stamp is a few ms, counted in total only).
    ends = [t for t, _ in steps[1:]] + [steps[0][0] + total]
    for (stamp, command), end in zip(steps, ends):
        phase = classify(command)
        result.phases[phase] = result.phases.get(phase, 0.0) + (end - stamp)
    result.ready = result.phases.get("--version")
    venv = runner_temp / "dmlops"
    result.wheels, result.installed = wheels_in(venv), disk_bytes(venv)
    downloaded, collecting, installing = read_pip_log(log)
    result.downloaded = downloaded
    if collecting is not None and "dependencies" in result.phases:
        result.phases["dependencies: collect+download"] = collecting
        result.phases["dependencies: install"] = installing
    return result


def mlflow_install(scratch: Path, requirement: str) -> Result:
    """Domino's demo workflow: a venv with pip, then `pip install mlflow`, nothing pinned."""
    venv, log = scratch / "mlflow-venv", scratch / "mlflow-pip.log"
    env = clean_env(PIP_LOG=str(log))
    start = time.perf_counter()
    subprocess.run(["python3", "-m", "venv", str(venv)], env=env, check=True)
    made = time.perf_counter()
    subprocess.run([str(venv / "bin" / "pip"), "install", "--quiet", requirement], env=env, check=True)
    total = time.perf_counter() - start
    result = Result(f"`pip install {requirement}` (Domino's demo)", total)
    result.phases["venv"] = made - start
    result.phases["dependencies"] = total - (made - start)
    downloaded, collecting, installing = read_pip_log(log)
    result.downloaded = downloaded
    if collecting is not None:
        result.phases["dependencies: collect+download"] = collecting
        result.phases["dependencies: install"] = installing
    result.wheels, result.installed = wheels_in(venv), disk_bytes(venv)
    start = time.perf_counter()
    subprocess.run([str(venv / "bin" / "python"), "-c", "import mlflow"], env=env, check=True)
    result.ready = time.perf_counter() - start  # not in total: the install alone is the baseline
    return result


def before_tree(scratch: Path) -> Path | None:
    """The repository at BEFORE (only what install.sh reads), or None without git history."""
    target = scratch / "before"
    target.mkdir()
    archive = subprocess.run(["git", "-C", str(REPO), "archive", BEFORE, "actions", "src", "pyproject.toml",
                              "README.md"], capture_output=True, check=False)
    if archive.returncode != 0:
        return None
    subprocess.run(["tar", "-x", "-C", str(target)], input=archive.stdout, check=True)
    return target


def mb(value: float | None) -> str:
    return "" if value is None else f"{value / 1e6:.1f} MB"


def seconds(value: float | None) -> str:
    return "" if value is None else f"{value:.2f} s"


def where(result: Result) -> str:
    order = ["venv", "ensurepip", "dependencies: collect+download", "dependencies: install", "dependencies",
             "build", "copy", "--version", "other"]
    shown = [p for p in order if p in result.phases
             and not (p == "dependencies" and "dependencies: install" in result.phases)]
    return ", ".join(f"{p} {result.phases[p]:.1f}" for p in shown)


def one_run(args: argparse.Namespace) -> list[Result]:
    results = []
    with tempfile.TemporaryDirectory(prefix="cold-start-") as folder:
        scratch = Path(folder)
        uv_dir = uv_bin_dir(scratch)
        with_uv = {"PATH": f"{uv_dir}{os.pathsep}{os.environ['PATH']}"} if uv_dir else None
        results.append(traced_install("now, pip (hosted runner)", REPO, scratch, DMLOPS_INSTALLER="pip"))
        if with_uv:
            results.append(traced_install("now, uv", REPO, scratch, DMLOPS_INSTALLER="uv", **with_uv))
        # A restored cache: filled by one install, then a fresh venv that may read it. (uv only: the
        # pip on the machine this was written on writes no cache, even with --cache-dir.)
        if with_uv:
            warm_uv = {**with_uv, "UV_NO_CACHE": None, "UV_CACHE_DIR": str(scratch / "uv-cache")}
            traced_install("fill uv cache", REPO, scratch, DMLOPS_INSTALLER="uv", **warm_uv)
            results.append(traced_install("now, uv, restored cache", REPO, scratch, DMLOPS_INSTALLER="uv",
                                          **warm_uv))
        before = before_tree(scratch)
        if before is not None:
            results.append(traced_install(f"before ({BEFORE}: mlflow-skinny, ensurepip, setuptools build)",
                                          before, scratch))
        else:
            print(f"note: no git history with {BEFORE}: the 'before' row is left out", file=sys.stderr)
        if not args.skip_mlflow:
            results.append(mlflow_install(scratch, args.mlflow))
    return results


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=1, help="whole rounds, one table each (the machine is noisy)")
    parser.add_argument("--skip-mlflow", action="store_true", help="leave out the ~40 s `pip install mlflow`")
    parser.add_argument("--mlflow", default="mlflow", help="what the baseline installs (default: %(default)s)")
    args = parser.parse_args()
    if not pypi_reachable():
        print("skipped: pypi.org:443 is not reachable; a cold start is an install from PyPI", file=sys.stderr)
        return EXIT_OFFLINE
    for run in range(args.runs):
        results = one_run(args)
        cold_pip = next((r for r in results if r.name.startswith("now, pip")), None)
        for r in results:
            if r.name == "now, uv" and cold_pip:
                r.downloaded = cold_pip.downloaded  # the same wheels (uv logs no sizes)
        print(f"\nround {run + 1} of {args.runs}, python3 {platform_python()}\n")
        print("| install | total (s) | then ready (s) | wheels | downloaded | installed | where the time goes (s) |")
        print("|---|---|---|---|---|---|---|")
        for r in results:
            print(f"| {r.name} | {r.total:.2f} | {seconds(r.ready)} | {r.wheels} | {mb(r.downloaded)} "
                  f"| {mb(r.installed)} | {where(r)} |")
        baseline = next((r for r in results if r.name.startswith("`pip install")), None)
        before = next((r for r in results if r.name.startswith("before")), None)
        for r in results:
            if r.name.startswith("now"):
                ratios = []
                if baseline:
                    ratios.append(f"{baseline.total / r.total:.1f}x faster than `pip install {args.mlflow}`")
                if before:
                    ratios.append(f"{before.total / r.total:.1f}x faster than before")
                print(f"- {r.name}: " + ", ".join(ratios))
    return 0


def platform_python() -> str:
    return subprocess.run(["python3", "-c", "import platform; print(platform.python_version())"],
                          capture_output=True, text=True, check=True).stdout.strip()


if __name__ == "__main__":
    sys.exit(main())
