"""Every error the library raises on purpose, each with a message, a hint and the facts.

Our exception hierarchy (the exit code the CLI uses is in brackets)::

    DominoMlopsError                      [1]  base; message + hint
    ├── ConfigError                       [2]  bad input or configuration
    │   ├── ValidationFailed              [2]  a file broke its schema; carries every issue found
    │   ├── CredentialMissing             [2]  no credential configured for a service/project
    │   ├── AuthenticationFailed          [2]  401: the credential was refused (named, never shown)
    │   ├── PermissionDenied              [2]  403: the credential may not touch that object
    │   ├── NotFound                      [2]  404 / unknown model, version, alias or project
    │   ├── ModelHostUnreachable          [2]  the model host does not answer a smoke call (refused, DNS)
    │   ├── NotSupportedByDomino          [2]  this Domino version cannot run it there (e.g. a remote data plane)
    │   ├── NamesCollide                  [2]  two names become one Domino name, image or folder
    │   ├── UnknownHardwareTier           [2]  a wave names a tier the Domino project does not have
    │   ├── FilesExist                    [2]  init would overwrite files (without --force)
    │   ├── EmulatorNotInstalled          [2]  `domino-mlops emulator` without the domino-emulator distribution
    │   ├── MetricsRefused                [2]  400 from Domino's custom metrics API: values or alert as sent
    │   ├── MatrixTooLarge                [2]  more projects than GitHub's 256 jobs of one matrix
    │   └── NotMonitored                  [2]  monitor-agent: the target has no monitoring block, or no spool
    ├── OperationError                    [1]  the work itself failed
    │   ├── Unreachable                   [1]  connection refused, DNS, timeout
    │   ├── CredentialsExpired            [1]  409 from Domino: temporary credentials expired
    │   ├── RemoteError                   [1]  a 5xx / 429 that outlived its retries, other statuses
    │   ├── BadResponse                   [1]  the server answered something that is not the contract
    │   ├── DeploymentFailed              [1]  a Model API version went Failed / timed out
    │   ├── SmokeTestFailed               [1]  the deployed model answered wrongly or too slowly
    │   ├── AnalysisFailed                [1]  a new version breached the environment's analysis (metric, value, threshold)
    │   ├── AnalysisInconclusive          [1]  too few requests to judge it, and the policy says fail
    │   ├── RolledBack                    [1]  put back because another model's wave failed (rollout)
    │   ├── JobFailed                     [1]  a Domino job ended Failed/Error/Stopped; carries its last log lines
    │   ├── AppFailed                     [1]  an app did not reach Running or its page did not answer
    │   ├── BlockedByJob                  [1]  not applied: a gate job (in a rollout, a model) failed first
    │   ├── ExportFailed                  [1]  an image did not reach its registry (export); not tagged
    │   ├── MetricValuesPartlyLogged      [*]  a split batch of custom metric values failed after its first part
    │   └── PutBackFailed                 [*]  a change failed and the previous version could not be
    │                                          started again: Domino serves an unverified version
    │                                          (* the exit code of the failure that caused it)
    ├── GateRefused                       [3]  a version has not passed the environment it needs
    ├── ApprovalNotEnforced               [3]  a protected environment's GitHub environment guards nothing
    ├── ReachNotGuarded                   [3]  credentials that reach a protected environment are not guarded
    ├── ApprovalMissing                   [3]  this run was not approved by a reviewer other than its actors
    │   └── ApprovalNotGiven              [3]  a library call to a protected environment named no approval
    ├── AliasConflict                     [4]  someone moved the alias between plan and apply
    ├── PlanChanged                       [4]  the plan differs from the one the reviewer approved
    ├── RollbackMoved                     [4]  the environment moved since its rollback was planned
    └── LeaseHeld                         [4]  another apply is changing this model in this environment

Foreign exceptions (requests, mlflow) are translated once, at the client boundary, and chained
with ``raise ... from exc`` so a ``--traceback`` run still shows the root cause.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit


class DominoMlopsError(Exception):
    """Base class: a message that says what failed and a hint that says what to do."""

    exit_code = 1

    def __init__(self, message: str, *, hint: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint
        # Where the reader should look: (file, line, what is wrong there), one per place at
        # fault. Filled in by the command that knows the files (the library does not).
        self.places: list[tuple[str, int | None, str]] = []

    def __str__(self) -> str:
        return self.message


# --- bad input or configuration (exit 2) ---------------------------------------------------------


class ConfigError(DominoMlopsError):
    exit_code = 2


@dataclass(frozen=True, slots=True)
class ValidationIssue:
    """One problem in one file: where it is (file, line, JSON path) and what is wrong."""

    file: str
    line: int | None
    path: str  # JSON path such as $.PROJ1[0].version; "$" for the whole document
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line else self.file
        return f"{where}: {self.path}: {self.message}"


class ValidationFailed(ConfigError):
    """A manifest or environments file is invalid. Carries every issue, not just the first."""

    def __init__(self, issues: list[ValidationIssue] | tuple[ValidationIssue, ...]) -> None:
        self.issues = tuple(issues)
        count = len(self.issues)
        first = str(self.issues[0]) if self.issues else "no details"
        more = f" (and {count - 1} more)" if count > 1 else ""
        super().__init__(
            f"{first}{more}",
            hint="Fix the listed places and run `domino-mlops validate` again.",
        )


class CredentialMissing(ConfigError):
    def __init__(self, what: str, *, hint: str) -> None:
        super().__init__(f"no credential for {what}", hint=hint)
        self.what = what


class AuthenticationFailed(ConfigError):
    """401. ``credential`` names the variable or kind of credential, never its value."""

    def __init__(self, service: str, credential: str, *, endpoint: str = "") -> None:
        at = f" at {endpoint}" if endpoint else ""
        super().__init__(
            f"{service} refused the credential from {credential} (401 unauthenticated){at}",
            hint=f"Check that {credential} holds a current, valid credential for {service}.",
        )
        self.service, self.credential, self.endpoint = service, credential, endpoint


class PermissionDenied(ConfigError):
    """403: authenticated, but not allowed to touch this object."""

    def __init__(self, service: str, credential: str, *, endpoint: str = "", target: str = "") -> None:
        what = f" on {target}" if target else ""
        at = f" at {endpoint}" if endpoint else ""
        super().__init__(
            f"{service} denied access{what} to the credential from {credential} (403 forbidden){at}",
            hint=(
                f"The credential in {credential} is valid but lacks access{what}; "
                "use the token of the project that owns it (secret PROJECT_ID_<id>)."
            ),
        )
        self.service, self.credential, self.endpoint, self.target = service, credential, endpoint, target


class NotFound(ConfigError):
    def __init__(self, message: str, *, hint: str = "") -> None:
        super().__init__(message, hint=hint or "Check the name, version or id for typos.")


class ModelHostUnreachable(ConfigError):
    """A smoke call found nothing at the model host: a wrong address, not a broken model. The
    version Domino just started is healthy as far as Domino says, so it is not put back."""

    def __init__(self, url: str, reason: str, source: str) -> None:
        super().__init__(
            f"the model host {url} does not answer ({reason}); it comes from {source}",
            hint="Set DOMINO_MODEL_HOST (action input domino-model-host, or domino.model_host of the "
                 "environment in the environments file) to where Domino serves models, e.g. "
                 "https://domino.example.com; unset, it is DOMINO_API_HOST. Nothing was put back: "
                 "re-run once it is right, and the smoke test runs against what now serves.")
        self.url, self.reason, self.source = url, reason, source


class NotSupportedByDomino(ConfigError):
    """The plan asks for something this Domino version's documentation says it cannot do."""

    def __init__(self, message: str, *, hint: str) -> None:
        super().__init__(message, hint=hint)


