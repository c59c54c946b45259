"""The emulator alone (no MLflow: these tests check routes, shapes and credentials) and a session
on it with the seed's API key. A test module that needs a clock or a world overrides ``emu``."""

from __future__ import annotations

import pytest

from domino_emulator import Emulator
from tests.support.emulator import DominoSession


@pytest.fixture
def emu():
    with Emulator(deploy_seconds=0.2) as running:
        yield running


@pytest.fixture
def domino(emu) -> DominoSession:
    return DominoSession(emu.url, emu.api_key)
