"""The app steps: publish (or restart) an app on the environment's tier, wait until Running,
smoke-check its page; on failure put back what ran before. And a visibility change.

Domino keeps no app versions to go back to: a put-back starts the app again from the commit,
tier and compute environment it ran before this run (the plan read them). When nothing ran
before, the failed app is stopped, so no broken instance is left Pending or retrying.
"""

from __future__ import annotations

from domino_mlops.apply.poll import PollTimeout, poll_until
from domino_mlops.apply.workload_run import WorkloadRun
from domino_mlops.clients.domino_app_types import App
from domino_mlops.clients.domino_apps import Apps
from domino_mlops.errors import AppFailed, DominoMlopsError
from domino_mlops.plan.steps import AppInstanceRef, PublishApp, SetAppVisibility


def publish_app(step: PublishApp, run: WorkloadRun) -> None:
    apps = run.domino.apps
    app_id = step.app_id
    if step.action == "create" or app_id is None:
        app_id = apps.create(step.project_id, step.app, visibility=step.visibility, entry_point=step.entry_point,
                             hardware_tier_id=step.hardware_tier, environment_id=step.environment_id)
        run.writes += 1
        run.say(f"created app {app_id}")
    run.domino_ids.append(app_id)
    instance = apps.start(app_id, hardware_tier_id=step.hardware_tier, environment_id=step.environment_id,
                          commit_id=step.commit, branch=step.branch)
    run.writes += 1
    run.say(f"published on {step.hardware_tier or 'the default tier'}" + (f" (instance {instance})" if instance else ""))
    try:
        app = _running(apps, app_id, run)
        page = apps.page(app, step.smoke_path)
    except (DominoMlopsError, PollTimeout) as exc:
        raise AppFailed(step.app, run.env.name, str(exc), _put_back(step.previous, apps, app_id, run)) from exc
    if instance:
        run.domino_ids.append(instance)
    run.url = (run.ctx.domino_host + app.running_url) if app.running_url and app.running_url.startswith("/") \
        else app.running_url
    run.message = f"Running; {step.smoke_path} answered {page.status} in {page.seconds * 1000:.0f} ms"
    run.say(run.message)


def set_app_visibility(step: SetAppVisibility, run: WorkloadRun) -> None:
    run.domino.apps.set_visibility(step.app_id, step.to_visibility)
    run.writes += 1
    run.say(f"visibility {step.from_visibility or '(none)'} -> {step.to_visibility}")


def _running(apps: Apps, app_id: str, run: WorkloadRun) -> App:
    """Wait until the app runs; a Failed app fails at once, a stopped one once it has been on its
    way (Pending, Starting...): right after a start, Domino may still report the stopped state the
    app was in, which is no verdict. An app that never leaves it runs into the poll's timeout."""
    moved = False

    def settled(app: App) -> bool:
        nonlocal moved
        moved = moved or not app.is_stopped
        return app.is_running or app.is_failed or (app.is_stopped and moved)

    app = poll_until(lambda: apps.get(app_id), settled, settings=run.ctx.poll, key=lambda a: a.status,
                     on_change=lambda a: run.say(f"app: {a.status or 'starting'}"))
    if not app.is_running:
        raise AppFailed(app.name or app_id, run.env.name, f"it went {app.status or 'stopped'} instead of Running",
                        "nothing put back yet")
    return app


def _put_back(previous: AppInstanceRef | None, apps: Apps, app_id: str, run: WorkloadRun) -> str:
    """Start what ran before again; say what runs now (the error message's second half)."""
    if previous is None:
        try:
            apps.stop(app_id)
            run.writes += 1
        except DominoMlopsError as exc:
            run.status = "unverified"
            return f"nothing ran before, and stopping the failed app failed too ({exc})"
        return "nothing ran before: the app is stopped"
    run.say(f"putting back the previous instance (commit {(previous.commit_id or '?')[:12]}, "
            f"tier {previous.hardware_tier or 'default'})")
    try:
        apps.start(app_id, hardware_tier_id=previous.hardware_tier, environment_id=previous.environment_id,
                   commit_id=previous.commit_id)
        run.writes += 1
        _running(apps, app_id, run)
    except (DominoMlopsError, PollTimeout) as exc:
        run.status = "unverified"
        return f"putting the previous instance back failed too ({exc}): start it again in Domino"
    run.status = "put back"
    return (f"the previous instance (commit {(previous.commit_id or '?')[:12]}, tier "
            f"{previous.hardware_tier or 'default'}) is running again")
