"""GitHub's REST API, for what a run must ask GitHub rather than trust: whether a GitHub
environment really guards a protected environment, who approved this run, what the default
branch's files say, and whether a commit comes after another.

Calls go through the project's one HTTP layer with GITHUB_TOKEN as a Bearer token (read access is
enough: `actions: read` for environments and a run's approvals, `contents: read` for branches,
files and commits).
Docs: https://docs.github.com/rest/deployments/environments,
https://docs.github.com/rest/deployments/branch-policies,
https://docs.github.com/rest/actions/workflow-runs#get-the-review-history-for-a-workflow-run,
https://docs.github.com/rest/repos/contents, https://docs.github.com/rest/commits/commits,
https://docs.github.com/rest/actions/secrets, https://docs.github.com/rest/actions/variables
(`domino-mlops doctor` lists secret and variable names: `secrets: read`, `variables: read`)
"""

from __future__ import annotations

import base64
import binascii
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

from domino_mlops.clients.domino.auth import BearerTokenAuth
from domino_mlops.clients.http import HttpClient
from domino_mlops.errors import BadResponse, ConfigError, NotFound, PermissionDenied

DEFAULT_API_URL = "https://api.github.com"
TIMEOUT = (5.0, 20.0)
SERVICE = "GitHub"


@dataclass(frozen=True, slots=True)
class EnvironmentProtection:
    """What GitHub says guards a GitHub environment."""

    name: str
    reviewers: int  # people or teams in its required_reviewers rule (0: no such rule)
    protected_branches_only: bool  # deployment_branch_policy.protected_branches
    custom_branch_policies: bool  # deployment_branch_policy.custom_branch_policies
    has_branch_policy: bool  # a deployment_branch_policy at all (None: every branch may deploy)
    admins_can_bypass: bool
    prevent_self_review: bool = False  # the required_reviewers rule's "Prevent self-review"


@dataclass(frozen=True, slots=True)
class RunApproval:
    """One review of a workflow run's pending deployments: who, which GitHub environments, what."""

    user: str  # the reviewer's login
    state: str  # "approved" or "rejected"
    environments: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class BranchPolicy:
    name: str  # a branch name or pattern
    type: str  # "branch" or "tag"


@dataclass(frozen=True, slots=True)
class NameListing:
    """The names in one of GitHub's secret or variable listings. Names only: GitHub never returns a
    secret's value, and a variable's value is dropped here so no report can show it."""

    kind: str  # "secrets" or "variables"
    names: tuple[str, ...]


