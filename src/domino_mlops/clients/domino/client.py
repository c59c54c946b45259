"""The Domino REST client: one entry point, one small class per noun.

`DominoClient` answers the project-wide questions itself (projects, hardware tiers,
compute environments, the caller) and hands out the rest by noun, so no class grows into
python-domino's 112-method `Domino`: ``client.model_apis`` (domino_serving), ``client.deployments``
(domino_deployments), ``client.jobs`` (domino_jobs), ``client.scheduled_jobs``
(domino_scheduled_jobs), ``client.apps`` (domino_apps) and ``client.custom_metrics``
(domino_custom_metrics).

Every method has the same three steps: build the request (domino_urls), ``self._http.call``
(http: timeouts, retries, our exceptions), parse into a frozen type (domino_types). Every route
called here is in Domino's published API (domino_emulator.contract, docs/DOMINO_API.md), and a
conformance test holds each request to its published schema. Constructing a client calls nothing.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping
from typing import Any

from requests.auth import AuthBase

from domino_mlops.clients.domino import urls as urls
from domino_mlops.clients.domino.apps import Apps
from domino_mlops.clients.domino.auth import DominoConfig, NoCredential
from domino_mlops.clients.domino.custom_metrics import CustomMetrics
from domino_mlops.clients.domino.deployments import ModelDeployments
from domino_mlops.clients.domino.job_types import CurrentUser
from domino_mlops.clients.domino.jobs import Jobs
from domino_mlops.clients.domino.relogin import relogin_on_conflict
from domino_mlops.clients.domino.scheduled_jobs import ScheduledJobs
from domino_mlops.clients.domino.serving import ModelApis
from domino_mlops.clients.domino.types import (
    HardwareTier,
    Project,
    ProjectEnvironments,
    check_next_page,
    parse_list,
)
from domino_mlops.clients.http import HttpClient
from domino_mlops.clients.json_fields import Fields
from domino_mlops.errors import NotFound, PermissionDenied


class DominoClient:
    """Talk to one Domino deployment with one credential.

    .. code-block:: python
        :caption: Example, against the emulator's demo world (``domino-mlops emulator``)

        from domino_mlops.clients.domino.client import DominoClient

        client = DominoClient.from_env({
            "DOMINO_API_HOST": "http://127.0.0.1:8765",
            "DOMINO_USER_API_KEY": "LOCAL-TEST-API-KEY-demo-user-not-a-secret",
        })
        project = client.find_project("demo-user", "demo-project")
        for tier in client.hardware_tiers(project.id):
            print(tier.id, tier.data_plane_name)
        print(client.model_apis.list(project.id))

    .. code-block:: text
        :caption: Output

        small-k8s local
        medium-k8s local
        prod-small prod-west
        ()
    """

    def __init__(self, http: HttpClient, *, models_http: HttpClient | None = None,
                 page_auth: AuthBase | None = None, pages_http: HttpClient | None = None) -> None:
        self._http = http
        self._pages_http = pages_http
        self.model_apis = ModelApis(http)
        self.deployments = ModelDeployments(http, models_http or http)
        self.jobs = Jobs(http)
        self.scheduled_jobs = ScheduledJobs(http)
        self.custom_metrics = CustomMetrics(http)
        # An app's pages are on the Domino host, asked with the Domino credential.
        self.apps = Apps(http, pages_http=pages_http or models_http or http, page_auth=page_auth)

    @classmethod
    def from_config(cls, config: DominoConfig, **http_options: Any) -> DominoClient:
        """A client for ``config``; ``http_options`` go to HttpClient (timeout, max_retries, ...).

        Predictions go to the model host (DOMINO_MODEL_HOST, else the Domino host) with the
        model's own token, never through the API proxy: the proxy adds the user's credential,
        which the model route does not take.
        """
        http_options.setdefault("conflict_means_expired", relogin_on_conflict)
        http = HttpClient(config.api_base_url, config.auth, **http_options)
        models_http = HttpClient(config.models_url, NoCredential(), **http_options)
        pages_http = models_http if config.models_url == config.host else HttpClient(
            config.host, NoCredential(), **http_options)
        return cls(http, models_http=models_http, page_auth=config.auth, pages_http=pages_http)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, *, token: str | None = None,
                 token_source: str = "the token passed in", **http_options: Any) -> DominoClient:
        """A client configured from DOMINO_API_HOST and the first credential found."""
        config = DominoConfig.from_env(environ, token=token, token_source=token_source)
        return cls.from_config(config, **http_options)

    def close(self) -> None:
        self._http.close()
        self.deployments.close()
        if self._pages_http is not None:
            self._pages_http.close()  # closing twice (the model host's session) is harmless

    def __enter__(self) -> DominoClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # --- projects, tiers, environments -------------------------------------------------------------

    def find_project(self, owner: str, name: str) -> Project:
        """The project ``owner/name``; NotFound when there is none."""
        # Domino answers an object without "id" for an unknown project (some versions: 404); the
        # v4 document declares only 200, 403 and 500, so a 403 may mean "no such project" too.
        try:
            reply = self._http.call("GET", urls.project_by_owner_and_name(owner, name))
        except NotFound as exc:
            raise _no_project(owner, name) from exc
        except PermissionDenied as exc:
            raise NotFound(f"Domino has no project {owner}/{name} that the credential from "
                           f"{self._http.credential_source} may see (403)",
                           hint="Check the owner and project name, and that the credential's user or service "
                                "account is a collaborator of the project.") from exc
        if isinstance(reply.body, dict) and reply.body.get("id") is None:
            raise _no_project(owner, name)
        return Project.from_gateway(reply.body, reply.endpoint)

    def get_project(self, project_id: str) -> Project:
        """The project with this id (``GET /v4/projects/{id}``)."""
        reply = self._http.call("GET", urls.project(project_id))
        return Project.from_api(reply.body, reply.endpoint)

    def hardware_tiers(self, project_id: str) -> tuple[HardwareTier, ...]:
        """The tiers a project may use, each with its data plane (``/v4/projects/{id}/hardwareTiers``)."""
        reply = self._http.call("GET", urls.project_hardware_tiers(project_id))
        return parse_list(reply.body, reply.endpoint, "hardwareTiers", HardwareTier.from_v4)

    def all_hardware_tiers(self) -> tuple[HardwareTier, ...]:
        """Every tier of the deployment (public API ``/api/hardwaretiers/v1/hardwaretiers``, all pages)."""
        tiers: list[HardwareTier] = []
        previous: tuple[HardwareTier, ...] | None = None
        for pages in itertools.count(1):
            reply = self._http.call("GET", urls.hardware_tiers(offset=len(tiers), limit=100))
            page = parse_list(reply.body, reply.endpoint, "hardwareTiers", HardwareTier.from_api)
            check_next_page(page, previous, pages, reply.endpoint)
            tiers.extend(page)
            if len(page) < 100:
                return tuple(tiers)
            previous = page
        raise AssertionError("unreachable: itertools.count never ends")

    def domino_version(self) -> str:
        """Domino's version, as ``GET /version`` says it ("6.1.0")."""
        reply = self._http.call("GET", urls.deployment_version())
        return Fields(reply.body, reply.endpoint, "$").req_str("version")

    def current_user(self) -> CurrentUser:
        """Whom the credential belongs to (public ``GET /api/users/v1/self``): a scheduled job runs as them."""
        reply = self._http.call("GET", urls.current_user())
        return CurrentUser.from_envelope(reply.body, reply.endpoint)

    def project_environments(self, project_id: str) -> ProjectEnvironments:
        """The compute environments the project may use, and its default
        (``GET /v4/projects/{id}/useableEnvironments``)."""
        reply = self._http.call("GET", urls.project_environments(project_id))
        return ProjectEnvironments.from_api(reply.body, reply.endpoint)


def _no_project(owner: str, name: str) -> NotFound:
    return NotFound(f"Domino has no project {owner}/{name}",
                    hint="Check the owner and project name; the owner is a user name, not a display name.")