class NamesCollide(ConfigError):
    """Two names that are different to us become one thing outside: each run would overwrite
    the other's work, so nothing is done until one is renamed."""

    def __init__(self, first: str, second: str, becomes: str, *, hint: str) -> None:
        super().__init__(f"{first} and {second} both become {becomes}", hint=hint)
        self.first, self.second, self.becomes = first, second, becomes


class UnknownHardwareTier(ConfigError):
    def __init__(self, environment: str, tier: str, project_id: str, known: tuple[str, ...]) -> None:
        super().__init__(
            f"hardware tier {tier!r} of environment {environment!r} does not exist in Domino project {project_id}",
            hint=f"The project's tiers are: {', '.join(known) or '(none)'}; fix domino.waves in the environments "
                 "file. Nothing was written.")
        self.environment, self.tier, self.project_id, self.known = environment, tier, project_id, known


class FilesExist(ConfigError):
    """`init` found files it would write: nothing is written, not even the ones that are missing."""

    def __init__(self, paths: tuple[str, ...]) -> None:
        super().__init__(f"init would overwrite {', '.join(paths)}",
                         hint="Nothing was written. Move them away, init into an empty folder, or add --force "
                              "to replace them.")
        self.paths = paths


class EmulatorNotInstalled(ConfigError):
    """`domino-mlops emulator` is an alias of a sibling distribution the runtime does not ship."""

    def __init__(self) -> None:
        super().__init__("the Domino emulator is not installed here (`domino-mlops emulator` runs domino-emulator)",
                         hint="pip install domino-emulator (from this repository: pip install -e ./emulator), "
                              "then run domino-emulator or domino-mlops emulator again.")


