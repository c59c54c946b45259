#!/usr/bin/env bash
# Build {{IMAGE}} ({{MODEL_NAME}} version {{MODEL_VERSION}}) from this folder; push it with PUSH=true,
# run it with RUN=true (docker or podman; it answers on http://localhost:${PORT:-8080}/health).
# Rendered by domino-mlops export, which does the same itself; this script is for a run by hand.
#   CONTAINER_TOOL   docker, podman or buildah (default: the first found)
#   REGISTRY_USERNAME, REGISTRY_PASSWORD   the registry login (read from the environment, never argv)
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")"

image='{{IMAGE}}'
registry='{{REGISTRY_HOST}}'
tool="${CONTAINER_TOOL:-}"
if [ -z "$tool" ]; then
  for candidate in docker podman buildah; do
    if command -v "$candidate" >/dev/null 2>&1; then tool="$candidate"; break; fi
  done
fi
if [ -z "$tool" ]; then
  echo "error: no docker, podman or buildah on PATH" >&2
  echo "hint: install one, or set CONTAINER_TOOL to its path" >&2
  exit 2
fi

"$tool" build --tag "$image" .
if [ "${PUSH:-false}" = "true" ]; then
  if [ -n "${REGISTRY_PASSWORD:-}" ]; then
    printf '%s' "$REGISTRY_PASSWORD" | "$tool" login --username "${REGISTRY_USERNAME:?set REGISTRY_USERNAME}" --password-stdin "$registry"
  fi
  "$tool" push "$image"
fi
if [ "${RUN:-false}" = "true" ]; then
  "$tool" run --rm --publish "${PORT:-8080}:8080" "$image"
fi
echo "$image"