class GitHubClient:
    def __init__(self, http: HttpClient, repository: str) -> None:
        self._http, self.repository = http, repository
        self._default_branch: str | None = None  # asked once: the guard, protection and reach all need it
        owner, _, name = repository.partition("/")
        self._repo = f"/repos/{quote(owner, safe='')}/{quote(name, safe='')}"

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, *,
                 on_secret: Callable[[str], None] = lambda value: None,
                 token_variable: str = "GITHUB_TOKEN", session: Any = None) -> GitHubClient:
        """A client for the run's repository (GITHUB_REPOSITORY) with the token in ``token_variable``
        (``session``: a requests.Session to send through, for tests)."""
        import requests

        env = os.environ if environ is None else environ
        token = env.get(token_variable, "").strip()
        repository = env.get("GITHUB_REPOSITORY", "").strip()
        if not token or "/" not in repository:
            missing = token_variable if not token else "GITHUB_REPOSITORY"
            raise ConfigError(f"cannot ask GitHub: {missing} is not set",
                              hint="Pass the job's token to the action (`github-token`, with `permissions: "
                                   "actions: read, contents: read`).")
        on_secret(token)
        session = session or requests.Session()
        session.headers["X-GitHub-Api-Version"] = "2022-11-28"
        http = HttpClient(env.get("GITHUB_API_URL", "").strip() or DEFAULT_API_URL,
                          BearerTokenAuth(token, token_variable), service=SERVICE, conflict_means_expired=False,
                          timeout=TIMEOUT, session=session)
        return cls(http, repository)

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> GitHubClient:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def environment(self, name: str) -> EnvironmentProtection | None:
        """The environment's protection, or None when the repository has no such environment."""
        endpoint = f"{self._repo}/environments/{quote(name, safe='')}"
        try:
            reply = self._http.call("GET", endpoint)
        except NotFound:
            return None
        except PermissionDenied as exc:
            exc.hint = ("Give the job's token `permissions: actions: read` (deployment environments) and "
                        "`contents: read` (branches, commits).")
            raise
        body = _object(reply.body, reply.endpoint)
        rules = body.get("protection_rules") or []
        reviewing = [rule for rule in rules if isinstance(rule, dict) and rule.get("type") == "required_reviewers"]
        reviewers = sum(len(rule.get("reviewers") or []) for rule in reviewing)
        policy = body.get("deployment_branch_policy")
        policy = policy if isinstance(policy, dict) else None
        return EnvironmentProtection(
            name=str(body.get("name", name)), reviewers=reviewers,
            protected_branches_only=bool(policy and policy.get("protected_branches")),
            custom_branch_policies=bool(policy and policy.get("custom_branch_policies")),
            has_branch_policy=policy is not None, admins_can_bypass=bool(body.get("can_admins_bypass", True)),
            prevent_self_review=bool(reviewing) and all(rule.get("prevent_self_review") is True for rule in reviewing))

    def branch_policies(self, environment: str) -> tuple[BranchPolicy, ...]:
        """The custom deployment branch (and tag) policies of an environment."""
        found: list[BranchPolicy] = []
        for page in range(1, 51):
            reply = self._http.call("GET", f"{self._repo}/environments/{quote(environment, safe='')}/"
                                           f"deployment-branch-policies?per_page=100&page={page}")
            body = _object(reply.body, reply.endpoint)
            items = body.get("branch_policies") or []
            found += [BranchPolicy(str(p.get("name", "")), str(p.get("type", "branch")))
                      for p in items if isinstance(p, dict)]
            if len(items) < 100:
                break
        return tuple(found)

    def default_branch(self) -> str:
        if self._default_branch is None:
            reply = self._http.call("GET", self._repo)
            branch = _object(reply.body, reply.endpoint).get("default_branch")
            if not isinstance(branch, str) or not branch:
                raise BadResponse(SERVICE, reply.endpoint, "$.default_branch is missing")
            self._default_branch = branch
        return self._default_branch

    def protected_branches(self) -> tuple[str, ...]:
        names: list[str] = []
        for page in range(1, 51):
            reply = self._http.call("GET", f"{self._repo}/branches?protected=true&per_page=100&page={page}")
            items = reply.body if isinstance(reply.body, list) else []
            names += [str(b.get("name")) for b in items if isinstance(b, dict) and b.get("name")]
            if len(items) < 100:
                break
        return tuple(names)

    def repository_secrets(self) -> NameListing:
        return self._names(f"{self._repo}/actions/secrets", "secrets", 100)

    def organization_secrets(self) -> NameListing:
        """The organization's secrets shared with this repository (none when it has no organization)."""
        try:
            return self._names(f"{self._repo}/actions/organization-secrets", "secrets", 100)
        except NotFound:
            return NameListing("secrets", ())

    def environment_secrets(self, environment: str) -> NameListing:
        return self._names(f"{self._repo}/environments/{quote(environment, safe='')}/secrets", "secrets", 100)

    def repository_variables(self) -> NameListing:
        return self._names(f"{self._repo}/actions/variables", "variables", 30)

    def environment_variables(self, environment: str) -> NameListing:
        return self._names(f"{self._repo}/environments/{quote(environment, safe='')}/variables", "variables", 30)

    def _names(self, endpoint: str, kind: str, per_page: int) -> NameListing:
        """Every name of a paged `{"total_count", "<kind>": [{"name", ...}]}` listing (GitHub's
        maximum page is 100 for secrets, 30 for variables)."""
        names: list[str] = []
        for page in range(1, 51):
            reply = self._http.call("GET", f"{endpoint}?per_page={per_page}&page={page}")
            body = _object(reply.body, reply.endpoint)
            items = body.get(kind)
            if not isinstance(items, list):
                raise BadResponse(SERVICE, reply.endpoint, f"$.{kind} should be an array")
            names += [item["name"] for item in items if isinstance(item, dict) and isinstance(item.get("name"), str)]
            total = body.get("total_count")
            if len(items) < per_page or (isinstance(total, int) and len(names) >= total):
                break
        return NameListing(kind, tuple(names))

    def run_approvals(self, run_id: str) -> tuple[RunApproval, ...]:
        """Who approved or rejected this workflow run's deployments to GitHub environments."""
        endpoint = f"{self._repo}/actions/runs/{quote(run_id, safe='')}/approvals"
        try:
            reply = self._http.call("GET", endpoint)
        except PermissionDenied as exc:
            exc.hint = "Give the job's token `permissions: actions: read` (a run's approvals)."
            raise
        if not isinstance(reply.body, list):
            raise BadResponse(SERVICE, reply.endpoint, "$ should be an array of reviews")
        found = []
        for index, review in enumerate(reply.body):
            user = review.get("user") if isinstance(review, dict) else None
            if not isinstance(user, dict) or not isinstance(user.get("login"), str):
                raise BadResponse(SERVICE, reply.endpoint, f"$[{index}].user.login is missing")
            names = tuple(str(e.get("name", "")) for e in review.get("environments") or [] if isinstance(e, dict))
            found.append(RunApproval(user["login"], str(review.get("state", "")), names))
        return tuple(found)

    def file_text(self, path: str, ref: str) -> str | None:
        """A file's text at ``ref`` (a branch), or None when it has no such file."""
        endpoint = f"{self._repo}/contents/{quote(path.lstrip('/'))}?ref={quote(ref, safe='')}"
        try:
            reply = self._http.call("GET", endpoint)
        except NotFound:
            return None
        body = _object(reply.body, reply.endpoint)
        if body.get("type") != "file" or body.get("encoding") != "base64" or not isinstance(body.get("content"), str):
            raise BadResponse(SERVICE, reply.endpoint, "$ should be a base64-encoded file")
        try:
            return base64.b64decode(body["content"]).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError) as exc:
            raise BadResponse(SERVICE, reply.endpoint, f"$.content does not decode: {exc}") from exc

    def compare(self, base: str, head: str) -> str:
        """How ``head`` relates to ``base``: "ahead", "behind", "identical" or "diverged"."""
        reply = self._http.call("GET", f"{self._repo}/compare/{quote(base, safe='')}...{quote(head, safe='')}")
        status = _object(reply.body, reply.endpoint).get("status")
        if status not in ("ahead", "behind", "identical", "diverged"):
            raise BadResponse(SERVICE, reply.endpoint, f"$.status is {status!r}")
        return str(status)


    # --- pull-request comments (report/comment.py decides what to say and which comment is ours) ---

    COMMENTS_PER_PAGE = 100  # GitHub's maximum
    COMMENT_PAGES = 50  # 5,000 comments: past that, a misbehaving server, not a pull request

    def find_comment(self, number: int, marker: str, author: str) -> int | None:
        """The id of the first comment on pull request ``number`` that carries ``marker`` and was
        written by ``author`` (anyone can paste a marker; only our own account's comment counts),
        paging through all of them; None when there is none."""
        issue = f"{self._repo}/issues/{number}"
        for page in range(1, self.COMMENT_PAGES + 1):
            items = self._http.call("GET", f"{issue}/comments?per_page={self.COMMENTS_PER_PAGE}&page={page}").body
            if not isinstance(items, list):
                return None
            for item in items:
                if (isinstance(item, dict) and marker in str(item.get("body") or "")
                        and isinstance(item.get("id"), int) and _login(item) == author):
                    return int(item["id"])
            if len(items) < self.COMMENTS_PER_PAGE:
                return None
        return None

    def update_comment(self, comment_id: int, body: str) -> str | None:
        """Replace a comment's body; its URL."""
        reply = self._http.call("PATCH", f"{self._repo}/issues/comments/{comment_id}", json={"body": body})
        return _html_url(reply.body)

    def create_comment(self, number: int, body: str, *, marker: str, author: str) -> str | None:
        """Post a comment on pull request ``number``, once: after an answer that was lost, the
        comment is looked for (by ``marker`` and ``author``) before anything is sent again."""
        issue = f"{self._repo}/issues/{number}"

        def created():
            found = self.find_comment(number, marker, author)
            return None if found is None else self._http.call("GET", f"{self._repo}/issues/comments/{found}")

        reply = self._http.create_idempotent(lambda: self._http.call("POST", f"{issue}/comments", json={"body": body}),
                                             created, what="pull-request comment")
        return _html_url(reply.body)


def _login(item: dict) -> str | None:
    user = item.get("user")
    login = user.get("login") if isinstance(user, dict) else None
    return login if isinstance(login, str) else None


def _html_url(body: Any) -> str | None:
    url = body.get("html_url") if isinstance(body, dict) else None
    return url if isinstance(url, str) else None


def _object(body: Any, endpoint: str) -> dict[str, Any]:
    if not isinstance(body, dict):
        raise BadResponse(SERVICE, endpoint, "$ should be an object")
    return body