class MatrixTooLarge(ConfigError):
    """More projects than one job matrix can hold: GitHub refuses a matrix of over 256 jobs."""

    def __init__(self, what: str, count: int, limit: int) -> None:
        super().__init__(f"{what} lists {count} Domino projects; a GitHub Actions matrix runs at most {limit} jobs "
                         "(one job per project, each holding only its own PROJECT_ID_<id> token)",
                         hint=f"Run the workflow for fewer projects at a time (its `project` input), or split the "
                              f"manifest across repositories of at most {limit} projects each.")
        self.what, self.count, self.limit = what, count, limit


class NotMonitored(ConfigError):
    """`monitor-agent` cannot start: no target to monitor, no monitoring block, or no spool to read."""

    def __init__(self, message: str, *, hint: str) -> None:
        super().__init__(message, hint=hint)


class MetricsRefused(ConfigError):
    """400 from Domino's custom metrics API (tag CustomMetrics): what was sent is not valid."""

    def __init__(self, what: str, endpoint: str, detail: str) -> None:
        super().__init__(
            f"Domino refused {what} (400 at {endpoint}): {detail or 'no reason given'}",
            hint="Check the model monitoring id and metric name, that values are finite numbers with "
                 "timezone-aware timestamps, and that an alert's target range gives the limit its condition "
                 "compares with (docs/CONTRACT_DECISIONS.md, custom metrics).",
        )
        self.what, self.endpoint, self.detail = what, endpoint, detail


# --- the operation failed (exit 1) ---------------------------------------------------------------


class OperationError(DominoMlopsError):
    exit_code = 1


class Unreachable(OperationError):
    def __init__(self, service: str, url: str, reason: str, *, hint: str = "") -> None:
        super().__init__(
            f"cannot reach {service} at {url}: {reason}",
            hint=hint or f"Check that {service} is running and the URL is right; "
            "on a flaky network raise the timeout.",
        )
        self.service, self.url, self.reason = service, url, reason


class CredentialsExpired(OperationError):
    """409. ``credential`` names where the credential came from, never its value."""

    def __init__(self, service: str, *, endpoint: str = "", credential: str = "") -> None:
        source = f" from {credential}" if credential else ""
        super().__init__(
            f"{service} says the temporary credentials{source} expired (409){' at ' + endpoint if endpoint else ''}",
            hint="Use a token file (DOMINO_TOKEN_FILE) that is refreshed, or log in again.",
        )
        self.service, self.endpoint, self.credential = service, endpoint, credential


class RemoteError(OperationError):
    """``retry_after``: the seconds the server's ``Retry-After`` asked for (429, 503), if it did."""

    def __init__(self, service: str, status: int, endpoint: str, detail: str = "", *, hint: str = "",
                 retry_after: float | None = None) -> None:
        tail = f": {detail}" if detail else ""
        super().__init__(
            f"{service} answered {status} for {endpoint}{tail}",
            hint=hint or "If this is transient, re-run; a re-run never repeats finished work.",
        )
        self.service, self.status, self.endpoint, self.detail = service, status, endpoint, detail
        self.retry_after = retry_after


