"""The app steps: publish (or publish again) an app on the environment's tier, wait until
Running, smoke-check its page; on failure put back what ran before. And a visibility change.

On the public Apps API a put-back publishes the previous version's definition again (commit,
tier, compute environment, entry point) as a new version; on the v4 routes it starts the app
again from them. When nothing ran before, the failed app is stopped, so no broken instance is
left Pending or retrying. A page that cannot be verified (a login page, or a refusal of the
anonymous ask on another host) is no failure: a warning, or exit 3 where smoke_test.required.
"""

from __future__ import annotations

from domino_mlops.apply.poll import PollTimeout, poll_until
from domino_mlops.apply.workload_run import WorkloadRun
from domino_mlops.clients.domino.app_types import App, AppPage
from domino_mlops.clients.domino.apps import Apps
from domino_mlops.errors import AppFailed, AppUnverifiable, DominoMlopsError
from domino_mlops.plan.steps import AppInstanceRef, PublishApp, SetAppVisibility


def publish_app(step: PublishApp, run: WorkloadRun) -> None:
    apps = run.domino.apps
    published = apps.publish(step.project_id, step.app, app_id=step.app_id, visibility=step.visibility,
                             entry_point=step.entry_point, hardware_tier_id=step.hardware_tier,
                             environment_id=step.environment_id, commit_id=step.commit, branch=step.branch)
    app_id = published.app_id
    run.writes += 2 if published.created and not published.version_id else 1
    run.writes += 1 if published.entry_point_changed else 0
    if published.created:
        run.say(f"created app {app_id}")
    run.domino_ids.append(app_id)
    what = f"version {published.version_id}" if published.version_id else f"instance {published.instance_id}"
    run.say(f"published on {step.hardware_tier or 'the default tier'}"
            + (f" ({what})" if published.version_id or published.instance_id else ""))
    try:
        app = _running(apps, app_id, run)
        page = apps.page(app, step.smoke_path)  # a 401/403 comes back only for an anonymous ask
    except (DominoMlopsError, PollTimeout) as exc:
        raise AppFailed(step.app, run.env.name, str(exc), _put_back(step, apps, app_id, run)) from exc
    if published.version_id or published.instance_id:
        run.domino_ids.append(published.version_id or published.instance_id or "")
    run.url = (run.ctx.domino_host + app.running_url) if app.running_url and app.running_url.startswith("/") \
        else app.running_url
    if not page.verified:
        why = _unverified(page)
        if run.env.smoke.enabled and run.env.smoke.required:
            run.status = "unverified"
            raise AppUnverifiable(step.app, run.env.name, why)
        run.message = f"Running; its page cannot be verified: {why}"
        run.ctx.options.on_warning(f"app {run.change.name}", f"app {step.app!r} runs, but {run.message[9:]}")
        run.say(run.message)
        return
    run.message = f"Running; {step.smoke_path} answered {page.status} in {page.seconds * 1000:.0f} ms"
    run.say(run.message)


def set_app_visibility(step: SetAppVisibility, run: WorkloadRun) -> None:
    run.domino.apps.set_visibility(step.app_id, step.to_visibility)
    run.writes += 1
    run.say(f"visibility {step.from_visibility or '(none)'} -> {step.to_visibility}")


def _unverified(page: AppPage) -> str:
    if page.redirect is not None:
        return f"{page.url} redirected ({page.status}) to a login page ({page.redirect.split('?')[0]})"
    return f"{page.url} refused an anonymous visitor ({page.status}); the Domino credential is not sent off its host"


def _running(apps: Apps, app_id: str, run: WorkloadRun) -> App:
    """Wait until the app runs; a Failed app fails at once, a stopped one once it has been on its
    way (Pending, Starting...): right after a start, Domino may still report the stopped state the
    app was in, which is no verdict. An app that never leaves it runs into the poll's timeout."""
    moved = False

    def settled(app: App) -> bool:
        nonlocal moved
        moved = moved or not app.is_stopped
        return app.is_running or app.is_failed or (app.is_stopped and moved)

    app = poll_until(lambda: apps.get(app_id), settled, settings=run.ctx.options.poll, key=lambda a: a.status,
                     on_change=lambda a: run.say(f"app: {a.status or 'starting'}"))
    if not app.is_running:
        raise AppFailed(app.name or app_id, run.env.name, f"it went {app.status or 'stopped'} instead of Running",
                        "nothing put back yet")
    return app


def _put_back(step: PublishApp, apps: Apps, app_id: str, run: WorkloadRun) -> str:
    """Publish what ran before again; say what runs now (the error message's second half)."""
    previous: AppInstanceRef | None = step.previous
    if previous is None:
        try:
            if apps.stop(apps.get(app_id)):
                run.writes += 1
        except DominoMlopsError as exc:
            run.status = "unverified"
            return f"nothing ran before, and stopping the failed app failed too ({exc})"
        return "nothing ran before: the app is stopped"
    what = (f"version {previous.version_id}" if previous.version_id else "instance") + \
        f" (commit {(previous.commit_id or '?')[:12]}, tier {previous.hardware_tier or 'default'})"
    run.say(f"putting back the previous {what}")
    try:
        apps.publish(step.project_id, step.app, app_id=app_id, visibility=step.visibility,
                     entry_point=previous.entry_point if step.entry_point else None,
                     hardware_tier_id=previous.hardware_tier, environment_id=previous.environment_id,
                     commit_id=previous.commit_id)
        run.writes += 1
        _running(apps, app_id, run)
    except (DominoMlopsError, PollTimeout) as exc:
        run.status = "unverified"
        return f"putting the previous {what} back failed too ({exc}): publish it again in Domino"
    run.status = "put back"
    return f"the previous {what} is running again"
