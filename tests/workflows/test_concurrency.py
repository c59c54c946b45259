"""No queued rollback, and no other pull request's deploy, is cancelled by a newer job.

act does not implement concurrency groups, so these tests evaluate the workflows' real
`concurrency.group` expressions for real events (tests/support/expressions.py) and play the
scenarios through a model of GitHub's documented rule (tests/support/concurrency.py): one running
and one pending job per group, and a newly queued job cancels the pending one. The group names the
workflows had before (a rollback sharing the promotions' group, one staging group for every pull
request) are played the same way, and must cancel: that is what the test would catch.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from tests.support.concurrency import (CANCELLED, DONE, PENDING, RUNNING, ConcurrencyModel, dispatch_contexts,
                                       job_group, pull_request_contexts, push_contexts)
from tests.support.expressions import UnsupportedExpression, evaluate, interpolate

WORKFLOWS = Path(__file__).resolve().parents[2] / ".github" / "workflows"
PROJECT = "6650c1a3e1b2c3d4e5f60718"

# What the groups were before issue 10 (commit 2aab265): the rollback shared the promotions' group,
# and every pull request shared one staging group per project.
BEFORE = {"promote": "promote-production-${{ matrix.project }}",
          "rollback": "promote-production-${{ inputs.project }}",
          "deploy": "deploy-staging-${{ matrix.project }}"}
NOW: dict[str, str | None] = {"promote": None, "rollback": None, "deploy": None}  # None: the workflow's own


def load(name: str) -> dict[str, Any]:
    return yaml.safe_load((WORKFLOWS / name).read_text())


def promotion(groups: dict, sha: str) -> tuple[str, bool]:
    """promote-production.yml's promote job for PROJECT, on a push to main (a merge)."""
    return job_group(load("promote-production.yml"), "promote", push_contexts(sha=sha),
                     matrix={"project": PROJECT}, template=groups["promote"])


def rollback(groups: dict, model: str = "churn") -> tuple[str, bool]:
    """rollback.yml's rollback job, dispatched by hand for PROJECT (environment: its default)."""
    workflow = load("rollback.yml")
    contexts = dispatch_contexts(workflow, {"model": model, "project": PROJECT, "to-version": ""})
    return job_group(workflow, "rollback", contexts, template=groups["rollback"])


def staging_deploy(groups: dict, pull_request: int) -> tuple[str, bool]:
    """deploy-staging.yml's deploy job for PROJECT, on a push to pull request ``pull_request``."""
    return job_group(load("deploy-staging.yml"), "deploy", pull_request_contexts(pull_request),
                     matrix={"project": PROJECT}, template=groups["deploy"])


def queue(model: ConcurrencyModel, label: str, group: tuple[str, bool]) -> str:
    name, cancel_in_progress = group
    return model.queue(label, name, cancel_in_progress=cancel_in_progress)


# --- the scenarios, with the groups the workflows have now and had before -----------------------------

CASES = [pytest.param(NOW, False, id="now"), pytest.param(BEFORE, True, id="before")]


@pytest.mark.parametrize("groups, cancelled", CASES)
def test_a_rollback_queued_behind_a_promotion_survives_the_next_merge(groups: dict, cancelled: bool) -> None:
    model = ConcurrencyModel()
    assert queue(model, "promotion of merge 1", promotion(groups, "1" * 40)) == RUNNING
    queue(model, "emergency rollback", rollback(groups))
    queue(model, "promotion of merge 2", promotion(groups, "2" * 40))

    assert (model.state("emergency rollback") == CANCELLED) is cancelled
    if not cancelled:  # its own group: it runs at once, and waits for the promotion's lease in MLflow
        assert model.state("emergency rollback") == RUNNING
        assert model.state("promotion of merge 2") == PENDING


@pytest.mark.parametrize("groups, cancelled", CASES)
def test_a_pull_requests_pending_deploy_survives_another_pull_request(groups: dict, cancelled: bool) -> None:
    model = ConcurrencyModel()
    assert queue(model, "PR 1, first push", staging_deploy(groups, 1)) == RUNNING
    assert queue(model, "PR 1, second push", staging_deploy(groups, 1)) == PENDING
    queue(model, "PR 2", staging_deploy(groups, 2))

    assert (model.state("PR 1, second push") == CANCELLED) is cancelled
    if not cancelled:
        assert model.state("PR 2") == RUNNING  # its own group; the lease takes the two in turn
        model.finish("PR 1, first push")
        assert model.state("PR 1, second push") == RUNNING