class BadResponse(OperationError):
    def __init__(self, service: str, endpoint: str, problem: str) -> None:
        super().__init__(
            f"{service} gave an answer that is not what its API promises for {endpoint}: {problem}",
            hint="Check that the URL points at the API itself (not a login page or proxy) "
            "and that the server version is supported.",
        )
        self.service, self.endpoint, self.problem = service, endpoint, problem


class Redirected(BadResponse):
    """A 3xx where an answer was expected (redirects are never followed: a credential would go
    along); ``location`` says where to. An app's page that sends us to a login page is this."""

    def __init__(self, service: str, endpoint: str, status: int, location: str) -> None:
        where = urlsplit(location)
        super().__init__(service, endpoint, f"redirected ({status}) to {where.netloc}{where.path or ''} "
                         "(a login page or proxy in front of the API?)")
        self.status, self.location = status, location


class DeploymentFailed(OperationError):
    def __init__(self, message: str, *, hint: str = "") -> None:
        super().__init__(message, hint=hint or "Read the Model API build and instance logs in Domino.")


class SmokeTestFailed(OperationError):
    def __init__(self, message: str, *, hint: str = "") -> None:
        super().__init__(message, hint=hint or "Check the smoke-test input and expectation in the manifest.")


class AnalysisFailed(OperationError):
    """A new Model API version breached a condition of the environment's analysis (apply/analysis.py)."""

    def __init__(self, model: str, model_api_name: str, version_id: str, condition: str, measured: float,
                 threshold: float, *, requests: int = 0) -> None:
        super().__init__(
            f"analysis of {model} on {model_api_name}: {condition} breached by version {version_id}: "
            f"measured {measured:.4g}, threshold {threshold:g} ({requests} request(s) in the window)",
            hint="The new version was put back. Fix the model, or change domino.analysis in the environments "
                 "file, then change the manifest or re-run with --retry-failed-builds.")
        self.model, self.model_api_name, self.version_id = model, model_api_name, version_id
        self.condition, self.measured, self.threshold = condition, measured, threshold
        self.measurements: tuple = ()

    def short(self) -> str:
        """For the ledger and a tag: no more than the facts."""
        return f"breach {self.condition} {self.measured:.4g}>{self.threshold:g} v{self.version_id}"


class AnalysisInconclusive(OperationError):
    """Too few requests to judge a new version, and the policy says that fails it."""

    def __init__(self, model: str, model_api_name: str, version_id: str, requests: int, min_requests: int,
                 window_minutes: int, policy: str, extensions: int) -> None:
        more = f" after {extensions} extra measurement(s)" if policy == "extend" else ""
        super().__init__(
            f"analysis of {model} on {model_api_name}: inconclusive for version {version_id}: {requests} request(s) "
            f"in {window_minutes} min, below min_requests {min_requests}{more} (inconclusive: {policy})",
            hint="The new version was put back. Send it traffic (domino.analysis.traffic), lower min_requests, "
                 "or set inconclusive: pass or extend in the environments file.")
        self.model, self.model_api_name, self.version_id = model, model_api_name, version_id
        self.condition, self.measured, self.threshold = "min_requests", float(requests), float(min_requests)
        self.measurements: tuple = ()

    def short(self) -> str:
        return f"inconclusive requests {int(self.measured)}<{int(self.threshold)} v{self.version_id}"


@dataclass(frozen=True, slots=True)
class Unrestored:
    """A Model API whose previous version could not be started again after a failed change."""

    model_api_name: str
    model_api_id: str | None
    left_on: str | None  # the version it was left on (the new, unverified one), if known
    previous_version_id: str | None
    reason: str

    def __str__(self) -> str:
        return (f"Model API {self.model_api_name} ({self.model_api_id}) is on version {self.left_on or 'unknown'}, "
                f"not {self.previous_version_id} ({self.reason})")


