"""A ledger entry as a value: what one applied change was, its tags in MLflow, its chain key.

No I/O here (state/ledger.py reads and writes entries), so the planner can hold entries without
loading an HTTP library.
An entry's ``kind`` says what its ``subject`` is: a model (the default, and what entries written
before jobs and apps existed are), a job (``to_version``: the digest of the definition and commit
it ran for) or an app (``to_version``: the digest of what the manifest asked of it).
In MLflow the subject is the tag ``dmlops.model`` (its name before jobs and apps were recorded),
so every ledger written since the first release is read and searched the same way.
No secret is ever a tag here: only versions, Domino ids, the commit, the run URL and the actor.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass

EXPERIMENT = "domino-mlops-ledger"
TAG_PREFIX = "dmlops."


@dataclass(frozen=True, slots=True)
class LedgerEntry:
    environment: str
    subject: str  # what changed: a model, a job or an app (``kind`` says which)
    from_version: str | None
    to_version: str
    action: str  # deploy | promote | rollback | rollout | export
    project_id: str = ""
    model_api_ids: str = ""  # comma-separated, in roll-out order
    model_api_version_ids: str = ""
    commit_sha: str = ""
    run_url: str = ""
    actor: str = ""
    time_ms: int = 0
    key: str = ""
    run_id: str = ""
    kind: str = "model"  # model | job | app (an export is a model's entry, action export)
    image: str = ""  # export: the image reference pushed (with its digest when known)
    # Who approved the change: GitHub reviewers of this run, or "local user X, no GitHub approval".
    approved_by: str = ""
    source: str = ""  # the separated topology: "<model>/<version>" that `model` `to_version` is a copy of
    # The analysis of the change (apply/analysis.py): the measurements of a pass (JSON), or a breach's
    # metric, value and threshold; kind "analysis" is the entry of a version an analysis failed.
    analysis: str = ""

    def tags(self) -> dict[str, str]:
        fields = {"kind": self.kind, "environment": self.environment, "model": self.subject, "from": self.from_version or "",
                  "to": self.to_version, "action": self.action, "project": self.project_id,
                  "model_api_ids": self.model_api_ids, "model_api_version_ids": self.model_api_version_ids,
                  "commit": self.commit_sha, "run_url": self.run_url, "actor": self.actor, "key": self.key}
        if self.image:
            fields["image"] = self.image
        if self.approved_by:
            fields["approved_by"] = self.approved_by
        if self.source:
            fields["source"] = self.source
        if self.analysis:
            fields["analysis"] = self.analysis
        return {TAG_PREFIX + k: v for k, v in fields.items()}

    @classmethod
    def from_tags(cls, tags: Mapping[str, str], *, start_time: int, run_id: str) -> LedgerEntry:
        get = lambda k: tags.get(TAG_PREFIX + k, "")  # noqa: E731
        return cls(environment=get("environment"), subject=get("model"), from_version=get("from") or None,
                   to_version=get("to"), action=get("action"), project_id=get("project"),
                   model_api_ids=get("model_api_ids"), model_api_version_ids=get("model_api_version_ids"),
                   commit_sha=get("commit"), run_url=get("run_url"), actor=get("actor"),
                   time_ms=start_time, key=get("key"), run_id=run_id,
                   kind=get("kind") or "model", image=get("image"), approved_by=get("approved_by"),
                   source=get("source"), analysis=get("analysis"))


def chain_key(entry: LedgerEntry, previous: LedgerEntry | None) -> str:
    text = "|".join([entry.environment, entry.subject, entry.from_version or "", entry.to_version,
                     entry.action, previous.key if previous else ""]
                    # A model's key stays what it was before kinds existed; a job or an app
                    # never chains onto a model of the same name.
                    + ([] if entry.kind == "model" else [entry.kind]))
    return hashlib.sha256(text.encode()).hexdigest()[:32]
