"""Every Domino path the client uses, built in one place with every id quoted.

Paths are relative to the API base URL (the host, or the API proxy). Ids come from users and
servers: ``quote(id, safe="")`` keeps a ``/``, ``?`` or space inside an id from changing which
route is called. Query strings are built with urlencode for the same reason.
"""

from __future__ import annotations

from urllib.parse import quote, urlencode

from domino_mlops.errors import ConfigError

MODEL_SERVING = "/api/modelServing/v1/modelApis"
MODEL_MANAGER = "/v4/models"
APPS = "/v4/modelProducts"


def seg(value: str, what: str = "id") -> str:
    """One quoted path segment. Refuses "" (it would turn GET /x/{id} into GET /x/, a list)."""
    text = _nonempty(value, what)
    if text in (".", ".."):  # unreserved, so quote() keeps them, and servers resolve them
        return text.replace(".", "%2E")
    return quote(text, safe="")


def _nonempty(value: str, what: str) -> str:
    text = str(value)
    if not text:
        raise ConfigError(f"the {what} is empty", hint=f"Pass the {what} Domino reported; check the manifest.")
    return text


def _query(**params: str | int | None) -> str:
    pairs = {k: v for k, v in params.items() if v is not None}
    return "?" + urlencode(pairs, quote_via=quote) if pairs else ""


# --- deployment, projects, tiers, environments ----------------------------------------------------


def deployment_version() -> str:
    """Domino's version (python-domino's ``deployment_version``; answered without a credential)."""
    return "/version"


def project_by_owner_and_name(owner: str, name: str) -> str:
    return "/v4/gateway/projects/findProjectByOwnerAndName" + _query(
        ownerName=_nonempty(owner, "project owner"), projectName=_nonempty(name, "project name"))


def project(project_id: str) -> str:
    return f"/v4/projects/{seg(project_id, 'project id')}"


def project_hardware_tiers(project_id: str) -> str:
    return f"/v4/projects/{seg(project_id, 'project id')}/hardwareTiers"


def hardware_tiers(*, offset: int | None = None, limit: int | None = None) -> str:
    return "/api/hardwaretiers/v1/hardwaretiers" + _query(offset=offset, limit=limit)


def project_environments(project_id: str) -> str:
    return f"/v4/projects/{seg(project_id, 'project id')}/useableEnvironments"


# --- Model APIs (public API) ---------------------------------------------------------------------


def model_apis(project_id: str, *, name: str | None = None, offset: int | None = None,
               limit: int | None = None) -> str:
    """Always scoped to a project: an empty id must not widen the list to every project."""
    return MODEL_SERVING + _query(projectId=_nonempty(project_id, "project id"), name=name, offset=offset,
                                  limit=limit)


def create_model_api() -> str:
    return MODEL_SERVING


def model_api(model_api_id: str) -> str:
    return f"{MODEL_SERVING}/{seg(model_api_id, 'Model API id')}"


def model_api_versions(model_api_id: str) -> str:
    """Not paged: Domino answers every version of the Model API in one list."""
    return f"{model_api(model_api_id)}/versions"


def model_api_version(model_api_id: str, version_id: str) -> str:
    return f"{model_api(model_api_id)}/versions/{seg(version_id, 'Model API version id')}"


def version_logs(model_api_id: str, version_id: str, kind: str) -> str:
    """``kind``: buildLogs, instanceLogs or exportLogs."""
    if kind not in ("buildLogs", "instanceLogs", "exportLogs"):
        raise ValueError(f"unknown log kind {kind!r}")
    return f"{model_api_version(model_api_id, version_id)}/{kind}"


# --- Model API versions (v4 model manager) -------------------------------------------------------


def _model_manager(model_api_id: str, version_id: str, action: str) -> str:
    return f"{MODEL_MANAGER}/{seg(model_api_id, 'Model API id')}/{seg(version_id, 'Model API version id')}/{action}"


def start_deployment(model_api_id: str, version_id: str) -> str:
    return _model_manager(model_api_id, version_id, "startModelDeployment")


def stop_deployment(model_api_id: str, version_id: str) -> str:
    return _model_manager(model_api_id, version_id, "stopModelDeployment")


def deployment_status(model_api_id: str, version_id: str) -> str:
    return _model_manager(model_api_id, version_id, "getModelDeploymentStatus")


def export_image(model_api_id: str, version_id: str) -> str:
    return _model_manager(model_api_id, version_id, "exportImageToRegistry")


def http_requests(model_api_id: str, version_id: str, *, minutes: int, limit: int) -> str:
    """What a version answered, by status, over the last ``minutes`` (v4 model manager metrics)."""
    return (f"/v4/modelManager/{seg(model_api_id, 'Model API id')}/{seg(version_id, 'Model API version id')}"
            f"/httpRequests" + _query(timeRangeMinutes=minutes, limit=limit))


