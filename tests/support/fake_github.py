"""A small, real HTTP fake of the parts of GitHub's REST API the project calls, recording every request.

- https://docs.github.com/rest/issues/comments for the PR comment: list (paged with
  per_page/page), create, get and update;
- what the protection check reads: a deployment environment, its deployment branch policies,
  the repository (its default branch), its protected branches;
- compare (``/compare/{base}...{head}``), answered from a real git repository (``git_dirs``);
- a workflow run's review history (``/actions/runs/{run_id}/approvals``: ``approve``);
- a file's contents at a branch (``/contents/{path}?ref=``), from the same git repository;
- what ``doctor`` lists: repository, organization and environment secrets and variables (paged,
  names from ``secret``/``variable``; ``forbidden`` answers 403 to a kind of listing).

Answers are GitHub's published examples (tests/fixtures/github/), changed only where a test says.
Tokens are ``write`` or ``read``: an unknown token gets 401, a read-only one (what a pull request
from a fork gets) 403 on every write.
"""

from __future__ import annotations

import copy
import json
import re
import subprocess
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

_LIST = re.compile(r"^/repos/([^/]+)/([^/]+)/issues/(\d+)/comments$")
_ONE = re.compile(r"^/repos/([^/]+)/([^/]+)/issues/comments/(\d+)$")
_ENVIRONMENT = re.compile(r"^/repos/([^/]+)/([^/]+)/environments/([^/]+)$")
_POLICIES = re.compile(r"^/repos/([^/]+)/([^/]+)/environments/([^/]+)/deployment-branch-policies$")
_REPOSITORY = re.compile(r"^/repos/([^/]+)/([^/]+)$")
_BRANCHES = re.compile(r"^/repos/([^/]+)/([^/]+)/branches$")
_COMPARE = re.compile(r"^/repos/([^/]+)/([^/]+)/compare/(.+)\.\.\.(.+)$")
_APPROVALS = re.compile(r"^/repos/([^/]+)/([^/]+)/actions/runs/([^/]+)/approvals$")
_CONTENTS = re.compile(r"^/repos/([^/]+)/([^/]+)/contents/(.+)$")
_REPO_LISTING = re.compile(r"^/repos/([^/]+)/([^/]+)/actions/(secrets|organization-secrets|variables)$")
_ENV_LISTING = re.compile(r"^/repos/([^/]+)/([^/]+)/environments/([^/]+)/(secrets|variables)$")

RECORDED = Path(__file__).resolve().parents[1] / "fixtures" / "github"


def recorded(name: str) -> Any:
    """A recorded GitHub answer (tests/fixtures/github/<name>.json), a fresh copy each time."""
    return json.loads((RECORDED / f"{name}.json").read_text())


@dataclass(frozen=True)
class Recorded:
    method: str
    path: str
    query: dict[str, str]
    token: str | None
    headers: dict[str, str]
    body: Any


