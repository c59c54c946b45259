"""report.comment: the plan as a PR comment, updated in place, against a real local fake GitHub."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import requests
import responses

from domino_mlops.errors import AuthenticationFailed
from domino_mlops.report.comment import MAX_BODY, marker_for, upsert_pr_comment
from tests.support.fake_github import fake_github

TOKEN = "ghs_s3cretTokenValue"
REPO = "acme/models"
MARKER = "<!-- domino-mlops:plan:STAGE -->"


def pr_env(tmp_path: Path, api_url: str, *, token: str = TOKEN, number: int | None = 7,
           event_name: str = "pull_request") -> dict[str, str]:
    event = {"pull_request": {"number": number}} if number is not None else {"ref": "refs/heads/main"}
    path = tmp_path / "event.json"
    path.write_text(json.dumps(event))
    return {"GITHUB_ACTIONS": "true", "GITHUB_TOKEN": token, "GITHUB_REPOSITORY": REPO,
            "GITHUB_EVENT_PATH": str(path), "GITHUB_EVENT_NAME": event_name, "GITHUB_API_URL": api_url,
            "GITHUB_SERVER_URL": "https://github.com", "GITHUB_RUN_ID": "42"}


def test_marker_for_keys_and_ready_markers() -> None:
    assert marker_for("plan:STAGE") == MARKER
    assert marker_for(MARKER) == MARKER
    assert marker_for("a--b") == "<!-- domino-mlops:a-b -->"


def test_creates_then_updates_in_place(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with fake_github({TOKEN: "write"}) as gh:
        gh.seed(REPO, 7, "LGTM", user="reviewer")
        env = pr_env(tmp_path, gh.url)
        first = upsert_pr_comment("### Plan for STAGE\n\nv1", "plan:STAGE", environ=env)
        second = upsert_pr_comment("### Plan for STAGE\n\nv2", "plan:STAGE", environ=env)
        thread = gh.thread(REPO, 7)
        posts, patches = gh.calls("POST"), gh.calls("PATCH")
        tokens = {call.token for call in gh.calls()}
        versions = {call.headers.get("X-GitHub-Api-Version") for call in gh.calls()}
    assert first == second and first is not None and first.startswith(f"https://github.com/{REPO}/pull/7#")
    assert [c["body"] for c in thread] == ["LGTM", f"{MARKER}\n### Plan for STAGE\n\nv2\n"]
    assert len(posts) == 1 and len(patches) == 1
    assert tokens == {TOKEN} and versions == {"2022-11-28"}
    out = capsys.readouterr().out
    assert out.splitlines()[0] == f"::add-mask::{TOKEN}"  # masked before anything else is said
    assert TOKEN not in out.replace(f"::add-mask::{TOKEN}", "")


def test_a_marked_comment_by_another_account_is_left_alone(tmp_path: Path) -> None:
    """Anyone can paste our marker: only the token's own account's comment is edited (and a
    configured author replaces the default)."""
    with fake_github({TOKEN: "write"}) as gh:
        planted = gh.seed(REPO, 7, f"{MARKER}\nplanted plan", user="mallory")
        env = pr_env(tmp_path, gh.url)
        upsert_pr_comment("### Plan for STAGE\n\nv1", "plan:STAGE", environ=env)
        upsert_pr_comment("### Plan for STAGE\n\nv2", "plan:STAGE", environ=env)
        thread = gh.thread(REPO, 7)
        posts, patches = gh.calls("POST"), gh.calls("PATCH")
        # Configured for another bot account: the github-actions[bot] comment is not its own.
        upsert_pr_comment("v3", "plan:STAGE", environ={**env, "DMLOPS_COMMENT_AUTHOR": "acme-deployer[bot]"})
        after = gh.thread(REPO, 7)
    assert thread[0] == {**planted, "body": f"{MARKER}\nplanted plan"}
    assert [c["user"]["login"] for c in thread] == ["mallory", "github-actions[bot]"]
    assert thread[1]["body"] == f"{MARKER}\n### Plan for STAGE\n\nv2\n"
    assert len(posts) == 1 and len(patches) == 1
    assert len(after) == 3 and after[1]["body"].endswith("v2\n") and after[0]["body"].endswith("planted plan")


def test_markers_keep_stages_apart(tmp_path: Path) -> None:
    with fake_github({TOKEN: "write"}) as gh:
        env = pr_env(tmp_path, gh.url)
        upsert_pr_comment("staging plan", "plan:STAGE", environ=env)
        upsert_pr_comment("production plan", "plan:PROD", environ=env)
        upsert_pr_comment("staging plan, again", "plan:STAGE", environ=env)
        bodies = [c["body"] for c in gh.thread(REPO, 7)]
    assert bodies == [f"{MARKER}\nstaging plan, again\n", "<!-- domino-mlops:plan:PROD -->\nproduction plan\n"]


def test_finds_its_comment_on_a_later_page(tmp_path: Path) -> None:
    with fake_github({TOKEN: "write"}) as gh:
        for i in range(130):
            gh.seed(REPO, 7, f"chatter {i}")
        ours = gh.seed(REPO, 7, f"{MARKER}\nold plan", user="github-actions[bot]")
        for i in range(30):
            gh.seed(REPO, 7, f"more chatter {i}")
        upsert_pr_comment("new plan", "plan:STAGE", environ=pr_env(tmp_path, gh.url))
        pages = [call.query.get("page") for call in gh.calls("GET")]
        updated = [c for c in gh.thread(REPO, 7) if c["id"] == ours["id"]][0]
        count = len(gh.thread(REPO, 7))
    assert pages == ["1", "2"]
    assert updated["body"] == f"{MARKER}\nnew plan\n" and count == 161 and not gh.calls("POST")


def test_fork_pull_request_read_only_token_is_a_warning(tmp_path: Path,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    with fake_github({TOKEN: "read"}) as gh:
        assert upsert_pr_comment("plan", "plan:STAGE", environ=pr_env(tmp_path, gh.url)) is None
        assert gh.thread(REPO, 7) == [] and len(gh.calls("POST")) == 1
    out = capsys.readouterr().out
    assert "::warning title=domino-mlops::" in out and "(403)" in out and "fork" in out
    assert "pull-requests: write" in out


@pytest.mark.parametrize("event_name, number", [("push", None), ("workflow_dispatch", None)])
def test_other_events_are_a_notice_and_no_request(tmp_path: Path, capsys: pytest.CaptureFixture[str],
                                                  event_name: str, number: int | None) -> None:
    with fake_github({TOKEN: "write"}) as gh:
        env = pr_env(tmp_path, gh.url, number=number, event_name=event_name)
        assert upsert_pr_comment("plan", "plan:STAGE", environ=env) is None
        assert gh.calls() == []
    out = capsys.readouterr().out
    assert f"::notice title=domino-mlops::No pull-request comment: this run was started by a {event_name} event" in out


def test_outside_actions_nothing_happens(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert upsert_pr_comment("plan", "plan:STAGE", environ={}) is None
    assert "notice: No pull-request comment: GITHUB_EVENT_PATH is not set" in capsys.readouterr().out


def test_missing_token_is_a_warning(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    env = pr_env(tmp_path, "http://127.0.0.1:9", token="")
    assert upsert_pr_comment("plan", "plan:STAGE", environ=env) is None
    assert "::warning title=domino-mlops::No pull-request comment: GITHUB_TOKEN is not set" in capsys.readouterr().out


def test_a_refused_token_raises_ours_and_never_shows_it(tmp_path: Path) -> None:
    with fake_github({"another": "write"}) as gh:
        with pytest.raises(AuthenticationFailed) as caught:
            upsert_pr_comment("plan", "plan:STAGE", environ=pr_env(tmp_path, gh.url))
    error = caught.value
    assert error.exit_code == 2 and "GITHUB_TOKEN" in str(error) and "GitHub" in str(error)
    assert TOKEN not in f"{error} {error.hint} {error!r}"


def test_a_long_plan_is_cut_with_a_link_to_the_summary(tmp_path: Path) -> None:
    with fake_github({TOKEN: "write"}) as gh:
        upsert_pr_comment("| row |\n" * 20_000, "plan:STAGE", environ=pr_env(tmp_path, gh.url))
        body = gh.thread(REPO, 7)[0]["body"]
    assert len(body) <= 65_536 and len(body) > MAX_BODY - 100
    assert body.startswith(MARKER) and "https://github.com/acme/models/actions/runs/42" in body


# --- edge cases a real server won't produce on demand ---------------------------------------------

API = "https://api.github.test"
COMMENTS = f"{API}/repos/{REPO}/issues/7/comments"


def test_default_api_url_and_exact_full_page(tmp_path: Path) -> None:
    """A first page of exactly 100 means "ask again"; an empty second page ends the search."""
    env = pr_env(tmp_path, "")
    env.pop("GITHUB_API_URL")
    base = "https://api.github.com/repos/acme/models/issues/7/comments"
    full = [{"id": i, "body": "noise"} for i in range(100)]
    with responses.RequestsMock() as rsps:
        rsps.get(base, json=full, match=[responses.matchers.query_param_matcher({"per_page": "100", "page": "1"})])
        rsps.get(base, json=[], match=[responses.matchers.query_param_matcher({"per_page": "100", "page": "2"})])
        rsps.post(base, status=201, json={"id": 1, "html_url": "https://github.com/x#1"})
        assert upsert_pr_comment("plan", "plan:STAGE", environ=env) == "https://github.com/x#1"
        sent = json.loads(rsps.calls[-1].request.body)
        headers = rsps.calls[-1].request.headers
    assert sent == {"body": f"{MARKER}\nplan\n"}
    assert headers["Authorization"] == f"Bearer {TOKEN}"


def test_forbidden_from_responses_is_a_warning(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    with responses.RequestsMock() as rsps:
        rsps.get(COMMENTS, json=[{"id": 5, "body": f"{MARKER}\nold", "user": {"login": "github-actions[bot]"}}])
        rsps.patch(f"{API}/repos/{REPO}/issues/comments/5", status=403,
                   json={"message": "Resource not accessible by integration"})
        assert upsert_pr_comment("plan", "plan:STAGE", environ=pr_env(tmp_path, API),
                                 session=requests.Session()) is None
    assert "::warning" in capsys.readouterr().out


def test_an_ambiguous_post_is_looked_up_not_repeated(tmp_path: Path) -> None:
    """A 502 after POST may mean GitHub created the comment: look before posting again."""
    ours = {"id": 9, "body": f"{MARKER}\nplan\n", "user": {"login": "github-actions[bot]"}, "html_url": "https://github.com/acme/models/pull/7#issuecomment-9"}
    with responses.RequestsMock() as rsps:
        rsps.get(COMMENTS, json=[])  # before the POST: nothing yet
        rsps.post(COMMENTS, status=502, json={"message": "Bad gateway"})
        rsps.get(COMMENTS, json=[ours])  # the lookup: it did happen
        rsps.get(f"{API}/repos/{REPO}/issues/comments/9", json=ours)
        url = upsert_pr_comment("plan", "plan:STAGE", environ=pr_env(tmp_path, API))
        posts = [c for c in rsps.calls if c.request.method == "POST"]
    assert url == ours["html_url"] and len(posts) == 1


def test_unreadable_event_payload_is_a_notice(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    env = pr_env(tmp_path, API)
    Path(env["GITHUB_EVENT_PATH"]).write_text("{not json")
    assert upsert_pr_comment("plan", "plan:STAGE", environ=env) is None
    assert "cannot be read (JSONDecodeError)" in capsys.readouterr().out