class PutBackFailed(OperationError):
    """The loud case: a change failed, and putting the previous version back failed too, so Domino
    now serves a version nothing verified. Carries the failure that started it (``cause``)."""

    def __init__(self, model: str, version: str, cause: DominoMlopsError, unrestored: list[Unrestored]) -> None:
        first = unrestored[0]
        super().__init__(
            f"{cause}; then putting the previous version back failed, so Domino now serves an UNVERIFIED "
            f"version of {model} (version {version}): " + "; ".join(str(u) for u in unrestored),
            hint=f"Start version {first.previous_version_id} of Model API {first.model_api_name} "
                 f"({first.model_api_id}) again in Domino (Model APIs > {first.model_api_name} > Versions) and "
                 "check that it answers; then fix the first failure and re-run. MLflow's alias did not move.")
        self.model, self.version, self.cause, self.unrestored = model, version, cause, tuple(unrestored)
        self.exit_code = cause.exit_code  # the failure's own meaning (1, or 4 for a conflict) for workflows


class RolledBack(OperationError):
    """A rollout moves an environment as one: this model's data planes were put back because
    another model failed in the same wave (or its bake)."""

    def __init__(self, model: str, environment: str, failed: list[str]) -> None:
        super().__init__(
            f"{model} was put back: {', '.join(failed)} failed in {environment}, and a rollout moves "
            "the environment as one",
            hint="Fix what failed (its error is above), then re-run the rollout.")
        self.model, self.environment, self.failed = model, environment, failed


class JobFailed(OperationError):
    """A Domino job did not succeed; ``log_tail`` holds the last lines of its output."""

    def __init__(self, job: str, environment: str, status: str, number: int | str | None,
                 log_tail: tuple[str, ...] = (), *, gate: bool = False) -> None:
        blocked = " (a gate: the environment's models were not promoted)" if gate else ""
        super().__init__(
            f"job {job!r} (#{number or '?'}) ended {status} in {environment}{blocked}",
            hint="Read the job's last log lines above (the whole log is in Domino: Jobs); fix the job or "
                 "what it checks, then re-run: a new attempt starts, the jobs that succeeded do not run again.")
        self.job, self.environment, self.status, self.number, self.log_tail = job, environment, status, number, log_tail


class AppFailed(OperationError):
    """An app did not reach Running, or its page did not answer; ``put_back`` says what runs now."""

    def __init__(self, app: str, environment: str, why: str, put_back: str) -> None:
        super().__init__(f"app {app!r} in {environment}: {why}; {put_back}",
                         hint="Read the app's logs in Domino (Deployments > Apps); fix its entry point or tier, "
                              "then re-run.")
        self.app, self.environment, self.why, self.put_back = app, environment, why, put_back


class AppUnverifiable(DominoMlopsError):
    """An app runs, but its page could not be checked (a login page, or no credential may be sent
    to its host) and the environment requires the smoke check: refused, the app left running."""

    exit_code = 3

    def __init__(self, app: str, environment: str, why: str) -> None:
        super().__init__(f"app {app!r} in {environment} is running, but its page cannot be verified: {why}",
                         hint="Serve the app on the Domino host, make it PUBLIC or AUTHENTICATED for the "
                              "pipeline's credential, or set smoke_test.required: false for this environment "
                              "(docs/JOBS_AND_APPS.md, 'Smoke check').")
        self.app, self.environment, self.why = app, environment, why


class BlockedByJob(OperationError):
    """Nothing of this model (or job, app) was applied: something before it failed first (a gate
    job; in a rollout, a model of the environment)."""

    def __init__(self, subject: str, environment: str, failed: list[str]) -> None:
        super().__init__(f"{subject} was not applied in {environment}: {', '.join(failed)} failed before it",
                         hint="Fix what failed first (its error is above), then re-run.")
        self.subject, self.environment, self.failed = subject, environment, failed


class ExportFailed(OperationError):
    """An export did not reach the registry: nothing was tagged, the next run tries again.
    ``log_text`` is the build, push or Domino export log (secrets removed), for the summary."""

    def __init__(self, message: str, *, hint: str = "", log_text: str = "") -> None:
        super().__init__(message, hint=hint or "Read the log above; the next scheduled run tries again.")
        self.log_text = log_text


