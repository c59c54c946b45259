from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.support.rabbitmq import Broker, broker_binary, start_broker


@pytest.fixture(scope="session")
def rabbitmq(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Broker]:
    """A real RabbitMQ broker for the session; skipped only where the binary is absent."""
    if broker_binary() is None:
        pytest.skip("rabbitmq-server is not installed (.ci/run installs it with apt-get)")
    pytest.importorskip("pika", reason="pika (the dev and monitor extras) is not installed")
    broker = start_broker(tmp_path_factory.mktemp("rabbitmq"))
    yield broker
    broker.stop()
