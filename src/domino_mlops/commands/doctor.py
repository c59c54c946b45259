"""`domino-mlops doctor`: audit a repository's setup with GitHub, from outside any run.

Reads the manifest and environments files, asks GitHub (a token with read access) how each
environment is guarded, where the write secrets are stored and whether the variables exist, and
prints one line per finding. Exit 3 when anything would let an unapproved change through.
"""

from __future__ import annotations

import argparse
import json
import os
import re

from domino_mlops.clients.github import GitHubClient
from domino_mlops.commands.runtime import read_desired_from
from domino_mlops.errors import ConfigError
from domino_mlops.observed.audit import audit_repository
from domino_mlops.report import doctor as render
from domino_mlops.report import github

_REPOSITORY = re.compile(r"^[A-Za-z0-9][A-Za-z0-9-]*/[A-Za-z0-9._-]+$")
_TOKEN_HINT = ("Set it to a token that can read the repository's settings (a fine-grained token: Administration, "
               "Secrets, Variables, Actions and Contents: read), or name another variable with --token-variable.")


def run(args: argparse.Namespace) -> int:
    environ = dict(os.environ)
    variable = args.token_variable
    if not environ.get(variable, "").strip():
        raise ConfigError(f"cannot audit the repository: {variable} is not set", hint=_TOKEN_HINT)
    repository = (args.repository or environ.get("GITHUB_REPOSITORY", "")).strip()
    if not _REPOSITORY.match(repository):
        raise ConfigError(f"cannot audit the repository: {repository!r} is not owner/name" if repository
                          else "cannot audit the repository: no --repository and GITHUB_REPOSITORY is not set",
                          hint="Pass --repository OWNER/NAME.")
    desired = read_desired_from(args)
    with GitHubClient.from_env({**environ, "GITHUB_REPOSITORY": repository}, token_variable=variable,
                               on_secret=github.mask) as client:
        audit = audit_repository(client, desired)
    if args.json:
        print(json.dumps(render.document(audit), indent=2))
    else:
        print("\n".join(render.lines(audit, verbose=args.verbose)))
    github.append_summary(render.markdown(audit))
    return 0 if audit.ok else 3
