"""The command line: parse arguments, call the library, turn the outcome into an exit code.

Exit codes (workflows branch on these, not on log text):
  0 done, or nothing to do      1 an operation failed       2 bad input or configuration
  3 a gate or an approval refused
  4 a conflict: the alias moved, another run holds the model, the plan is not the approved one

Imports of anything heavy (mlflow, requests, PyYAML) happen inside the command handlers, so
``--help`` and ``--version`` answer at once.
"""

from __future__ import annotations

import argparse
import os
import sys
from collections.abc import Callable, Sequence

from domino_mlops import __version__
from domino_mlops.apply.parallelism import DEFAULT_MAX_PARALLEL
from domino_mlops.desired.paths import DEFAULT_ENVIRONMENTS, DEFAULT_MANIFEST, DEFAULT_TARGETS

EXIT_OK, EXIT_FAILED, EXIT_BAD_INPUT, EXIT_GATE, EXIT_CONFLICT = 0, 1, 2, 3, 4


def _add_files(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--manifest", default=DEFAULT_MANIFEST, help="promotion manifest (default: %(default)s)")
    parser.add_argument(
        "--environments", default=None,
        help=f"environments file (default: {DEFAULT_ENVIRONMENTS}; DEV -> STAGE -> PROD if it is missing)"
    )


def _positive(kind: Callable[[str], float]) -> Callable[[str], float]:
    """An argparse type for a number above zero (0 workers or a negative timeout is a typo)."""
    def parse(text: str) -> float:
        try:
            value = kind(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{text!r} is not a {'whole ' if kind is int else ''}number") from None
        if not value > 0:
            raise argparse.ArgumentTypeError(f"{text} must be above 0")
        return value
    return parse


def _cmd_validate(args: argparse.Namespace) -> int:
    from domino_mlops.commands import validate

    return validate.run(args)


def _cmd_plan(args: argparse.Namespace) -> int:
    from domino_mlops.commands import plan

    return plan.run(args)


def _cmd_deploy(args: argparse.Namespace) -> int:
    from domino_mlops.commands import deploy

    return deploy.run(args, action="deploy")


def _cmd_promote(args: argparse.Namespace) -> int:
    from domino_mlops.commands import deploy

    return deploy.run(args, action="promote")


def _cmd_rollout(args: argparse.Namespace) -> int:
    from domino_mlops.commands import deploy

    return deploy.run(args, action="rollout")


def _cmd_environments(args: argparse.Namespace) -> int:
    from domino_mlops.commands import environments

    return environments.run(args)


def _cmd_rollback(args: argparse.Namespace) -> int:
    from domino_mlops.commands import rollback

    return rollback.run(args)


def _cmd_history(args: argparse.Namespace) -> int:
    from domino_mlops.commands import history

    return history.run(args)


def _cmd_projects(args: argparse.Namespace) -> int:
    from domino_mlops.commands import projects

    return projects.run(args)


def _cmd_doctor(args: argparse.Namespace) -> int:
    from domino_mlops.commands import doctor

    return doctor.run(args)


def _cmd_init(args: argparse.Namespace) -> int:
    from domino_mlops.commands import init

    return init.run(args)


def _cmd_export(args: argparse.Namespace) -> int:
    from domino_mlops.commands import export

    return export.run(args)


def _add_export(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("export", help="export model versions tagged TARGET_<NAME> to external container "
                                      "registries: plan, build and push (or Domino's export), tag, ledger")
    p.add_argument("--targets", default=DEFAULT_TARGETS, help="export targets file (default: %(default)s)")
    p.add_argument("--target", help="only this target (default: every target)")
    p.add_argument("--plan-only", action="store_true", help="print what would be exported, change nothing")
    p.add_argument("--context-only", action="store_true",
                   help="lay out the build contexts only: no build, no push, no tag")
    p.add_argument("--output", default="export-build", help="where build contexts go (default: %(default)s)")
    p.add_argument("--export-timeout", type=_positive(float), default=1800.0,
                   help="seconds to wait for one Domino server-side export (default: %(default)s)")
    p.add_argument("--project", help="the Domino project whose token DMLOPS_PROJECT_TOKEN is")
    p.add_argument("--github-environment", default="export",
                   help="the GitHub environment this run's export secrets come from (default: %(default)s): "
                        "in Actions it must admit only the default branch when those secrets reach a protected "
                        "environment's models")
    _add_expect_digest(p)
    _add_files(p)
    p.add_argument("--json", action="store_true", help="print the plan and the result as JSON")
    p.add_argument("--pr-comment", action="store_true",
                   help="post the plan as a pull-request comment, updated in place (needs GITHUB_TOKEN)")
    p.set_defaults(handler=_cmd_export)


def _cmd_monitor_agent(args: argparse.Namespace) -> int:
    from domino_mlops.commands import monitor_agent

    return monitor_agent.run(args)


def _add_monitor_agent(sub: argparse._SubParsersAction) -> None:
    env = os.environ.get
    p = sub.add_parser("monitor-agent", help="read an exported image's prediction spool and log Domino custom "
                                             "metrics (and alerts) for the target's monitored model")
    p.add_argument("--targets", default=env("DMLOPS_TARGETS", DEFAULT_TARGETS),
                   help="export targets file (env DMLOPS_TARGETS; default: %(default)s)")
    p.add_argument("--target", default=env("DMLOPS_TARGET"), help="the target whose monitoring block applies "
                                                                  "(env DMLOPS_TARGET)")
    p.add_argument("--spool", choices=("sqlite", "rabbitmq"), default=env("DMLOPS_CAPTURE", "sqlite"),
                   help="the spooler the image writes to (env DMLOPS_CAPTURE; default: %(default)s); "
                        "rabbitmq reads the URL from DMLOPS_RABBITMQ_URL only")
    p.add_argument("--spool-path", default=env("DMLOPS_SPOOL_PATH", "/var/spool/dmlops/predictions.sqlite"),
                   help="the SQLite spool (env DMLOPS_SPOOL_PATH; default: %(default)s)")
    p.add_argument("--rabbitmq-queue", default=env("DMLOPS_RABBITMQ_QUEUE", "dmlops.predictions"),
                   help="the RabbitMQ queue (env DMLOPS_RABBITMQ_QUEUE; default: %(default)s)")
    p.add_argument("--state", default=env("DMLOPS_AGENT_STATE", ".dmlops/monitor-agent-state.json"),
                   help="the agent's state file, kept across restarts (env DMLOPS_AGENT_STATE; default: %(default)s)")
    p.add_argument("--model-dir", default=env("DMLOPS_MODEL_DIR"),
                   help="the exported model folder, whose input example is the drift reference (env DMLOPS_MODEL_DIR)")
    p.add_argument("--once", action="store_true", help="one pass: flush the intervals that have ended, then exit "
                                                       "(for cron and tests)")
    p.add_argument("--flush-open", action="store_true", help="with --once, flush the open interval too")
    p.add_argument("--poll", type=_positive(float), default=5.0,
                   help="seconds between passes in loop mode (default: %(default)s)")
    p.set_defaults(handler=_cmd_monitor_agent)


def _add_apply_options(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--project", help="only this Domino project's models (one matrix job per project)")
    parser.add_argument("--max-parallel", type=_positive(int), default=DEFAULT_MAX_PARALLEL,
                        help="models applied at once (default: %(default)s)")
    parser.add_argument("--deploy-timeout", type=_positive(float), default=900.0,
                        help="seconds to wait for a Model API version to run (default: %(default)s)")
    parser.add_argument("--pr-comment", action="store_true",
                        help="post the plan as a pull-request comment, updated in place (needs GITHUB_TOKEN)")
    parser.add_argument("--retry-failed-builds", action="store_true",
                        help="build again a version whose Domino build failed before, or deploy again a "
                             "version an analysis failed (default: refuse)")
    parser.add_argument("--lease-wait", type=_not_negative, default=0.0, metavar="SECONDS",
                        help="wait up to SECONDS for another run changing the same model to finish "
                             "(default: %(default)s, fail at once with exit 4)")


def _add_expect_digest(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--expect-plan-digest", metavar="SHA256", type=_plan_digest,
                        help="the approved plan's digest (the plan job's plan-digest output): refuse (exit 4) "
                             "before any write when this run's plan differs")


def _plan_digest(text: str) -> str:
    # A malformed digest is a wiring mistake (an empty or misnamed output), not a changed plan:
    # exit 2 with the expected shape rather than exit 4, which tells the user the plan moved.
    value = text.strip().lower()
    if len(value) != 64 or any(c not in "0123456789abcdef" for c in value):
        raise argparse.ArgumentTypeError(
            f"{text[:80]!r} is not a plan digest (64 hex characters, the plan job's plan-digest output)")
    return value


def _not_negative(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a number") from None
    if not value >= 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"{text} must be a number of seconds, 0 or more")
    return value


def _cmd_emulator(args: argparse.Namespace) -> int:
    # A thin alias: the emulator is its own distribution (domino-emulator), which parses its own
    # arguments, so the runtime neither ships nor imports it unless this command is chosen.
    try:
        from domino_emulator import cli as emulator_cli
    except ModuleNotFoundError as exc:
        if exc.name != "domino_emulator":
            raise
        from domino_mlops.errors import EmulatorNotInstalled

        raise EmulatorNotInstalled() from None
    return emulator_cli.main([*(["--traceback"] if args.traceback else []), *args.emulator_args],
                             prog="domino-mlops emulator")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="domino-mlops",
        description="Ship MLflow models onto Domino: plan in pull requests, gate, deploy, record.",
    )
    parser.add_argument("--version", action="version", version=f"domino-mlops {__version__}")
    parser.add_argument("--traceback", action="store_true", help="show the full traceback of an error")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    p = sub.add_parser("validate", help="check the manifest and environments files, report every error")
    _add_files(p)
    p.set_defaults(handler=_cmd_validate)

    p = sub.add_parser("plan", help="show what would change in one environment (read-only)")
    _add_files(p)
    p.add_argument("--env", required=True, help="environment name from the environments file")
    p.add_argument("--json", action="store_true", help="print the plan as JSON instead of Markdown")
    p.add_argument("--project", help="only this Domino project's models")
    p.add_argument("--as", dest="plan_as", choices=("deploy", "promote", "rollout"),
                   help="plan with that apply's rules (its commit checks, held-back models), so the plan "
                        "and its digest are what the apply will do")
    p.add_argument("--pr-comment", action="store_true",
                   help="post the plan as a pull-request comment, updated in place (needs GITHUB_TOKEN)")
    p.set_defaults(handler=_cmd_plan)

    for name, env, verb, handler in (("deploy", "STAGE", "deploy to", _cmd_deploy),
                                     ("promote", "PROD", "promote to", _cmd_promote),
                                     ("rollout", None, "roll out to", _cmd_rollout)):
        p = sub.add_parser(name, help=f"plan, then {verb} one environment{f' (default {env})' if env else ''}: "
                                      "Domino Model APIs wave by wave, smoke tests, MLflow alias/tags, ledger"
                                      + ("; a failed wave puts back every data plane of the environment"
                                         if name == "rollout" else ""))
        _add_files(p)
        if env is None:
            p.add_argument("--env", required=True, help="the environment, one stage of DEV -> STAGE -> PROD")
        else:
            p.add_argument("--env", default=env, help="environment name (default: %(default)s)")
        p.add_argument("--model", help="only this model")
        p.add_argument("--version", help="with --model: this version (number or @alias) instead of the manifest's")
        _add_apply_options(p)
        _add_expect_digest(p)
        p.set_defaults(handler=handler)

    p = sub.add_parser("rollback", help="return an environment's model to its previous version, "
                                        "through the same gated, smoke-tested path")
    _add_files(p)
    p.add_argument("--env", default="PROD", help="environment name (default: %(default)s)")
    p.add_argument("--model", required=True)
    p.add_argument("--to", help="the version to return to (default: the one before the current, from the ledger)")
    _add_apply_options(p)
    p.add_argument("--plan-only", action="store_true",
                   help="show from -> to per data plane and the plan digest, change nothing (read-only credentials are enough)")
    p.add_argument("--expect-from", metavar="VERSION",
                   help="the version the approved plan went back from (the plan job's from-version): refuse "
                        "(exit 4) before any write when the environment has moved since")
    _add_expect_digest(p)
    p.set_defaults(handler=_cmd_rollback)

    p = sub.add_parser("history", help="print the ledger: every change applied to a model, a job or an app")
    subject = p.add_mutually_exclusive_group(required=True)
    subject.add_argument("--model")
    subject.add_argument("--job", help="a job of the manifest: every run recorded for it")
    subject.add_argument("--app", help="an app of the manifest: every change recorded for it")
    p.add_argument("--env", help="only this environment (a name of the environments file, or export:<TARGET>)")
    p.add_argument("--environments", default=None,
                   help=f"environments file that --env is checked against (default: {DEFAULT_ENVIRONMENTS}; "
                        "DEV -> STAGE -> PROD if it is missing)")
    p.add_argument("--at", help="what the environment served at this time (ISO 8601, e.g. 2026-11-23T10:00Z)")
    p.add_argument("--project", help="read the ledger with this project's token")
    p.add_argument("--format", choices=("table", "timeline", "json", "csv"), default=None,
                   help="table (Markdown, default), timeline (text, per model), json or csv (every field, for tools)")
    p.add_argument("--json", action="store_true", help="the same as --format json")
    p.set_defaults(handler=_cmd_history)

    p = sub.add_parser("environments", help="the environments in roll-out order, as JSON (for workflow jobs): "
                                            "GitHub environment, protected, projects")
    _add_files(p)
    p.add_argument("--env", help="only this environment (outputs github-environment, protected, projects)")
    p.set_defaults(handler=_cmd_environments)

    p = sub.add_parser("projects", help="the Domino project ids in the manifest, as JSON (for a matrix)")
    _add_files(p)
    p.add_argument("--env", help="only projects with models in this environment")
    p.add_argument("--project", help="only this project, which the manifest must list (a one-project matrix, "
                                     "built as JSON here rather than as a string in a workflow)")
    p.set_defaults(handler=_cmd_projects)

    p = sub.add_parser("doctor", help="audit the repository's setup with GitHub: environments guarded, credential "
                                      "reach, write secrets only in environments, variables present")
    _add_files(p)
    p.add_argument("--repository", help="OWNER/NAME (default: $GITHUB_REPOSITORY)")
    p.add_argument("--token-variable", default="GITHUB_TOKEN", metavar="NAME",
                   help="the environment variable holding a GitHub token with read access (default: %(default)s)")
    p.add_argument("--json", action="store_true", help="print the findings as JSON")
    p.add_argument("--verbose", action="store_true", help="also print the checks that passed")
    p.set_defaults(handler=_cmd_doctor)

    p = sub.add_parser("init", help="write a repository's files: manifest, environments, a workflow pinned to a "
                                    "release, CODEOWNERS, dependabot; then list the GitHub settings to make")
    from domino_mlops.commands import init as init_command  # argparse only: cheap

    init_command.add_arguments(p)
    p.set_defaults(handler=_cmd_init)

    _add_export(sub)
    _add_monitor_agent(sub)

    # Every argument, --help included, goes to domino-emulator untouched: no prefix character is
    # ever seen, so argparse takes them all as positionals (its REMAINDER refuses a leading option).
    p = sub.add_parser("emulator", add_help=False, prefix_chars="\0",
                       help="run the local Domino emulator (an alias of domino-emulator, installed apart)")
    p.add_argument("emulator_args", nargs="*", metavar="ARGS", help="the arguments of domino-emulator")
    p.set_defaults(handler=_cmd_emulator)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(list(argv) if argv is not None else None)
    handler: Callable[[argparse.Namespace], int] | None = getattr(args, "handler", None)
    if handler is None:
        parser.print_help(sys.stderr)
        return EXIT_BAD_INPUT
    return _run_guarded(handler, args)


def _run_guarded(handler: Callable[[argparse.Namespace], int], args: argparse.Namespace) -> int:
    from domino_mlops.report.errors import run_guarded  # the one exit-code table, shared with domino-emulator

    return run_guarded(handler, args)


def entry() -> None:
    sys.exit(main())


if __name__ == "__main__":
    entry()
