"""Train and register real scikit-learn models in a real MLflow server (demo, tests, benchmarks).

Needs the `dev` extra (scikit-learn, full mlflow). The diabetes data ships inside scikit-learn,
so nothing is downloaded.
"""

from __future__ import annotations

import mlflow
import mlflow.sklearn
from mlflow import MlflowClient
from mlflow.models import infer_signature
from sklearn.datasets import load_diabetes
from sklearn.linear_model import Ridge

DIABETES_COLUMNS = ("age", "sex", "bmi", "bp", "s1", "s2", "s3", "s4", "s5", "s6")

# The sample request of the external-monitoring seed document, used by the demo's smoke test.
SAMPLE_PATIENT = {"age": 30, "sex": 1, "bmi": 23, "bp": 100, "s1": 157, "s2": 70, "s3": 40,
                  "s4": 4, "s5": 3, "s6": 88}


def register_diabetes_model(tracking_uri: str, name: str, *, alpha: float = 1.0,
                            experiment: str = "tests", example_rows: int = 3) -> str:
    """Log a Ridge regression on the (unscaled) diabetes data and register it; return the version.

    The input example is ``example_rows`` rows, as users log it (``input_example=X.head(3)``).
    """
    mlflow.set_tracking_uri(tracking_uri)
    mlflow.set_experiment(experiment)
    frame = load_diabetes(as_frame=True, scaled=False).frame
    features, target = frame[list(DIABETES_COLUMNS)], frame["target"]
    model = Ridge(alpha=alpha).fit(features, target)
    example = features.head(example_rows)
    with mlflow.start_run():
        info = mlflow.sklearn.log_model(
            model, name="model", input_example=example,
            signature=infer_signature(example, model.predict(example)),
            registered_model_name=name,
            # Pinned, so MLflow skips its slow requirement inference (seconds per model).
            pip_requirements=["scikit-learn", "pandas"],
        )
    return str(info.registered_model_version)


def register_broken_model(tracking_uri: str, name: str, *, experiment: str = "tests") -> str:
    """Register a version whose artifacts cannot be loaded (the MLmodel file is missing)."""
    mlflow.set_tracking_uri(tracking_uri)
    mlflow.set_experiment(experiment)
    client = MlflowClient(tracking_uri=tracking_uri, registry_uri=tracking_uri)
    with mlflow.start_run() as run:
        mlflow.log_text("not a model", "broken/README.txt")
    try:
        client.create_registered_model(name)
    except mlflow.exceptions.MlflowException:
        pass  # already registered
    version = client.create_model_version(name, f"runs:/{run.info.run_id}/broken", run_id=run.info.run_id)
    return str(version.version)