@dataclass
class FakeGitHub:
    url: str = ""
    tokens: dict[str, str] = field(default_factory=dict)  # token -> "write" | "read"
    comments: dict[tuple[str, int], list[dict[str, Any]]] = field(default_factory=dict)  # (repo, pr) -> comments
    requests: list[Recorded] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)
    # Deployment environments: (repo, name lower-cased) -> the answer; names are case-insensitive.
    environments: dict[tuple[str, str], dict[str, Any]] = field(default_factory=dict)
    branch_policies: dict[tuple[str, str], list[dict[str, Any]]] = field(default_factory=dict)
    default_branches: dict[str, str] = field(default_factory=dict)  # repo -> default branch (else main)
    protected_branches: dict[str, list[str]] = field(default_factory=dict)
    git_dirs: dict[str, Path] = field(default_factory=dict)  # repo -> a git work tree answering compare
    # (repo, run id or "*" for any run) -> the run's reviews, as GitHub lists them
    approvals: dict[tuple[str, str], list[dict[str, Any]]] = field(default_factory=dict)
    # (repo, "repository" | "organization" | "environment:<name lower-cased>") -> names
    secrets: dict[tuple[str, str], list[str]] = field(default_factory=dict)
    variables: dict[tuple[str, str], list[str]] = field(default_factory=dict)
    forbidden: set[str] = field(default_factory=set)  # "secrets" / "variables": listings answered 403
    _next_id: int = 1000

    def secret(self, repo: str, name: str, *, environment: str | None = None, organization: bool = False) -> None:
        """A secret named ``name``: of the repository, of a GitHub environment, or an organization
        secret shared with the repository."""
        scope = f"environment:{environment.lower()}" if environment else "organization" if organization else "repository"
        with self.lock:
            self.secrets.setdefault((repo, scope), []).append(name)

    def variable(self, repo: str, name: str, *, environment: str | None = None) -> None:
        scope = f"environment:{environment.lower()}" if environment else "repository"
        with self.lock:
            self.variables.setdefault((repo, scope), []).append(name)

    def environment(self, repo: str, name: str, answer: dict[str, Any] | str = "environment", *,
                    policies: list[str] | str | None = None) -> None:
        """Give ``repo`` a deployment environment: a recorded answer (by file name) or a body;
        ``policies``: its custom deployment branch policies (branch names, or a recorded file)."""
        body = recorded(answer) if isinstance(answer, str) else copy.deepcopy(answer)
        body["name"] = name
        with self.lock:
            self.environments[(repo, name.lower())] = body
            if policies is not None:
                items = recorded(policies)["branch_policies"] if isinstance(policies, str) else [
                    {"id": 361000 + i, "node_id": f"BP{i}", "name": branch, "type": "branch"}
                    for i, branch in enumerate(policies)]
                self.branch_policies[(repo, name.lower())] = items

    def protect(self, repo: str, name: str, *, branch: str = "main", reviewers: bool = True) -> None:
        """The setting the README asks for: required reviewers who may not approve themselves,
        no administrator bypass, only ``branch`` may deploy. ``reviewers=False``: only the branch
        rule (an environment that shares reach with a protected one, such as staging)."""
        body = recorded("environment")
        for rule in body["protection_rules"]:
            if rule["type"] == "required_reviewers":
                rule["prevent_self_review"] = True
        if not reviewers:
            body["protection_rules"] = [r for r in body["protection_rules"] if r["type"] != "required_reviewers"]
        self.environment(repo, name, body, policies=[branch])

    def approve(self, repo: str, environment: str, user: str, *, run_id: str = "*",
                state: str = "approved") -> None:
        """Record a review of ``run_id``'s deployment to ``environment`` (GitHub's
        ``#/components/examples/environment-approvals-items`` shape)."""
        review = {"state": state, "comment": "Ship it!", "user": {"login": user, "id": 1, "type": "User"},
                  "environments": [{"id": 161088068, "node_id": "MDExOkVudmlyb25tZW50MTYxMDg4MDY4",
                                    "name": environment, "url": f"https://api.github.com/repos/{repo}/environments/"
                                    f"{environment}", "created_at": "2020-11-23T22:00:40Z"}]}
        with self.lock:
            self.approvals.setdefault((repo, run_id), []).append(review)

    def seed(self, repo: str, number: int, body: str, *, user: str = "someone") -> dict[str, Any]:
        with self.lock:
            return self._add(repo, number, body, user)

    def thread(self, repo: str, number: int) -> list[dict[str, Any]]:
        with self.lock:
            return [dict(c) for c in self.comments.get((repo, number), [])]

    def calls(self, method: str | None = None) -> list[Recorded]:
        with self.lock:
            return [r for r in self.requests if method in (None, r.method)]

    def _add(self, repo: str, number: int, body: str, user: str) -> dict[str, Any]:
        self._next_id += 1
        comment = {"id": self._next_id, "body": body, "user": {"login": user},
                   "html_url": f"https://github.com/{repo}/pull/{number}#issuecomment-{self._next_id}"}
        self.comments.setdefault((repo, number), []).append(comment)
        return comment

    # --- request handling (runs on the server threads) --------------------------------------

    def handle(self, method: str, path: str, query: dict[str, str], token: str | None,
               body: Any) -> tuple[int, Any]:
        access = self.tokens.get(token or "")
        if access is None:
            return 401, {"message": "Bad credentials"}
        if method in ("POST", "PATCH") and access != "write":
            return 403, {"message": "Resource not accessible by integration"}
        if (match := _LIST.match(path)) is not None:
            repo, number = f"{match[1]}/{match[2]}", int(match[3])
            if method == "GET":
                per_page, page = int(query.get("per_page", 30)), int(query.get("page", 1))
                items = self.comments.get((repo, number), [])
                return 200, items[(page - 1) * per_page: page * per_page]
            if method == "POST":
                return 201, self._add(repo, number, str(body.get("body", "")), "github-actions[bot]")
        if method == "GET" and (found := self._read(path, query)) is not None:
            return found
        if (match := _ONE.match(path)) is not None:
            repo, wanted = f"{match[1]}/{match[2]}", int(match[3])
            for (where, _), items in self.comments.items():
                for comment in items:
                    if where == repo and comment["id"] == wanted:
                        if method == "PATCH":
                            comment["body"] = str(body.get("body", ""))
                        return 200, comment
            return 404, {"message": "Not Found"}
        return 404, {"message": "Not Found"}

    def _read(self, path: str, query: dict[str, str]) -> tuple[int, Any] | None:
        """The read-only routes (protection check, ancestry); None: not one of them."""
        if (match := _REPO_LISTING.match(path)) is not None:
            scope = "organization" if match[3] == "organization-secrets" else "repository"
            kind = "variables" if match[3] == "variables" else "secrets"
            return self._listing(f"{match[1]}/{match[2]}", scope, kind, query)
        if (match := _ENV_LISTING.match(path)) is not None:
            repo, name = f"{match[1]}/{match[2]}", unquote(match[3]).lower()
            if (repo, name) not in self.environments:
                return 404, recorded("not-found")
            return self._listing(repo, f"environment:{name}", match[4], query)
        if (match := _POLICIES.match(path)) is not None:
            key = (f"{match[1]}/{match[2]}", unquote(match[3]).lower())
            if key not in self.environments:
                return 404, recorded("not-found")
            items = self.branch_policies.get(key, [])
            per_page, page = int(query.get("per_page", 30)), int(query.get("page", 1))
            return 200, {"total_count": len(items), "branch_policies": items[(page - 1) * per_page: page * per_page]}
        if (match := _ENVIRONMENT.match(path)) is not None:
            found = self.environments.get((f"{match[1]}/{match[2]}", unquote(match[3]).lower()))
            return (200, found) if found is not None else (404, recorded("not-found"))
        if (match := _BRANCHES.match(path)) is not None:
            repo = f"{match[1]}/{match[2]}"
            names = self.protected_branches.get(repo, [self.default_branches.get(repo, "main")])
            return 200, [{"name": n, "commit": {"sha": "0" * 40, "url": ""}, "protected": True} for n in names]
        if (match := _COMPARE.match(path)) is not None:
            return self._compare(f"{match[1]}/{match[2]}", unquote(match[3]), unquote(match[4]))
        if (match := _APPROVALS.match(path)) is not None:
            repo, run_id = f"{match[1]}/{match[2]}", unquote(match[3])
            return 200, self.approvals.get((repo, run_id), self.approvals.get((repo, "*"), []))
        if (match := _CONTENTS.match(path)) is not None:
            return self._contents(f"{match[1]}/{match[2]}", unquote(match[3]), query.get("ref", ""))
        if (match := _REPOSITORY.match(path)) is not None:
            repo = f"{match[1]}/{match[2]}"
            return 200, {**recorded("repository"), "full_name": repo, "name": match[2],
                         "default_branch": self.default_branches.get(repo, "main")}
        return None

    def _listing(self, repo: str, scope: str, kind: str, query: dict[str, str]) -> tuple[int, Any]:
        """GitHub's paged listing of secret or variable names (a variable's value included, as GitHub sends it)."""
        if kind in self.forbidden:
            return 403, recorded("forbidden")
        template = recorded(kind)[kind][0]
        names = (self.secrets if kind == "secrets" else self.variables).get((repo, scope), [])
        items = [{**template, "name": name, **({"value": f"value-of-{name}"} if kind == "variables" else {})}
                 for name in names]
        per_page, page = int(query.get("per_page", 30)), int(query.get("page", 1))
        return 200, {"total_count": len(items), kind: items[(page - 1) * per_page: page * per_page]}

    def _contents(self, repo: str, path: str, ref: str) -> tuple[int, Any]:
        """A file at ``ref`` of the repository's real git history, base64 as GitHub sends it."""
        where = self.git_dirs.get(repo)
        ref = ref or self.default_branches.get(repo, "main")
        if where is None:
            return 404, recorded("not-found")
        done = subprocess.run(["git", "show", f"{ref}:{path}"], cwd=where, capture_output=True, check=False)
        if done.returncode:
            return 404, recorded("not-found")
        import base64

        return 200, {"type": "file", "encoding": "base64", "size": len(done.stdout), "name": path.rsplit("/", 1)[-1],
                     "path": path, "content": base64.encodebytes(done.stdout).decode("ascii"),
                     "sha": "0" * 40}

    def _compare(self, repo: str, base: str, head: str) -> tuple[int, Any]:
        """GitHub's status of head relative to base, from a real git history."""
        where = self.git_dirs.get(repo)
        if where is None:
            return 404, recorded("not-found")

        def git(*argv: str) -> subprocess.CompletedProcess[str]:
            return subprocess.run(["git", *argv], cwd=where, capture_output=True, text=True, check=False)

        if git("cat-file", "-e", f"{base}^{{commit}}").returncode or git("cat-file", "-e", f"{head}^{{commit}}").returncode:
            return 404, {"message": "Not Found", "status": "404"}
        ahead = int(git("rev-list", "--count", f"{base}..{head}").stdout.strip() or 0)
        behind = int(git("rev-list", "--count", f"{head}..{base}").stdout.strip() or 0)
        status = ("identical" if not ahead and not behind else "ahead" if not behind
                  else "behind" if not ahead else "diverged")
        return 200, {**recorded("compare"), "status": status, "ahead_by": ahead, "behind_by": behind,
                     "total_commits": ahead}


