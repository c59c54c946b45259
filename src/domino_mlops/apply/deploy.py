"""One DeployVersion step against Domino: re-check, write at most once, wait for Running, or
put the previous version back.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from domino_mlops.apply.poll import PollSettings, PollTimeout, poll_until
from domino_mlops.clients.domino.client import DominoClient
from domino_mlops.clients.domino.serving import VersionOptions
from domino_mlops.clients.domino.urls import model_invocation, model_page
from domino_mlops.clients.domino.serving_types import ModelApi, ModelApiVersion, RegistrySource, VersionSettings
from domino_mlops.clients.mlflow.types import ModelVersionInfo
from domino_mlops.errors import DeploymentFailed, DominoMlopsError
from domino_mlops.observed.serving import ServedModelApi, choose
from domino_mlops.plan.steps import DeployVersion



@dataclass(frozen=True, slots=True)
class Deployed:
    """Where a version now serves: what the MLflow tags and the ledger record."""

    step: DeployVersion
    model_api_id: str
    version_id: str
    wrote: bool  # False when Domino already served it (a re-run)
    endpoint_url: str
    is_public: bool = False  # the Model API takes calls without a token (as read when deployed)
    data_plane_id: str | None = None  # where the running version runs (Domino's dataPlaneId)
    page_url: str = ""  # the Model API's page in Domino's UI, for a person (environment.url)


@dataclass(frozen=True, slots=True)
class DeploySettings:
    environment_id: str
    replicas: int
    poll: PollSettings = PollSettings()
    version: VersionSettings = VersionSettings()  # what a new version records of its calls
    retry_failed: bool = False  # build again a registry version whose build failed before


def mlflow_env_vars(target: ModelVersionInfo) -> dict[str, str]:
    """The Model API's variables (Domino's own names). Only what holds for every version: a
    Model API's variables are shared by all its versions and no published route updates them, so
    a version-specific one (MLFLOW_MODEL_VERSION, MLFLOW_RUN_ID) would go stale at the next
    version. A version names its registered model version in its own registry source."""
    return {"MLFLOW_MODEL_NAME": target.name}


def deploy(domino: DominoClient, host: str, step: DeployVersion, target: ModelVersionInfo,
           settings: DeploySettings, on_status: Callable[[str], None], *, page_host: str = "") -> Deployed:
    """Make `target` the serving version of the step's Model API and wait until it runs. ``host``:
    where models answer (the endpoint); ``page_host``: Domino's UI (the Model API's page)."""
    source = RegistrySource(target.name, int(target.version))
    api = domino.model_apis.find(step.project_id, step.model_api_name)  # re-check: the plan may be stale
    wrote = True
    if api is None:
        api = domino.model_apis.create(
            project_id=step.project_id, name=step.model_api_name, environment_id=settings.environment_id,
            source=source, hardware_tier_id=step.hardware_tier, replicas=settings.replicas,
            environment_variables=mlflow_env_vars(target),
            description=f"{target.name} (managed by domino-mlops)",
            version=VersionOptions(settings.version, description=_version_description(target)))
        version_id = _first_version(domino, api, source, step)
    else:
        choice = choose(ServedModelApi(api, domino.model_apis.list_versions(api.id)), source, settings.version,
                        retry_failed=settings.retry_failed)
        if choice.action == "failed_before":
            raise _failed_before(domino, api.id, choice.version_id, step)
        # The plan's rule (planner._moved_from): an answer without a tier shows no move.
        moved = step.hardware_tier is not None and api.hardware_tier_id not in (None, step.hardware_tier)
        updated = _reconfigure(domino, api, step, settings, moved)  # after every refusal: nothing half-done
        if choice.action == "none" and (moved or step.move_from is not None):
            # Serving the right version on the old tier: deployed again, Domino places it on the new one.
            domino.deployments.start(api.id, choice.version_id)
            version_id = choice.version_id
        elif choice.action == "none":
            version_id, wrote = choice.version_id, updated
        elif choice.action == "start_version":
            domino.deployments.start(api.id, choice.version_id)
            version_id = choice.version_id
        else:
            version_id = domino.model_apis.create_version(
                api.id, project_id=step.project_id, source=source,
                options=VersionOptions(settings.version, description=_version_description(target))).id
    running = wait_running(domino, api.id, version_id, step, settings.poll, on_status)
    return Deployed(step, api.id, version_id, wrote, host + model_invocation(api.id), api.access.is_public,
                    running.data_plane_id, (page_host or host) + model_page(api.id))


def _reconfigure(domino: DominoClient, api: ModelApi, step: DeployVersion, settings: DeploySettings,
                 moved: bool) -> bool:
    """Bring the Model API's tier and replicas to the plan's (``PUT`` ModelApiUpdateRequest, which
    replaces name, description, environment and replicas, and the tier when given). Re-checked
    against Domino's answer, not the plan: a re-run after a crash writes only what is left.
    True when it wrote."""
    if not moved and api.replicas in (None, settings.replicas):
        return False
    domino.model_apis.update(api.id, name=api.name, description=api.description,
                             environment_id=api.environment_id or settings.environment_id,
                             replicas=settings.replicas, hardware_tier_id=step.hardware_tier)
    return True


def wait_running(domino: DominoClient, model_api_id: str, version_id: str, step: DeployVersion,
                 poll: PollSettings, on_status: Callable[[str], None]) -> ModelApiVersion:
    def read() -> ModelApiVersion:
        return domino.model_apis.get_version(model_api_id, version_id)

    def done(version: ModelApiVersion) -> bool:
        status = version.deployment
        if status is not None and status.is_failed:
            tail = _build_log_tail(domino, model_api_id, version_id)
            raise DeploymentFailed(
                f"{step.model} version {step.version} failed to deploy on {step.model_api_name} "
                f"({step.hardware_tier or 'default tier'}): status {status.status}"
                + ("; the build log ends:\n  " + "\n  ".join(tail) if tail else ""),
                hint=f"Read the build logs of Model API {model_api_id} version {version_id} in Domino; "
                     "a model that cannot be loaded from the registry fails here.")
        return status is not None and status.is_running

    try:
        return poll_until(read, done, settings=poll, key=lambda v: v.status,
                          on_change=lambda v: on_status(v.status or "unknown"))
    except PollTimeout as exc:
        raise DeploymentFailed(
            f"{step.model} version {step.version} on {step.model_api_name} is still {exc.last} "
            f"after {exc.waited:.0f} s", hint="Raise --deploy-timeout, or check the Model API in Domino.") from exc


def restore(domino: DominoClient, deployed_api_id: str | None, step: DeployVersion,
            poll: PollSettings, on_status: Callable[[str], None]) -> bool:
    """Put the version that served before back (after a failed deploy or smoke test)."""
    if step.previous_version_id is None or deployed_api_id is None:
        return False
    api = domino.model_apis.get(deployed_api_id)
    if api.active_version is None or api.active_version.id != step.previous_version_id:
        domino.deployments.start(deployed_api_id, step.previous_version_id)
    wait_running(domino, deployed_api_id, step.previous_version_id, step, poll, on_status)
    return True


def _failed_before(domino: DominoClient, model_api_id: str, version_id: str | None,
                   step: DeployVersion) -> DeploymentFailed:
    """Building a source whose build failed would only add another Failed version: say why it
    failed then, and how to try again on purpose."""
    tail = _build_log_tail(domino, model_api_id, version_id or "")
    return DeploymentFailed(
        f"{step.model} version {step.version} failed to build on {step.model_api_name} before (Model API "
        f"version {version_id}); not building it again" + ("; its build log ends:\n  " + "\n  ".join(tail)
                                                          if tail else ""),
        hint="Fix the model and register a new version, or re-run with --retry-failed-builds if the "
             "failure was Domino's (a full node, a registry outage).")


def _version_description(target: ModelVersionInfo) -> str:
    return f"{target.name} version {target.version} from the MLflow registry"


def _build_log_tail(domino: DominoClient, model_api_id: str, version_id: str, lines: int = 10) -> tuple[str, ...]:
    """The last lines of a failed version's build log, for the error; none if they cannot be read."""
    try:
        return domino.model_apis.logs(model_api_id, version_id, "buildLogs").tail(lines)
    except DominoMlopsError:  # the failure itself is the news; a log we cannot read must not hide it
        return ()


def _first_version(domino: DominoClient, api: ModelApi, source: RegistrySource, step: DeployVersion) -> str:
    """The version a create made. The public ``ModelApi`` marks ``activeVersion`` optional, so
    an answer without it is looked up: the Model API's version built from ``source``."""
    if api.active_version is not None and api.active_version.id:
        return api.active_version.id
    built = [v for v in domino.model_apis.list_versions(api.id)
             if isinstance(v.source, RegistrySource) and v.source == source]
    if not built:
        raise DeploymentFailed(f"Domino created Model API {step.model_api_name} without a version of "
                               f"{source.registered_model_name} {source.registered_model_version}",
                               hint="Check the Model API in Domino; re-run to retry.")
    return max(built, key=lambda v: v.number or 0).id
