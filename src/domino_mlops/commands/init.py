"""`domino-mlops init`: write a consumer repository's files (desired/scaffold.py says which),
then say which GitHub settings are still to make and end with `doctor`.

Answers come from flags; on a terminal, what a flag does not give is asked. Nothing is written
when any answer is wrong or any file exists (without --force): a half-initialised repository
would be worse than none.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from domino_mlops import __version__
from domino_mlops.desired import scaffold
from domino_mlops.errors import ConfigError, FilesExist


def run(args: argparse.Namespace) -> int:
    answers = scaffold.Answers(
        project=args.project or _ask("Domino project id the manifest lists models under", "--project"),
        ref=args.ref or _ask(f"full commit SHA of the domino-mlops release to pin ({args.release})", "--ref"),
        release=args.release,
        owners=tuple(args.owner or _ask("CODEOWNERS of scripts/ and .github/ (e.g. @acme/ml-platform)",
                                        "--owner").split()),
        environments=tuple(scaffold.parse_environment(e) for e in args.env) if args.env else _ask_environments(),
        repository=args.repository,
        models=tuple(_model(m) for m in args.model or ()),
    )
    files = scaffold.render(answers)  # every answer checked before anything is written
    root = Path(args.dir)
    existing = tuple(path for path in files if (root / path).exists())
    if existing and not args.force:
        raise FilesExist(existing)
    for path, text in files.items():
        (root / path).parent.mkdir(parents=True, exist_ok=True)
        (root / path).write_text(text, encoding="utf-8")
        print(f"{'replaced' if path in existing else 'wrote'} {root / path}")
    print("\nStill to set in GitHub (Settings of the repository):")
    for number, line in enumerate(scaffold.settings(answers), 1):
        print(f"  {number}. {line}")
    print("\nThen commit, push, and check the repository's setup with:\n"
          "  GITHUB_TOKEN=<a token with read access> domino-mlops doctor --repository OWNER/NAME")
    return 0


def add_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--dir", default=".", help="the repository's root (default: the current folder)")
    p.add_argument("--project", help="the Domino project id the manifest lists its models under")
    p.add_argument("--ref", help="the full commit SHA of the domino-mlops release the workflows pin")
    p.add_argument("--release", default=f"v{__version__}",
                   help="that release's tag, kept beside the SHA for dependabot (default: %(default)s)")
    p.add_argument("--repository", default=scaffold.DEFAULT_REPOSITORY,
                   help="where domino-mlops lives, owner/name (default: %(default)s)")
    p.add_argument("--owner", action="append", help="a CODEOWNER of scripts/ and .github/ (repeat for more)")
    p.add_argument("--env", action="append", metavar="NAME[:TIERS][@PROJECT]",
                   help="an environment in roll-out order; waves split by '/', tiers of a wave by ','; e.g. "
                        "--env STAGE:small-k8s --env PROD:medium-k8s/prod-small (default: those two)")
    p.add_argument("--model", action="append", metavar="NAME=VERSION", help="a model to start the manifest with")
    p.add_argument("--force", action="store_true", help="replace files that exist")


def _model(text: str) -> tuple[str, str]:
    name, _, version = text.partition("=")
    return name, version


def _ask(question: str, flag: str) -> str:
    if not sys.stdin.isatty():
        raise ConfigError(f"init needs {flag}", hint=f"Give {flag} (or run init in a terminal, which asks).")
    answer = input(f"{question}: ").strip()
    if not answer:
        raise ConfigError(f"no answer for {flag}", hint=f"Give {flag}.")
    return answer


def _ask_environments() -> tuple[scaffold.EnvironmentAnswer, ...]:
    if not sys.stdin.isatty():
        return scaffold.default_environments()
    answer = input("environments in roll-out order, NAME[:TIERS] separated by spaces "
                   "[STAGE:small-k8s PROD:medium-k8s]: ").strip()
    return tuple(scaffold.parse_environment(e) for e in answer.split()) if answer else scaffold.default_environments()
