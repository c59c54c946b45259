#!/usr/bin/env bash
# Puts the domino-mlops CLI at "$RUNNER_TEMP/dmlops/bin/domino-mlops" for the composite actions.
#
# It goes into a virtual environment because the system Python of ubuntu-24.04 refuses
# `pip install` (PEP 668). What is installed:
#   (default)            the library that sits next to these actions (same commit), on top of
#                        actions/requirements.txt: its dependencies and build backend, pinned by
#                        version and sha256 (tools/lock_action_requirements.py writes it), so a
#                        job with deploy credentials runs only code this repository has reviewed.
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
python3 -m venv "$venv"
pip=("$venv/bin/python" -m pip install --quiet --disable-pip-version-check)
if [ -n "${DMLOPS_PACKAGE_SPEC:-}" ]; then
  "${pip[@]}" "$spec"
else
  if [ ! -f "$lock" ]; then
    echo "error: $lock is missing, so the dependencies cannot be installed by hash" >&2
    echo "hint: run tools/lock_action_requirements.py in domino-mlops and commit actions/requirements.txt" >&2
    exit 2
  fi
  # Wheels only: building an sdist would install its build dependencies unchecked.
  "${pip[@]}" --require-hashes --only-binary :all: -r "$lock"
  # Its dependencies and setuptools are in place (and checked): build it from them, add nothing.
  "${pip[@]}" --no-deps --no-build-isolation "$root"
fi
printf '%s' "$spec" >"$stamp"
"$cli" --version