# --- refusals (exit 3, 4) -----------------------------------------------------------------------


class MetricValuesPartlyLogged(OperationError):
    """A batch of custom metric values was sent in parts and a later part failed: the first
    ``logged`` values are in Domino, the rest are not. Sending them all again would count the
    first ones twice (Domino keeps every value it is sent), so the caller resends the rest only."""

    def __init__(self, logged: int, total: int, cause: DominoMlopsError) -> None:
        super().__init__(
            f"{logged} of {total} metric values were logged, then: {cause.message}",
            hint=f"Send only the values after the first {logged} again. {cause.hint}".strip(),
        )
        self.logged, self.total, self.cause = logged, total, cause
        self.exit_code = cause.exit_code  # the failure's own meaning (2 for bad values, 1 for an outage)


class GateRefused(DominoMlopsError):
    """One or more versions have not passed the environment they need; names every one of them."""

    exit_code = 3

    def __init__(self, model: str, version: str, environment: str, missing: str) -> None:
        super().__init__("", hint="Deploy this exact version to the required environment first; "
                                  "it must pass there.")
        self.model, self.version, self.environment, self.missing = model, version, environment, missing
        self.refused: list[tuple[str, str, str]] = []  # (model, version, what is missing)
        self.add(model, version, missing)

    def add(self, model: str, version: str, missing: str) -> None:
        self.refused.append((model, version, missing))
        reasons = [reason for _, reason in self.reasons]
        self.message = reasons[0] if len(reasons) == 1 else (
            f"{len(reasons)} models may not enter {self.environment}: " + "; ".join(reasons))
        self.args = (self.message,)

    @property
    def reasons(self) -> list[tuple[str, str]]:
        """(model, why it was refused), one per refused model."""
        return [(m, f"{m} version {v} may not enter {self.environment}: {why}") for m, v, why in self.refused]


class AliasConflict(DominoMlopsError):
    exit_code = 4

    def __init__(self, model: str, alias: str, expected: str | None, found: str | None) -> None:
        super().__init__(
            f"alias {alias!r} of {model!r} is at version {found or 'none'}, expected {expected or 'none'}",
            hint="Someone promoted meanwhile; re-run to recompute the plan.",
        )
        self.model, self.alias, self.expected, self.found = model, alias, expected, found


class LeaseHeld(DominoMlopsError):
    """Another apply holds (or took over) the lease on a model in an environment: this one stops
    before it writes anything more."""

    exit_code = 4

    def __init__(self, model: str, environment: str, holder: str, *, lost: bool = False) -> None:
        what = "took over" if lost else "holds"
        super().__init__(
            f"another apply {what} {model!r} in {environment}: {holder}",
            hint="Two runs must not change one model in one environment at once; wait for that run, "
                 "then re-run to recompute the plan. A lease of a run that died expires by itself.",
        )
        self.claim: object | None = None  # the other run's claim, when one is known (state/lease.py)
        self.model, self.environment, self.holder, self.lost = model, environment, holder, lost


class ApprovalNotEnforced(DominoMlopsError):
    """A protected environment's GitHub environment does not enforce an approval: refused before
    anything is written, whatever the workflow says."""

    exit_code = 3

    def __init__(self, environment: str, github_environment: str, problems: tuple[str, ...]) -> None:
        super().__init__(
            f"{environment} is protected, but its GitHub environment does not enforce an approval: "
            + "; ".join(problems),
            hint="Fix the repository setting named above, then re-run; until then nothing reaches "
                 f"{environment}. (environments.yaml: `protected: false` turns the check off for an environment.)",
        )
        self.environment, self.github_environment, self.problems = environment, github_environment, problems


