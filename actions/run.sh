#!/usr/bin/env bash
# Runs one domino-mlops command for a composite action.
#
# The action hands its inputs over as DMLOPS_* variables (never `${{ }}` inside `run:`); this
# turns the ones that were given, and that COMMAND takes, into flags. Credentials stay in the
# environment under the names the CLI reads, and only when given, so that an empty input never
# hides a variable the job set itself. The project token travels as DMLOPS_PROJECT_TOKEN with
# --project: the CLI masks it and makes it PROJECT_ID_<project>, a name YAML cannot compute.
set -euo pipefail

command="${1:?usage: run.sh COMMAND}"
args=("$command")

flag() { # flag NAME VALUE: add --NAME VALUE when VALUE is not empty
  if [ -n "$2" ]; then args+=("--$1" "$2"); fi
}
files() {
  flag manifest "${DMLOPS_MANIFEST:-}"
  flag environments "${DMLOPS_ENVIRONMENTS_FILE:-}"
}
export_if_set() { # export_if_set NAME VALUE
  if [ -n "$2" ]; then export "$1=$2"; fi
}

# A writer waits up to --lease-wait seconds for another run's lease on a model (a rollback behind
# a promotion: separate concurrency groups, one lease); --expect-plan-digest makes it refuse
# (exit 4) unless it re-plans exactly what the reviewer approved.
writer() {
  flag expect-plan-digest "${DMLOPS_EXPECT_PLAN_DIGEST:-}"
  flag lease-wait "${DMLOPS_LEASE_WAIT:-}"
  flag max-parallel "${DMLOPS_MAX_PARALLEL:-}"
}

case "$command" in
  validate) files ;;
  projects) files; flag env "${DMLOPS_ENVIRONMENT:-}"; flag project "${DMLOPS_PROJECT:-}" ;;
  environments) files; flag env "${DMLOPS_ENVIRONMENT:-}" ;;
  plan) files; flag env "${DMLOPS_ENVIRONMENT:-}"; flag project "${DMLOPS_PROJECT:-}"; flag as "${DMLOPS_PLAN_AS:-}" ;;
  deploy | promote)
    files
    flag env "${DMLOPS_ENVIRONMENT:-}"
    flag project "${DMLOPS_PROJECT:-}"
    flag model "${DMLOPS_MODEL:-}"
    flag version "${DMLOPS_VERSION:-}"
    writer
    ;;
  rollout)
    files
    flag env "${DMLOPS_ENVIRONMENT:-}"
    flag project "${DMLOPS_PROJECT:-}"
    writer
    ;;
  rollback)
    files
    flag env "${DMLOPS_ENVIRONMENT:-}"
    flag project "${DMLOPS_PROJECT:-}"
    flag model "${DMLOPS_MODEL:-}"
    flag to "${DMLOPS_VERSION:-}"
    case "${DMLOPS_PLAN_ONLY:-false}" in
      true) args+=(--plan-only) ;;  # read-only: no lease to wait for, nothing expected yet
      false | "") writer; flag expect-from "${DMLOPS_EXPECT_FROM:-}" ;;
      *) echo "error: plan-only must be 'true' or 'false', not '$DMLOPS_PLAN_ONLY'" >&2; exit 2 ;;
    esac
    ;;
  export)
    flag targets "${DMLOPS_TARGETS_FILE:-}"
    flag target "${DMLOPS_TARGET:-}"
    flag output "${DMLOPS_OUTPUT:-}"
    flag export-timeout "${DMLOPS_EXPORT_TIMEOUT:-}"
    flag project "${DMLOPS_PROJECT:-}"
    flag github-environment "${DMLOPS_EXPORT_ENVIRONMENT:-}"
    flag expect-plan-digest "${DMLOPS_EXPECT_PLAN_DIGEST:-}"
    case "${DMLOPS_CONTEXT_ONLY:-false}" in
      true) args+=(--context-only) ;;
      false | "") ;;
      *) echo "error: context-only must be 'true' or 'false', not '$DMLOPS_CONTEXT_ONLY'" >&2; exit 2 ;;
    esac
    ;;
  history) flag model "${DMLOPS_MODEL:-}"; flag env "${DMLOPS_ENVIRONMENT:-}"; flag project "${DMLOPS_PROJECT:-}" ;;
  *)
    echo "error: unknown command '$command'" >&2
    echo "hint: use one of validate, plan, deploy, promote, rollout, rollback, history, projects, environments, export" >&2
    exit 2
    ;;
esac

case "${DMLOPS_PR_COMMENT:-false}" in
  true)
    case "$command" in
      plan | deploy | promote | rollback | export) args+=(--pr-comment) ;;
    esac
    ;;
  false | "") ;;
  *) echo "error: pr-comment must be 'true' or 'false', not '$DMLOPS_PR_COMMENT'" >&2; exit 2 ;;
esac

# The job's token: the protection check of a protected environment, and the PR comment; the
# account the PR comment is written as (only that account's earlier comment is updated).
export_if_set DMLOPS_COMMENT_AUTHOR "${DMLOPS_COMMENT_AUTHOR:-}"
export_if_set GITHUB_TOKEN "${DMLOPS_GITHUB_TOKEN:-}"
export_if_set MLFLOW_TRACKING_URI "${DMLOPS_MLFLOW_TRACKING_URI:-}"
export_if_set MLFLOW_TRACKING_TOKEN "${DMLOPS_MLFLOW_TRACKING_TOKEN:-}"
export_if_set DOMINO_API_HOST "${DMLOPS_DOMINO_API_HOST:-}"
export_if_set DOMINO_MODEL_HOST "${DMLOPS_DOMINO_MODEL_HOST:-}"
export_if_set DOMINO_USER_API_KEY "${DMLOPS_DOMINO_API_KEY:-}"
export_if_set DOMINO_MODEL_TOKENS "${DMLOPS_MODEL_TOKENS:-}"
# export: the registry logins, a JSON object keyed by the variable names the targets give.
export_if_set EXPORT_REGISTRY_CREDENTIALS "${DMLOPS_REGISTRY_CREDENTIALS:-}"
# The copies under our own names are not needed any more; fewer places hold the secrets.
unset DMLOPS_GITHUB_TOKEN DMLOPS_MLFLOW_TRACKING_TOKEN DMLOPS_DOMINO_API_KEY DMLOPS_MODEL_TOKENS \
  DMLOPS_REGISTRY_CREDENTIALS
if [ -z "${DMLOPS_PROJECT_TOKEN:-}" ]; then unset DMLOPS_PROJECT_TOKEN; fi

exec "${RUNNER_TEMP:?RUNNER_TEMP is not set}/dmlops/bin/domino-mlops" "${args[@]}"
