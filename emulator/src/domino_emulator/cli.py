"""``domino-emulator`` (and its alias ``domino-mlops emulator``): parse, then serve until stopped.

Imports argparse and the option definitions only, so ``--help`` and bad arguments cost nothing;
the server is loaded by ``serve.run``.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence

from domino_emulator import options


def build_parser(prog: str = "domino-emulator") -> argparse.ArgumentParser:
    from domino_mlops import __version__

    parser = argparse.ArgumentParser(
        prog=prog,
        description="Run the local Domino emulator: a real HTTP server speaking Domino's published API "
                    "(for tests, demos and pipelines).",
    )
    # One version for both distributions: they are released together from one repository.
    parser.add_argument("--version", action="version", version=f"domino-emulator {__version__}")
    parser.add_argument("--traceback", action="store_true", help="show the full traceback of an error")
    options.add_arguments(parser)
    return parser


def main(argv: Sequence[str] | None = None, *, prog: str = "domino-emulator") -> int:
    args = build_parser(prog).parse_args(list(argv) if argv is not None else None)
    # domino-mlops's guard: one exit-code table and one error report (one line, a hint, an
    # annotation) for both commands, rather than a second copy that could drift.
    from domino_mlops.report.errors import run_guarded
    from domino_emulator import serve

    return run_guarded(serve.run, args)


def entry() -> None:
    sys.exit(main())