class ReachNotGuarded(DominoMlopsError):
    """An environment whose credentials reach what a protected environment uses runs in a GitHub
    environment that admits more than the default branch: refused before anything is written."""

    exit_code = 3

    def __init__(self, environment: str, github_environment: str, shared: tuple[str, ...],
                 problems: tuple[str, ...]) -> None:
        super().__init__(
            f"{environment} can reach what {'; '.join(shared)} uses, but its GitHub environment "
            f"{github_environment!r} does not keep its secrets to the default branch: " + "; ".join(problems),
            hint=f"Either separate them (give the protected environment its own Domino project, domino.project_id, "
                 f"and its own registered model, mlflow.registered_model: \"{{model}}-prod\"), or protect "
                 f"{github_environment!r} so only the default branch may deploy. Nothing was written "
                 "(docs/SECURITY.md, 'Credential reach').",
        )
        self.environment, self.github_environment, self.shared, self.problems = (
            environment, github_environment, shared, problems)


class ApprovalMissing(DominoMlopsError):
    """A protected environment was not approved in this run by a reviewer other than the person
    who started or re-ran it: refused before anything is written."""

    exit_code = 3

    def __init__(self, environment: str, github_environment: str, run_id: str, actors: tuple[str, ...],
                 self_approved_by: tuple[str, ...] = ()) -> None:
        who = " or ".join(sorted(set(a for a in actors if a))) or "the actor"
        own = (f" (the approval by {', '.join(self_approved_by)} does not count: nobody approves their own run)"
               if self_approved_by else "")
        super().__init__(
            f"{environment} was not approved in this run ({run_id}) by a reviewer of {github_environment!r} other "
            f"than {who}{own}",
            hint=f"Ask another required reviewer of {github_environment!r} to approve this run, then re-run it. "
                 "GitHub's record of the run's reviews is what counts, not the settings.",
        )
        self.environment, self.github_environment, self.run_id = environment, github_environment, run_id
        self.actors, self.self_approved_by = actors, self_approved_by


class ApprovalNotGiven(ApprovalMissing):
    """A library caller asked to write to a protected environment without saying whose approval
    counts (domino_mlops.api: ``approval=``): refused before anything is written, so no program
    applies an unapproved plan by leaving an argument out."""

    def __init__(self, environment: str, github_environment: str, *, in_actions: bool = False) -> None:
        DominoMlopsError.__init__(
            self, f"{environment} is protected and this call names no approval" if not in_actions else
            f"{environment} is protected, and in GitHub Actions a local user's approval does not count",
            hint="In GitHub Actions pass approval=api.GitHubRun.from_env() (the run's approval is then checked "
                 "with GitHub); outside it, approval=api.LocalApproval(user) records that the holder of the "
                 "credentials approves.",
        )
        self.environment, self.github_environment, self.run_id = environment, github_environment, ""
        self.actors, self.self_approved_by = (), ()


class PlanChanged(DominoMlopsError):
    """The apply job's plan is not the plan job's (the one a reviewer approved): an alias the
    manifest names moved, or the manifest changed. Refused before anything is written."""

    exit_code = 4

    def __init__(self, environment: str, approved: str, planned: str,
                 why: str = "a version the manifest names by alias moved, or the manifest changed") -> None:
        super().__init__(
            f"the plan for {environment} is not the one that was approved: approved digest {approved[:16]}, "
            f"now {planned[:16]} ({why})",
            hint="Nothing was written. Compare the plan above with the plan job's summary; to apply the new "
                 "plan, re-run the whole workflow (not only this job) so it is reviewed and approved again.",
        )
        self.environment, self.approved, self.planned = environment, approved, planned


class RollbackMoved(DominoMlopsError):
    """A rollback's `from` no longer holds: the environment moved (a newer promotion, another
    rollback, an alias moved by hand) since the rollback was planned, or MLflow's alias and the
    ledger disagree on what the environment serves. Refused before anything is written: rolling
    back from a version nobody reviewed could undo the wrong change."""

    exit_code = 4

    def __init__(self, environment: str, model: str, planned: str | None, found: str | None, *, seen: str) -> None:
        super().__init__(
            f"the rollback of {model} in {environment} goes back from version {planned or 'none'}, "
            f"but {seen} version {found or 'none'}",
            hint=f"{environment} moved since this rollback was planned; nothing was written. Plan the rollback "
                 "again (re-run the whole workflow, not only this job) and have the new plan approved.",
        )
        self.environment, self.model, self.planned, self.found = environment, model, planned, found