@contextmanager
def fake_github(tokens: dict[str, str] | None = None, *, host: str = "127.0.0.1") -> Iterator[FakeGitHub]:
    """``with fake_github({"t0ken": "write"}) as gh:`` -> a running fake at ``gh.url``."""
    fake = FakeGitHub(tokens=dict(tokens or {}))

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args: object) -> None:  # keep test output clean
            pass

        def _handle(self) -> None:
            length = int(self.headers.get("Content-Length") or 0)
            raw = self.rfile.read(length) if length else b""
            body = json.loads(raw) if raw else None
            auth = self.headers.get("Authorization", "")
            token = auth[len("Bearer "):] if auth.startswith("Bearer ") else None
            parts = urlsplit(self.path)
            query = {k: v[-1] for k, v in parse_qs(parts.query).items()}
            headers = {k: v for k, v in self.headers.items() if k.lower() != "authorization"}
            with fake.lock:
                fake.requests.append(Recorded(self.command, parts.path, query, token, headers, body))
                status, payload = fake.handle(self.command, parts.path, query, token, body)
            data = json.dumps(payload).encode()
            self.send_response(status)
            self.send_header("Content-Type", "application/json; charset=utf-8")
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        do_GET = do_POST = do_PATCH = _handle

    server = ThreadingHTTPServer((host, 0), Handler)
    fake.url = f"http://{host}:{server.server_port}"
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield fake
    finally:
        server.shutdown()
        server.server_close()
