#!/usr/bin/env bash
# Puts the domino-mlops CLI at "$RUNNER_TEMP/dmlops/bin/domino-mlops" for the composite actions.
#
# It goes into a virtual environment because the system Python of ubuntu-24.04 refuses
# `pip install` (PEP 668). What is installed:
#   (default)            actions/requirements.txt: the library's dependencies, pinned by version
#                        and sha256, wheels only (tools/lock_action_requirements.py writes it), so
#                        a job with deploy credentials runs only code this repository has reviewed;
#                        then the library that sits next to these actions (same commit) is copied
#                        into the venv as it is, with a launcher: nothing is built, so no build
#                        backend is installed (pure Python, and `--version` reads __version__).
#                        Every job pays this, so it is kept short (benchmarks/cold_start.py): the
#                        venv is made without pip (`--without-pip`, no ensurepip) and the lock is
#                        installed into it from outside, by `uv pip install` when uv is on PATH
#                        (not on GitHub's hosted images; a setup-uv step or a self-hosted runner
#                        may have it), else by the pip of python3 (`pip --python`, pip >= 22.3),
#                        else by a pip put into the venv (ensurepip: seconds more, 7 s to 13 s on a
#                        loaded 2-core machine against 0.4 s to 0.9 s without).
#                        They honour UV_CACHE_DIR / PIP_CACHE_DIR: a job that restores one with
#                        actions/cache (keyed on this lock's hash) saves the downloads.
#   DMLOPS_INSTALLER     uv or pip: that installer, not the first one found (benchmarks compare).
#   DMLOPS_PACKAGE_SPEC  a pip requirement instead: `domino-mlops==0.2.0`, a path, a git URL.
#                        pip resolves it and its dependencies as it likes: the lock is bypassed.
#   DMLOPS_PYTHON        a Python that already has domino-mlops (a pre-baked self-hosted runner,
#                        or the project's own tests): nothing is installed, the CLI runs on it.
# A second action in the same job finds the same spec installed and does nothing.
set -euo pipefail

venv="${RUNNER_TEMP:?RUNNER_TEMP is not set; this script runs inside GitHub Actions}/dmlops"
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
lock="$root/actions/requirements.txt"
spec="${DMLOPS_PACKAGE_SPEC:-$root}"
cli="$venv/bin/domino-mlops"

if [ -n "${DMLOPS_PYTHON:-}" ]; then
  if ! "$DMLOPS_PYTHON" -c "import domino_mlops" 2>/dev/null; then
    echo "error: DMLOPS_PYTHON=$DMLOPS_PYTHON cannot import domino_mlops" >&2
    echo "hint: install domino-mlops into that Python, or unset DMLOPS_PYTHON to install it here" >&2
    exit 2
  fi
  mkdir -p "$venv/bin"
  printf '#!/usr/bin/env bash\nexec %q -m domino_mlops.cli "$@"\n' "$DMLOPS_PYTHON" >"$cli"
  chmod +x "$cli"
  echo "Using domino-mlops from $DMLOPS_PYTHON"
  exit 0
fi

stamp="$venv/.domino-mlops-spec"
if [ -x "$cli" ] && [ "$(cat "$stamp" 2>/dev/null)" = "$spec" ]; then
  echo "domino-mlops is already installed in $venv"
  exit 0
fi
if [ -n "${DMLOPS_PACKAGE_SPEC:-}" ]; then
  python3 -m venv "$venv"
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check "$spec"
  printf '%s' "$spec" >"$stamp"
  "$cli" --version
  exit 0
fi

if [ ! -f "$lock" ]; then
  echo "error: $lock is missing, so the dependencies cannot be installed by hash" >&2
  echo "hint: run tools/lock_action_requirements.py in domino-mlops and commit actions/requirements.txt" >&2
  exit 2
fi
# Wheels only, every file by its hash: building an sdist would run code nobody pinned.
locked=(--require-hashes --only-binary :all: -r "$lock")
installer="${DMLOPS_INSTALLER:-}"
if [ -z "$installer" ]; then
  if command -v uv >/dev/null; then installer=uv; else installer=pip; fi
fi
rm -rf "$venv"
python3 -m venv --without-pip "$venv"
python="$venv/bin/python"
case "$installer" in
  uv)
    uv pip install --quiet --no-config --python "$python" "${locked[@]}"
    ;;
  pip)
    if python3 -c 'import sys, pip; sys.exit(tuple(map(int, pip.__version__.split(".")[:2])) < (22, 3))' 2>/dev/null
    then
      python3 -m pip --python "$python" install --quiet --disable-pip-version-check "${locked[@]}"
    else  # python3 has no pip that can install into another environment: give the venv its own
      "$python" -m ensurepip --default-pip >/dev/null
      "$python" -m pip install --quiet --disable-pip-version-check "${locked[@]}"
    fi
    ;;
  *)
    echo "error: DMLOPS_INSTALLER=$installer is neither uv nor pip" >&2
    exit 2
    ;;
esac
# The library itself: its source, as reviewed, and a launcher (what an installed wheel would be).
site="$("$python" -c 'import sysconfig; print(sysconfig.get_path("purelib"))')"
cp -R "$root/src/domino_mlops" "$site/"
printf '#!%s\nimport sys\nfrom domino_mlops.cli import entry\nsys.exit(entry())\n' "$python" >"$cli"
chmod +x "$cli"
printf '%s' "$spec" >"$stamp"
"$cli" --version
