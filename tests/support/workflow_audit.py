"""Rules every workflow here must keep, each a function that lists what breaks it.

A rule takes the workflow as loaded (YAML anchors expanded) or as text, and returns problems, one
line each, naming the job or line; an empty list means the rule holds. tests/workflows/test_lint.py
runs every rule on the real workflows, and on copies broken on purpose, so each rule is seen to
bite. The rules say in plain terms what zizmor and the schemas do not check:

- a job that writes (deploy, promote, rollback, rollout) runs in a GitHub environment computed by
  an earlier job (environments.yaml names it), shows the endpoint as the environment's URL, is in a
  concurrency group that never cancels a run half-way, and has a timeout;
- every job has a timeout; every checkout drops its credentials; every remote action is pinned
  by commit SHA; no pull_request_target; secrets are never dumped whole;
- a job outside any environment (a plan job) holds no write credential;
- a reusable workflow declares every secret it reads by name;
- a caller's domino-mlops-ref is checked (a full commit SHA) before anything is fetched with it;
- every inline zizmor exception says why;
- a reusable workflow's first job refuses pull_request_target in its first step;
- no job of a pull_request run enters a GitHub environment (write secrets stay out of PR code);
- a job matrix is built with fromJSON of JSON a step made, never by format()ting a string;
- documentation never tells a caller `secrets: inherit` (it would hand every secret over).
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

WRITING_ACTIONS = ("deploy-to-staging", "promote-to-production", "rollback", "rollout")
WRITING_COMMANDS = frozenset({"deploy", "promote", "rollback", "rollout"})
WRITE_SECRETS = re.compile(r"\b(DOMINO_USER_API_KEY|MLFLOW_TRACKING_TOKEN|DOMINO_MODEL_TOKENS|PROJECT_ID_\w*)")
SHA_PINNED = re.compile(r"^[\w.-]+/[\w./-]+@[0-9a-f]{40}$")
WHOLE_EXPRESSION = re.compile(r"^\$\{\{(?:(?!\}\}).)*\}\}$", re.S)
# environment.url: the Model API's page in Domino's UI (a page a person can open), not the POST-only endpoint.
MODEL_PAGE = re.compile(r"^\$\{\{\s*steps\.([\w-]+)\.outputs\.model-page-url\s*\}\}$")
EXPRESSION = re.compile(r"\$\{\{(.*?)\}\}", re.S)
SECRET_NAME = re.compile(r"secrets\.([A-Za-z_][A-Za-z0-9_]*)")
ZIZMOR_IGNORE = re.compile(r"#\s*zizmor:\s*ignore\[[^\]]*\](.*)$")
DOMINO_MLOPS_REF = "inputs.domino-mlops-ref"


def triggers(workflow: dict[str, Any]) -> dict[str, Any]:
    on = workflow.get("on", workflow.get(True))  # YAML 1.1 reads a bare `on` as true
    if isinstance(on, dict):
        return on
    return {name: None for name in ([on] if isinstance(on, str) else on or [])}


def jobs(workflow: dict[str, Any]) -> Iterator[tuple[str, dict[str, Any]]]:
    yield from (workflow.get("jobs") or {}).items()


def writing_step(job: dict[str, Any]) -> dict[str, Any] | None:
    """The step that runs deploy, promote, rollback or rollout, if the job has one."""
    for step in job.get("steps", []):
        uses = str(step.get("uses", ""))
        if not uses.startswith("./"):
            continue
        # rollback's plan job: read-only (no lease, no write); the secrets rule still checks it.
        if str(step.get("with", {}).get("plan-only", "")) == "true":
            continue
        if uses.rstrip("/").endswith(tuple(f"actions/{name}" for name in WRITING_ACTIONS)):
            return step
        if str(step.get("with", {}).get("command", "")) in WRITING_COMMANDS:
            return step
    return None


def _flat(value: Any) -> str:
    """Every string in a job (keys and values), for searching expressions anywhere in it."""
    if isinstance(value, dict):
        return "\n".join(f"{k}\n{_flat(v)}" for k, v in value.items())
    if isinstance(value, list):
        return "\n".join(_flat(v) for v in value)
    return str(value)


# --- the rules ----------------------------------------------------------------------------------


def unguarded_writers(workflow: dict[str, Any]) -> list[str]:
    problems = []
    for job_id, job in jobs(workflow):
        step = writing_step(job)
        if step is None:
            continue
        environment = job.get("environment")
        name = environment.get("name") if isinstance(environment, dict) else environment
        if not (isinstance(name, str) and WHOLE_EXPRESSION.match(name.strip()) and "needs." in name):
            problems.append(f"{job_id}: writes, but its environment is not computed by an earlier job "
                            f"(an expression on needs.*): {name!r}")
        url = environment.get("url") if isinstance(environment, dict) else None
        match = MODEL_PAGE.match(str(url or "").strip())
        if match is None or match[1] != step.get("id"):
            problems.append(f"{job_id}: its environment's url is not the model page its writing step reports "
                            f"(steps.{step.get('id')}.outputs.model-page-url): {url!r}")
        concurrency = job.get("concurrency")
        if not isinstance(concurrency, dict) or not concurrency.get("group"):
            problems.append(f"{job_id}: writes, but has no concurrency group")
        elif concurrency.get("cancel-in-progress") is not False:
            problems.append(f"{job_id}: its concurrency group may cancel a run half-way "
                            "(cancel-in-progress must be false)")
    return problems


def jobs_without_timeout(workflow: dict[str, Any]) -> list[str]:
    return [f"{job_id}: no timeout-minutes (GitHub's default is six hours)" for job_id, job in jobs(workflow)
            if not isinstance(job.get("timeout-minutes"), int) and "uses" not in job]


def checkouts_keeping_credentials(workflow: dict[str, Any]) -> list[str]:
    return [f"{job_id}: a checkout keeps the job's token in .git/config (persist-credentials must be false)"
            for job_id, job in jobs(workflow) for step in job.get("steps", [])
            if str(step.get("uses", "")).startswith("actions/checkout@")
            and (step.get("with") or {}).get("persist-credentials") is not False]


def unpinned_remote_actions(workflow: dict[str, Any]) -> list[str]:
    problems = []
    for job_id, job in jobs(workflow):
        uses = [str(s["uses"]) for s in job.get("steps", []) if "uses" in s]
        uses += [str(job["uses"])] if "uses" in job else []
        problems += [f"{job_id}: {u} is not pinned by a full commit SHA" for u in uses
                     if not u.startswith("./") and not SHA_PINNED.match(u)]
    return problems


def dangerous_triggers(workflow: dict[str, Any]) -> list[str]:
    return ["pull_request_target runs a fork's pull request with this repository's secrets"
            for name in triggers(workflow) if name == "pull_request_target"]


def secrets_dumped(text: str) -> list[str]:
    squeezed = re.sub(r"\s+", "", text).lower()
    return ["toJSON(secrets) hands every secret to one place"] if "tojson(secrets)" in squeezed else []


def plan_jobs_holding_write_secrets(workflow: dict[str, Any]) -> list[str]:
    """A job outside any environment runs on every pull request: read-only credentials only."""
    problems = []
    for job_id, job in jobs(workflow):
        if job.get("environment"):
            continue
        for expression in EXPRESSION.findall(_flat(job)):
            if "secrets" in expression and (found := WRITE_SECRETS.search(expression)):
                problems.append(f"{job_id}: outside any environment, yet reads the write secret {found[1]}")
    return problems


def undeclared_secrets(workflow: dict[str, Any], text: str) -> list[str]:
    """A called workflow sees only the secrets it declares (unless the caller says `inherit`)."""
    call = triggers(workflow).get("workflow_call")
    if "workflow_call" not in triggers(workflow):
        return []
    declared = set(((call or {}).get("secrets") or {}).keys())
    used = {name for expression in EXPRESSION.findall(text) for name in SECRET_NAME.findall(expression)}
    used -= {"GITHUB_TOKEN"}
    return [f"secret {name} is read but not declared under on.workflow_call.secrets" for name in sorted(used - declared)]


def unchecked_domino_mlops_ref(workflow: dict[str, Any]) -> list[str]:
    """domino-mlops-ref is checked before any step fetches with it, and the repository has no default."""
    problems = []
    call = triggers(workflow).get("workflow_call") or {}
    repository = (call.get("inputs") or {}).get("domino-mlops-repository")
    if repository is not None and repository.get("default"):
        problems.append(f"domino-mlops-repository defaults to {repository['default']!r}: a caller must name it")
    for job_id, job in jobs(workflow):
        steps = job.get("steps", [])
        checked = [i for i, s in enumerate(steps) if DOMINO_MLOPS_REF in str((s.get("env") or {}).values())
                   and "[0-9a-f]{40}" in str(s.get("run", ""))]
        fetches = [i for i, s in enumerate(steps) if DOMINO_MLOPS_REF in str((s.get("with") or {}).get("ref", ""))]
        if fetches and (not checked or min(checked) > min(fetches)):
            problems.append(f"{job_id}: fetches domino-mlops-ref before checking it is a full commit SHA")
    return problems


def unexplained_zizmor_ignores(text: str) -> list[str]:
    problems = []
    for number, line in enumerate(text.splitlines(), 1):
        match = ZIZMOR_IGNORE.search(line)
        if match and not re.match(r"\s*--\s*\S.{9,}", match[1]):
            problems.append(f"line {number}: a zizmor ignore without a reason (`-- why`): {line.strip()}")
    return problems


def pull_request_target_not_refused(workflow: dict[str, Any]) -> list[str]:
    """A caller on pull_request_target would run its pull request's files with write secrets: the
    first step of every job that starts first must stop such a run with an error."""
    if "workflow_call" not in triggers(workflow):
        return []
    problems = []
    for job_id, job in jobs(workflow):
        if job.get("needs") or "uses" in job:
            continue
        first = (job.get("steps") or [{}])[0]
        condition = re.sub(r"\s+", " ", str(first.get("if", "")))
        run = str(first.get("run", ""))
        if ("github.event_name == 'pull_request_target'" not in condition or "::error" not in run
                or not re.search(r"\bexit [1-9]", run)):
            problems.append(f"{job_id}: the first step does not refuse pull_request_target")
    return problems


def environment_jobs_on_pull_request(workflow: dict[str, Any]) -> list[str]:
    """On pull_request, jobs that enter a GitHub environment (and so get its write secrets) are
    skipped by their own `if:`."""
    if "pull_request" not in triggers(workflow):
        return []
    problems = []
    for job_id, job in jobs(workflow):
        if not job.get("environment"):
            continue
        condition = re.sub(r"\s+", " ", str(job.get("if", "")))
        if "github.event_name != 'pull_request'" not in condition or "||" in condition:
            problems.append(f"{job_id}: enters a GitHub environment on pull_request (no `if:` that skips it)")
    return problems


def string_built_matrices(workflow: dict[str, Any]) -> list[str]:
    """format('["{0}"]', input) breaks, or injects, on an input holding a quote: a matrix comes
    from JSON a step built (toJSON / the CLI), never from a string."""
    problems = []
    for job_id, job in jobs(workflow):
        matrix = (job.get("strategy") or {}).get("matrix")
        if matrix is not None and "format(" in _flat(matrix).replace(" ", ""):
            problems.append(f"{job_id}: the matrix is built by format()ting a string")
    return problems


def secrets_inherited(text: str) -> list[str]:
    """For README and docs: a caller passes each secret by name."""
    return [f"line {number}: `secrets: inherit` hands the called workflow every secret; list them by name"
            for number, line in enumerate(text.splitlines(), 1)
            if re.search(r"(?<!`)secrets:\s*inherit\b", line)]


def audit(workflow: dict[str, Any], text: str) -> list[str]:
    """Every rule at once."""
    return [*unguarded_writers(workflow), *jobs_without_timeout(workflow), *checkouts_keeping_credentials(workflow),
            *unpinned_remote_actions(workflow), *dangerous_triggers(workflow), *secrets_dumped(text),
            *plan_jobs_holding_write_secrets(workflow), *undeclared_secrets(workflow, text),
            *unchecked_domino_mlops_ref(workflow), *unexplained_zizmor_ignores(text),
            *pull_request_target_not_refused(workflow), *environment_jobs_on_pull_request(workflow),
            *string_built_matrices(workflow), *secrets_inherited(text)]
