"""``python -m domino_emulator``: the ``domino-emulator`` command without its console script."""

from domino_emulator.cli import entry

entry()
