"""Read-only looks at the real MLflow server and the Domino emulator, for test assertions.

Shared by the in-process pipeline tests (tests/apply) and the act runs (tests/workflows): both
hold ``mlflow_uri`` and ``emu`` and ask the same questions afterwards.
"""

from __future__ import annotations

from typing import Any


class Lookups:
    mlflow_uri: str
    emu: Any

    @property
    def project_id(self) -> str:
        return self.emu.project_id

    @property
    def mlflow(self) -> Any:
        from mlflow import MlflowClient  # heavy: only the tests that look at MLflow pay for it

        return MlflowClient(tracking_uri=self.mlflow_uri, registry_uri=self.mlflow_uri)

    @property
    def domino(self) -> Any:
        from domino_mlops.clients.domino.client import DominoClient

        return DominoClient.from_env({"DOMINO_API_HOST": self.emu.url, "DOMINO_USER_API_KEY": self.emu.api_key})

    def aliases(self, model: str) -> dict[str, str]:
        return {k: str(v) for k, v in self.mlflow.get_registered_model(model).aliases.items()}

    def tags(self, model: str, version: str) -> dict[str, str]:
        return dict(self.mlflow.get_model_version(model, version).tags)

    def serving(self, name: str) -> tuple[Any, tuple[Any, ...]]:
        """(Model API, its versions) by name in the emulator's default project."""
        domino = self.domino
        api = domino.model_apis.find(self.project_id, name)
        assert api is not None, f"no Model API {name}"
        return api, domino.model_apis.list_versions(api.id)
