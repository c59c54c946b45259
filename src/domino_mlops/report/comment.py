"""The plan as a pull-request comment, updated in place instead of piling up on every push.

Our comment carries a hidden HTML marker (``<!-- domino-mlops:plan:STAGE -->``); the next run finds
it among the PR's comments and edits it. Only a comment written by the token's own account counts
as ours (``github-actions[bot]`` for GITHUB_TOKEN; another account, such as a GitHub App's bot,
through DMLOPS_COMMENT_AUTHOR or the action's ``comment-author``): anyone can paste the marker
into a comment of theirs, and that comment is neither edited nor trusted; a new one is posted. The
calls are the GitHub client's (clients/github.py: the project's one HTTP layer, timeouts, safe
retries, our exceptions), with GITHUB_TOKEN as a Bearer token that is masked when read and never
named by value; this module decides what the comment says and on which pull request.

Nothing to comment on is not an error: on a push or workflow_dispatch event, without a token, or
when GitHub answers 403 (a pull request from a fork gets a read-only token), the reason becomes a
notice or warning annotation and the caller carries on.
Docs: https://docs.github.com/rest/issues/comments
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Mapping

import requests

from domino_mlops.clients.github import GitHubClient
from domino_mlops.errors import PermissionDenied
from domino_mlops.report import github
from domino_mlops.report.limits import COMMENT_CHARS, fit

log = logging.getLogger(__name__)

MAX_BODY = COMMENT_CHARS  # the whole body, marker and note included (report/limits.py)
DEFAULT_AUTHOR = "github-actions[bot]"  # the account GITHUB_TOKEN writes as

_FORBIDDEN = (
    "GitHub refused to let GITHUB_TOKEN comment on pull request #{number} (403). A pull request "
    "from a fork gets a read-only token; otherwise give the job `permissions: pull-requests: write`. "
    "The plan is still in this run's step summary."
)


def marker_for(key: str) -> str:
    """The hidden marker for a key such as ``plan:STAGE``; a ready ``<!-- ... -->`` is kept as is."""
    key = key.strip()
    if key.startswith("<!--"):
        return key
    return f"<!-- domino-mlops:{key.replace('--', '-')} -->"  # "--" would end the HTML comment early


def upsert_pr_comment(markdown: str, marker: str, *, environ: Mapping[str, str] | None = None,
                      session: requests.Session | None = None) -> str | None:
    """Create or update our comment on the run's pull request; return its URL, or None if none.

    .. code-block:: python
        :caption: Example (in a pull_request job with GITHUB_TOKEN set)

        url = upsert_pr_comment("### Plan for STAGE\\n...", "plan:STAGE")
        print(url)

    .. code-block:: text
        :caption: Output

        https://github.com/acme/models/pull/7#issuecomment-1234

    ``marker`` is a key (``plan:STAGE``) or a whole ``<!-- ... -->`` comment. When nothing is
    posted, the reason is printed as a notice (no pull request, no token) or a warning (403).
    Other failures raise the project's exceptions (Unreachable, RemoteError, ...).
    """
    env = os.environ if environ is None else environ
    tag = marker_for(marker)
    token = env.get("GITHUB_TOKEN", "").strip()
    github.mask(token, environ=env)  # the moment it is read, before any log line could carry it
    number, reason = _pull_request_number(env)
    if number is None:
        github.annotate("notice", f"No pull-request comment: {reason}.", title="domino-mlops", environ=env)
        return None
    repository = env.get("GITHUB_REPOSITORY", "").strip()
    if not token or "/" not in repository:
        missing = "GITHUB_TOKEN" if not token else "GITHUB_REPOSITORY"
        github.annotate("warning", f"No pull-request comment: {missing} is not set. Pass `github-token` "
                        "to the action (or set GITHUB_TOKEN) to get the plan on the pull request.",
                        title="domino-mlops", environ=env)
        return None
    body = _body(tag, markdown, env)
    author = env.get("DMLOPS_COMMENT_AUTHOR", "").strip() or DEFAULT_AUTHOR
    try:
        with GitHubClient.from_env(env, session=session) as client:
            found = client.find_comment(number, tag, author)
            if found is not None:
                url = client.update_comment(found, body)
            else:
                url = client.create_comment(number, body, marker=tag, author=author)
    except PermissionDenied:
        github.annotate("warning", _FORBIDDEN.format(number=number), title="domino-mlops", environ=env)
        return None
    log.info("pull-request comment %s: %s", "updated" if found is not None else "created", url)
    return url


def _pull_request_number(env: Mapping[str, str]) -> tuple[int | None, str]:
    """The PR number from the event payload, else None and why (for the notice)."""
    event_name = env.get("GITHUB_EVENT_NAME", "") or "unknown"
    path = env.get("GITHUB_EVENT_PATH", "").strip()
    if not path:
        return None, "GITHUB_EVENT_PATH is not set (not running in GitHub Actions)"
    try:
        with open(path, encoding="utf-8") as handle:
            event = json.load(handle)
    except (OSError, ValueError) as exc:
        return None, f"the event payload {path} cannot be read ({type(exc).__name__})"
    pull_request = event.get("pull_request") if isinstance(event, dict) else None
    number = pull_request.get("number") if isinstance(pull_request, dict) else None
    if isinstance(number, int) and not isinstance(number, bool) and number > 0:
        return number, ""
    return None, f"this run was started by a {event_name} event, not a pull request"


def _body(tag: str, markdown: str, env: Mapping[str, str]) -> str:
    """The marker and the Markdown, within GitHub's 65,536 characters: cut between lines (valid
    Markdown kept) with a note pointing at the run when it would not fit. report_plan already
    sends a plan's changes first; this is the last guard, for any caller."""
    text = markdown.rstrip("\n")
    note = f"\n\n_The plan is too long for a comment and was cut here; read it whole in {_run_link(env)}._"
    fitted = fit(text, MAX_BODY - len(tag) - 2, size=len, tail=note)
    if fitted.cut:
        text = fitted.text.rstrip("\n") + note
    return f"{tag}\n{text}\n"


def _run_link(env: Mapping[str, str]) -> str:
    server, repo, run = (env.get(k, "") for k in ("GITHUB_SERVER_URL", "GITHUB_REPOSITORY", "GITHUB_RUN_ID"))
    if server and repo and run:
        return f"[the run's summary]({server}/{repo}/actions/runs/{run})"
    return "the run's step summary"