def resource_usage(model_api_id: str, version_id: str, *, limit: int) -> str:
    return (f"/v4/modelManager/{seg(model_api_id, 'Model API id')}/{seg(version_id, 'Model API version id')}"
            f"/usage" + _query(limit=limit))


def export_status(export_id: str) -> str:
    return f"{MODEL_MANAGER}/{seg(export_id, 'export id')}/getExportImageStatus"


def export_logs(export_id: str) -> str:
    return f"{MODEL_MANAGER}/{seg(export_id, 'export id')}/getExportLogs"


def model_page(model_api_id: str) -> str:
    """The Model API's overview page in Domino's UI, for a person to open (on the Domino host).
    A UI path, not in the API documents: docs/CONTRACT_DECISIONS.md says where it comes from."""
    return f"/models/{seg(model_api_id, 'Model API id')}/overview"


def model_invocation(model_api_id: str) -> str:
    """The synchronous prediction route; relative to the Domino host, never the API proxy."""
    return f"/models/{seg(model_api_id, 'Model API id')}/latest/model"


# --- jobs ------------------------------------------------------------------------------------------


def jobs() -> str:
    return "/api/jobs/v1/jobs"


def project_jobs(project_id: str, *, offset: int = 0, limit: int = 50) -> str:
    """A project's jobs, newest first (public ``getJobs``)."""
    return "/api/jobs/beta/jobs" + _query(projectId=_nonempty(project_id, "project id"), offset=offset, limit=limit,
                                          sortBy="number", ascending="false")


def job(job_id: str) -> str:
    return f"/api/jobs/beta/jobs/{seg(job_id, 'job id')}"


def job_logs(job_id: str, *, log_type: str | None = None) -> str:
    return f"{job(job_id)}/logs" + _query(logType=log_type)


def stop_job() -> str:
    return "/v4/jobs/stop"


def scheduled_jobs(project_id: str) -> str:
    return f"/v4/projects/{seg(project_id, 'project id')}/scheduledjobs"


def scheduled_job(project_id: str, key: str) -> str:
    return f"{scheduled_jobs(project_id)}/{seg(key, 'scheduled job id')}"


def current_user() -> str:
    return "/api/users/v1/self"


# --- apps ------------------------------------------------------------------------------------------


def apps(project_id: str) -> str:
    return APPS + _query(projectId=_nonempty(project_id, "project id"))


def create_app() -> str:
    return APPS


def app(app_id: str) -> str:
    return f"{APPS}/{seg(app_id, 'app id')}"


def start_app(app_id: str) -> str:
    return f"{app(app_id)}/start"


def stop_app(app_id: str) -> str:
    return f"{app(app_id)}/stop"


def app_visibility(app_id: str) -> str:
    return f"{app(app_id)}/visibility"


def app_instances(app_id: str) -> str:
    return f"{app(app_id)}/versions"  # the v4 document's name for an app's instances


# --- apps, public API 6.3 ---------------------------------------------------------------------------

PUBLIC_APPS = "/api/apps/beta/apps"


def public_apps(project_id: str | None = None, *, limit: int | None = None) -> str:
    """A project's apps (``listApps``); with no project, the probe of whether the route exists."""
    project = _nonempty(project_id, "project id") if project_id is not None else None
    return PUBLIC_APPS + _query(projectId=project, limit=limit)


def public_app(app_id: str) -> str:
    return f"{PUBLIC_APPS}/{seg(app_id, 'app id')}"


def public_app_versions(app_id: str) -> str:
    return f"{public_app(app_id)}/versions"


def public_app_instance(app_id: str, version_id: str, instance_id: str) -> str:
    return (f"{public_app_versions(app_id)}/{seg(version_id, 'app version id')}/instances/"
            f"{seg(instance_id, 'app instance id')}")


# --- custom metrics, public API (tag CustomMetrics) -------------------------------------------------

METRIC_VALUES = "/api/metricValues/v1"
METRIC_ALERTS = "/api/metricAlerts/v1"


def metric_values() -> str:
    return METRIC_VALUES


def metric_values_of(model_monitoring_id: str, metric: str, *, start: str, end: str) -> str:
    """A metric's values in [start, end], both inclusive as the parameter names say (RFC 3339 strings)."""
    return (f"{METRIC_VALUES}/{seg(model_monitoring_id, 'model monitoring id')}/{seg(metric, 'metric name')}"
            + _query(startingReferenceTimestampInclusive=start, endingReferenceTimestampInclusive=end))


def metric_alerts() -> str:
    return METRIC_ALERTS