def test_a_newer_push_to_the_same_pull_request_still_replaces_its_pending_deploy() -> None:
    """Per pull request, the newest commit is the one worth deploying: the group does that."""
    model = ConcurrencyModel()
    queue(model, "push 1", staging_deploy(NOW, 1))
    queue(model, "push 2", staging_deploy(NOW, 1))
    queue(model, "push 3", staging_deploy(NOW, 1))
    assert [model.state(p) for p in ("push 1", "push 2", "push 3")] == [RUNNING, CANCELLED, PENDING]


def test_rollbacks_of_two_models_do_not_replace_each_other() -> None:
    model = ConcurrencyModel()
    queue(model, "promotion", promotion(NOW, "1" * 40))
    queue(model, "rollback churn", rollback(NOW, "churn"))
    queue(model, "rollback churn again", rollback(NOW, "churn"))  # behind the first one, same model
    queue(model, "rollback fraud", rollback(NOW, "fraud"))
    assert model.state("rollback churn") == RUNNING and model.state("rollback fraud") == RUNNING
    assert model.state("rollback churn again") == PENDING


def test_the_groups_evaluate_to_what_the_workflows_mean() -> None:
    assert promotion(NOW, "1" * 40) == (f"promote-production-{PROJECT}", False)
    assert rollback(NOW) == (f"rollback-PROD-{PROJECT}-churn", False)
    assert staging_deploy(NOW, 7) == (f"deploy-staging-refs/pull/7/merge-{PROJECT}", False)
    environments = '[{"name": "DEV", "projects": ["p"]}, {"name": "STAGE", "projects": ["p"]}]'
    assert job_group(load("rollout.yml"), "env-2", dispatch_contexts(load("rollout.yml"), {}),
                     matrix={"project": "p"}, needs={"plan": {"outputs": {"environments": environments}}}
                     ) == ("rollout-STAGE-p", False)


# --- the model and the evaluator themselves ------------------------------------------------------------


def test_the_model_keeps_one_running_and_one_pending_per_group() -> None:
    model = ConcurrencyModel()
    assert [model.queue(job, "g") for job in ("a", "b", "c")] == [RUNNING, PENDING, PENDING]
    assert model.state("b") == CANCELLED  # replaced by c
    assert model.queue("d", "G") == PENDING and model.state("c") == CANCELLED  # names ignore case
    assert model.queue("e", "other") == RUNNING
    model.finish("a")
    assert model.state("a") == DONE and model.state("d") == RUNNING
    assert model.queue("f", "g", cancel_in_progress=True) == RUNNING and model.state("d") == CANCELLED


@pytest.mark.parametrize("expression, value", [
    ("inputs.project && format('[\"{0}\"]', inputs.project) || 'all'", '["p"]'),
    ("inputs.missing && 'x' || 'fallback'", "fallback"),
    ("!inputs.missing", True),
    ("fromJSON('{\"a\": [1, 2]}').a[1]", 2),
    ("fromJSON('{\"p\": \"d\"}')[inputs.project] || 'none'", "d"),
    ("fromJSON('{\"q\": \"d\"}')[inputs.project] || 'none'", "none"),
    ("github.event.pull_request.number || github.ref", "refs/heads/main"),
    ("'it''s'", "it's"),
    ("(0 || '') || null", None),
])
def test_the_evaluator_follows_githubs_rules(expression: str, value: Any) -> None:
    contexts = {"inputs": {"project": "p"}, "github": {"ref": "refs/heads/main", "event": {}}}
    assert evaluate(expression, contexts) == value


@pytest.mark.parametrize("template", [
    "g-${{ vars.UNKNOWN }}",                    # a context it was not given
    "g-${{ hashFiles('x') }}",                  # a function it does not know
    "g-${{ inputs.a == 'b' }}",                 # a comparison
    "g-${{ inputs.a ",                          # unclosed
    "g-${{ inputs }}",                          # an object cannot go into a string
])
def test_the_evaluator_fails_loudly_on_any_other_form(template: str) -> None:
    with pytest.raises(UnsupportedExpression):
        interpolate(template, {"inputs": {"a": "b"}})
