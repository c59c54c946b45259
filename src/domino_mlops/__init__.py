"""domino_mlops: ship MLflow models onto Domino, planned in pull requests.

Importing the package is cheap on purpose (no mlflow, no requests): every workflow run pays
for start-up, and `domino-mlops --version` must answer at once.
"""

__version__ = "0.1.0"
