"""How `domino-mlops doctor`'s findings read: one line each, a summary line, JSON, Markdown."""

from __future__ import annotations

from typing import Any

from domino_mlops.observed.audit import Audit, Finding

_ICON = {"refuse": ":x:", "warn": ":warning:", "ok": ":white_check_mark:"}


def where(finding: Finding, repository: str) -> str:
    if not finding.environment:
        return f"repository {repository}"
    return f"{finding.environment} (GitHub environment {finding.github_environment})"


def line(finding: Finding, repository: str) -> str:
    """``<severity> <where>: <what>; <fix>``."""
    fix = f"; {finding.fix}" if finding.fix else ""
    return f"{finding.severity} {where(finding, repository)}: {finding.message}{fix}"


def lines(audit: Audit, *, verbose: bool = False) -> list[str]:
    shown = [f for f in audit.findings if verbose or f.severity != "ok"]
    return [line(f, audit.repository) for f in shown] + [summary(audit)]


def summary(audit: Audit) -> str:
    count = {s: sum(f.severity == s for f in audit.findings) for s in ("refuse", "warn", "ok")}
    verdict = ("nothing found that would let an unapproved change through" if audit.ok
               else "fix every refuse line before promoting")
    return (f"doctor {audit.repository} (default branch {audit.default_branch}): {count['refuse']} refused, "
            f"{count['warn']} warning(s), {count['ok']} passed; {verdict}")


def document(audit: Audit) -> dict[str, Any]:
    return {"repository": audit.repository, "default_branch": audit.default_branch,
            "findings": [{"severity": f.severity, "environment": f.environment, "check": f.check,
                          "message": f.message, "fix": f.fix} for f in audit.findings],
            "ok": audit.ok}


def markdown(audit: Audit) -> str:
    """The step summary: every refusal and warning, with the passed checks folded away."""
    title = ":x:" if not audit.ok else ":white_check_mark:"
    out = [f"### {title} domino-mlops doctor: {audit.repository}", "", summary(audit), ""]
    for finding in audit.findings:
        if finding.severity != "ok":
            out.append(f"- {_ICON[finding.severity]} **{where(finding, audit.repository)}**: {finding.message}"
                       + (f"  \n  **Fix:** {finding.fix}" if finding.fix else ""))
    passed = [f for f in audit.findings if f.severity == "ok"]
    if passed:
        out += ["", f"<details><summary>{len(passed)} passed</summary>", ""]
        out += [f"- {where(f, audit.repository)}: {f.message}" for f in passed]
        out += ["", "</details>"]
    return "\n".join(out)
